import { LoaderClient } from '../protocol/client.js';
import type { CapabilitySchema } from '../capability/types.js';
import type { LoaderHealth, LoaderState } from '../loader/loader.js';

/** One loader process as the gateway sees it. */
export interface Replica {
  readonly address: string;
  readonly client: LoaderClient;
  /** The capability discovery knows it as (a Kubernetes Service's asf.io/capability label), if any. */
  capability?: string;
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

/** One loader in a health report. */
export interface ReplicaReport {
  address: string;
  state: Replica['state'];
  error?: string;
  idle?: number;
  total?: number;
}

/** What /healthz shows: every capability with its loaders, and loaders not filed under one yet. */
export interface HealthReport {
  ready: boolean;
  services: Record<string, ReplicaReport[]>;
  pending: ReplicaReport[];
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
  /** Capabilities discovery says exist (Kubernetes: a loader Service), with or without a loader. */
  private expected = new Set<string>();

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

  addReplica(address: string, capability?: string): Replica {
    let replica = this.replicas.get(address);
    if (!replica) {
      const client = new LoaderClient(address, this.clientOptions);
      replica = { address, client, capability, state: 'unknown', total: 0, idle: 0 };
      this.replicas.set(address, replica);
    }
    return replica;
  }

  /** The capabilities that should exist, so that one with no loader at all still shows as not ready. */
  expect(capabilities: Iterable<string>) {
    this.expected = new Set(capabilities);
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

  /**
   * Every capability with its loaders: those that reported a service, then, under the capability
   * name discovery gave them, loaders that have not (unreachable, say), then expected capabilities
   * with no loader at all. Ready when each has a ready loader and every loader has been heard from.
   */
  health(): HealthReport {
    const report = ({ address, state, error, idle, total }: Replica): ReplicaReport => ({ address, state, error, idle, total });
    const services: Record<string, ReplicaReport[]> = {};
    for (const [id, service] of this.services) services[id] = service.replicas.map(report);
    const pending: ReplicaReport[] = [];
    const named = new Set<string>();
    for (const replica of this.replicas.values()) {
      if (replica.capability !== undefined) named.add(replica.capability);
      if (replica.serviceId !== undefined && this.services.get(replica.serviceId)?.replicas.includes(replica)) continue;
      if (replica.capability !== undefined) (services[replica.capability] ??= []).push(report(replica));
      else pending.push(report(replica));
    }
    for (const name of this.expected) if (!named.has(name) && !services[name]) services[name] = [];
    const entries = Object.values(services);
    const ready =
      entries.length > 0 &&
      entries.every((replicas) => replicas.some((r) => r.state === 'ready')) &&
      [...this.replicas.values()].every((r) => r.state !== 'unknown');
    return { ready, services, pending };
  }

  ready(): boolean {
    return this.health().ready;
  }

  /** Why a capability known by name has no ready loader, or undefined when it is not known at all. */
  whyNotReady(name: string): string | undefined {
    const entry = this.health().services[name];
    if (!entry) return undefined;
    if (entry.length === 0) return 'no loader is running (check its Pods: kubectl get pods -l asf.io/capability=' + name + ')';
    return entry.map((r) => `${r.address} ${r.state}${r.error ? `: ${r.error}` : ''}`).join('; ');
  }

  close() {
    for (const replica of [...this.replicas.values(), ...this.leaving]) replica.client.close();
    this.leaving.clear();
  }
}
