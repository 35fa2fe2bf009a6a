// Builds the C wrapper bridge (native/ → native/build/Release/asf_native.node) and the example C
// capability (examples/textstats-c/libwrapper.so). `npm run build:native`; safe to re-run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const nativeDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(nativeDir);

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build:native: ${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
}

// Headers of the running Node.js, when installed beside it (Debian's nodejs, official tarballs):
// node-gyp would otherwise download them, and build hosts are often offline.
const nodePrefix = path.resolve(path.dirname(process.execPath), '..');
const localHeaders = fs.existsSync(path.join(nodePrefix, 'include', 'node', 'node_api.h'));
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const gypArgs = localHeaders ? [`--nodedir=${nodePrefix}`] : [];

// configure once (or when binding.gyp changed); build is incremental.
const makefile = path.join(nativeDir, 'build', 'Makefile');
if (!fs.existsSync(makefile) || fs.statSync(makefile).mtimeMs < fs.statSync(path.join(nativeDir, 'binding.gyp')).mtimeMs) {
  run(process.execPath, [nodeGyp, 'configure', ...gypArgs], nativeDir);
}
run(process.execPath, [nodeGyp, 'build', `--jobs=max`, ...gypArgs], nativeDir);
run('make', ['--no-print-directory', '-C', path.join(root, 'examples', 'textstats-c')], root);
