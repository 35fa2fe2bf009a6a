/** Latencies of a load test, summarised the way xtest-style tools print them. */
export interface BenchReport {
  requests: number;
  concurrency: number;
  /** Answers by code (0 for success); transport failures count under their error text. */
  outcomes: Map<string, number>;
  latenciesMs: number[];
  wallMs: number;
}

/**
 * Sends `requests` one-shot POSTs with `concurrency` in flight at once; each `send` resolves with
 * the answer's ASF code (0 for success) or rejects on a transport failure.
 */
export async function runBench(requests: number, concurrency: number, send: () => Promise<number>): Promise<BenchReport> {
  const latenciesMs: number[] = [];
  const outcomes = new Map<string, number>();
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < requests) {
      next++;
      const t0 = process.hrtime.bigint();
      try {
        count(`code ${await send()}`);
      } catch (err) {
        count((err as Error).message);
      }
      latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker));
  return { requests, concurrency, outcomes, latenciesMs, wallMs: Number(process.hrtime.bigint() - start) / 1e6 };
}

/** The value below which `p` percent of the sorted latencies fall (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Bucket upper bounds in ms: 1-2-5 steps, enough to cover the slowest request. */
function bounds(max: number): number[] {
  const out: number[] = [];
  for (let decade = 0.1; ; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const bound = Number((step * decade).toPrecision(3));
      out.push(bound);
      if (bound >= max) return out;
    }
  }
}

/** The report as printed: totals, outcomes, percentiles and a text histogram of latencies. */
export function formatBench(report: BenchReport, width = 40): string[] {
  const sorted = [...report.latenciesMs].sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
  const lines = [
    `${report.requests} requests, concurrency ${report.concurrency}, ${(report.wallMs / 1000).toFixed(2)} s, ${((report.requests * 1000) / report.wallMs).toFixed(1)} req/s`,
    `outcomes: ${[...report.outcomes].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
    `latency: min ${ms(sorted[0] ?? 0)}  p50 ${ms(percentile(sorted, 50))}  p90 ${ms(percentile(sorted, 90))}  p99 ${ms(percentile(sorted, 99))}  max ${ms(sorted.at(-1) ?? 0)}`,
    'histogram (ms):',
  ];
  const edges = bounds(sorted.at(-1) ?? 0);
  const counts = edges.map(() => 0);
  for (const v of sorted) counts[edges.findIndex((b) => v <= b)]!++;
  // Drop empty buckets below the fastest answer, keep gaps above it so the shape stays honest.
  const first = counts.findIndex((n) => n > 0);
  const most = Math.max(...counts);
  for (let i = Math.max(first, 0); i < edges.length; i++) {
    const bar = '█'.repeat(Math.round((counts[i]! / most) * width));
    lines.push(`  ≤ ${String(edges[i]).padStart(7)}  ${String(counts[i]).padStart(6)}  ${bar}`.trimEnd());
  }
  return lines;
}
