import { LoaderClient } from '../protocol/client.js';
import type { LoaderHealth, LoaderState } from '../loader/loader.js';

/** 'down' = unreachable; 'unknown' = not heard from yet; the others are the loader's own report. */
export type ReplicaState = LoaderState | 'down' | 'unknown';

/**
 * One loader process as the gateway sees it. Its state changes only through these methods:
 * discovery files health reports and unreachability, the balancer takes and gives back licences.
 */
export class Replica {
  readonly client: LoaderClient;
  /** The capability discovery knows it as (a Kubernetes Service's asf.io/capability label), if any. */
  readonly capability?: string;
  /** The service it reported; set by the registry when it files the replica. */
  serviceId?: string;
  private currentState: ReplicaState = 'unknown';
  private lastError?: string;
  private licences = 0;
  private free = 0;

  constructor(
    readonly address: string,
    options: { capability?: string; maxMessageBytes?: number } = {},
  ) {
    this.client = new LoaderClient(address, { maxMessageBytes: options.maxMessageBytes });
    this.capability = options.capability;
  }

  get state(): ReplicaState {
    return this.currentState;
  }
  get error(): string | undefined {
    return this.lastError;
  }
  /** Licences the loader has in all. */
  get total(): number {
    return this.licences;
  }
  /** Free licences as last reported, less those taken since for calls not answered yet. */
  get idle(): number {
    return this.free;
  }
  /** Ready and, as far as we know, with a licence free. */
  get available(): boolean {
    return this.currentState === 'ready' && this.free > 0;
  }

  /** A health report from the loader. */
  report(health: Pick<LoaderHealth, 'state' | 'error' | 'total' | 'idle'>) {
    this.currentState = health.state;
    this.lastError = health.error;
    this.licences = health.total;
    this.free = health.idle;
  }

  /** A loader's count of free licences, as its answers carry it. */
  observe(idle: number) {
    if (Number.isFinite(idle)) this.free = idle;
  }

  markDown(error: string) {
    this.currentState = 'down';
    this.lastError = error;
    this.free = 0;
  }

  /** Its connection is back after being down: it may serve again (the next health report says more). */
  markReconnected() {
    if (this.currentState !== 'down') return;
    this.currentState = 'ready';
    this.free = Math.max(this.free, 1);
  }

  /** Takes a licence for one call or session; false when it has none free or is not ready. */
  take(): boolean {
    if (!this.available) return false;
    this.free--;
    return true;
  }

  /** Gives a licence back: the loader's own count when its last answer carried one, else one more. */
  release(idle?: number) {
    if (idle !== undefined && Number.isFinite(idle)) this.free = idle;
    else this.free = this.licences > 0 ? Math.min(this.free + 1, this.licences) : this.free + 1;
  }

  /** The loader answered 10110 (another gateway holds its licences): none free until it says so. */
  full() {
    this.free = 0;
  }
}
