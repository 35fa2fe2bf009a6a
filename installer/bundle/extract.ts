// asf bundle extract: unpacks into a fresh folder, all or nothing. The bundle is unpacked beside
// the target under a temporary name and renamed at the end; an unsafe entry (absolute path, `..`,
// a link leaving the folder, a device) aborts it and removes what was written.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readArtefact } from './read.js';

export class UnsafeBundleError extends Error {}

export async function extractArtefact(file: string, target: string): Promise<string> {
  const dest = path.resolve(target);
  if (fs.existsSync(dest)) throw new Error(`${dest} already exists; extract into a new folder`);
  const partial = `${dest}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const refused: string[] = [];
  try {
    await readArtefact(file, {
      unsafe: (raw, reason) => {
        refused.push(`${raw}: ${reason}`);
      },
      problem: (message) => refused.push(message),
      async entry(entry, body) {
        if (refused.length) return 'stop';
        const out = path.join(partial, entry.path);
        // Belt and braces: nothing may resolve outside the folder, whatever the checks above said.
        if (!out.startsWith(partial + path.sep)) throw new UnsafeBundleError(`${entry.path}: outside the target`);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        if (entry.type === 'directory') fs.mkdirSync(out, { recursive: true, mode: 0o755 });
        else if (entry.type === 'symlink') fs.symlinkSync(entry.linkpath!, out);
        else if (entry.type === 'hardlink') fs.linkSync(path.join(partial, entry.linkpath!), out);
        else await pipeline(body!, fs.createWriteStream(out, { mode: entry.mode & 0o777 || 0o644 }));
      },
    });
    if (refused.length) throw new UnsafeBundleError(`refusing to extract ${file}:\n  ${refused.join('\n  ')}`);
    fs.renameSync(partial, dest);
    return dest;
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}
