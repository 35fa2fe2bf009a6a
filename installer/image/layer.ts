// A layer is a tar of a staged folder, made so that the same files always give the same bytes
// (and so the same digest): sorted names, numeric root ownership, one fixed mtime, modes that let
// the image's non-root user read everything. Layers that are slow to make are cached by a key.
import fs from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';

/** One mtime for every file of every layer we write, unless the build pins one (reproducible builds). */
export const layerEpoch = Number(process.env.SOURCE_DATE_EPOCH ?? 946_684_800);

/** Writes the tar of `dir` (its contents, not the folder itself) to `out`. */
export async function writeLayer(dir: string, out: string): Promise<void> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const partial = `${out}.partial`;
  await $({ cwd: dir, quiet: true })`tar --create --file=${partial} --sort=name --format=gnu --numeric-owner --owner=0 --group=0 --mode=go-w,a+rX --mtime=@${layerEpoch} .`;
  fs.renameSync(partial, out);
}

/**
 * The layer cached under `key` in `cacheDir`, made by `make(stage)` (which fills a staging folder)
 * when it is not there yet. A build interrupted half-way leaves no file under the key.
 */
export async function cachedLayer(cacheDir: string, key: string, make: (stage: string) => Promise<void>): Promise<{ file: string; reused: boolean }> {
  const file = path.join(cacheDir, `${key}.tar`);
  if (fs.existsSync(file)) return { file, reused: true };
  fs.mkdirSync(cacheDir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(cacheDir, `.${key}-`));
  try {
    await make(stage);
    await writeLayer(stage, file);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  return { file, reused: false };
}
