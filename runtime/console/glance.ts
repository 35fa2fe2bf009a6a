import type { Registry } from 'prom-client';

/** The gateway's own counters for one service at one moment. */
interface ServiceCounts {
  /** Requests answered, by ASF code ('0' = success). */
  codes: Map<string, number>;
  /** Cumulative request-duration bucket counts, by upper bound in seconds ('+Inf' last). */
  buckets: Map<string, number>;
}

interface Sample {
  at: number;
  services: Map<string, ServiceCounts>;
}

/** One service over the window: what a person glances at. */
export interface GlanceRow {
  requests: number;
  perSecond: number;
  /**
   * Upper bounds of the duration buckets the median and the 99th percentile fall in, as Prometheus
   * writes them (seconds, or '+Inf' past the largest); null with no request.
   */
  p50: string | null;
  p99: string | null;
  errors: Record<string, number>;
}

export interface GlanceView {
  /** Seconds the figures cover (from the oldest sample kept to now). */
  seconds: number;
  services: Record<string, GlanceRow>;
}

/**
 * Req/s, p50/p99 and errors by code per service over the last minutes, from the gateway's own
 * Prometheus counters: they only ever grow, so a sample every `everyMs` kept for `windowMs` gives
 * the window as a difference (the page needs no history of its own).
 */
export class Glance {
  private samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly register: Registry,
    private readonly windowMs = 5 * 60_000,
    private readonly everyMs = 10_000,
  ) {}

  start() {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.everyMs).unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  private async sample() {
    const now = await this.read();
    this.samples = [...this.samples.filter((s) => s.at >= now.at - this.windowMs), now];
  }

  private async read(): Promise<Sample> {
    const services = new Map<string, ServiceCounts>();
    const of = (service: string) => {
      let counts = services.get(service);
      if (!counts) services.set(service, (counts = { codes: new Map(), buckets: new Map() }));
      return counts;
    };
    const requests = await this.register.getSingleMetric('asf_gateway_requests_total')?.get();
    for (const { labels, value } of requests?.values ?? []) of(String(labels['service'])).codes.set(String(labels['code']), value);
    const duration = await this.register.getSingleMetric('asf_gateway_request_duration_seconds')?.get();
    for (const { labels, value, metricName } of (duration?.values ?? []) as { labels: Record<string, string | number>; value: number; metricName?: string }[]) {
      if (metricName?.endsWith('_bucket')) of(String(labels['service'])).buckets.set(String(labels['le']), value);
    }
    return { at: Date.now(), services };
  }

  async view(): Promise<GlanceView> {
    const now = await this.read();
    const base = this.samples[0] ?? now;
    const seconds = Math.max(1, (now.at - base.at) / 1000);
    const services: Record<string, GlanceRow> = {};
    for (const [service, counts] of now.services) {
      const before = base.services.get(service);
      const delta = (map: Map<string, number>, key: string, was?: Map<string, number>) => (map.get(key) ?? 0) - (was?.get(key) ?? 0);
      const errors: Record<string, number> = {};
      let requests = 0;
      for (const code of counts.codes.keys()) {
        const n = delta(counts.codes, code, before?.codes);
        requests += n;
        if (code !== '0' && n > 0) errors[code] = n;
      }
      const buckets = [...counts.buckets.keys()].map((le) => ({ le, n: delta(counts.buckets, le, before?.buckets) }));
      const quantile = (q: number) => {
        const total = buckets.at(-1)?.n ?? 0;
        if (!total) return null;
        return buckets.find((b) => b.n >= q * total)?.le ?? '+Inf';
      };
      services[service] = { requests, perSecond: requests / seconds, p50: quantile(0.5), p99: quantile(0.99), errors };
    }
    return { seconds, services };
  }
}
