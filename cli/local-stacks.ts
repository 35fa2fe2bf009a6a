// The stacks `asf up -d` runs in the background on this machine, one state file each, so that
// `asf ps`, `asf logs`, `asf down` and `asf status` find them from any shell. A stack writes its
// file once its gateway listens and removes it when it stops; a file whose process is gone (killed
// outright) is dropped by whoever reads it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Set by `asf up -d` for the stack it starts: that stack lists itself (its output goes to logFile(pid)). */
export const detachedEnv = 'ASF_STACK_DETACHED';

export interface LocalStack {
  pid: number;
  url: string;
  port: number;
  /** Capability folders, as given to asf up. */
  capabilities: string[];
  /** Where its console output goes. */
  log: string;
  startedAt: string;
  /** Once every capability has settled: how many are ready and how many failed. */
  settled?: { ready: number; failed: number };
}

/** $ASF_STATE_HOME, else $XDG_STATE_HOME/asf, else ~/.local/state/asf. */
export function stacksDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['ASF_STATE_HOME'] || path.join(env['XDG_STATE_HOME'] || path.join(os.homedir(), '.local', 'state'), 'asf');
  return path.join(home, 'stacks');
}

const stateFile = (pid: number) => path.join(stacksDir(), `${pid}.json`);
export const logFile = (pid: number) => path.join(stacksDir(), `${pid}.log`);

export function writeStack(stack: LocalStack): void {
  fs.mkdirSync(stacksDir(), { recursive: true });
  // Written whole, then renamed: a reader never sees half a file.
  const file = stateFile(stack.pid);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(stack, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

export function removeStack(pid: number): void {
  fs.rmSync(stateFile(pid), { force: true });
}

export function readStack(pid: number): LocalStack | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile(pid), 'utf8')) as LocalStack;
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The stacks running now, oldest first; files of stacks that died without cleaning up are removed. */
export function listStacks(): LocalStack[] {
  let names: string[];
  try {
    names = fs.readdirSync(stacksDir()).filter((name) => /^\d+\.json$/.test(name));
  } catch {
    return [];
  }
  const stacks: LocalStack[] = [];
  for (const name of names) {
    const stack = readStack(Number(name.slice(0, -5)));
    if (!stack) continue;
    if (alive(stack.pid)) stacks.push(stack);
    else removeStack(stack.pid);
  }
  return stacks.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** The stack a command means: the one on --port, else the only one running; fails saying which there are. */
export function pickStack(port?: number): LocalStack {
  const stacks = listStacks();
  if (port !== undefined) {
    const stack = stacks.find((s) => s.port === port);
    if (!stack) throw new Error(`no local stack on port ${port}${stacks.length ? ` (running: ${stacks.map((s) => s.port).join(', ')})` : ''}`);
    return stack;
  }
  if (stacks.length === 0) throw new Error('no local stack is running (start one with asf up -d)');
  if (stacks.length > 1) throw new Error(`${stacks.length} local stacks are running (ports ${stacks.map((s) => s.port).join(', ')}): say which with --port`);
  return stacks[0]!;
}
