import { listStacks, type LocalStack } from './local-stacks.js';

export interface StackStatus {
  pid: number;
  url: string;
  port: number;
  startedAt: string;
  /** Each capability the gateway knows, with its state ('ready', 'failed', 'starting', …) and why when not ready. */
  capabilities: { name: string; state: string; error?: string }[];
  /** Set when the gateway did not answer /healthz. */
  unreachable?: string;
}

interface Health {
  services: Record<string, { state: string; error?: string }[]>;
}

/** Every local stack, with its capabilities as its gateway reports them. */
export async function localStatus(): Promise<StackStatus[]> {
  return Promise.all(listStacks().map(statusOf));
}

async function statusOf(stack: LocalStack): Promise<StackStatus> {
  const base = { pid: stack.pid, url: stack.url, port: stack.port, startedAt: stack.startedAt };
  try {
    const res = await fetch(`${stack.url}/healthz`, { signal: AbortSignal.timeout(3000) });
    const { services } = (await res.json()) as Health;
    const capabilities = Object.entries(services).map(([name, replicas]) => {
      const ready = replicas.find((r) => r.state === 'ready');
      const first = ready ?? replicas[0];
      return { name, state: first?.state ?? 'no loader', ...(first?.error ? { error: first.error } : {}) };
    });
    return { ...base, capabilities };
  } catch (err) {
    return { ...base, capabilities: [], unreachable: (err as Error).message };
  }
}

export const healthy = (row: StackStatus) => !row.unreachable && row.capabilities.every((c) => c.state === 'ready');

/** `asf ps`: a table, one line per capability of each stack. */
export function formatStatus(rows: StackStatus[]): string {
  if (rows.length === 0) return 'no local stack is running (start one with asf up -d)\n';
  const table = [['PORT', 'PID', 'URL', 'CAPABILITY', 'STATE']];
  for (const row of rows) {
    const lines = row.unreachable ? [['-', `unreachable: ${row.unreachable}`]] : row.capabilities.map((c) => [c.name, c.error ? `${c.state}: ${c.error}` : c.state]);
    for (const [name, state] of lines.length ? lines : [['-', 'no capability yet']]) table.push([String(row.port), String(row.pid), row.url, name!, state!]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  return table.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** `asf status`: the local stacks' part, in the cluster report's own words. */
export function statusLines(rows: StackStatus[]): string[] {
  return rows.flatMap((row) => {
    const where = `local stack ${row.url} (pid ${row.pid})`;
    if (row.unreachable) return [`${where}: unreachable: ${row.unreachable}`];
    return row.capabilities.map((c) => `${where}: capability ${c.name}: ${c.state === 'ready' ? 'ready' : `not ready (${c.state}${c.error ? `: ${c.error}` : ''})`}`);
  });
}
