import fs from 'node:fs';
import { alive, listStacks, pickStack, removeStack, type LocalStack } from './local-stacks.js';

/** How long a stack gets to stop its loaders (wrapperFini included) before it is killed. */
const graceMs = 20_000;

/** `asf down`: SIGTERM, as Ctrl-C would stop a foreground stack, then wait until it is gone. */
export async function stopStacks(options: { port?: number; all?: boolean }): Promise<void> {
  const running = listStacks();
  if (running.length === 0 && options.port === undefined) return void process.stdout.write('no local stack is running\n');
  const stacks = options.all ? running : [pickStack(options.port)];
  await Promise.all(stacks.map(stop));
}

async function stop(stack: LocalStack): Promise<void> {
  process.kill(stack.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(stack.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const killed = alive(stack.pid);
  if (killed) process.kill(stack.pid, 'SIGKILL');
  removeStack(stack.pid);
  // Its output was for reading while it ran; a stack that is gone leaves nothing behind.
  fs.rmSync(stack.log, { force: true });
  process.stdout.write(`stopped ${stack.url} (pid ${stack.pid})${killed ? `: killed after ${graceMs / 1000} s` : ''}\n`);
}
