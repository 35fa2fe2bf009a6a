import { LoaderClient } from '../protocol/client.js';
import type { CapabilitySchema } from '../capability/types.js';
import type { LoaderHealth, LoaderState } from '../loader/loader.js';

/** One loader process as the gateway sees it. */
export interface Replica {
  readonly address: string;
  readonly client: LoaderClient;
  serviceId?: string;
  /** 'down' = unreachable; the others are the loader's own report. */
  state: LoaderState | 'down' | 'unknown';
  error?: string;
  total: number;
  /** Free licences as last reported, pre-decremented by the balancer for each request it sends. */
  idle: number;
}

export interface Service {
  schema: CapabilitySchema;
  replicas: Replica[];
}

/**
 * Where each capability's loaders are and what its schema is. Discovery modules (static lists,
 * Kubernetes) write here; the gateway and balancer only read.
 */
export class ServiceRegistry {
  private readonly replicas = new Map<string, Replica>();
  private readonly services = new Map<string, Service>();
  /** Removed replicas whose connection closes after a grace period. */
  private readonly leaving = new Set<Replica>();

  constructor(private readonly clientOptions: { maxMessageBytes?: number } = {}) {}

  get(serviceId: string): Service | undefined {
    return this.services.get(serviceId);
  }

  all(): Service[] {
    return [...this.services.values()];
  }

  allReplicas(): Replica[] {
    return [...this.replicas.values()];
  }

  addReplica(address: string): Replica {
    let replica = this.replicas.get(address);
    if (!replica) {
      const client = new LoaderClient(address, this.clientOptions);
      replica = { address, client, state: 'unknown', total: 0, idle: 0 };
      this.replicas.set(address, replica);
    }
    return replica;
  }

  /**
   * Forgets a loader that discovery says is gone: no new request goes to it. Its connection stays
   * open for `graceMs` so that requests already sent there can still be answered.
   */
  removeReplica(address: string, graceMs = 30_000) {
    const replica = this.replicas.get(address);
    if (!replica) return;
    this.replicas.delete(address);
    if (replica.serviceId !== undefined) this.detach(replica, replica.serviceId);
    replica.state = 'down';
    replica.idle = 0;
    this.leaving.add(replica);
    setTimeout(() => {
      this.leaving.delete(replica);
      replica.client.close();
    }, graceMs).unref();
  }

  private detach(replica: Replica, serviceId: string) {
    const service = this.services.get(serviceId);
    if (!service) return;
    service.replicas = service.replicas.filter((r) => r !== replica);
    if (service.replicas.length === 0) this.services.delete(serviceId);
  }

  /** Records a health report; the schema is needed the first time a replica names its service. */
  report(replica: Replica, health: LoaderHealth, schema?: CapabilitySchema) {
    replica.state = health.state;
    replica.error = health.error;
    replica.total = health.total;
    replica.idle = health.idle;
    if (replica.serviceId === health.serviceId && !schema) return;
    // A loader may name its service only once its wrapper has loaded (a wrapper.py declaring
    // serviceId): it leaves the service it was first filed under.
    if (replica.serviceId !== undefined && replica.serviceId !== health.serviceId) this.detach(replica, replica.serviceId);
    replica.serviceId = health.serviceId;
    let service = this.services.get(health.serviceId);
    if (!service && schema) {
      service = { schema, replicas: [] };
      this.services.set(health.serviceId, service);
    }
    if (!service) return;
    if (schema) service.schema = schema;
    if (!service.replicas.includes(replica)) service.replicas.push(replica);
  }

  markDown(replica: Replica, error: string) {
    replica.state = 'down';
    replica.error = error;
    replica.idle = 0;
  }

  /** Ready when every known loader has reported and every service has a ready replica. */
  ready(): boolean {
    if (this.replicas.size === 0) return false;
    for (const replica of this.replicas.values()) if (replica.state === 'unknown') return false;
    if (this.services.size === 0) return false;
    for (const service of this.services.values()) {
      if (!service.replicas.some((r) => r.state === 'ready')) return false;
    }
    return true;
  }

  close() {
    for (const replica of [...this.replicas.values(), ...this.leaving]) replica.client.close();
    this.leaving.clear();
  }
}
