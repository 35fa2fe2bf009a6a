// Runs test/leaks/native-driver.ts under valgrind and fails on memory definitely lost by the C
// bridge (native/src). Losses elsewhere (Node.js itself, the fixture) are reported, not failed on.
// Usage: npm run test:native:leaks [-- rounds]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const driver = fileURLToPath(new URL('./native-driver.js', import.meta.url));
const rounds = process.argv[2] ?? '50';
const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'asf-valgrind-')), 'valgrind.log');

const started = Date.now();
const run = spawnSync(
  'valgrind',
  ['--leak-check=full', '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite', '--num-callers=30', `--log-file=${log}`, process.execPath, driver, rounds],
  { stdio: 'inherit' },
);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (run.error) {
  console.error(`cannot run valgrind: ${run.error.message} (Debian package: valgrind)`);
  process.exit(2);
}
if (run.status !== 0) {
  console.error(`the driver failed under valgrind (exit ${run.status}); log: ${log}`);
  process.exit(1);
}

// A loss record: "N bytes in M blocks are definitely lost in loss record ..." and its stack lines.
const text = fs.readFileSync(log, 'utf8');
const records = text.split(/\n==\d+== \n/).filter((block) => /definitely lost in loss record/.test(block));
const bytesOf = (block: string) => Number(/([\d,]+) bytes in [\d,]+ blocks are definitely lost/.exec(block)![1]!.replaceAll(',', ''));
// Our frames: the addon's asf:: functions, or anything in asf_native.node.
const ours = records.filter((block) => /asf::|asf_native\.node/.test(block));
const total = records.reduce((sum, block) => sum + bytesOf(block), 0);
const oursTotal = ours.reduce((sum, block) => sum + bytesOf(block), 0);
const summary = /definitely lost: [^\n]*/.exec(text)?.[0] ?? 'definitely lost: 0 bytes in 0 blocks';

console.log(`valgrind (${seconds} s, ${rounds} rounds): ${summary}; by the C bridge: ${oursTotal} bytes in ${ours.length} records (log: ${log})`);
// The allocation and the bridge's frames above it are enough to find the leak; the log has the rest.
for (const block of ours) console.log(block.split('\n').slice(0, 8).join('\n'));
if (total > oursTotal) console.log(`${total - oursTotal} bytes definitely lost outside the bridge (Node.js or the fixture): see the log`);
process.exit(ours.length ? 1 : 0);
