// Our stack against the serving frameworks a user would pick instead, all serving the same
// wrapper.py, started together and measured in turns (round-robin per repetition) so that
// the other work on this machine falls on every server alike.
import { drive, type LoadResult } from './load.js';
import type { Running, Target } from './peers.js';
import { sampleRss, waitIdle, type TreeRss } from './rss.js';

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
  /**
   * Start each target just before its run and stop it after, instead of all at once for the
   * whole table: for servers that start in a second. Of two asf up stacks started together,
   * the one started first ran ~10% faster in interleaved runs here, whatever its code.
   */
  freshPerRun?: boolean;
}

interface Measured {
  target: Target;
  running?: Running;
  runs: Map<number, LoadResult[]>;
  rss?: { total: number; byProgram: TreeRss };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Measures every target that starts; returns the section as markdown (also printed as it goes). */
export async function compareFrameworks(title: string, targets: Target[], body: string, options: FrameworkOptions): Promise<string> {
  const measured: Measured[] = [];
  const skipped: string[] = [];
  for (const target of targets) {
    try {
      process.stderr.write(`bench: starting ${target.name}\n`);
      // Started here either way: a target that cannot start is listed as not measured, not retried per run.
      const running = await target.start();
      if (options.freshPerRun) await running.stop();
      measured.push({ target, running: options.freshPerRun ? undefined : running, runs: new Map() });
    } catch (err) {
      skipped.push(`${target.name}: not measured: ${(err as Error).message.split('\n').slice(0, 6).join(' ').slice(0, 600)}`);
      process.stderr.write(`bench: ${skipped.at(-1)}\n`);
    }
  }
  const busiest = Math.max(...options.concurrencies);
  try {
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const connections of options.concurrencies) {
        for (const m of measured) {
          const running = m.running ?? (await m.target.start());
          try {
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
          } finally {
            if (!m.running) await running.stop();
          }
        }
      }
    }
  } finally {
    for (const m of measured) await m.running?.stop();
  }
  return table(title, measured, skipped, options);
}

function table(title: string, measured: Measured[], skipped: string[], options: FrameworkOptions): string {
  const baseline = options.baseline ?? 'ours';
  const lines = [`## ${title}`, ''];
  lines.push(
    `Median of ${options.reps} runs of ${options.concurrencies.map((c) => `${options.seconds(c)} s at ${c}`).join(', ')} ` +
      `(each after ${options.warmupSeconds} s warm-up at the same concurrency${options.freshPerRun ? ', on a server started for that run' : ''}); ` +
      `p50/p99 are the medians of each run's own percentile; ratio = that server's req/s ÷ ${baseline} (first row) at the same concurrency.`,
    '',
    `| concurrency | server | req/s | p50 ms | p99 ms | errors | ratio to ${baseline} |`,
    '|---|---|---|---|---|---|---|',
  );
  for (const connections of options.concurrencies) {
    const first = median((measured[0]?.runs.get(connections) ?? []).map((r) => r.requestsPerSec));
    for (const m of measured) {
      const runs = m.runs.get(connections) ?? [];
      const rps = median(runs.map((r) => r.requestsPerSec));
      const errors = runs.reduce((sum, r) => sum + r.errors + r.non2xx, 0);
      const p50 = median(runs.map((r) => r.p50));
      const p99 = median(runs.map((r) => r.p99));
      lines.push(`| ${connections} | ${m.target.name} | ${rps.toFixed(rps < 100 ? 1 : 0)} | ${p50} | ${p99} | ${errors} | ${(rps / first).toFixed(2)} |`);
    }
  }
  lines.push('', `Resident memory (peak RSS of the whole process tree while under load at ${Math.max(...options.concurrencies)} connections, MiB):`, '');
  lines.push('| server | total | by program |', '|---|---|---|');
  for (const m of measured) {
    const parts = [...(m.rss?.byProgram ?? new Map())].filter(([, mib]) => mib >= 1).map(([program, mib]) => `${program} ${mib.toFixed(0)}`);
    lines.push(`| ${m.target.name} | ${(m.rss?.total ?? 0).toFixed(0)} | ${parts.join(', ')} |`);
  }
  if (skipped.length > 0) lines.push('', ...skipped.map((line) => `- ${line}`));
  const text = lines.join('\n');
  console.log(`\n${text}`);
  return text;
}
