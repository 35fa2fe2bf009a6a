import { Counter, type Registry } from 'prom-client';

/** One answered request (or ended session), as metering counts it. */
export interface Usage {
  appId: string;
  service: string;
  /** ASF code of the answer, 0 for success (a session: how it ended, e.g. client_gone). */
  code: number | string;
  inBytes: number;
  outBytes: number;
  /** Time a loader licence was held for it (queue wait excluded). */
  loaderSeconds: number;
}

/** The app id under which everything past the bound (or outside an --app-id list) is counted. */
export const otherApps = 'other';

/**
 * Per-app metering in /metrics (`asf usage` reads it back): requests by app id, service and ASF
 * code, and the bytes in and out and loader time they took. The app ids counted by name are
 * bounded: with an --app-id list only those, else the first `maxApps` seen; the rest are "other",
 * so no client can grow the gateway's metrics without end.
 */
export function createMetering(register: Registry, options: { allowed?: ReadonlySet<string>; maxApps?: number } = {}) {
  const labelNames = ['app_id', 'service'] as const;
  const requests = new Counter({
    name: 'asf_app_requests_total',
    help: 'Requests (and stream sessions) answered, by app id, service and ASF code (0 = success)',
    labelNames: [...labelNames, 'code'],
    registers: [register],
  });
  const inBytes = new Counter({ name: 'asf_app_input_bytes_total', help: 'Request bytes received, by app id and service', labelNames, registers: [register] });
  const outBytes = new Counter({ name: 'asf_app_output_bytes_total', help: 'Answer bytes sent, by app id and service', labelNames, registers: [register] });
  const loaderSeconds = new Counter({
    name: 'asf_app_loader_seconds_total',
    help: 'Time loader licences were held for the requests, by app id and service',
    labelNames,
    registers: [register],
  });
  const named = new Set<string>();
  const maxApps = options.maxApps ?? 1000;

  const label = (appId: string): string => {
    if (!appId) return otherApps;
    if (options.allowed) return options.allowed.has(appId) ? appId : otherApps;
    if (named.has(appId)) return appId;
    if (named.size >= maxApps) return otherApps;
    named.add(appId);
    return appId;
  };

  // Labelled children looked up once per app and service, not hashed again on every request.
  interface Children {
    app: string;
    service: string;
    byCode: Map<string, Counter.Internal>;
    inBytes: Counter.Internal;
    outBytes: Counter.Internal;
    loaderSeconds: Counter.Internal;
  }
  const children = new Map<string, Children>();
  const childrenOf = (app: string, service: string): Children => {
    const key = `${app}\0${service}`;
    let c = children.get(key);
    if (!c) {
      c = { app, service, byCode: new Map(), inBytes: inBytes.labels(app, service), outBytes: outBytes.labels(app, service), loaderSeconds: loaderSeconds.labels(app, service) };
      children.set(key, c);
    }
    return c;
  };

  return {
    record(usage: Usage) {
      const c = childrenOf(label(usage.appId), usage.service || 'unknown');
      const code = String(usage.code);
      let counter = c.byCode.get(code);
      if (!counter) c.byCode.set(code, (counter = requests.labels(c.app, c.service, code)));
      counter.inc();
      if (usage.inBytes) c.inBytes.inc(usage.inBytes);
      if (usage.outBytes) c.outBytes.inc(usage.outBytes);
      if (usage.loaderSeconds) c.loaderSeconds.inc(usage.loaderSeconds);
    },
  };
}

export type Metering = ReturnType<typeof createMetering>;

/** The app id a request body names (header.app_id, or ASF's older header.appid). */
export function appIdOf(body: unknown): string {
  const header = (body as { header?: Record<string, unknown> } | null)?.header;
  const appId = header?.['app_id'] ?? header?.['appid'];
  return typeof appId === 'string' ? appId : '';
}
