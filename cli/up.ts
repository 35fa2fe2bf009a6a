import type { DiscoveryChoice } from './discovery.js';
import { startGateway, type GatewayCommandOptions } from './gateway.js';
import fs from 'node:fs';
import path from 'node:path';
import { loadCapability } from '../runtime/capability/load.js';
import { createHost } from '../runtime/loader/hosts/index.js';
import { InProcessLoader } from '../runtime/loader/in-process.js';
import { ThreadLoader } from '../runtime/loader/thread-loader.js';
import { pollMicros } from '../runtime/loader/poll-micros.js';
import { Loader } from '../runtime/loader/loader.js';
import { signalExitCode } from './exits.js';
import { detachedEnv, logFile, removeStack, writeStack, type LocalStack } from './local-stacks.js';
import { checkDistinct, checkListen } from './preflight.js';
import { LoaderProcess } from './supervisor.js';
import { watchFolder } from './watch.js';

/** The gateway's options, with loaders started here instead of discovered. */
export interface UpOptions extends Omit<GatewayCommandOptions, keyof DiscoveryChoice> {
  logLevel: string;
  capability: string[];
  replicas: number;
  /** Once ready, call the mmocr demo against the stack and print what it read. */
  demo?: boolean;
  /** Every loader in a process of its own, Python ones too (as in a cluster). */
  isolate?: boolean;
  /** Restart a capability's loaders when its files change (each loader in a process, as with isolate). */
  watch?: boolean;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `asf up`: the embedded stack — the gateway, and for each capability replica a loader, placed
 * where a request costs least without the wrapper being able to stop the gateway:
 * - Python: the loader on the gateway's thread (the wrapper runs in Python worker processes);
 * - JS: the loader on a worker thread of this process (the wrapper runs there, on its own core;
 *   idle, it polls for the next call for js.pollMicros), or with `js.thread: false` on the
 *   gateway's thread (no hand-off, but a wrapper that computes long holds up the gateway meanwhile);
 * - C: a loader process, restarted when it dies (a crashing plugin takes its process along).
 * `--isolate` gives every loader a process of its own, as in a cluster; so does `--watch`, whose
 * reloads are loader restarts. The stack is listed in a state file while it runs (local-stacks.ts).
 */
export async function runUp(options: UpOptions): Promise<void> {
  const local: { dir: string; loader: Loader }[] = [];
  const threads: ThreadLoader[] = [];
  const loaders: LoaderProcess[] = [];
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  let stopping = false;
  const stop = async (why: string, code = process.exitCode ?? 0) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping`);
    unwatch.forEach((close) => close());
    if (detached) removeStack(process.pid);
    await gateway?.close();
    await stopLoaders();
    process.exit(code);
  };
  const stopLoaders = () =>
    Promise.all([...loaders.map((l) => l.stop()), ...threads.map((t) => t.stop()), ...local.map(({ loader }) => loader.stop().catch(() => {}))]);
  process.on('SIGINT', () => void stop('SIGINT', signalExitCode('SIGINT')));
  // Python workers inherit it: their `aiges` log keeps to the same level.
  process.env['ASF_LOG_LEVEL'] = options.logLevel;
  process.on('SIGTERM', () => void stop('SIGTERM'));
  const unwatch: (() => void)[] = [];
  const detached = process.env[detachedEnv] === '1';
  const ownProcess = options.isolate || options.watch;

  try {
    const specs = options.capability.map((dir) => loadCapability(dir));
    checkDistinct(specs);
    await checkListen(options.host, options.port);
    for (const [n, spec] of specs.entries()) {
      const dir = options.capability[n]!;
      for (let i = 0; i < options.replicas; i++) {
        // A JS wrapper that asks for it (js.thread: false) runs on this thread: no hand-off between threads.
        const onThisThread = spec.host === 'python' || (spec.host === 'js' && spec.js?.thread === false);
        if (onThisThread && !ownProcess) local.push({ dir, loader: new Loader(spec, createHost(spec)) });
        else if (spec.host === 'js' && !ownProcess) threads.push(new ThreadLoader(dir, say, pollMicros('ASF_JS_POLL_MICROS', spec.js?.pollMicros)));
        else loaders.push(new LoaderProcess({ capability: dir, host: '127.0.0.1', logLevel: options.logLevel, logFormat: options.logFormat ?? 'text', say }));
      }
    }
    await Promise.all(loaders.map((l) => l.start()));
    // Their wrappers load while the gateway starts; readiness follows as it does for loader processes.
    for (const { dir, loader } of local) {
      void loader.start().then(() => {
        if (loader.error) say(`loader   ${dir} failed to start: ${loader.error}`);
        for (const line of loader.schemaWarnings) say(`warning  ${dir}: ${line}`);
      });
    }
    gateway = await startGateway({
      ...options,
      loader: loaders.map((l) => `127.0.0.1:${l.port}`),
      inProcess: [
        ...local.map(({ dir, loader }, i) => ({ address: `in-process:${path.basename(dir)}#${i + 1}`, connection: new InProcessLoader(loader) })),
        ...threads.map((thread, i) => ({ address: `thread:${path.basename(thread.dir)}#${i + 1}`, connection: thread })),
      ],
    });
  } catch (err) {
    process.stderr.write(`asf: ${(err as Error).message}\n`);
    await stopLoaders();
    process.exit(1);
  }

  say(`ASF kit ${options.version} — embedded stack`);
  for (const l of loaders) say(`  loader   ${l.options.capability}  127.0.0.1:${l.port} (pid ${l.pid})`);
  for (const { dir, loader } of local) {
    say(`  loader   ${dir}  ${loader.spec.host === 'python' ? 'in this process (its Python workers are processes of their own)' : "on the gateway's thread (js.thread: false)"}`);
  }
  for (const thread of threads) say(`  loader   ${thread.dir}  in a thread of this process`);
  say(`  gateway  ${gateway.url}`);
  say(`  health   ${gateway.url}/healthz   metrics ${gateway.url}/metrics   openapi ${gateway.url}/openapi.json`);
  if (options.console !== false) say(`  console  ${gateway.url}/`);
  const stack: LocalStack = {
    pid: process.pid,
    url: gateway.url,
    port: Number(new URL(gateway.url).port),
    capabilities: options.capability.map((dir) => path.resolve(dir)),
    log: logFile(process.pid),
    startedAt: new Date().toISOString(),
  };
  // Only a background stack is listed: one in a terminal is that terminal's to stop.
  if (detached) writeStack(stack);
  if (options.watch) {
    for (const dir of options.capability) {
      const mine = loaders.filter((l) => l.options.capability === dir);
      unwatch.push(
        watchFolder(dir, (file) => {
          say(`reload   ${dir}: ${path.relative(dir, file)} changed; restarting its loader${mine.length > 1 ? 's' : ''}`);
          void Promise.all(mine.map((l) => l.reload())).catch((err: Error) => say(`reload   ${dir} failed: ${err.message}`));
        }),
      );
    }
  }
  const settled = await reportReadiness(gateway.registry, gateway.url);
  if (detached) writeStack({ ...stack, settled });
  if (settled.ready === 0) {
    // Nothing to serve: say so and what to do, rather than wait for requests that can only fail.
    const hints = options.capability.filter(hasSetup).map((dir) => `run ${path.join(dir, 'setup.sh')} (it prepares that capability's environment)`);
    process.stderr.write(`asf: no capability could start${hints.length ? `; ${hints.join('; ')}` : ' (see above)'}\n`);
    process.exitCode = 1;
    return stop('nothing to serve');
  }
  if (options.demo) await demo(gateway.url, settled.failed ? 'failed' : 'ready', stop);
}

/** A capability folder with its own setup script (examples/mmocr has one for its venv and models). */
const hasSetup = (dir: string) => fs.existsSync(path.join(dir, 'setup.sh'));

type Registry = Awaited<ReturnType<typeof startGateway>>['registry'];

/**
 * Prints each service's route once it is ready, and any capability that failed to start.
 * Resolves when every capability has settled, with how many are ready and how many failed.
 */
async function reportReadiness(registry: Registry, url: string): Promise<{ ready: number; failed: number }> {
  const announced = new Set<string>();
  for (;;) {
    let pending = registry.all().length === 0 || registry.allReplicas().some((r) => !r.serviceId);
    let failures = 0;
    for (const service of registry.all()) {
      const { serviceId, version } = service.schema;
      const ready = service.replicas.some((r) => r.state === 'ready');
      const failed = service.replicas.find((r) => r.state === 'failed');
      if (failed && !ready) failures++;
      if (!ready && !failed) pending = true;
      const key = `${serviceId}:${ready ? 'ready' : failed ? 'failed' : ''}`;
      if (announced.has(key) || (!ready && !failed)) continue;
      announced.add(key);
      if (ready) say(`ready    POST ${url}/${version}/private/${serviceId}`);
      else say(`failed   ${serviceId}: ${failed?.error ?? 'unknown error'} (GET ${url}/healthz shows it)`);
    }
    if (!pending) return { ready: registry.all().length - failures, failed: failures };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `--demo`: one mmocr call against the stack just started; the stack keeps serving after it. */
async function demo(url: string, settled: 'ready' | 'failed', stop: (why: string) => Promise<void>) {
  const { runDemo, demoDefaults, demoSummary, DemoError } = await import('./demo.js');
  try {
    if (settled === 'failed') throw new DemoError('a capability failed to start (see above)');
    say(demoSummary(await runDemo('mmocr', { ...demoDefaults, url })));
    say(`serving until Ctrl-C; call it again with: asf demo mmocr --gateway ${url}`);
  } catch (err) {
    say(`demo failed: ${(err as Error).message}`);
    process.exitCode = 1;
    await stop('demo failed');
  }
}
