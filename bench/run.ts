// `npm run bench`: ratios against peers on this machine, in one run. Not a test: nothing here
// passes or fails on time; it prints what it measured.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, repoRoot, startStack, waitHealthy } from '../test/helpers/stack.js';
import { drive, type LoadResult } from './load.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const warmupSeconds = 2;
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 32);

interface Target {
  name: string;
  start(): Promise<{ url: string; stop(): Promise<unknown> }>;
}

const echoBody = JSON.stringify({
  header: { app_id: 'bench', status: 3 },
  parameter: { echo: { mode: 'plain' } },
  payload: { text: { encoding: 'utf8', status: 3, text: Buffer.from('hello, benchmark '.repeat(8)).toString('base64') } },
});

const asfEcho: Target = {
  name: 'asf up (gateway → gRPC → loader, JS echo)',
  async start() {
    const stack = await startStack(['--capability', path.join(repoRoot, 'examples', 'echo'), '--log-level', 'error']);
    return { url: `${stack.url}/v1/private/echo`, stop: () => stack.stop() };
  },
};

const bareFastify: Target = {
  name: 'bare fastify (same bytes, no validation, no hop)',
  async start() {
    const port = await freePort();
    const server = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bare-server.js');
    const child = spawn(process.execPath, [server, String(port)], { stdio: 'inherit' });
    await waitUntilListening(`http://127.0.0.1:${port}`);
    return {
      url: `http://127.0.0.1:${port}/v1/private/echo`,
      stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill())),
    };
  },
};

async function waitUntilListening(url: string) {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not start`);
}

async function measure(target: Target, body: string): Promise<LoadResult> {
  const running = await target.start();
  try {
    await drive({ url: running.url, body, connections, seconds: warmupSeconds });
    return await drive({ url: running.url, body, connections, seconds });
  } finally {
    await running.stop();
  }
}

function row(name: string, r: LoadResult, ratio: string) {
  return `| ${name} | ${r.requestsPerSec.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} | ${ratio} |`;
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`# ASF kit benchmark — ${os.cpus().length} × ${cpu}, Node ${process.version}, ${connections} connections, ${seconds} s per run (after ${warmupSeconds} s warm-up)\n`);
console.log('## Framework overhead: echo\n');
console.log('| server | req/s | p50 ms | p99 ms | errors | ratio to bare fastify |');
console.log('|---|---|---|---|---|---|');
const bare = await measure(bareFastify, echoBody);
const ours = await measure(asfEcho, echoBody);
console.log(row(bareFastify.name, bare, '1.00'));
console.log(row(asfEcho.name, ours, (ours.requestsPerSec / bare.requestsPerSec).toFixed(2)));
console.log(`\nTarget (issue 2): our full path ≥ 0.40 of bare fastify's throughput.`);
void waitHealthy;
