import type { ServiceRegistry } from '../runtime/discovery/registry.js';
import type { LoaderConnection } from '../runtime/protocol/client.js';

export interface DiscoveryChoice {
  /** static: the --loader list; kubernetes: EndpointSlices of capability Services. */
  discovery?: 'static' | 'kubernetes';
  /** static: `[NAME=]HOST:PORT` each. */
  loader?: string[];
  /** static: capability folders or capability.yaml files giving the schema of loaders named after their serviceId. */
  loaderSchemas?: string[];
  /** static: how often loader names are looked up again. */
  resolveIntervalMs?: number;
  /** Loaders running in this process (asf up), beside the --loader addresses. */
  inProcess?: { address: string; connection: LoaderConnection }[];
  namespace?: string;
  selector?: string;
  logLevel?: string;
}

export interface RunningDiscovery {
  stop(): void | Promise<void>;
}

/** Starts the gateway's discovery of loaders; resolves once a first picture is in the registry. */
export async function startDiscovery(registry: ServiceRegistry, options: DiscoveryChoice): Promise<RunningDiscovery> {
  if (options.discovery === 'kubernetes') {
    // Loaded only in cluster mode: the Kubernetes client is large.
    const [{ KubernetesDiscovery }, { pino }] = await Promise.all([import('../runtime/discovery/kubernetes.js'), import('pino')]);
    const log = pino({ level: options.logLevel ?? 'info', base: { role: 'discovery' } });
    const discovery = new KubernetesDiscovery(registry, { namespace: options.namespace, selector: options.selector, log });
    log.info({ namespace: discovery.namespace, selector: discovery.selector }, 'watching EndpointSlices');
    await discovery.start();
    return discovery;
  }
  if (!options.loader?.length && !options.inProcess?.length) throw new Error('--loader <host:port> is required unless --discovery kubernetes');
  const [{ StaticDiscovery }, { staticLoaders }] = await Promise.all([import('../runtime/discovery/static.js'), import('./loader-args.js')]);
  const loaders = [...staticLoaders(options.loader ?? [], options.loaderSchemas), ...(options.inProcess ?? [])];
  const discovery = new StaticDiscovery(registry, loaders, { resolveIntervalMs: options.resolveIntervalMs });
  await discovery.start();
  return discovery;
}
