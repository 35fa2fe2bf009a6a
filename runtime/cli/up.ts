import { startGateway } from './gateway.js';
import { LoaderProcess } from './supervisor.js';

export interface UpOptions {
  capability: string[];
  host: string;
  port: number;
  replicas: number;
  bodyLimit?: number;
  timeoutMs?: number;
  appId?: string[];
  logLevel: string;
  version: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** `asf up`: the embedded stack — one loader process per capability replica plus the gateway. */
export async function runUp(options: UpOptions): Promise<void> {
  const loaders = options.capability.flatMap((capability) =>
    Array.from({ length: options.replicas }, () => new LoaderProcess({ capability, host: '127.0.0.1', logLevel: options.logLevel, say })),
  );
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    await gateway?.close();
    await Promise.all(loaders.map((l) => l.stop()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    await Promise.all(loaders.map((l) => l.start()));
    gateway = await startGateway({ ...options, loader: loaders.map((l) => `127.0.0.1:${l.port}`) });
  } catch (err) {
    say(`asf up failed: ${(err as Error).message}`);
    await Promise.all(loaders.map((l) => l.stop()));
    process.exit(1);
  }

  say(`ASF kit ${options.version} — embedded stack`);
  for (const l of loaders) say(`  loader   ${l.options.capability}  127.0.0.1:${l.port} (pid ${l.pid})`);
  say(`  gateway  ${gateway.url}`);
  say(`  health   ${gateway.url}/healthz   metrics ${gateway.url}/metrics   openapi ${gateway.url}/openapi.json`);
  await reportReadiness(gateway.registry, gateway.url);
}

/** Prints each service's route once it is ready, and any capability that failed to start. */
async function reportReadiness(registry: Awaited<ReturnType<typeof startGateway>>['registry'], url: string) {
  const announced = new Set<string>();
  for (;;) {
    for (const service of registry.all()) {
      const { serviceId, version } = service.schema;
      const ready = service.replicas.some((r) => r.state === 'ready');
      const failed = service.replicas.find((r) => r.state === 'failed');
      const key = `${serviceId}:${ready ? 'ready' : failed ? 'failed' : ''}`;
      if (announced.has(key) || (!ready && !failed)) continue;
      announced.add(key);
      if (ready) say(`ready    POST ${url}/${version}/private/${serviceId}`);
      else say(`failed   ${serviceId}: ${failed?.error ?? 'unknown error'} (GET ${url}/healthz shows it)`);
    }
    if (registry.ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
