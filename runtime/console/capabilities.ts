import type { CapabilitySchema } from '../capability/types.js';
import type { ServiceRegistry } from '../discovery/registry.js';

/** One capability as the console shows it: where to call it, whether it can answer now, and its schema. */
export interface CapabilityView {
  serviceId: string;
  route: string;
  ready: boolean;
  /** Why it cannot answer, when it is not ready (the loaders' states and errors). */
  why?: string;
  replicas: { ready: number; total: number };
  licences: { idle: number; total: number };
  queue?: { waiting: number; depth: number };
  schema?: Pick<CapabilitySchema, 'version' | 'inputs' | 'outputs' | 'params'>;
}

/**
 * Every capability the gateway knows, served or only expected: the console's list. Built from the
 * registry on each call (a handful of services), so it is as current as /healthz.
 */
export function capabilityViews(registry: ServiceRegistry): CapabilityView[] {
  const { services } = registry.health();
  return Object.entries(services)
    .map(([name, replicas]): CapabilityView => {
      const service = registry.get(name);
      const ready = replicas.some((r) => r.state === 'ready');
      const view: CapabilityView = {
        serviceId: name,
        route: `/${service?.schema.version ?? 'v1'}/private/${name}`,
        ready,
        replicas: { ready: replicas.filter((r) => r.state === 'ready').length, total: replicas.length },
        licences: {
          idle: replicas.reduce((sum, r) => sum + (r.idle ?? 0), 0),
          total: replicas.reduce((sum, r) => sum + (r.total ?? 0), 0),
        },
      };
      if (!ready) view.why = registry.whyNotReady(name);
      if (service) {
        const { version, inputs, outputs, params } = service.schema;
        view.schema = { version, inputs, outputs, params };
        view.queue = { waiting: service.admission.length, depth: service.admission.depth };
      }
      return view;
    })
    .sort((a, b) => a.serviceId.localeCompare(b.serviceId));
}
