// `npm run bench`: throughput and latency against peers on this machine, in one run, printed as
// ratios. Not a test: nothing here passes or fails on time; it reports what it measured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/helpers/stack.js';
import { drive, type LoadResult } from './load.js';
import { asfStack, bareFastify, fastapi, type Target } from './peers.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const warmupSeconds = 2;

function echoBody(serviceId: string) {
  return JSON.stringify({
    header: { app_id: 'bench', status: 3 },
    parameter: { [serviceId]: {} },
    payload: { text: { encoding: 'utf8', status: 3, text: Buffer.from('hello, benchmark '.repeat(8)).toString('base64') } },
  });
}

const mmocrBody = JSON.stringify({
  header: { app_id: 'bench', status: 3 },
  parameter: { mmocr: { boxes: { encoding: 'utf8', compress: 'raw', format: 'json' } } },
  payload: { data: { encoding: 'jpg', status: 3, image: fs.readFileSync(path.join(repoRoot, 'examples', 'mmocr', 'sample.jpg')).toString('base64') } },
});

async function measure(target: Target, body: string, connections: number): Promise<LoadResult> {
  const running = await target.start();
  try {
    await drive({ url: running.url, body, connections, seconds: warmupSeconds });
    const result = await drive({ url: running.url, body, connections, seconds });
    if (result.errors + result.non2xx > 0) process.stderr.write(`bench: ${target.name}: ${result.errors} errors, ${result.non2xx} non-2xx answers\n`);
    return result;
  } finally {
    await running.stop();
  }
}

/** Runs each target at one concurrency and prints a table with each one's ratio to the first. */
async function compare(title: string, targets: Target[], body: string, connections: number, note: string) {
  const results: LoadResult[] = [];
  for (const target of targets) results.push(await measure(target, body, connections));
  const base = results[0]!.requestsPerSec;
  console.log(`\n## ${title} (${connections} connections)\n`);
  console.log(`| server | req/s | p50 ms | p99 ms | errors | ratio to ${targets[0]!.name.split(' (')[0]} |`);
  console.log('|---|---|---|---|---|---|');
  targets.forEach((target, i) => {
    const r = results[i]!;
    const ratio = (r.requestsPerSec / base).toFixed(2);
    console.log(`| ${target.name} | ${r.requestsPerSec.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} | ${ratio} |`);
  });
  console.log(`\n${note}`);
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`# ASF kit benchmark\n\n${os.cpus().length} × ${cpu}, Node ${process.version}; autocannon drives every server from this process; ${seconds} s per run after ${warmupSeconds} s warm-up.`);

await compare(
  'Framework overhead: JS echo',
  [bareFastify, asfStack('asf up: gateway → gRPC → loader → JS echo', path.join(repoRoot, 'bench', 'fixtures', 'echo-js'), '/v1/private/echo')],
  echoBody('echo'),
  32,
  'Target (issue 2): the full gateway → gRPC → loader path at ≥ 0.40 of bare fastify.',
);

const echoPy = path.join(repoRoot, 'bench', 'fixtures', 'echo-py');
await compare(
  'Python wrapper overhead: the same trivial wrapper.py',
  [
    fastapi(echoPy, '/v1/private/echo_py'),
    asfStack('asf up: gateway → gRPC → loader → 1 Python worker', echoPy, '/v1/private/echo_py'),
    asfStack('asf up: gateway → gRPC → loader → 2 Python workers', echoPy, '/v1/private/echo_py', { ASF_PYTHON_WORKERS: '2' }),
  ],
  echoBody('echo_py'),
  32,
  'Target (issue 3): our stack ≥ 1.00 of the hand-written FastAPI server at concurrency 32.',
);

const mmocr = asfStack('asf up: mmocr (PP-OCRv4 det + rec, CPU), sample.jpg', path.join(repoRoot, 'examples', 'mmocr'), '/v1/private/mmocr');
await compare('mmocr: one image per request', [mmocr], mmocrBody, 1, 'The model dominates; see issue 9 for mmocr against other serving frameworks.');

const { streamingSection } = await import('./streaming.js');
await streamingSection(seconds);

// The C bridge (issue 4): one trivial C wrapper (bench/fixtures/echo-c) from a bare C loop up to the full HTTP path.
{
  const { buildEchoC, directLoop, inProcess, loaderGrpc } = await import('./native.js');
  const echoC = buildEchoC();
  const direct = directLoop(echoC, 2_000_000, 5);
  const sequential = await inProcess(echoC, 20_000, 1, 5);
  const concurrent = await inProcess(echoC, 100_000, 32, 5);
  const grpc = await loaderGrpc(echoC, 32, seconds);
  const http = await measure(asfStack('asf up', echoC, '/v1/private/echo_c'), echoBody('echo_c'), 32);
  const us = (value: number) => value.toFixed(value < 1 ? 3 : 2);
  const spread = (r: import('./native.js').Rounds, scale = 1) => `${us(r.median * scale)} (${us(r.min * scale)}–${us(r.max * scale)})`;
  const directUs = direct.median / 1000;
  const row = (path: string, inFlight: number, perCall: string, perCallUs: number, cpu: string, p50: string, overhead = us(perCallUs - directUs)) =>
    console.log(`| ${path} | ${inFlight} | ${(1e6 / perCallUs).toFixed(0)} | ${perCall} | ${cpu} | ${p50} | ${overhead} |`);
  const cpu = (r: import('./native.js').InProcess) => `${us(r.jsCpu.median)} / ${us(r.cpu.median)}`;
  console.log('\n## C bridge: a trivial C wrapper (echo_c), from a direct C loop to the full HTTP path\n');
  console.log('| path | in flight | calls/s | µs/call (median of 5 rounds, min–max) | CPU µs/call: JS thread / all threads | p50 ms | overhead over the direct loop, µs/call |');
  console.log('|---|---|---|---|---|---|---|');
  row('direct C loop: wrapperExec + wrapperExecFree, one thread', 1, spread(direct, 1 / 1000), directUs, '', '', '');
  row('addon in process: NativeHost.once()', 1, spread(sequential.wall), sequential.wall.median, cpu(sequential), '');
  row('addon in process: NativeHost.once()', 32, spread(concurrent.wall), concurrent.wall.median, cpu(concurrent), '');
  row(`asf loader over gRPC (LoaderClient pipe), ${seconds} s`, 32, us(1e6 / grpc.callsPerSec), 1e6 / grpc.callsPerSec, '', grpc.p50Ms.toFixed(2));
  row(`asf up: HTTP → gateway → gRPC → loader (autocannon), ${seconds} s`, 32, us(1e6 / http.requestsPerSec), 1e6 / http.requestsPerSec, '', String(http.p50));
  if (grpc.errors + http.errors + http.non2xx > 0) console.log(`\nErrors: ${grpc.errors} over gRPC, ${http.errors + http.non2xx} over HTTP.`);
  const bridge = concurrent.wall.median - directUs;
  console.log(
    `\nTarget (issue 4): bridge overhead under 5 µs per call: ${us(bridge)} µs at 32 in flight (${bridge < 5 ? 'met' : 'not met'}). ` +
      'µs/call in flight is the inverse of calls/s; one call at a time also waits for a hand-off to a worker thread and back to the event loop. ' +
      'On a shared 2-core machine these figures vary by up to 2× from run to run: compare runs, not single rows.',
  );
}
