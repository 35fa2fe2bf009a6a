// Our stack against the serving frameworks a user would pick instead, all serving the same
// wrapper.py. Each server runs alone: started for its turn in every repetition and stopped after
// it, the servers taking turns, so drift in the machine's speed falls on each alike and no other
// server's processes share the 2 cores while one is measured (idle, Ray Serve's daemons keep
// ~0.12 of a core busy, and outlive its stop by ~4 s; of two asf up stacks started together, the
// first ran ~10% faster).
import { drive, formatMs, type LoadResult } from './load.js';
import type { Target } from './peers.js';
import { sampleRss, treePids, waitGone, waitIdle, type TreeRss } from './process-tree.js';

export interface FrameworkOptions {
  concurrencies: number[];
  reps: number;
  /** Measured seconds at each concurrency: a slow model needs longer runs as its queue grows. */
  seconds(connections: number): number;
  warmupSeconds: number;
  /** Seconds before one request counts as failed. */
  timeout: number;
  /** What the first target is, for the ratio column: every ratio is against it. */
  baseline?: string;
  /** Run at the start of each repetition, before the servers' turns (e.g. a reference measured alongside). */
  eachRep?: () => void;
}

export interface Measured {
  target: Target;
  runs: Map<number, LoadResult[]>;
  rss?: { total: number; byProgram: TreeRss };
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const firstLines = (err: unknown) => (err as Error).message.split('\n').slice(0, 6).join(' ').slice(0, 600);

export interface Comparison {
  /** The section as markdown (also printed as it goes). */
  markdown: string;
  measured: Measured[];
}

/** Measures every target that starts, in turns. */
export async function compareFrameworks(title: string, targets: Target[], body: string, options: FrameworkOptions): Promise<Comparison> {
  const measured: Measured[] = targets.map((target) => ({ target, runs: new Map() }));
  const notes: string[] = [];
  const busiest = Math.max(...options.concurrencies);
  for (let rep = 1; rep <= options.reps; rep++) {
    // Each repetition starts with a different server, so none is always the one after Ray Serve.
    const turn = (rep - 1) % measured.length;
    options.eachRep?.();
    for (const m of [...measured.slice(turn), ...measured.slice(0, turn)]) {
      process.stderr.write(`bench: ${title}: rep ${rep}: starting ${m.target.name}\n`);
      let running;
      try {
        running = await m.target.start();
      } catch (err) {
        // A server that cannot start in the first repetition is listed as not measured, not retried.
        if (rep === 1) measured.splice(measured.indexOf(m), 1);
        notes.push(`${m.target.name}: ${rep === 1 ? 'not measured' : `repetition ${rep} not measured`}: ${firstLines(err)}`);
        process.stderr.write(`bench: ${notes.at(-1)}\n`);
        continue;
      }
      try {
        for (const connections of options.concurrencies) {
          const load = { url: running.url, body, connections, timeout: options.timeout };
          await drive({ ...load, seconds: options.warmupSeconds });
          // The requests the warm-up left behind must not be in the measured run's way.
          await waitIdle(running.pid, 180);
          const sampler = connections === busiest ? sampleRss(running.pid) : undefined;
          const result = await drive({ ...load, seconds: options.seconds(connections) });
          const rss = sampler?.stop();
          if (rss && rss.total > (m.rss?.total ?? 0)) m.rss = rss;
          m.runs.set(connections, [...(m.runs.get(connections) ?? []), result]);
          const drained = await waitIdle(running.pid, 180);
          if (drained >= 180) process.stderr.write(`bench: ${m.target.name} was still busy 180 s after its run\n`);
          process.stderr.write(`bench: ${title}: rep ${rep}, c=${connections}, ${m.target.name}: ${result.requestsPerSec.toFixed(1)} req/s\n`);
        }
      } finally {
        const tree = treePids(running.pid);
        await running.stop();
        await waitGone(tree);
      }
    }
  }
  return { markdown: table(title, measured, notes, options), measured };
}

function table(title: string, measured: Measured[], notes: string[], options: FrameworkOptions): string {
  const baseline = options.baseline ?? 'ours';
  const lines = [`## ${title}`, ''];
  lines.push(
    `Median of ${options.reps} runs of ${options.concurrencies.map((c) => `${options.seconds(c)} s at ${c}`).join(', ')} ` +
      `(each after ${options.warmupSeconds} s warm-up at the same concurrency; the server alone on the machine, started for its turn in each repetition); ` +
      `p50/p99 are the medians of each run's own percentile of its 2xx response times, to the µs; ratio = that server's req/s ÷ ${baseline} (first row) at the same concurrency.`,
    '',
    `| concurrency | server | req/s | p50 ms | p99 ms | answered 2xx | errors | ratio to ${baseline} |`,
    '|---|---|---|---|---|---|---|---|',
  );
  for (const connections of options.concurrencies) {
    const first = median((measured[0]?.runs.get(connections) ?? []).map((r) => r.requestsPerSec));
    for (const m of measured) {
      const runs = m.runs.get(connections) ?? [];
      const rps = median(runs.map((r) => r.requestsPerSec));
      const errors = runs.reduce((sum, r) => sum + r.errors + r.non2xx, 0);
      const p50 = median(runs.map((r) => r.p50));
      const p99 = median(runs.map((r) => r.p99));
      const ended = runs.reduce((sum, r) => sum + r.ended, 0);
      const ok = runs.reduce((sum, r) => sum + r.ok, 0);
      const answered = ended ? `${((100 * ok) / ended).toFixed(ok === ended ? 0 : 1)}%` : '';
      lines.push(`| ${connections} | ${m.target.name} | ${rps.toFixed(rps < 100 ? 1 : 0)} | ${formatMs(p50)} | ${formatMs(p99)} | ${answered} | ${errors} | ${(rps / first).toFixed(2)} |`);
    }
  }
  lines.push('', `Resident memory (peak RSS of the whole process tree while under load at ${Math.max(...options.concurrencies)} connections, MiB):`, '');
  lines.push('| server | total | by program |', '|---|---|---|');
  for (const m of measured) {
    const parts = [...(m.rss?.byProgram ?? new Map())].filter(([, mib]) => mib >= 1).map(([program, mib]) => `${program} ${mib.toFixed(0)}`);
    lines.push(`| ${m.target.name} | ${(m.rss?.total ?? 0).toFixed(0)} | ${parts.join(', ')} |`);
  }
  if (notes.length > 0) lines.push('', ...notes.map((line) => `- ${line}`));
  const text = lines.join('\n');
  console.log(`\n${text}`);
  return text;
}
