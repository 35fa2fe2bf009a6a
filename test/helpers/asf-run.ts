import { spawn } from 'node:child_process';
import { asfBin, repoRoot, runAsf } from './stack.js';

/** Runs `asf <args>` to its end: exit code and everything it printed. */
export async function asf(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = runAsf(args, env);
  const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
  return { code, output: proc.output() };
}

/** Runs `asf <args>` to its end, keeping stdout and stderr apart (for where each line goes). */
export function asfStreams(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [asfBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
