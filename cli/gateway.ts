import { consoleLog, type LogFormat } from './console-log.js';
import { startDiscovery, type DiscoveryChoice } from './discovery.js';
import { ServiceRegistry } from '../runtime/discovery/registry.js';
import { buildGateway } from '../runtime/gateway/server.js';

export interface GatewayCommandOptions extends DiscoveryChoice {
  host: string;
  port: number;
  bodyLimit?: number;
  timeoutMs?: number;
  queueDepth?: number;
  sessionTimeoutMs?: number;
  readTimeoutMs?: number;
  appId?: string[];
  /** Per-app quotas file (--quotas). */
  quotas?: string;
  /** Signing keys file (--signing). */
  signing?: string;
  logLevel: string;
  /** text: one line per event for a person (asf up); json: one JSON record per line (default). */
  logFormat?: LogFormat;
  version: string;
  /** Serve the browser console (false: --no-console). */
  console?: boolean;
}

export interface RunningGateway {
  url: string;
  registry: ServiceRegistry;
  close(): Promise<void>;
}

/** Starts the gateway in front of the loaders its discovery finds (a fixed list, or Kubernetes). */
export async function startGateway(options: GatewayCommandOptions): Promise<RunningGateway> {
  const registry = new ServiceRegistry({ queueDepth: options.queueDepth });
  const discovery = await startDiscovery(registry, options);
  const app = buildGateway({
    registry,
    bodyLimit: options.bodyLimit,
    timeoutMs: options.timeoutMs,
    sessionTimeoutMs: options.sessionTimeoutMs,
    readTimeoutMs: options.readTimeoutMs,
    appIds: options.appId,
    quotasFile: options.quotas,
    signingFile: options.signing,
    logLevel: options.logLevel,
    logStream: options.logFormat === 'text' ? consoleLog() : undefined,
    version: options.version,
    console: options.console,
  });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    registry,
    close: async () => {
      await discovery.stop();
      await app.close();
      registry.close();
    },
  };
}
