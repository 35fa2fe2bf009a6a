// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';

export interface LoadResult {
  /** Requests that ended (an answer, or an error such as a timeout), and of those answered 2xx; those still in flight when the run stopped are neither. */
  ended: number;
  ok: number;
  requestsPerSec: number;
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
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    connections: options.connections,
    duration: options.seconds,
    timeout: options.timeout ?? 10,
  });
  return {
    ended: result.requests.total + result.errors,
    ok: result['2xx'],
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}
