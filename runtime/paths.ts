import fs from 'node:fs';
import path from 'node:path';
import sea from 'node:sea';
import { fileURLToPath } from 'node:url';

/**
 * True inside the single `asf` executable (dist/exe/asf, Node's single-executable application):
 * there is no package folder beside the code, only the files embedded as its assets.
 */
export const inExecutable = sea.isSea();

/**
 * Root of the installed package (compiled files live in dist/, sources and assets beside it).
 * Inside the executable, the folder that holds it: the package's files are not there, but
 * embedded (readPackageFile); only commands it refuses look for them by this path.
 */
export const packageRoot = inExecutable ? path.dirname(process.execPath) : fileURLToPath(new URL('../../', import.meta.url));

/** The asset key of a package file: its path from the package root, with forward slashes. */
const assetKey = (segments: string[]) => path.posix.join(...segments.flatMap((s) => s.split(path.sep)));

/** A file shipped with the package, read from the package folder or from the executable itself. */
export function readPackageFile(...segments: string[]): Buffer {
  if (!inExecutable) return fs.readFileSync(path.join(packageRoot, ...segments));
  return Buffer.from(sea.getAsset(assetKey(segments)));
}
