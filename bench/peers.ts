import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, repoRoot, startStack } from '../test/helpers/stack.js';

/** A server under load: where to send requests, the root of its process tree, and how to stop it. */
export interface Running {
  url: string;
  pid: number;
  stop(): Promise<unknown>;
}

export interface Target {
  name: string;
  start(): Promise<Running>;
}

/** The same model code for every server: a wrapper.py folder and its service id. */
export interface Workload {
  wrapperDir: string;
  serviceId: string;
  /** A request body, sent until the server answers 2xx before it is measured. */
  body: string;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const peersDir = path.join(repoRoot, 'bench', 'peers');
const cacheDir = path.join(repoRoot, '.cache', 'bench-peers');
const mmocrRequirements = path.join(repoRoot, 'examples', 'mmocr', 'requirements.txt');

/** Our embedded stack serving one capability folder. */
export function asfStack(name: string, capability: string, route: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Target {
  return {
    name,
    async start() {
      const stack = await startStack(['--capability', capability, '--log-level', 'error', ...args], { env });
      return { url: `${stack.url}${route}`, pid: stack.child.pid!, stop: () => stack.stop() };
    },
  };
}

/** Bare fastify answering the echo request with the same bytes (bench/bare-server.ts). */
export const bareFastify: Target = {
  name: 'bare fastify (same bytes, no validation, no hop)',
  async start() {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(benchDir, 'bare-server.js'), String(port)], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}/v1/private/echo`;
    const body = JSON.stringify({ header: {}, payload: { text: { text: 'cmVhZHk=' } } });
    return answering(child, url, body, 30_000);
  },
};

export type PeerName = 'fastapi' | 'bentoml' | 'kserve' | 'ray';

const peerNames: Record<PeerName, string> = {
  fastapi: 'FastAPI + uvicorn',
  bentoml: 'BentoML',
  kserve: 'KServe ModelServer',
  ray: 'Ray Serve',
};

/** How each peer is started on a port, and the route it serves the wrapper on. */
function peerCommand(peer: PeerName, python: string, port: number, serviceId: string): { args: string[]; route: string } {
  switch (peer) {
    case 'fastapi':
      return { args: ['-m', 'uvicorn', 'fastapi_app:app', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning'], route: `/v1/private/${serviceId}` };
    case 'bentoml':
      return { args: ['-m', 'bentoml', 'serve', 'bentoml_service:AsfWrapper', '--host', '127.0.0.1', '--port', String(port)], route: `/v1/private/${serviceId}` };
    case 'kserve':
      return { args: ['kserve_server.py', String(port)], route: `/v1/models/${serviceId}:predict` };
    case 'ray':
      return { args: ['ray_serve_app.py', String(port)], route: `/v1/private/${serviceId}` };
  }
}

/** A peer framework serving the workload's wrapper.py through bench/peers/asf_model.py, on one worker. */
export function peer(which: PeerName, workload: Workload): Target {
  return {
    name: peerNames[which],
    async start() {
      const python = peerVenv(which);
      const port = await freePort();
      const { args, route } = peerCommand(which, python, port, workload.serviceId);
      const child = spawn(python, args, {
        cwd: peersDir,
        env: {
          ...process.env,
          WRAPPER_DIR: workload.wrapperDir,
          SERVICE_ID: workload.serviceId,
          PYTHONPATH: [peersDir, path.join(repoRoot, 'runtime', 'python', 'compat')].join(path.delimiter),
          BENTOML_DO_NOT_TRACK: 'true',
          RAY_USAGE_STATS_ENABLED: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      try {
        return await answering(child, `http://127.0.0.1:${port}${route}`, workload.body, 240_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}; its last output:\n${output}`);
      }
    },
  };
}

/**
 * .cache/bench-peers/<peer>: the peer's pinned packages (bench/peers/requirements/<peer>.txt), then
 * the mmocr engine's pinned packages that the peer did not bring itself (no-deps, as the mmocr
 * example installs them). Installed once from the registry at bench time; skipped when the stamp
 * says both lists are unchanged.
 */
function peerVenv(which: PeerName): string {
  const venv = path.join(cacheDir, which);
  const python = path.join(venv, 'bin', 'python');
  const requirements = path.join(peersDir, 'requirements', `${which}.txt`);
  const stamp = path.join(venv, '.requirements');
  const want = fs.readFileSync(requirements, 'utf8') + fs.readFileSync(mmocrRequirements, 'utf8');
  if (fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return python;
  process.stderr.write(`bench: installing ${peerNames[which]} into ${path.relative(repoRoot, venv)}\n`);
  if (!fs.existsSync(python)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  const pip = (...args: string[]) => execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...args], { stdio: 'inherit' });
  pip('-r', requirements);
  const present = new Set(
    execFileSync(python, ['-m', 'pip', 'list', '--format=freeze', '--disable-pip-version-check'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => normalise(line.split('==')[0]!)),
  );
  const missing = fs
    .readFileSync(mmocrRequirements, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !present.has(normalise(line.split('==')[0]!)));
  if (missing.length > 0) pip('--no-deps', '--only-binary=:all:', ...missing);
  fs.writeFileSync(stamp, want);
  return python;
}

const normalise = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** Resolves once a POST of the body answers 2xx; stops the child (and its process group) on failure. */
async function answering(child: ChildProcess, url: string, body: string, timeoutMs: number): Promise<Running> {
  const stop = () => stopTree(child);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (response.ok) return { url, pid: child.pid!, stop };
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`${url} did not answer 2xx (${child.exitCode !== null ? `exited with ${child.exitCode}` : 'timed out'}; last: ${last})`);
}

/** SIGTERM to the peer's process group (its own workers), SIGKILL if it lingers. */
function stopTree(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      child.kill(name);
    }
  };
  signal('SIGTERM');
  const force = setTimeout(() => signal('SIGKILL'), 15_000);
  return exited.then(() => clearTimeout(force));
}
