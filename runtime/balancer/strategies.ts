import { createHash } from 'node:crypto';
import type { Replica } from '../discovery/replica.js';
import type { ReplicaPicker } from './admission.js';

/**
 * How a capability's one-shot requests pick a replica (capability.yaml `balance`), as ASF's load
 * balancer offered: the most free licences (default), in turn, or by a hash of a request field so
 * that requests with the same value go to the same replica while it stays.
 */
export interface BalanceSpec {
  strategy: 'least-loaded' | 'round-robin' | 'hash';
  /** For `hash`: the request field whose value is hashed, e.g. `header.uid`. */
  key?: string;
}

export const defaultBalance: BalanceSpec = { strategy: 'least-loaded' };

/** One service's balancing: the replica each request goes to. */
export class Balancer {
  private turn = 0;

  constructor(readonly spec: BalanceSpec = defaultBalance) {}

  /** The choice for a one-shot request (`body`: the parsed request, for `hash`). */
  picker(body: unknown): ReplicaPicker {
    if (this.spec.strategy === 'hash') {
      // A request without the field is balanced like any other.
      const value = fieldValue(body, this.spec.key ?? '');
      if (value !== undefined) return (replicas, exclude) => firstAvailable(byHash(replicas, value), exclude);
    }
    return this.spec.strategy === 'round-robin' ? this.roundRobin : this.leastLoaded;
  }

  /** Most free licences first; equal ones take turns, so a burst spreads before reports arrive. */
  private readonly leastLoaded: ReplicaPicker = (replicas, exclude) => {
    const n = replicas.length;
    const start = this.turn++ % Math.max(n, 1);
    let best: Replica | undefined;
    for (let i = 0; i < n; i++) {
      const replica = replicas[(start + i) % n]!;
      if (replica.available && !exclude.has(replica) && (!best || replica.idle > best.idle)) best = replica;
    }
    return best;
  };

  /** Each replica in turn, skipping those with no licence free. */
  private readonly roundRobin: ReplicaPicker = (replicas, exclude) => {
    const n = replicas.length;
    for (let i = 0; i < n; i++) {
      const replica = replicas[this.turn++ % n]!;
      if (replica.available && !exclude.has(replica)) return replica;
    }
    return undefined;
  };
}

/** Session affinity: the sid's replicas in consistent-hash order, the first one that can take it. */
export function bySid(sid: string): ReplicaPicker {
  return (replicas, exclude) => firstAvailable(byHash(replicas, sid), exclude);
}

function firstAvailable(replicas: readonly Replica[], exclude: ReadonlySet<Replica>): Replica | undefined {
  return replicas.find((replica) => replica.available && !exclude.has(replica));
}

/**
 * Rendezvous (highest-random-weight) hashing: each replica scores hash(value, address). A value
 * keeps its first choice as long as that replica stays, and a replica joining or leaving moves
 * only the values that scored it first; the rest of the order is the fall-back when it is full.
 */
export function byHash(replicas: readonly Replica[], value: string): Replica[] {
  return replicas
    .map((replica) => ({ replica, score: createHash('sha1').update(value).update('\0').update(replica.address).digest().readUInt32BE(0) }))
    .sort((a, b) => b.score - a.score)
    .map(({ replica }) => replica);
}

/** A scalar at a dotted path of the request (`header.uid`, `parameter.mmocr.user`), as a string. */
function fieldValue(body: unknown, key: string): string | undefined {
  let node: unknown = body;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' ? String(node) : undefined;
}
