// `asf usage`: per-app metering, read back from a gateway's /metrics.
import { unreachable } from './unreachable.js';

export interface AppUsage {
  appId: string;
  service: string;
  requests: number;
  errors: number;
  inBytes: number;
  outBytes: number;
  loaderSeconds: number;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** The asf_app_* series of a Prometheus text page, one row per app id and service. */
export function parseUsage(text: string): AppUsage[] {
  const rows = new Map<string, AppUsage>();
  const row = (appId: string, service: string) => {
    const key = `${appId}\0${service}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { appId, service, requests: 0, errors: 0, inBytes: 0, outBytes: 0, loaderSeconds: 0 }));
    return r;
  };
  for (const m of text.matchAll(/^(asf_app_\w+)\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!.replace(/\\(.)/g, '$1')]));
    const value = Number(m[3]);
    const r = row(labels['app_id'] ?? '', labels['service'] ?? '');
    switch (m[1]) {
      case 'asf_app_requests_total':
        r.requests += value;
        if (labels['code'] !== '0') r.errors += value;
        break;
      case 'asf_app_input_bytes_total':
        r.inBytes += value;
        break;
      case 'asf_app_output_bytes_total':
        r.outBytes += value;
        break;
      case 'asf_app_loader_seconds_total':
        r.loaderSeconds += value;
        break;
    }
  }
  return [...rows.values()].sort((a, b) => b.requests - a.requests || a.appId.localeCompare(b.appId) || a.service.localeCompare(b.service));
}

export function formatUsage(rows: AppUsage[]): string {
  if (rows.length === 0) return 'no requests counted yet\n';
  const table = [
    ['app_id', 'service', 'requests', 'errors', 'in', 'out', 'loader s'],
    ...rows.map((r) => [r.appId, r.service, String(r.requests), String(r.errors), bytes(r.inBytes), bytes(r.outBytes), r.loaderSeconds.toFixed(2)]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  return table.map((line) => line.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

export async function fetchUsage(gateway: string, timeoutMs = 10_000): Promise<AppUsage[]> {
  const url = `${gateway.replace(/\/+$/, '')}/metrics`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new UsageError(unreachable(url, err as Error, timeoutMs));
  }
  if (res.status !== 200) throw new UsageError(`${url} answered HTTP ${res.status}; is --gateway an ASF gateway?`);
  return parseUsage(await res.text());
}
