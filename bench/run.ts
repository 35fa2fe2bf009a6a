// `npm run bench`: throughput and latency against peers on this machine, in one run, printed as
// ratios. Not a test: nothing here passes or fails on time; it reports what it measured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/helpers/stack.js';
import { execFileSync } from 'node:child_process';
import { compareFrameworks, median, type FrameworkOptions, type Measured } from './frameworks.js';
import { drive, formatMs, type LoadResult } from './load.js';
import { asfStack, bareFastify, peer, type PeerName, type Target, type Workload } from './peers.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const warmupSeconds = 2;
const reps = Number(process.env['BENCH_REPS'] ?? 3);

// `npm run bench -- --only echo,mmocr` (or BENCH_ONLY=echo,mmocr) runs a subset while iterating.
const sections = ['js', 'echo', 'hops', 'mmocr', 'layout', 'burst', 'streaming', 'native', 'aiges', 'bundle'] as const;
const onlyFlag = process.argv.indexOf('--only');
const only = (onlyFlag >= 0 ? process.argv[onlyFlag + 1] : process.env['BENCH_ONLY'])?.split(',').filter(Boolean);
for (const name of only ?? []) {
  if (!(sections as readonly string[]).includes(name)) throw new Error(`bench: unknown section '${name}'; sections: ${sections.join(', ')}`);
}
const runs = (section: (typeof sections)[number]) => !only || only.includes(section);

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

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
const machine =
  `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores (nproc) × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, ` +
  `load average ${os.loadavg().map((n) => n.toFixed(2)).join(' ')} at the start, Node ${process.version}, ${new Date().toISOString()}`;
console.log(`# ASF kit benchmark\n\n${machine}; autocannon drives every server from this process.`);

const frameworkSections: string[] = [];
if (runs('js')) {
  // Interleaved repetitions like the peer tables: load on this shared machine drifts by ~30% from
  // minute to minute, so one run of each, one after the other, can show either ratio.
  const options: FrameworkOptions = { concurrencies: [1, 32], reps, seconds: () => seconds, warmupSeconds, timeout: 10, baseline: 'bare fastify' };
  const echoJs = path.join(repoRoot, 'bench', 'fixtures', 'echo-js');
  const targets = [
    bareFastify,
    asfStack('asf up: gateway → loader on a worker thread → JS echo', echoJs, '/v1/private/echo'),
    asfStack("asf up, js.thread: false: gateway → loader on the gateway's thread → JS echo", path.join(repoRoot, 'bench', 'fixtures', 'echo-js-inline'), '/v1/private/echo'),
    asfStack('asf up --isolate: gateway → gRPC → loader process → JS echo', echoJs, '/v1/private/echo', {}, ['--isolate']),
  ];
  const { markdown: section } = await compareFrameworks('Framework overhead: bench/fixtures/echo-js, our full path against bare fastify', targets, echoBody('echo'), options);
  const target = 'Targets: at 32 connections the full path at ≥ 0.40 of bare fastify (issue 2); at 1, ≥ 0.6 (issue 26). asf up serves a JS capability from a worker thread of its own process (no gRPC hop; `--isolate` puts it back in a process of its own), or with capability.yaml `js.thread: false` on the gateway\'s thread (no hand-off between threads).';
  console.log(`\n${target}`);
  frameworkSections.push(`${section}\n\n${target}`);
}

/** Our stack (1 and 2 Python workers) and every peer framework, serving one wrapper.py. */
function frameworkTargets(workload: Workload, route: string): Target[] {
  const peers: PeerName[] = ['fastapi', 'bentoml', 'kserve', 'ray'];
  // The gateway waits as long as the loader does (the peers never give up on a request).
  const untimed = ['--timeout', '3600000'];
  return [
    asfStack('ASF kit (gateway + loader in one process → 1 Python worker)', workload.wrapperDir, route, {}, untimed),
    asfStack('ASF kit, 2 Python workers', workload.wrapperDir, route, { ASF_PYTHON_WORKERS: '2' }, untimed),
    ...peers.map((name) => peer(name, workload)),
  ];
}

/**
 * examples/mmocr as a bench capability: the same files and venv, plus `licences: 64` so that
 * 32 connections queue for the worker as they do in every peer (the default 4 licences would
 * turn the rest away with 10110), and a timeout longer than any queue.
 */
function benchMmocr(): string {
  const example = path.join(repoRoot, 'examples', 'mmocr');
  const dir = path.join(repoRoot, '.cache', 'bench-mmocr');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['wrapper.py', 'ocr_engine.py', 'sample.jpg', '.venv']) fs.symlinkSync(path.join(example, name), path.join(dir, name));
  // No timeout either: the peers have none, and a queue of 32 OCR requests outlasts the default 30 s.
  fs.writeFileSync(path.join(dir, 'capability.yaml'), 'licences: 64\ntimeoutMs: 3600000\n');
  return dir;
}

/**
 * The floor for one request at a time: the example's engine alone in a Python loop on the same
 * image (bench/model_alone.py), run at the start of each repetition so that the machine's drift
 * over the minutes a table takes (10% and more here) falls on the floor as on the servers; then
 * each server's c=1 rate against it.
 */
function modelAlone(dir: string, engine: string, image: string) {
  const runs: number[] = [];
  return {
    measure() {
      const out = execFileSync(path.join(dir, '.venv', 'bin', 'python'), [path.join(repoRoot, 'bench', 'model_alone.py'), dir, engine, image, '--seconds', String(seconds)], { encoding: 'utf8' });
      runs.push(Number(/([\d.]+) images\/s/.exec(out)![1]));
    },
    line(measured: Measured[]): string {
      const floor = median(runs);
      const ratios = measured.map((m) => `${m.target.name} ${(median((m.runs.get(1) ?? []).map((r) => r.requestsPerSec)) / floor).toFixed(2)}`);
      const line =
        `The model alone (bench/model_alone.py ${engine}: decode + run in one Python loop, the wrapper's default settings), a ${seconds} s run at the start of each repetition: ` +
        `median ${floor.toFixed(2)} images/s (runs: ${runs.map((v) => v.toFixed(2)).join(', ')}). One at a time against it: ${ratios.join('; ')}.`;
      console.log(`\n${line}`);
      return line;
    },
  };
}

const concurrencies = [1, 8, 32];
if (runs('echo')) {
  const workload = { wrapperDir: path.join(repoRoot, 'bench', 'fixtures', 'echo-py'), serviceId: 'echo_py', body: echoBody('echo_py') };
  const options: FrameworkOptions = { concurrencies, reps, seconds: () => Math.min(seconds, 5), warmupSeconds: 1, timeout: 10 };
  frameworkSections.push(
    (await compareFrameworks('Echo: the trivial bench/fixtures/echo-py wrapper (framework overhead)', frameworkTargets(workload, '/v1/private/echo_py'), workload.body, options)).markdown,
  );
}
if (runs('mmocr')) {
  execFileSync('bash', [path.join(repoRoot, 'examples', 'mmocr', 'setup.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const mmocrDir = benchMmocr();
  const workload = { wrapperDir: mmocrDir, serviceId: 'mmocr', body: mmocrBody };
  // At 32 connections and a few requests a second a request waits ~10 s for its turn, and a
  // server that runs them all at once answers none for as long: runs grow with the queue.
  const alone = modelAlone(mmocrDir, 'ocr_engine:OcrEngine', path.join(mmocrDir, 'sample.jpg'));
  const options: FrameworkOptions = {
    concurrencies,
    reps,
    seconds: (c) => Math.round(seconds * (c >= 32 ? 2.5 : c >= 8 ? 1.5 : 1)),
    warmupSeconds: 4,
    timeout: 120,
    eachRep: alone.measure,
  };
  const { markdown, measured } = await compareFrameworks('mmocr: examples/mmocr (PP-OCRv4 det + rec on CPU) on sample.jpg, licences: 64, timeoutMs: 3600000', frameworkTargets(workload, '/v1/private/mmocr'), workload.body, options);
  frameworkSections.push(`${markdown}\n\n${alone.line(measured)}`);
}
if (runs('layout')) {
  // The detection demo through asf up at 1 and 8 connections, next to its model alone in a Python loop.
  const layoutDir = path.join(repoRoot, 'examples', 'layout');
  execFileSync('bash', [path.join(layoutDir, 'setup.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const body = fs.readFileSync(path.join(layoutDir, 'request.json'), 'utf8');
  const route = '/v1/private/layout';
  const targets = [
    asfStack('asf up, examples/layout as shipped (2 Python workers, 4 licences)', layoutDir, route),
    asfStack('asf up, 1 Python worker', layoutDir, route, { ASF_PYTHON_WORKERS: '1' }),
  ];
  const alone = modelAlone(layoutDir, 'layout_engine:LayoutEngine', path.join(layoutDir, 'sample.jpg'));
  const options: FrameworkOptions = { concurrencies: [1, 8], reps, seconds: () => seconds, warmupSeconds: 2, timeout: 60, eachRep: alone.measure };
  const { markdown, measured } = await compareFrameworks('layout: examples/layout (PicoDet CDLA, one onnxruntime thread per worker) on sample.jpg', targets, body, options);
  frameworkSections.push(`${markdown}\n\n${alone.line(measured)}`);
}
if (runs('burst')) {
  // Issue 22: a slow wrapper (20 ms a call) with L = 4 licences, and 1, 4 and 16 times as many
  // clients: ours queues the burst at the gateway; the peers queue in their own ways.
  const licences = 4;
  const serviceSeconds = 0.02;
  const workload = { wrapperDir: path.join(repoRoot, 'bench', 'fixtures', 'slow-py'), serviceId: 'slow_py', body: echoBody('slow_py') };
  const clients = [licences, 4 * licences, 16 * licences];
  const options: FrameworkOptions = { concurrencies: clients, reps, seconds: () => Math.min(seconds, 5), warmupSeconds: 1, timeout: 10 };
  const targets = [asfStack('ASF kit (4 licences, 4 Python workers, default queue)', workload.wrapperDir, '/v1/private/slow_py'), peer('fastapi', workload), peer('kserve', workload)];
  const { markdown, measured } = await compareFrameworks(`Burst: bench/fixtures/slow-py (${serviceSeconds * 1000} ms a call), ${licences} licences, clients = L, 4L, 16L`, targets, workload.body, options);
  const ours = measured[0];
  const verdicts = clients.map((c) => {
    const runs = ours?.runs.get(c) ?? [];
    const ended = runs.reduce((n, r) => n + r.ended, 0);
    const ok = runs.reduce((n, r) => n + r.ok, 0);
    const rps = median(runs.map((r) => r.requestsPerSec));
    const p99 = median(runs.map((r) => r.p99));
    const p99Target = 1.2 * (Math.max(c, licences) / licences) * serviceSeconds * 1000;
    return `clients ${c}: ${ended ? ((100 * ok) / ended).toFixed(1) : '?'}% answered, ${rps.toFixed(0)} req/s (target ≥ ${((licences / serviceSeconds) * 0.9).toFixed(0)}), p99 ${formatMs(p99)} ms (target ≤ ${p99Target.toFixed(0)} ms)`;
  });
  const target = `Targets (issue 22), ours: 100% answered up to the queue bound; req/s ≥ licences ÷ service time × 0.9; p99 ≤ 1.2 × (clients ÷ licences) × service time. Measured: ${verdicts.join('; ')}.`;
  console.log(`\n${target}`);
  frameworkSections.push(`${markdown}\n\n${target}`);
}
// The real AIGES loader against ours on one C wrapper (issue 23), when ASF_AIGES_DIR names a build.
if (runs('aiges')) {
  const { aigesSection } = await import('./aiges.js');
  const { markdown, measured } = await aigesSection(seconds, reps);
  console.log(`\n${markdown}`);
  if (measured) frameworkSections.push(markdown);
}
if (frameworkSections.length > 0) {
  const notes = [
    'Every server runs the same wrapper.py; the peers call it through bench/peers/asf_model.py (ASF request JSON in, response JSON out) on their default single worker.',
    'Each server runs alone: started for its turn in each repetition and stopped after it, the servers of a table taking turns, so drift in the machine\'s speed falls on each alike: compare ratios, not absolute figures.',
    'After each run the bench waits until the server\'s processes are idle (under 0.1 CPU s in 1 s), so requests it is still working through do not slow the next server down.',
    'Memory: for ASF kit, `node` is asf up\'s supervisor + gateway + loader, `python` the wrapper worker(s) with the model; for the peers every process of the tree counts.',
  ];
  // A run of some sections (--only) replaces those in results.md and keeps the others.
  const file = path.join(repoRoot, 'bench', 'results.md');
  const kept = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split(/\n(?=## )/).slice(1) : [];
  const fresh = frameworkSections.map((section) => section.replace(/\n/, `\n\nMeasured on ${machine}.\n`));
  const title = (section: string) => section.slice(0, section.indexOf(':'));
  const order = (name: string) => ['## Framework overhead', '## Echo', '## mmocr', '## layout', '## Burst', '## AIGES'].indexOf(name) >>> 0; // the rest (bundle) last
  const sectionsOut = [...kept.filter((old) => !fresh.some((section) => title(section) === title(old))), ...fresh]
    .map((section) => section.trim())
    .sort((a, b) => order(title(a)) - order(title(b)));
  const text = `# ASF kit against bare fastify and the serving frameworks users would pick instead\n\n${notes.join('\n')}\n\n${sectionsOut.join('\n\n')}\n`;
  fs.writeFileSync(file, text);
  console.log('\nWritten to bench/results.md');
}

if (runs('hops')) {
  const { hopsSection } = await import('./hops.js');
  await hopsSection(Math.min(seconds, 5));
}

if (runs('streaming')) {
  const { streamingSection } = await import('./streaming.js');
  await streamingSection(seconds);
}

// The C bridge (issue 4): one trivial C wrapper (bench/fixtures/echo-c) from a bare C loop up to the full HTTP path.
if (runs('native')) {
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
  row(`asf up: HTTP → gateway → gRPC → loader (autocannon), ${seconds} s`, 32, us(1e6 / http.requestsPerSec), 1e6 / http.requestsPerSec, '', formatMs(http.p50));
  if (grpc.errors + http.errors + http.non2xx > 0) console.log(`\nErrors: ${grpc.errors} over gRPC, ${http.errors + http.non2xx} over HTTP.`);
  const bridge = concurrent.wall.median - directUs;
  console.log(
    `\nTarget (issue 4): bridge overhead under 5 µs per call: ${us(bridge)} µs at 32 in flight (${bridge < 5 ? 'met' : 'not met'}). ` +
      'µs/call in flight is the inverse of calls/s; one call at a time also waits for a hand-off to a worker thread and back to the event loop. ' +
      'On a shared 2-core machine these figures vary by up to 2× from run to run: compare runs, not single rows.',
  );
}

// The offline bundle (issue 7): asf bundle build against cp -r, asf bundle verify against sha256sum.
if (runs('bundle')) {
  const { bundleSection } = await import('./bundle.js');
  await bundleSection({ machine });
}
