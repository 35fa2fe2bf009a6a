import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../runtime/free-port.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { freePort };

export const repoRoot = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const asfBin = path.join(repoRoot, 'bin', 'asf.js');

export interface RunningProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the output matches, rejects if the process exits first or the wait runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `asf <args>` as a real child process. */
export function runAsf(args: string[], env: NodeJS.ProcessEnv = {}): RunningProcess {
  return runProcess(process.execPath, [asfBin, ...args], env);
}

/** Runs a command as a real child process (e.g. asf inside `unshare`). */
export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningProcess {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    child,
    output: () => text,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text.match(pattern);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${text}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(new Error(`${[command, ...args].join(' ')} exited before printing ${pattern}; output:\n${text}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface Stack extends RunningProcess {
  url: string;
  port: number;
}

/** `asf up` on a free port, resolved once every capability is ready (or failed, if allowed). */
export async function startStack(args: string[], options: { waitReady?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Stack> {
  const port = await freePort();
  const proc = runAsf(['up', '--port', String(port), ...args], options.env);
  const url = `http://127.0.0.1:${port}`;
  try {
    await proc.waitFor(/gateway +http:/);
    if (options.waitReady !== false) await waitHealthy(url);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return { ...proc, url, port };
}

/** Polls /healthz until it answers 200. */
export async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/healthz`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/healthz not ready within ${timeoutMs} ms: ${last}`);
}

/** POSTs a JSON body and returns status plus parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

/** Calls each replica of `service` answered, by address, from the gateway's per-replica metric. */
export async function answeredCalls(url: string, service: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  const line = /asf_gateway_replica_calls_total\{service="([^"]+)",replica="([^"]+)",outcome="answered"\} (\d+)/g;
  for (const m of text.matchAll(line)) if (m[1] === service) out.set(m[2]!, Number(m[3]));
  return out;
}
