/** Turns fetch's and ws's terse connection failures into what the user should check. */
export function unreachable(endpoint: string, err: Error, timeoutMs: number): string {
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return `no answer from ${endpoint} within ${timeoutMs} ms (raise --timeout, or check the service's log)`;
  }
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? (err as NodeJS.ErrnoException).code ?? cause?.message ?? err.message;
  return `cannot reach ${endpoint} (${why}); is \`asf up\` running? (or pass --gateway http://<node>:30889 for a cluster)`;
}
