/**
 * Which service a request is for: `?serviceId=` wins, then `/{version}/private/{serviceId}`,
 * then the last path segment (as the ASF gateway resolved `/mmocr`).
 */
export function resolveServiceId(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q >= 0) {
    const fromQuery = new URLSearchParams(url.slice(q + 1)).get('serviceId');
    if (fromQuery) return fromQuery;
  }
  let end = q < 0 ? url.length : q;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--; // trailing slashes
  if (end === 0) return undefined;
  const segment = url.slice(url.lastIndexOf('/', end - 1) + 1, end);
  return segment.includes('%') ? decodeURIComponent(segment) : segment;
}
