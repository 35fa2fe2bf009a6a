import type { Replica } from '../discovery/replica.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';

/**
 * A balancing strategy's choice for one request: of the replicas, one that is available (ready,
 * a licence free) and not excluded, or none. Called on every request: it allocates nothing.
 */
export type ReplicaPicker = (replicas: readonly Replica[], exclude: ReadonlySet<Replica>) => Replica | undefined;

/** An overload answer that tells HTTP clients when to come back (429 + Retry-After). */
export class OverloadError extends AsfError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(ErrorCode.NoLicence, message, 429);
  }
}

/** How long a request waits for a loader that is restarting when no other replica is ready. */
export const reconnectGraceMs = 5000;

interface Waiter {
  pick: ReplicaPicker;
  exclude: ReadonlySet<Replica>;
  since: number;
  resolve(replica: Replica): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** How a wait in the queue ended. */
export type AdmissionOutcome = 'admitted' | 'full' | 'timeout' | 'no_loader';

/**
 * A service's admission queue. A licence is a loader's limit on concurrent wrapper calls, not on
 * clients: when every ready replica's licences are taken, a request waits here, first come first
 * served, until one is given back, bounded by the queue's depth and by its own deadline. A licence
 * given back goes to the request that waited longest at once (no polling).
 */
export class Admission {
  private readonly waiting: Waiter[] = [];
  /** Seconds a call usually holds a licence (moving average), for Retry-After. */
  private serviceSeconds = 0.1;

  constructor(
    private readonly replicas: () => readonly Replica[],
    public depth: number,
    private readonly onWait: (seconds: number, outcome: AdmissionOutcome) => void = () => {},
  ) {}

  get length(): number {
    return this.waiting.length;
  }

  /**
   * A replica with a licence taken for this request: at once when one is free and nobody waits
   * before it (`again`: it lost its turn to another gateway's request, so it goes first), else in
   * turn. Rejects with 429 (queue full), 504 (deadline) or 503 (no loader that could serve).
   */
  acquire(pick: ReplicaPicker, exclude: ReadonlySet<Replica>, deadline: number, serviceId: string, again = false): Promise<Replica> {
    if (this.waiting.length === 0 || again) {
      const replica = this.take(pick, exclude);
      if (replica) return Promise.resolve(replica);
    }
    const candidates = this.replicas().filter((r) => !exclude.has(r));
    const ready = candidates.some((r) => r.state === 'ready');
    // A restarting loader (unreachable, or not heard from yet) may come back: wait for it a little.
    const returning = !ready && candidates.some((r) => r.state === 'down' || r.state === 'unknown');
    if (!ready && !returning) {
      this.onWait(0, 'no_loader');
      return Promise.reject(noReadyLoader(serviceId, candidates));
    }
    if (this.waiting.length >= this.depth && !again) {
      this.onWait(0, 'full');
      return Promise.reject(new OverloadError(`${serviceId} is busy: every licence is taken and ${this.waiting.length} requests are waiting already (queue depth ${this.depth})`, this.retryAfter()));
    }
    const now = Date.now();
    const waitMs = Math.max(0, Math.min(deadline, returning ? now + reconnectGraceMs : deadline) - now);
    return new Promise<Replica>((resolve, reject) => {
      const waiter: Waiter = {
        pick,
        exclude,
        since: now,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(waiter);
          const stillNone = !this.replicas().some((r) => r.state === 'ready' && !exclude.has(r));
          this.onWait((Date.now() - waiter.since) / 1000, stillNone ? 'no_loader' : 'timeout');
          reject(
            stillNone
              ? noReadyLoader(serviceId, this.replicas().filter((r) => !exclude.has(r)))
              : new AsfError(ErrorCode.Timeout, `${serviceId}: no licence came free within the request's ${Math.round((deadline - waiter.since) / 1000)} s (${this.waiting.length} still waiting)`, 504),
          );
        }, waitMs),
      };
      if (again) this.waiting.unshift(waiter);
      else this.waiting.push(waiter);
    });
  }

  /** A licence may have come free, or a replica back: hands free licences to waiters in turn. */
  wake() {
    if (this.waiting.length === 0) return;
    const replicas = this.replicas();
    for (let i = 0; i < this.waiting.length; ) {
      if (!replicas.some((r) => r.available)) return;
      const waiter = this.waiting[i]!;
      const replica = this.take(waiter.pick, waiter.exclude);
      if (!replica) {
        i++; // what is free is a replica this request must not go to again; the next may take it
        continue;
      }
      this.waiting.splice(i, 1);
      clearTimeout(waiter.timer);
      this.onWait((Date.now() - waiter.since) / 1000, 'admitted');
      waiter.resolve(replica);
    }
  }

  /** A call ended: its licence goes back (the loader's count when its answer had one) and on to a waiter. */
  release(replica: Replica, idle: number | undefined, heldSeconds?: number) {
    replica.release(idle);
    if (heldSeconds !== undefined) this.serviceSeconds += (heldSeconds - this.serviceSeconds) / 8;
    this.wake();
  }

  /** Fails every waiting request, e.g. when the gateway stops. */
  close(err: Error) {
    for (const waiter of this.waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }

  private take(pick: ReplicaPicker, exclude: ReadonlySet<Replica>): Replica | undefined {
    const replica = pick(this.replicas(), exclude);
    return replica?.take() ? replica : undefined;
  }

  private remove(waiter: Waiter) {
    const at = this.waiting.indexOf(waiter);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  /** Seconds until the queue has likely moved on by its own length: the wait a new request would face. */
  private retryAfter(): number {
    const licences = this.replicas().reduce((n, r) => n + (r.state === 'ready' ? r.total : 0), 0);
    return Math.max(1, Math.ceil((this.waiting.length * this.serviceSeconds) / Math.max(1, licences)));
  }
}

function noReadyLoader(serviceId: string, replicas: readonly Replica[]): AsfError {
  const reasons = replicas.map((r) => `${r.address} ${r.state}${r.error ? `: ${r.error}` : ''}`);
  return new AsfError(ErrorCode.ConnectionRead, `capability ${serviceId} has no ready loader${reasons.length ? `: ${reasons.join('; ')}` : ''}`, 503);
}
