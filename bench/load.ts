// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { percentile } from '../runtime/develop/bench.js';

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
  /** The 2xx answers' response times in ms, at autocannon's own (hrtime) resolution. */
  const latencies: number[] = [];
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
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseMs);
  });
  const result = await run;
  latencies.sort((a, b) => a - b);
  // No 2xx answer: no latency (NaN, an empty cell), not the 0 that percentile() gives.
  const at = (p: number) => (latencies.length ? percentile(latencies, p) : NaN);
  return {
    ended: result.requests.total + result.errors,
    ok: result['2xx'],
    requestsPerSec: result.requests.average,
    p50: at(50),
    p99: at(99),
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/** A latency for a table: hundredths below 10 ms, where they tell servers apart; whole ms above. */
export const formatMs = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 0) : '');
