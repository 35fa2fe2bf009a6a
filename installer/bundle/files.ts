// Model resources and driver packages: each file copied (or downloaded, at build time only) into
// the bundle root and checked against the sha256 bundle.yaml gives for it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { progress } from '../progress.js';
import type { PlannedFile } from './spec.js';

export class FileError extends Error {}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file, { highWaterMark: 4 << 20 }), hash);
  return hash.digest('hex');
}

/** Downloads once into `cache` (named by sha256, so a re-build does not fetch again). */
async function download(url: string, sha256: string, cache: string): Promise<string> {
  const cached = path.join(cache, sha256);
  if (fs.existsSync(cached)) return cached;
  fs.mkdirSync(cache, { recursive: true });
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new FileError(`cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new FileError(`cannot fetch ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const bar = progress('download', total, 'bytes');
  const partial = `${cached}.partial`;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => bar.tick(chunk.length, path.basename(new URL(url).pathname)));
  await pipeline(body, fs.createWriteStream(partial));
  bar.done();
  fs.renameSync(partial, cached);
  return cached;
}

/** Places every planned file under `root`; fails naming the file whose sha256 differs. */
export async function placeFiles(root: string, files: PlannedFile[], cache: string): Promise<void> {
  for (const file of files) {
    const from = 'path' in file.source ? file.source.path : await download(file.source.url, file.sha256, cache);
    const origin = 'path' in file.source ? file.source.path : file.source.url;
    if (!fs.existsSync(from)) throw new FileError(`${file.target}: ${from} not found`);
    const actual = await sha256File(from);
    if (actual !== file.sha256) {
      if ('url' in file.source) fs.rmSync(from, { force: true });
      throw new FileError(`${file.target}: sha256 of ${origin} is ${actual}, bundle.yaml expects ${file.sha256}`);
    }
    const target = path.join(root, file.target);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    // A reflink where the file system has them, else an in-kernel copy (copy_file_range).
    fs.copyFileSync(from, target, fs.constants.COPYFILE_FICLONE);
  }
}
