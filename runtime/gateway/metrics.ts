import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServiceRegistry } from '../discovery/registry.js';

/** Prometheus metrics of one gateway (a registry of its own, so several can live in one process). */
export function createMetrics(services: ServiceRegistry) {
  const register = new Registry();
  const requests = new Counter({
    name: 'asf_gateway_requests_total',
    help: 'Requests answered, by service and ASF code (0 = success)',
    labelNames: ['service', 'code'],
    registers: [register],
  });
  const duration = new Histogram({
    name: 'asf_gateway_request_duration_seconds',
    help: 'Time from request received to answer sent',
    labelNames: ['service'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [register],
  });
  const calls = new Counter({
    name: 'asf_gateway_replica_calls_total',
    help: 'Calls to each loader replica, by outcome (answered, busy = 10110, unreachable, timeout)',
    labelNames: ['service', 'replica', 'outcome'],
    registers: [register],
  });
  new Gauge({
    name: 'asf_loader_idle_licences',
    help: 'Free licences last reported by each loader replica',
    labelNames: ['service', 'replica'],
    registers: [register],
    collect() {
      this.reset();
      for (const r of services.allReplicas()) this.set({ service: r.serviceId ?? '', replica: r.address }, r.idle);
    },
  });
  new Gauge({
    name: 'asf_loader_ready',
    help: '1 when a loader replica reports ready',
    labelNames: ['service', 'replica'],
    registers: [register],
    collect() {
      this.reset();
      for (const r of services.allReplicas()) this.set({ service: r.serviceId ?? '', replica: r.address }, r.state === 'ready' ? 1 : 0);
    },
  });
  const queued = new Counter({
    name: 'asf_gateway_queue_total',
    help: 'Requests that found every licence taken, by service and how their wait ended: admitted, full (429), timeout (504), no_loader (503)',
    labelNames: ['service', 'outcome'],
    registers: [register],
  });
  const queueWait = new Histogram({
    name: 'asf_gateway_queue_wait_seconds',
    help: 'How long admitted requests waited for a licence',
    labelNames: ['service'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [register],
  });
  new Gauge({
    name: 'asf_gateway_queue_waiting',
    help: 'Requests waiting for a licence now, by service',
    labelNames: ['service'],
    registers: [register],
    collect() {
      this.reset();
      for (const s of services.all()) this.set({ service: s.schema.serviceId }, s.admission.length);
    },
  });
  const sessions = new Counter({
    name: 'asf_gateway_stream_sessions_total',
    help: 'WebSocket sessions ended, by service and outcome: 0 (final result sent), an ASF error code, or client_gone',
    labelNames: ['service', 'outcome'],
    registers: [register],
  });
  const openSessions = new Gauge({
    name: 'asf_gateway_stream_sessions_open',
    help: 'WebSocket sessions open now',
    labelNames: ['service'],
    registers: [register],
  });
  // Labelled children looked up once per label set, not hashed again on every request.
  const requestsBy = new Map<string, Counter.Internal>();
  const durationBy = new Map<string, Histogram.Internal<string>>();
  const callsBy = new Map<string, Counter.Internal>();
  return {
    register,
    observe(service: string, code: number, seconds: number) {
      const key = `${service}\0${code}`;
      let counter = requestsBy.get(key);
      if (!counter) requestsBy.set(key, (counter = requests.labels(service, String(code))));
      counter.inc();
      let histogram = durationBy.get(service);
      if (!histogram) durationBy.set(service, (histogram = duration.labels(service)));
      histogram.observe(seconds);
    },
    call(service: string, replica: string, outcome: string) {
      const key = `${service}\0${replica}\0${outcome}`;
      let counter = callsBy.get(key);
      if (!counter) callsBy.set(key, (counter = calls.labels(service, replica, outcome)));
      counter.inc();
    },
    queueWait(service: string, seconds: number, outcome: string) {
      queued.inc({ service, outcome });
      if (outcome === 'admitted') queueWait.observe({ service }, seconds);
    },
    sessionOpened(service: string) {
      openSessions.inc({ service });
    },
    sessionEnded(service: string, outcome: string) {
      openSessions.dec({ service });
      sessions.inc({ service, outcome });
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
