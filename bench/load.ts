// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';

export interface LoadResult {
  /** Requests that ended (an answer, or an error such as a timeout), and of those answered 2xx; those still in flight when the run stopped are neither. */
  ended: number;
  ok: number;
  requestsPerSec: number;
  /** Milliseconds, to the microsecond: autocannon's own percentiles are whole milliseconds, too coarse for a sub-millisecond server. */
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  body: string;
  connections: number;
  seconds: number;
  /** Seconds before a request counts as an error (autocannon's default is 10). */
  timeout?: number;
}

/** One autocannon run (the same generator drives every peer). */
export async function drive(options: LoadOptions): Promise<LoadResult> {
  const latencies = new Latencies();
  const run = autocannon({
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    connections: options.connections,
    duration: options.seconds,
    timeout: options.timeout ?? 10,
  });
  run.on('response', (_client: unknown, statusCode: number, _bytes: number, responseMs: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.add(responseMs);
  });
  const result = await run;
  return {
    ended: result.requests.total + result.errors,
    ok: result['2xx'],
    requestsPerSec: result.requests.average,
    p50: latencies.percentile(0.5),
    p99: latencies.percentile(0.99),
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/** Response times of the 2xx answers, in ms with autocannon's own (hrtime) resolution. */
class Latencies {
  private values = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number) {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const sorted = this.values.subarray(0, this.count).sort();
    return sorted[Math.min(this.count - 1, Math.floor(p * this.count))]!;
  }
}

/** A latency for a table: hundredths below 10 ms, where they tell servers apart; whole ms above. */
export const formatMs = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 0) : '');
