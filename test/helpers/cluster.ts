// The real single-node Kubernetes of test/e2e/cluster (up.sh), for the end-to-end suites: bring it
// up (building its binaries on a machine's first run), then kubectl and helm against it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './stack.js';
import { exec, type Result } from './tools.js';

const harness = path.join(repoRoot, 'test', 'e2e', 'cluster');
export const nodeIp = '10.250.0.1';

export interface Cluster {
  /** Whether this run started it (then it stops it again: see clusterDown). */
  startedHere: boolean;
  /** KUBECONFIG and a PATH with the cluster's kubectl first, for commands run against it. */
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], input?: string): Promise<Result>;
  /** kubectl that must succeed; resolves to its stdout. */
  must(args: string[], input?: string): Promise<string>;
}

/**
 * Runs up.sh (idempotent: ~15 min the first time on a machine, seconds after), its output going to
 * `log` and, one line per step, to the test's output so a long first build shows progress.
 */
export async function clusterUp(log: string): Promise<Cluster> {
  const state = process.env['ASF_CLUSTER_STATE'] ?? '/var/lib/asf-kit-cluster';
  const startedHere = !running(path.join(state, 'pids', 'kube-apiserver.pid'));
  const out = fs.openSync(log, 'a');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [path.join(harness, 'up.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      fs.writeSync(out, chunk);
      for (const line of chunk.toString().split('\n')) if (/^\[cluster|^building|^cluster binaries/.test(line)) console.log(`      ${line}`);
    });
    child.stderr.on('data', (chunk: Buffer) => fs.writeSync(out, chunk));
    child.once('error', reject);
    child.once('exit', (c) => resolve(c ?? 1));
  });
  fs.closeSync(out);
  if (code !== 0) throw new Error(`test/e2e/cluster/up.sh failed (exit ${code}):\n${fs.readFileSync(log, 'utf8').slice(-4000)}`);
  const envFile = fs.readFileSync(path.join(state, 'env'), 'utf8');
  const kubeconfig = /KUBECONFIG=(\S+)/.exec(envFile)![1]!;
  const bin = /PATH=([^:\s]+):/.exec(envFile)![1]!;
  const env = { KUBECONFIG: kubeconfig, PATH: `${bin}:${process.env['PATH']}` };
  const kubectl = (args: string[], input?: string) => exec(path.join(bin, 'kubectl'), args, { env, input });
  return {
    startedHere,
    env,
    kubectl,
    async must(args, input) {
      const r = await kubectl(args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
  };
}

function running(pidFile: string): boolean {
  try {
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the cluster (down.sh) when this run started it; one a developer had running stays up. */
export async function clusterDown(cluster: Cluster): Promise<void> {
  if (!cluster.startedHere) return;
  const r = await exec('bash', [path.join(harness, 'down.sh')]);
  if (r.code !== 0) console.warn(`      test/e2e/cluster/down.sh failed (exit ${r.code}): ${r.stderr.slice(-1000)}`);
}

/** Polls `check` until it returns a value other than undefined; fails with `what` and the last state. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, describe?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${describe ? `\n${await describe()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
