// Node's single-executable recipe: a preparation blob from the bundled script and its assets,
// injected into a copy of the node binary at the fuse Node looks for.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';

// Joined at run time: postject refuses a binary in which the fuse's text occurs twice, as it
// would were this module ever bundled into the executable (cli/executable.ts leaves it out).
const fuse = ['NODE_SEA_FUSE', 'fce680ab2cc467b6e072b8b5df1996b2'].join('_');
const postjectCli = createRequire(import.meta.url).resolve('postject/dist/cli.js');

/** Runs a build step; a failing one throws with its own output. */
async function run(step: string, file: string, args: string[]): Promise<void> {
  try {
    await promisify(execFile)(file, args, { maxBuffer: 16 << 20 });
  } catch (err) {
    const { stderr, stdout, message } = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${step} failed: ${stripVTControlCharacters(`${stdout ?? ''}${stderr ?? ''}`).trim() || message}`);
  }
}

export interface SeaInputs {
  /** The bundled CommonJS main script. */
  main: string;
  /** Embedded files: asset key (what sea.getAsset is asked for) → file on disk. */
  assets: Record<string, string>;
  /** The node binary to copy (the one running this build). */
  node: string;
}

/** The --experimental-sea-config document: no start-up warning; no code cache (it starts faster, but two builds of the same inputs then differ). */
export function seaConfig(inputs: SeaInputs, blob: string) {
  return { main: inputs.main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, assets: inputs.assets };
}

/** Writes the executable to `out` (through a temporary file beside it: never half an executable). */
export async function injectSea(inputs: SeaInputs, out: string): Promise<void> {
  const work = `${out}.work`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const blob = path.join(work, 'sea-prep.blob');
    const config = path.join(work, 'sea-config.json');
    fs.writeFileSync(config, `${JSON.stringify(seaConfig(inputs, blob), null, 2)}\n`);
    await run('node --experimental-sea-config', inputs.node, ['--experimental-sea-config', config]);
    const exe = path.join(work, 'asf');
    fs.copyFileSync(inputs.node, exe);
    fs.chmodSync(exe, 0o755);
    // Its command line rather than its API: LIEF's harmless ELF-note warnings then stay in stderr we keep (shown if it fails).
    await run('postject', inputs.node, [postjectCli, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', fuse]);
    fs.renameSync(exe, out);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
