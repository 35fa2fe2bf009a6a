import type { ServiceRegistry } from './registry.js';
import { ReplicaPoller, type PollerOptions } from './poller.js';

export type StaticDiscoveryOptions = PollerOptions;

/** Embedded mode: a fixed list of loader addresses, polled over gRPC for health, load and schema. */
export class StaticDiscovery {
  private readonly poller: ReplicaPoller;

  constructor(
    registry: ServiceRegistry,
    private readonly addresses: string[],
    options: StaticDiscoveryOptions = {},
  ) {
    this.poller = new ReplicaPoller(registry, options);
  }

  /** Polls every loader once (so the caller can wait for a first picture), then keeps polling. */
  async start(): Promise<void> {
    await Promise.all(this.addresses.map((address) => this.poller.add(address)));
    this.poller.start();
  }

  stop() {
    this.poller.stop();
  }
}
