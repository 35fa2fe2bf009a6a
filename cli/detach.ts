import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, detachedEnv, logFile, readStack, stacksDir, type LocalStack } from './local-stacks.js';

const cliMain = fileURLToPath(new URL('./main.js', import.meta.url));

/**
 * `asf up -d`: the same `asf up`, started in the background with its output in a log file; this
 * process waits until every capability has settled (or the stack gave up) and says how to reach
 * it. Exits 1 with the stack's own output when it could not start.
 */
export async function detachUp(args: string[]): Promise<void> {
  fs.mkdirSync(stacksDir(), { recursive: true });
  // Named by our pid until the stack has one, then by its pid (the open file follows the rename).
  const starting = path.join(stacksDir(), `starting-${process.pid}.log`);
  const out = fs.openSync(starting, 'a');
  // The same arguments: with detachedEnv set, the child serves instead of detaching again.
  const child = spawn(process.execPath, [cliMain, 'up', ...args], { detached: true, stdio: ['ignore', out, out], env: { ...process.env, [detachedEnv]: '1' } });
  fs.closeSync(out);
  const log = logFile(child.pid!);
  fs.renameSync(starting, log);
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? 1 : 0)));
  child.unref();

  let stack: LocalStack | undefined;
  while (exitCode === undefined && !(stack = readStack(child.pid!))?.settled) await new Promise((resolve) => setTimeout(resolve, 200));
  if (exitCode !== undefined || !stack?.settled || !alive(child.pid!)) {
    process.stderr.write(fs.readFileSync(log, 'utf8'));
    process.stderr.write(`asf: the stack did not start (its output above is also in ${log})\n`);
    process.exit(exitCode || 1);
  }
  const { ready, failed } = stack.settled;
  process.stdout.write(
    `started in the background: pid ${stack.pid}, ${stack.url} (${ready} capabilit${ready === 1 ? 'y' : 'ies'} ready${failed ? `, ${failed} failed` : ''})\n` +
      `  asf ps    asf logs [CAPABILITY] [-f]    asf down${stack.port === 8889 ? '' : ` --port ${stack.port}`}\n`,
  );
}
