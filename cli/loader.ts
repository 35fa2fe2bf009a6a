import { pino } from 'pino';
import { loadCapability } from '../runtime/capability/load.js';
import { createHost } from '../runtime/loader/hosts/index.js';
import { Loader } from '../runtime/loader/loader.js';
import { serveLoader } from '../runtime/loader/server.js';
import { consoleLog, type LogFormat } from './console-log.js';
import { signalExitCode } from './exits.js';

export interface LoaderCommandOptions {
  capability: string;
  host: string;
  port: number;
  maxMessageBytes?: number;
  logLevel: string;
  logFormat?: LogFormat;
  /** On SIGTERM, keep serving this long (reporting 'stopping') before closing: see stop(). */
  drainMs?: number;
  /** Exit with status 1 when the capability fails to start. */
  exitOnFailure?: boolean;
}

/** What a loader tells the `asf up` process that started it; readiness comes from the gateway's health polls. */
export type LoaderMessage = { type: 'listening'; port: number };

/** `asf loader`: one capability behind the AIGES gRPC envelope. */
export async function runLoader(options: LoaderCommandOptions): Promise<void> {
  // Python workers inherit it: their `aiges` log keeps to the same level.
  process.env['ASF_LOG_LEVEL'] = options.logLevel;
  const log = pino({ level: options.logLevel, base: { role: 'loader' } }, options.logFormat === 'text' ? consoleLog() : undefined);
  const spec = loadCapability(options.capability);
  const host = createHost(spec);
  const loader = new Loader(spec, host);
  const server = await serveLoader(loader, { host: options.host, port: options.port, maxMessageBytes: options.maxMessageBytes });
  const tell = (message: LoaderMessage) => process.send?.(message);
  log.info({ capability: spec.dir, port: server.port }, 'loader listening');
  tell({ type: 'listening', port: server.port });

  let stopping = false;
  const stop = async (why: string, drainMs = 0, code = 0) => {
    if (stopping) return;
    stopping = true;
    // Kubernetes sends SIGTERM while the gateways are still learning, from the EndpointSlice and
    // from our 'stopping' health, that this Pod is leaving: requests may arrive for a moment
    // more, and they are served rather than refused.
    if (drainMs > 0) {
      loader.draining = true;
      log.info({ why, drainMs }, 'loader draining: serving what still arrives, then stopping');
      await new Promise((resolve) => setTimeout(resolve, drainMs));
    }
    log.info({ why }, 'loader stopping');
    await server.close();
    await loader.stop().catch((err: Error) => log.warn({ err }, 'wrapperFini failed'));
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', options.drainMs));
  process.on('SIGINT', () => void stop('SIGINT', 0, signalExitCode('SIGINT')));
  // Started by `asf up`: go down with it.
  process.on('disconnect', () => void stop('parent went away'));

  await loader.start();
  for (const line of loader.schemaWarnings) log.warn({ capability: spec.dir }, line);
  const { error } = loader.health();
  if (error) {
    log.error({ serviceId: loader.schema.serviceId, error }, 'capability failed to start');
    if (options.exitOnFailure) await stop('capability failed to start', 0, 1);
  } else log.info({ serviceId: loader.schema.serviceId, licences: spec.licences, ...host.details }, 'capability ready');
}
