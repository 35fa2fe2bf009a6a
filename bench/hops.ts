// One request at a time, hop by hop (issue 26): the same trivial wrapper.py reached ever further
// out, so each row less the one before is what one more hop costs, next to the peers at c=1.
import path from 'node:path';
import { loadCapability } from '../runtime/capability/load.js';
import { createHost } from '../runtime/loader/hosts/index.js';
import { RequestSignal } from '../runtime/loader/request-signal.js';
import { repoRoot } from '../test/helpers/stack.js';
import { drive, formatMs } from './load.js';
import { loaderGrpc } from './native.js';
import { asfStack, peer, type Target } from './peers.js';
import { treeCpuSeconds, treePids, waitGone, waitIdle } from './process-tree.js';

const echoPy = path.join(repoRoot, 'bench', 'fixtures', 'echo-py');
const text = Buffer.from('hello, benchmark '.repeat(8));
const body = JSON.stringify({ header: { app_id: 'bench', status: 3 }, parameter: { echo_py: {} }, payload: { text: { encoding: 'utf8', status: 3, text: text.toString('base64') } } });

/** Mean µs per call of `call`, one at a time, for `seconds`. */
async function oneAtATime(seconds: number, call: () => Promise<unknown>): Promise<number> {
  let calls = 0;
  const until = performance.now() + seconds * 1000;
  const start = performance.now();
  while (performance.now() < until) {
    await call();
    calls++;
  }
  return ((performance.now() - start) * 1000) / calls;
}

/** µs per request one at a time, and the server's CPU per request (every process of its tree). */
async function overHttp(target: Target, seconds: number): Promise<{ us: number; cpuUs: number; p50: number; p99: number }> {
  const running = await target.start();
  try {
    await drive({ url: running.url, body, connections: 1, seconds: 2 });
    await waitIdle(running.pid, 30);
    const cpuBefore = treeCpuSeconds(running.pid);
    const r = await drive({ url: running.url, body, connections: 1, seconds });
    const cpuUs = ((treeCpuSeconds(running.pid) - cpuBefore) * 1e6) / (r.requestsPerSec * seconds);
    return { us: 1e6 / r.requestsPerSec, cpuUs, p50: r.p50, p99: r.p99 };
  } finally {
    const tree = treePids(running.pid);
    await running.stop();
    await waitGone(tree);
  }
}

export async function hopsSection(seconds: number): Promise<void> {
  const rows: [string, number, string, number?][] = [];
  const spec = loadCapability(echoPy);
  const host = createHost(spec);
  await host.start(spec.config);
  try {
    const call = () => host.once({ sid: 'hops', params: {}, inputs: [{ key: 'text', data: text, type: 0, status: 3, attrs: {} }], expect: [], signal: new RequestSignal() });
    await oneAtATime(1, call);
    rows.push(['Python host in this process: Node → pipe → Python worker → wrapper.py and back', await oneAtATime(seconds, call), '']);
  } finally {
    await host.stop();
  }
  const grpc = await loaderGrpc(echoPy, 1, seconds);
  rows.push(['asf loader over gRPC (the pipe stream), one call at a time', 1e6 / grpc.callsPerSec, `p50 ${grpc.p50Ms.toFixed(2)} ms`]);
  const http = [
    asfStack('asf up --isolate: HTTP → gateway → gRPC → loader process → Python worker', echoPy, '/v1/private/echo_py', {}, ['--isolate']),
    asfStack('asf up, python.pollMicros: 0 (the worker sleeps between calls)', echoPy, '/v1/private/echo_py', { ASF_PYTHON_POLL_MICROS: '0' }),
    asfStack('asf up: HTTP → gateway → loader in process → Python worker', echoPy, '/v1/private/echo_py'),
    peer('kserve', { wrapperDir: echoPy, serviceId: 'echo_py', body }),
    peer('fastapi', { wrapperDir: echoPy, serviceId: 'echo_py', body }),
  ];
  for (const target of http) {
    try {
      const r = await overHttp(target, seconds);
      rows.push([`${target.name} (autocannon, 1 connection)`, r.us, `p50 ${formatMs(r.p50)} ms, p99 ${formatMs(r.p99)} ms`, r.cpuUs]);
    } catch (err) {
      rows.push([`${target.name}: not measured (${(err as Error).message.split('\n')[0]})`, NaN, '']);
    }
  }
  console.log('\n## One request at a time: bench/fixtures/echo-py hop by hop\n');
  console.log('| path | µs per request | req/s | latency | server CPU µs per request |');
  console.log('|---|---|---|---|---|');
  const figure = (value: number | undefined, digits = 0) => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '');
  for (const [name, us, latency, cpuUs] of rows) console.log(`| ${name} | ${figure(us)} | ${figure(1e6 / us)} | ${latency} | ${figure(cpuUs)} |`);
  console.log(
    '\nEach row adds what lies in front of the one before; the HTTP rows include autocannon, which runs in this same process. ' +
      'Server CPU counts every process of the server (for asf up: gateway and Python worker, its polling included); µs per request less server CPU is time spent waiting, mostly for a sleeping process to be woken.',
  );
}
