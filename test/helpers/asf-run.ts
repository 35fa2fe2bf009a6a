import { runAsf } from './stack.js';

/** Runs `asf <args>` to its end: exit code and everything it printed. */
export async function asf(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = runAsf(args, env);
  const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
  return { code, output: proc.output() };
}
