import { Admission, type AdmissionOutcome } from '../balancer/admission.js';
import { Balancer, defaultBalance } from '../balancer/strategies.js';
import type { CapabilitySchema } from '../capability/types.js';
import type { LoaderHealth } from '../loader/loader.js';
import { gatewayDefaults } from '../gateway/defaults.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { Replica, type ReplicaOptions, type ReplicaState } from './replica.js';

export { Replica };

export interface Service {
  schema: CapabilitySchema;
  replicas: Replica[];
  /** Requests waiting for one of its licences. */
  readonly admission: Admission;
  /** How its one-shot requests pick a replica. */
  balancer: Balancer;
}

export interface RegistryOptions {
  maxMessageBytes?: number;
  /** Requests that may wait for a licence, per service, unless its capability.yaml says otherwise. */
  queueDepth?: number;
}

/** A burst of several times a service's licences waits rather than fails. */
export const defaultQueueDepth = gatewayDefaults.queueDepth;

/** One loader in a health report. */
export interface ReplicaReport {
  address: string;
  state: ReplicaState;
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

  /** Every wait in an admission queue, as it ends (the gateway's metrics listen). */
  onWait?: (serviceId: string, seconds: number, outcome: AdmissionOutcome) => void;

  constructor(private readonly options: RegistryOptions = {}) {}

  get(serviceId: string): Service | undefined {
    return this.services.get(serviceId);
  }

  all(): Service[] {
    return [...this.services.values()];
  }

  allReplicas(): Replica[] {
    return [...this.replicas.values()];
  }

  addReplica(address: string, options: Omit<ReplicaOptions, 'maxMessageBytes'> = {}): Replica {
    let replica = this.replicas.get(address);
    if (!replica) {
      replica = new Replica(address, { ...options, maxMessageBytes: this.options.maxMessageBytes });
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
    replica.markDown('left (discovery)');
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
    if (service.replicas.length > 0) return;
    this.services.delete(serviceId);
    service.admission.close(new AsfError(ErrorCode.ConnectionRead, `capability ${serviceId} has no loader any more`, 503));
  }

  /** Records a health report; the schema is needed the first time a replica names its service. */
  report(replica: Replica, health: LoaderHealth, schema?: CapabilitySchema) {
    replica.report(health);
    if (replica.serviceId !== health.serviceId || schema) this.file(replica, health.serviceId, schema);
    // A licence may have come free, or the replica become ready: the queue may move.
    if (replica.serviceId !== undefined) this.services.get(replica.serviceId)?.admission.wake();
  }

  private file(replica: Replica, serviceId: string, schema?: CapabilitySchema) {
    // A loader may name its service only once its wrapper has loaded (a wrapper.py declaring
    // serviceId): it leaves the service it was first filed under.
    if (replica.serviceId !== undefined && replica.serviceId !== serviceId) this.detach(replica, replica.serviceId);
    replica.serviceId = serviceId;
    let service = this.services.get(serviceId);
    if (!service && schema) {
      service = this.newService(schema);
      this.services.set(serviceId, service);
    }
    if (!service) return;
    if (schema) this.applySchema(service, schema);
    if (!service.replicas.includes(replica)) service.replicas.push(replica);
  }

  private newService(schema: CapabilitySchema): Service {
    const replicas: Replica[] = [];
    const service: Service = {
      schema,
      replicas,
      admission: new Admission(() => service.replicas, defaultQueueDepth, (seconds, outcome) => this.onWait?.(service.schema.serviceId, seconds, outcome)),
      balancer: new Balancer(schema.balance ?? defaultBalance),
    };
    this.applySchema(service, schema);
    return service;
  }

  /** The schema and the serving settings that come with it (queue depth, balancing). */
  private applySchema(service: Service, schema: CapabilitySchema) {
    service.schema = schema;
    service.admission.depth = schema.queue?.depth ?? this.options.queueDepth ?? defaultQueueDepth;
    const balance = schema.balance ?? defaultBalance;
    if (JSON.stringify(balance) !== JSON.stringify(service.balancer.spec)) service.balancer = new Balancer(balance);
  }

  markDown(replica: Replica, error: string) {
    replica.markDown(error);
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
