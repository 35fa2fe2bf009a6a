import fs from 'node:fs';

/** Resident memory of one process tree, split by program (node, python, raylet, ...), in MiB. */
export type TreeRss = Map<string, number>;

/** /proc/<pid>/stat: the program name and the fields after it (0 state, 1 ppid, 11 utime, 12 stime); undefined once it has gone. */
function readStat(pid: number | string): { comm: string; fields: string[] } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces; the fields after it are space-separated.
    const close = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
  } catch {
    return undefined;
  }
}

/** Every live process's parent and program name, from /proc. */
function processTable(): Map<number, { ppid: number; comm: string }> {
  const table = new Map<number, { ppid: number; comm: string }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) table.set(Number(entry), { ppid: Number(stat.fields[1]), comm: stat.comm });
  }
  return table;
}

function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** `root` and all its descendants that are running now. */
export function treePids(root: number, table = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const pids: number[] = [];
  const queue = table.has(root) ? [root] : [];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    pids.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return pids;
}

/** RSS of `root` and all its descendants, summed per program name (python3.11 counts as python). */
export function treeRss(root: number): TreeRss {
  const table = processTable();
  const totals: TreeRss = new Map();
  for (const pid of treePids(root, table)) {
    const { comm } = table.get(pid)!;
    const program = /^python/.test(comm) ? 'python' : /^(node|MainThread)$/.test(comm) ? 'node' : comm;
    totals.set(program, (totals.get(program) ?? 0) + rssMiB(pid));
  }
  return totals;
}

/** Samples a tree's RSS every 500 ms until stopped; keeps each program's peak and the peak total. */
export function sampleRss(root: number): { stop(): { total: number; byProgram: TreeRss } } {
  const peak: TreeRss = new Map();
  let total = 0;
  const sample = () => {
    const now = treeRss(root);
    let sum = 0;
    for (const [program, mib] of now) {
      sum += mib;
      peak.set(program, Math.max(peak.get(program) ?? 0, mib));
    }
    total = Math.max(total, sum);
  };
  sample();
  const timer = setInterval(sample, 500);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { total, byProgram: peak };
    },
  };
}

/** CPU seconds (user + system) used so far by `root` and its descendants. */
export function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of treePids(root)) {
    const fields = readStat(pid)?.fields; // undefined: ended meanwhile
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/**
 * Waits until a process tree has used under a tenth of a core for a second (or `maxSeconds`
 * passed): a server that runs requests in a thread pool goes on with the ones the load
 * generator abandoned when its run ended, and must not do so while the next server is measured.
 */
export async function waitIdle(root: number, maxSeconds: number): Promise<number> {
  const started = Date.now();
  let before = treeCpuSeconds(root);
  while (Date.now() - started < maxSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = treeCpuSeconds(root);
    if (now - before < 0.1) break;
    before = now;
  }
  return (Date.now() - started) / 1000;
}

/** Still there and not a zombie (an exited process its parent has not reaped yet). */
function running(pid: number): boolean {
  const state = readStat(pid)?.fields[0];
  return state !== undefined && state !== 'Z';
}

/**
 * Resolves once every one of these processes has exited; SIGKILLs those still there after
 * `graceMs`. A server's daemons may outlive the process that started them by seconds (Ray's
 * gcs_server, raylet and actors: ~4 s here), and must not share the machine with the next server.
 */
export async function waitGone(pids: number[], graceMs = 15_000): Promise<void> {
  const deadline = Date.now() + graceMs;
  let left = pids.filter(running);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = left.filter(running);
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
