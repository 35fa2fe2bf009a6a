import fs from 'node:fs';
import { alive, pickStack } from './local-stacks.js';

/** `asf logs`: a background stack's output, whole or by capability, and with `follow` as it grows. */
export async function printLogs(port: number | undefined, capability: string | undefined, follow: boolean): Promise<void> {
  const stack = pickStack(port);
  const wanted = (line: string) => !capability || line.includes(capability);
  // Held open: `asf down` removes the file once the stack has stopped, and its last lines still count.
  const fd = fs.openSync(stack.log, 'r');
  let offset = 0;
  let partial = '';
  const printNew = () => {
    const size = fs.fstatSync(fd).size;
    if (size <= offset) return;
    const bytes = Buffer.alloc(size - offset);
    fs.readSync(fd, bytes, 0, bytes.length, offset);
    offset = size;
    const lines = (partial + bytes.toString()).split('\n');
    partial = lines.pop()!;
    const shown = lines.filter(wanted);
    if (shown.length) process.stdout.write(`${shown.join('\n')}\n`);
  };
  try {
    printNew();
    while (follow && alive(stack.pid)) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      printNew();
    }
    printNew();
    if (partial && wanted(partial)) process.stdout.write(`${partial}\n`);
  } finally {
    fs.closeSync(fd);
  }
}
