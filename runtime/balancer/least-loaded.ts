import type { Replica } from '../discovery/registry.js';

let rotation = 0;

/**
 * Least-loaded balancing (AIGES's "best" strategy): the ready replica with the most free
 * licences wins and its count is pre-decremented, so a burst spreads before reports arrive.
 * Ties rotate, so equal replicas share the load.
 */
export function pickReplica(replicas: Replica[], exclude: ReadonlySet<Replica>): Replica | undefined {
  let best: Replica | undefined;
  const n = replicas.length;
  rotation = (rotation + 1) % Math.max(n, 1);
  for (let i = 0; i < n; i++) {
    const replica = replicas[(rotation + i) % n]!;
    if (replica.state !== 'ready' || exclude.has(replica)) continue;
    if (!best || replica.idle > best.idle) best = replica;
  }
  if (best) best.idle--;
  return best;
}
