/**
 * Which service a request is for: `?serviceId=` wins, then `/{version}/private/{serviceId}`,
 * then the last path segment (as the ASF gateway resolved `/mmocr`).
 */
export function resolveServiceId(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (q >= 0) {
    const fromQuery = new URLSearchParams(url.slice(q + 1)).get('serviceId');
    if (fromQuery) return fromQuery;
  }
  const segments = path.split('/').filter(Boolean);
  return segments.length ? decodeURIComponent(segments[segments.length - 1]!) : undefined;
}
