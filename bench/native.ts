// Helpers for the C bridge section of `npm run bench`: the trivial C capability (bench/fixtures/echo-c),
// the direct C loop over it (bench/native/direct-loop.c), the in-process addon driver
// (bench/native-driver.ts) and a gRPC client driving `asf loader` the way the gateway does.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CapabilitySchema } from '../runtime/capability/types.js';
import { loaderInput, loaderOutput } from '../runtime/protocol/codec.js';
import { LoaderClient } from '../runtime/protocol/client.js';
import { SessState, type LoaderInput, type ReqData } from '../runtime/protocol/messages.js';
import { asfBin, freePort, repoRoot } from '../test/helpers/stack.js';

/** The text every path of the section echoes (the same as the other echo sections send). */
export const benchText = 'hello, benchmark '.repeat(8);

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = path.join(repoRoot, 'bench');
const cacheDir = path.join(repoRoot, '.cache', 'bench');
const includeDir = path.join(repoRoot, 'native', 'include');

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * `concurrency` lanes each calling `once` back to back for `seconds`: every call's latency (ms,
 * ascending), the calls that answered with an error (once() resolving false), and the wall time.
 */
export async function closedLoop(concurrency: number, seconds: number, once: () => Promise<boolean>): Promise<{ latencies: number[]; errors: number; elapsed: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      const ok = await once();
      latencies.push(performance.now() - start);
      if (!ok) errors++;
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies: latencies.sort((a, b) => a - b), errors, elapsed: (performance.now() - begin) / 1000 };
}

/** Several rounds of one measure: their median, and the spread that shows the machine's noise. */
export interface Rounds {
  median: number;
  min: number;
  max: number;
}

function rounds(values: number[]): Rounds {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Compiles with the system C compiler ($CC, else cc) unless the output is newer than its sources. */
function compile(output: string, sources: string[], args: string[]) {
  const built = fs.existsSync(output) ? fs.statSync(output).mtimeMs : 0;
  const header = path.join(includeDir, 'aiges_wrapper.h');
  if ([...sources, header].every((file) => fs.statSync(file).mtimeMs < built)) return;
  fs.mkdirSync(path.dirname(output), { recursive: true });
  execFileSync(process.env['CC'] ?? 'cc', ['-O2', '-Wall', '-Wextra', '-std=c11', `-I${includeDir}`, '-o', output, ...sources, ...args], { stdio: 'inherit' });
}

/** .cache/bench/echo-c: bench/fixtures/echo-c built into a capability folder (binaries stay out of the tree). */
export function buildEchoC(): string {
  const fixture = path.join(sourceDir, 'fixtures', 'echo-c');
  const dir = path.join(cacheDir, 'echo-c');
  compile(path.join(dir, 'libwrapper.so'), [path.join(fixture, 'echo.c')], ['-shared', '-fPIC', '-fvisibility=hidden']);
  fs.copyFileSync(path.join(fixture, 'capability.yaml'), path.join(dir, 'capability.yaml'));
  return dir;
}

/** The direct C loop over the capability's libwrapper.so: ns per wrapperExec + wrapperExecFree. */
export function directLoop(capability: string, calls: number, roundCount: number): Rounds {
  const program = path.join(cacheDir, 'direct-loop');
  compile(program, [path.join(sourceDir, 'native', 'direct-loop.c')], ['-ldl']);
  const lib = path.join(capability, 'libwrapper.so');
  const out = execFileSync(program, [lib, String(calls), String(roundCount), benchText], { encoding: 'utf8' });
  return rounds((JSON.parse(out) as { nsPerCall: number[] }).nsPerCall);
}

/** µs per call: wall-clock, CPU time of the whole process (all threads) and of its JS thread. */
export interface InProcess {
  wall: Rounds;
  cpu: Rounds;
  jsCpu: Rounds;
}

/** NativeHost in a fresh Node.js process (bench/native-driver.ts): µs per once() call, `inFlight` at a time. */
export async function inProcess(capability: string, calls: number, inFlight: number, roundCount: number): Promise<InProcess> {
  const driver = path.join(benchDir, 'native-driver.js');
  const child = spawn(process.execPath, [driver, capability, String(calls), String(inFlight), String(roundCount)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/native-driver exited with ${code}: ${out}`);
  const result = JSON.parse(out) as { usPerCall: number[]; cpuUsPerCall: number[]; jsCpuUsPerCall: number[] };
  return { wall: rounds(result.usPerCall), cpu: rounds(result.cpuUsPerCall), jsCpu: rounds(result.jsCpuUsPerCall) };
}

export interface GrpcResult {
  callsPerSec: number;
  p50Ms: number;
  errors: number;
}

/**
 * `asf loader` hosting the capability, driven over gRPC by LoaderClient (the gateway's own client,
 * through the loader pipe) with `concurrency` one-shot AIIn requests in flight: what the loader
 * serves without the HTTP gateway in front. A warm-up second first.
 */
export async function loaderGrpc(capability: string, concurrency: number, seconds: number): Promise<GrpcResult> {
  const port = await freePort();
  const loader = spawn(process.execPath, [asfBin, 'loader', '-c', capability, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => loader.once('exit', resolve));
  const client = new LoaderClient(`127.0.0.1:${port}`);
  try {
    await waitReady(client, loader);
    const schema = JSON.parse(await client.query({ query: 'schema' })) as CapabilitySchema;
    const serviceId = schema.serviceId;
    // As the gateway builds it for the echo body (gateway/request.ts); the sid travels in the envelope.
    const input: LoaderInput = {
      serviceId,
      serviceName: serviceId,
      state: SessState.ONCE,
      headers: { app_id: 'bench', appid: 'bench', status: '3' },
      params: {},
      expect: Object.keys(schema.outputs).map((name) => ({ name })),
      pl: [{ meta: { name: 'text', dataType: 0, attribute: { status: '3', seq: '0', encoding: 'utf8' } }, data: Buffer.from(benchText) }],
    };
    const encoded = loaderInput.encode(input);
    let sequence = 0;
    const once = async () => {
      // A fresh message per call, as the gateway makes: the client tags it with its pipe call id.
      const req: ReqData = { op: 'AIIn', s: { h: `bench-${++sequence}` }, param: { SeqNo: '1', version: 'v2', waitTime: '10000' }, data: [{ data: encoded }] };
      const res = await client.call(req, 10_000);
      const raw = res.data?.[0]?.data;
      return !(res.code || !raw || loaderOutput.decode(raw).code);
    };
    const run = async (runSeconds: number) => {
      const { latencies, errors, elapsed } = await closedLoop(concurrency, runSeconds, once);
      return { callsPerSec: latencies.length / elapsed, p50Ms: median(latencies), errors };
    };
    await run(1);
    return await run(seconds);
  } finally {
    client.close();
    if (loader.exitCode === null) loader.kill('SIGTERM');
    await exited;
  }
}

async function waitReady(client: LoaderClient, loader: ChildProcess) {
  let last = '';
  for (let i = 0; i < 300 && loader.exitCode === null; i++) {
    try {
      const health = JSON.parse(await client.query({ query: 'health' }, 1000)) as { state: string; error?: string };
      if (health.state === 'ready') return;
      if (health.state === 'failed') throw new Error(`the loader failed to start: ${health.error}`);
      last = health.state;
    } catch (err) {
      if (/failed to start/.test((err as Error).message)) throw err;
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the loader did not get ready (${loader.exitCode === null ? last : `exit ${loader.exitCode}`})`);
}
