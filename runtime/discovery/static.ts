import { gatewayDefaults } from '../gateway/defaults.js';
import type { LoaderConnection } from '../protocol/client.js';
import type { GivenService } from './loader-queries.js';
import type { ServiceRegistry } from './registry.js';
import { NamedLoader } from './named-loader.js';
import { ReplicaPoller, type PollerOptions } from './poller.js';
import { isLiteral } from './resolve.js';

export interface StaticDiscoveryOptions extends PollerOptions {
  /** How often loader names are looked up again (they also are whenever one of their loaders is unreachable). */
  resolveIntervalMs?: number;
}

/**
 * A loader given by address (reached over gRPC; `given` when the user named its service), or one
 * running in this process (its connection given).
 */
export interface StaticLoader {
  address: string;
  given?: GivenService;
  connection?: LoaderConnection;
}

/**
 * Embedded mode: a fixed list of loaders, polled for health, load and schema. An address by IP is
 * one loader; one by name is every loader the name resolves to (a Compose service and its
 * replicas), followed as that changes.
 */
export class StaticDiscovery {
  private readonly poller: ReplicaPoller;
  private readonly names: NamedLoader[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    registry: ServiceRegistry,
    private readonly loaders: StaticLoader[],
    private readonly options: StaticDiscoveryOptions = {},
  ) {
    this.poller = new ReplicaPoller(registry, options);
  }

  /** Polls every loader once (so the caller can wait for a first picture), then keeps polling. */
  async start(): Promise<void> {
    await Promise.all(
      this.loaders.map(async (loader) => {
        const { address, given, connection } = loader;
        if (connection || isLiteral(address)) return void (await this.poller.add(address, { given, connection }));
        const named = new NamedLoader(address, this.poller, given);
        this.names.push(named);
        await named.refresh();
      }),
    );
    this.poller.start();
    if (this.names.length === 0) return;
    this.timer = setInterval(() => this.names.forEach((named) => void named.refresh()), this.options.resolveIntervalMs ?? gatewayDefaults.resolveIntervalMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
    for (const named of this.names) named.stop();
    this.poller.stop();
  }
}
