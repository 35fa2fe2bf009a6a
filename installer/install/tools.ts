// The cluster tools an install drives: kubectl as the user configured it (KUBECONFIG), and helm
// (ASF_HELM, else the bundle's bin/helm, else the one on PATH). Output is captured, never shown
// unless a step decides to show it.
import fs from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';

export interface ToolResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a tool with its output captured; a missing tool is a failed result, not a throw. */
export async function tool(binary: string, args: string[]): Promise<ToolResult> {
  const r = await $({ nothrow: true, quiet: true })`${binary} ${args}`;
  return { ok: r.exitCode === 0, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a tool with its output on ours (helm upgrade, helm uninstall): the user sees helm itself. */
export async function toolShown(binary: string, args: string[]): Promise<number> {
  const r = await $({ nothrow: true, stdio: ['ignore', 'inherit', 'inherit'] })`${binary} ${args}`;
  return r.exitCode ?? 1;
}

export const kubectl = (...args: string[]) => tool('kubectl', args);

export function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = dir && path.join(dir, name);
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function helmBinary(bundle: string | undefined): string | undefined {
  if (process.env['ASF_HELM']) return process.env['ASF_HELM'];
  const own = bundle && path.join(bundle, 'bin', 'helm');
  if (own && fs.existsSync(own)) return own;
  return onPath('helm');
}

/** The last line of a tool's error output: what it said went wrong. */
export const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';
