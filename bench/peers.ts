import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, repoRoot, startStack } from '../test/helpers/stack.js';

/** A server under load: where to send requests, and how to stop it. */
export interface Running {
  url: string;
  stop(): Promise<unknown>;
}

export interface Target {
  name: string;
  start(): Promise<Running>;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = path.join(repoRoot, 'bench');
const cacheDir = path.join(repoRoot, '.cache');

/** Our embedded stack serving one capability folder. */
export function asfStack(name: string, capability: string, route: string, env: NodeJS.ProcessEnv = {}): Target {
  return {
    name,
    async start() {
      const stack = await startStack(['--capability', capability, '--log-level', 'error'], { env });
      return { url: `${stack.url}${route}`, stop: () => stack.stop() };
    },
  };
}

/** Bare fastify answering the echo request with the same bytes (bench/bare-server.ts). */
export const bareFastify: Target = {
  name: 'bare fastify (same bytes, no validation, no hop)',
  async start() {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(benchDir, 'bare-server.js'), String(port)], { stdio: 'ignore' });
    return listening(child, `http://127.0.0.1:${port}`, '/v1/private/echo');
  },
};

/** What a user would write by hand: FastAPI + uvicorn importing the same wrapper.py. */
export function fastapi(wrapperDir: string, route: string): Target {
  return {
    name: 'FastAPI + uvicorn calling wrapper.py directly',
    async start() {
      const python = benchVenv();
      const port = await freePort();
      const child = spawn(python, ['-m', 'uvicorn', 'fastapi_app:app', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning'], {
        cwd: path.join(sourceDir, 'peers'),
        env: { ...process.env, WRAPPER_DIR: wrapperDir, PYTHONPATH: path.join(repoRoot, 'runtime', 'python', 'compat') },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      return listening(child, `http://127.0.0.1:${port}`, route);
    },
  };
}

/** .cache/bench-venv with the peers' pinned packages; created on first use (PyPI at bench time only). */
function benchVenv(): string {
  const venv = path.join(cacheDir, 'bench-venv');
  const python = path.join(venv, 'bin', 'python');
  const requirements = path.join(sourceDir, 'peers', 'requirements.txt');
  const stamp = path.join(venv, '.requirements');
  const want = fs.readFileSync(requirements, 'utf8');
  if (fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return python;
  process.stderr.write('bench: installing FastAPI + uvicorn into .cache/bench-venv\n');
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], { stdio: 'inherit' });
  fs.writeFileSync(stamp, want);
  return python;
}

async function listening(child: ChildProcess, base: string, route: string): Promise<Running> {
  const stop = () => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill())));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    try {
      await fetch(base);
      return { url: `${base}${route}`, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await stop();
  throw new Error(`${base} did not start`);
}
