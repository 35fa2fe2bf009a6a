// dist/exe/asf: the asf command as one self-contained linux executable (no Node.js needed on the
// site). Rebuilt only when what goes into it changed: the bundled CLI, its assets, the node binary.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sha256File } from '../bundle/files.js';
import { packageRoot } from '../../runtime/paths.js';
import { bundleCli } from './bundle.js';
import { injectSea, seaConfig, type SeaInputs } from './inject.js';

/**
 * The package files the supported commands read (runtime/paths.ts readPackageFile), embedded
 * under their path from the package root.
 */
export const embeddedFiles = ['package.json', 'examples/mmocr/sample.jpg'];

export interface BuiltExecutable {
  file: string;
  bytes: number;
  /** True when the inputs had not changed and the executable was left as it was. */
  cached: boolean;
}

export interface ExecutableOptions {
  /** Folder of the compiled CLI (dist/); the executable and its work files go to <dist>/exe. */
  dist?: string;
  say?: (line: string) => void;
}

/** Builds (or finds up to date) <dist>/exe/asf. */
export async function buildExecutable(options: ExecutableOptions = {}): Promise<BuiltExecutable> {
  const dist = options.dist ?? path.join(packageRoot, 'dist');
  const say = options.say ?? (() => {});
  const out = path.join(dist, 'exe');
  const file = path.join(out, 'asf');
  const entry = path.join(dist, 'cli', 'main.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} missing: compile first (npx tsc -p tsconfig.json)`);
  fs.mkdirSync(out, { recursive: true });

  const main = path.join(out, 'asf.cjs');
  say(`bundling ${path.relative(process.cwd(), entry)} with esbuild into ${path.relative(process.cwd(), main)}`);
  for (const warning of await bundleCli(dist, main, packageRoot)) say(`esbuild warning: ${warning}`);
  const inputs: SeaInputs = {
    main,
    assets: Object.fromEntries(embeddedFiles.map((rel) => [rel, path.join(packageRoot, rel)])),
    node: process.execPath,
  };

  const stamp = path.join(out, 'asf.inputs');
  const digest = await inputsDigest(inputs);
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest) {
    const bytes = fs.statSync(file).size;
    say(`${path.relative(process.cwd(), file)} is up to date (${mb(bytes)})`);
    return { file, bytes, cached: true };
  }
  say(`injecting the CLI and ${embeddedFiles.length} files into a copy of ${inputs.node} (postject, NODE_SEA_BLOB)`);
  fs.rmSync(stamp, { force: true });
  await injectSea(inputs, file);
  fs.writeFileSync(stamp, `${digest}\n`);
  const bytes = fs.statSync(file).size;
  say(`wrote ${path.relative(process.cwd(), file)} (${mb(bytes)})`);
  return { file, bytes, cached: false };
}

/** One sha256 over every input, by name and content, and the SEA settings. */
async function inputsDigest(inputs: SeaInputs): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(seaConfig({ ...inputs, main: '', node: '' }, '')));
  for (const [name, file] of [['main', inputs.main], ['node', inputs.node], ...Object.entries(inputs.assets)] as const) {
    hash.update(`${name}\0${await sha256File(file)}\0`);
  }
  return hash.digest('hex');
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
