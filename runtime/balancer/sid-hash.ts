import { createHash } from 'node:crypto';
import type { Replica } from '../discovery/registry.js';

/**
 * Session affinity by consistent hashing (rendezvous / highest-random-weight): each ready replica
 * scores hash(sid, address) and the order is by score. A sid keeps its first choice as long as that
 * replica stays, and adding or removing a replica moves only the sessions that scored it first.
 * Later replicas in the order are the fall-backs when the first has no licence or is down.
 */
export function replicasBySid(replicas: Replica[], sid: string): Replica[] {
  return replicas
    .filter((replica) => replica.state === 'ready')
    .map((replica) => ({ replica, score: createHash('sha1').update(sid).update('\0').update(replica.address).digest().readUInt32BE(0) }))
    .sort((a, b) => b.score - a.score)
    .map(({ replica }) => replica);
}
