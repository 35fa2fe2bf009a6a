import fs from 'node:fs';
import { DiscoveryV1Api, KubeConfig, makeInformer, type Informer, type ObjectCache, type V1EndpointSlice } from '@kubernetes/client-node';
import type { ServiceRegistry } from './registry.js';
import { ReplicaPoller, type PollerOptions } from './poller.js';

export interface KubernetesDiscoveryOptions extends PollerOptions {
  /** Namespace whose EndpointSlices are watched (default: the Pod's own, else the kubeconfig context's). */
  namespace?: string;
  /** Label selector for the EndpointSlices of capability Services (they carry their Service's labels). */
  selector?: string;
  /** Name of the EndpointSlice port the loaders serve gRPC on; without it, the first port. */
  portName?: string;
  /** Wait before re-listing after the API server failed us. */
  retryMs?: number;
  /** Where to say what happened (a pino-style logger). */
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** A ready KubeConfig; default: KUBECONFIG / ~/.kube/config, else the in-cluster service account. */
  kubeConfig?: KubeConfig;
}

export const kubernetesDefaults = {
  selector: 'app.kubernetes.io/component=loader',
  portName: 'grpc',
  retryMs: 5000,
};

const serviceAccountNamespace = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The namespace to watch when none is given: the Pod's own (in a cluster), else the kubeconfig's. */
export function defaultNamespace(kc: KubeConfig): string {
  try {
    const ns = fs.readFileSync(serviceAccountNamespace, 'utf8').trim();
    if (ns) return ns;
  } catch {
    // not in a Pod
  }
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

/** The label our chart puts on each capability's loader Service (and so on its EndpointSlices). */
export const capabilityLabel = 'asf.io/capability';

/**
 * `host:port` of each endpoint that is not terminating (IPv6 hosts in brackets), with the
 * capability its Service names. Endpoints Kubernetes does not count as ready are kept too: a
 * loader still loading its model, or one whose wrapper failed, is asked why, so that /healthz and
 * `asf status` can say it; requests go only where the loader itself reports ready.
 */
export function loaderEndpoints(slices: readonly V1EndpointSlice[], portName = kubernetesDefaults.portName): Map<string, string | undefined> {
  const found = new Map<string, string | undefined>();
  for (const slice of slices) {
    const ports = slice.ports ?? [];
    const port = (ports.find((p) => p.name === portName) ?? ports[0])?.port;
    if (!port) continue;
    const capability = slice.metadata?.labels?.[capabilityLabel];
    for (const endpoint of slice.endpoints ?? []) {
      // Terminating: the Pod is going away; the Kubernetes convention is to send it nothing new.
      if (endpoint.conditions?.terminating === true) continue;
      for (const ip of endpoint.addresses ?? []) found.set(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`, capability);
    }
  }
  return found;
}

/** Capabilities whose loader Services exist, whatever their Pods do. */
export function expectedCapabilities(slices: readonly V1EndpointSlice[]): Set<string> {
  const names = new Set<string>();
  for (const slice of slices) {
    const name = slice.metadata?.labels?.[capabilityLabel];
    if (name) names.add(name);
  }
  return names;
}

/**
 * Cluster mode: watches the EndpointSlices of capability Services (list + watch through
 * @kubernetes/client-node's informer, re-listing after errors), so loader replicas join and leave
 * the registry as Kubernetes starts and stops them; each replica's health, load and schema come
 * from polling it over gRPC, as in embedded mode.
 */
export class KubernetesDiscovery {
  readonly namespace: string;
  readonly selector: string;
  private readonly poller: ReplicaPoller;
  private readonly informer: Informer<V1EndpointSlice> & ObjectCache<V1EndpointSlice>;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly options: KubernetesDiscoveryOptions = {},
  ) {
    const kc = options.kubeConfig ?? KubernetesDiscovery.loadConfig();
    this.namespace = options.namespace ?? defaultNamespace(kc);
    this.selector = options.selector ?? kubernetesDefaults.selector;
    this.poller = new ReplicaPoller(registry, options);
    const api = kc.makeApiClient(DiscoveryV1Api);
    const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/endpointslices`;
    this.informer = makeInformer(
      kc,
      path,
      () => api.listNamespacedEndpointSlice({ namespace: this.namespace, labelSelector: this.selector }),
      this.selector,
    );
    const changed = () => void this.reconcile();
    this.informer.on('add', changed);
    this.informer.on('update', changed);
    this.informer.on('delete', changed);
    this.informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      options.log?.warn({ err: String((err as Error)?.message ?? err) }, 'EndpointSlice watch failed; listing again shortly');
      clearTimeout(this.retry);
      this.retry = setTimeout(() => void this.informer.start().catch(() => undefined), options.retryMs ?? kubernetesDefaults.retryMs);
      this.retry.unref();
    });
  }

  static loadConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return kc;
  }

  /** Lists the slices, polls the loaders found once (a first picture), then follows changes. */
  async start(): Promise<void> {
    await this.informer.start();
    await this.reconcile();
    this.poller.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.poller.stop();
    await this.informer.stop();
  }

  /** Brings the poller's replica set in line with the ready endpoints now known. */
  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const slices = this.informer.list(this.namespace);
    this.registry.expect(expectedCapabilities(slices));
    const endpoints = loaderEndpoints(slices, this.options.portName);
    const wanted = new Set(endpoints.keys());
    const known = new Set(this.poller.addresses());
    for (const address of known) {
      if (!wanted.has(address)) {
        this.options.log?.info({ address }, 'loader replica left');
        this.poller.remove(address);
      }
    }
    const joining = [...wanted].filter((address) => !known.has(address));
    for (const address of joining) this.options.log?.info({ address }, 'loader replica joined');
    await Promise.all(joining.map((address) => this.poller.add(address, { capability: endpoints.get(address) })));
  }
}
