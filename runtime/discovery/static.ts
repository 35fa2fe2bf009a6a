import type { LoaderConnection } from '../protocol/client.js';
import type { ServiceRegistry } from './registry.js';
import { ReplicaPoller, type PollerOptions } from './poller.js';

export type StaticDiscoveryOptions = PollerOptions;

/** A loader given by address (reached over gRPC), or one running in this process (its connection given). */
export type StaticLoader = string | { address: string; connection: LoaderConnection };

/** Embedded mode: a fixed list of loaders, polled for health, load and schema. */
export class StaticDiscovery {
  private readonly poller: ReplicaPoller;

  constructor(
    registry: ServiceRegistry,
    private readonly loaders: StaticLoader[],
    options: StaticDiscoveryOptions = {},
  ) {
    this.poller = new ReplicaPoller(registry, options);
  }

  /** Polls every loader once (so the caller can wait for a first picture), then keeps polling. */
  async start(): Promise<void> {
    await Promise.all(this.loaders.map((l) => (typeof l === 'string' ? this.poller.add(l) : this.poller.add(l.address, undefined, l.connection))));
    this.poller.start();
  }

  stop() {
    this.poller.stop();
  }
}
