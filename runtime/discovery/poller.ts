import type { Replica, ServiceRegistry } from './registry.js';
import type { ReplicaOptions } from './replica.js';

export interface PollerOptions {
  /** How often each loader is asked for its health and load. */
  intervalMs?: number;
}

/**
 * Asks every known loader replica over gRPC for its health and load (and, once ready, its schema),
 * and files the answers in the registry. Discovery modules decide which addresses exist (a fixed
 * list, or Kubernetes EndpointSlices); this is the one place that talks to the loaders about them.
 */
export class ReplicaPoller {
  private readonly replicas = new Map<string, Replica>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly options: PollerOptions = {},
  ) {}

  addresses(): string[] {
    return [...this.replicas.keys()];
  }

  /** Starts tracking a loader (of `options.capability`, when discovery knows) and polls it once; resolves with it when that first answer is filed. */
  async add(address: string, options: Omit<ReplicaOptions, 'maxMessageBytes'> = {}): Promise<Replica> {
    const known = this.replicas.get(address);
    if (known) return known;
    const replica = this.registry.addReplica(address, options);
    this.replicas.set(address, replica);
    await this.poll(replica);
    return replica;
  }

  /** Stops tracking a loader and takes it out of the registry (requests no longer go there). */
  remove(address: string) {
    if (!this.replicas.delete(address)) return;
    this.registry.removeReplica(address);
  }

  /** Keeps polling every tracked loader until stop(). */
  start() {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pollAll(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async pollAll(): Promise<void> {
    await Promise.all([...this.replicas.values()].map((replica) => this.poll(replica)));
  }

  private tracked(replica: Replica) {
    return this.replicas.get(replica.address) === replica;
  }

  private async poll(replica: Replica) {
    try {
      const health = await replica.queries.health();
      // The schema is fixed once a loader is ready; fetch it on the first ready report only.
      const needSchema = health.state === 'ready' && (replica.state !== 'ready' || replica.serviceId !== health.serviceId);
      const schema = needSchema || !this.registry.get(health.serviceId) ? await replica.queries.schema() : undefined;
      // Removed while we waited: filing the answer would bring it back.
      if (this.tracked(replica)) this.registry.report(replica, health, schema);
    } catch (err) {
      if (this.tracked(replica)) this.registry.markDown(replica, `unreachable: ${(err as Error).message}`);
    }
  }
}
