// sha256 of every file of a tree, remembered by (size, mtime, inode) between builds: a re-build
// of a multi-gigabyte bundle re-reads only the files that changed.
import fs from 'node:fs';
import path from 'node:path';
import { entriesOf } from './archive.js';
import { sha256File } from './files.js';

type Entry = { size: number; mtimeMs: number; ino: number; sha256: string };

export function hashCache(file: string) {
  let known: Record<string, Entry> = {};
  try {
    known = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Entry>;
  } catch {
    // first build, or an unreadable cache: hash everything
  }
  return {
    async hashTree(root: string, skip: string[] = []): Promise<Map<string, string>> {
      const hashes = new Map<string, string>();
      const next: Record<string, Entry> = {};
      for (const rel of entriesOf(root).files) {
        if (skip.includes(rel)) continue;
        const stat = fs.statSync(path.join(root, rel));
        const old = known[rel];
        const sha256 = old && old.size === stat.size && old.mtimeMs === stat.mtimeMs && old.ino === stat.ino ? old.sha256 : await sha256File(path.join(root, rel));
        next[rel] = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, sha256 };
        hashes.set(rel, sha256);
      }
      fs.writeFileSync(file, JSON.stringify(next));
      return hashes;
    },
  };
}
