// sha256 of every file of a tree, remembered by (size, mtime, inode) between builds: a re-build
// of a multi-gigabyte bundle re-reads only the files that changed.
import fs from 'node:fs';
import path from 'node:path';
import { entriesOf } from './archive.js';
import { sha256File } from './files.js';

type Entry = { size: number; mtimeMs: number; ino: number; sha256: string };

/**
 * `vouch` may give a file's sha256 so that it is not read: `seen` tells whether the cache knew
 * the file under other size, mtime or inode (that is, it changed since).
 */
export type Vouch = (rel: string, seen: boolean) => string | undefined;

export function hashCache(file: string) {
  let known: Record<string, Entry> = {};
  try {
    known = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Entry>;
  } catch {
    // first build, or an unreadable cache: hash everything
  }
  /** The sha256 of each of `files` (paths relative to `root`); the cache then holds just these. */
  const hashFiles = async (root: string, files: string[], vouch: Vouch = () => undefined): Promise<Map<string, string>> => {
    const hashes = new Map<string, string>();
    const next: Record<string, Entry> = {};
    for (const rel of files) {
      const stat = fs.statSync(path.join(root, rel));
      const old = known[rel];
      const same = old && old.size === stat.size && old.mtimeMs === stat.mtimeMs && old.ino === stat.ino;
      const sha256 = same ? old.sha256 : (vouch(rel, Boolean(old)) ?? (await sha256File(path.join(root, rel))));
      next[rel] = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, sha256 };
      hashes.set(rel, sha256);
    }
    fs.writeFileSync(file, JSON.stringify(next));
    return hashes;
  };
  return {
    hashFiles,
    /** Every file under `root` but `skip`. */
    hashTree: (root: string, skip: string[] = [], vouch?: Vouch) =>
      hashFiles(
        root,
        entriesOf(root).files.filter((rel) => !skip.includes(rel)),
        vouch,
      ),
  };
}
