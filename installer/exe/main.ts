// npm run build:exe: compiles nothing itself (tsc ran before), prints each step and the size.
import { buildExecutable } from './build.js';

const say = (line: string) => void process.stdout.write(`build:exe: ${line}\n`);
buildExecutable({ say }).catch((err: Error) => {
  process.stderr.write(`build:exe: ${err.message}\n`);
  process.exit(1);
});
