import type { CapabilitySchema } from '../capability/types.js';
import type { LoaderHealth } from '../loader/loader.js';
import type { Replica, ServiceRegistry } from './registry.js';

export interface StaticDiscoveryOptions {
  /** How often each loader is asked for its health and load. */
  intervalMs?: number;
}

/** Embedded mode: a fixed list of loader addresses, polled over gRPC for health, load and schema. */
export class StaticDiscovery {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly addresses: string[],
    private readonly options: StaticDiscoveryOptions = {},
  ) {}

  /** Polls every loader once (so the caller can wait for a first picture), then keeps polling. */
  async start(): Promise<void> {
    const replicas = this.addresses.map((address) => this.registry.addReplica(address));
    await this.pollAll(replicas);
    this.timer = setInterval(() => void this.pollAll(replicas), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  private async pollAll(replicas: Replica[]) {
    await Promise.all(replicas.map((replica) => this.poll(replica)));
  }

  private async poll(replica: Replica) {
    try {
      const health = JSON.parse(await replica.client.query('health')) as LoaderHealth;
      // The schema is fixed once a loader is ready; fetch it on the first ready report only.
      const needSchema = health.state === 'ready' && (replica.state !== 'ready' || replica.serviceId !== health.serviceId);
      const schema = needSchema || !this.registry.get(health.serviceId) ? await this.schema(replica) : undefined;
      this.registry.report(replica, health, schema);
    } catch (err) {
      this.registry.markDown(replica, `unreachable: ${(err as Error).message}`);
    }
  }

  private async schema(replica: Replica): Promise<CapabilitySchema> {
    return JSON.parse(await replica.client.query('schema')) as CapabilitySchema;
  }
}
