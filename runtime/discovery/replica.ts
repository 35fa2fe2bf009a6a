import { LoaderClient, type LoaderConnection } from '../protocol/client.js';
import type { LoaderHealth, LoaderState } from '../loader/loader.js';
import { LoaderQueries, type GivenService } from './loader-queries.js';

export interface ReplicaOptions {
  /** The capability discovery knows it as (a Kubernetes Service's label, a name given with --loader). */
  capability?: string;
  maxMessageBytes?: number;
  /** A loader in this process, reached without gRPC. */
  connection?: LoaderConnection;
  /** What the user says it serves, for loaders that cannot say (AIGES's). */
  given?: GivenService;
}

/** 'down' = unreachable; 'unknown' = not heard from yet; the others are the loader's own report. */
export type ReplicaState = LoaderState | 'down' | 'unknown';

/**
 * One loader process as the gateway sees it. Its state changes only through these methods:
 * discovery files health reports and unreachability, the balancer takes and gives back licences.
 */
export class Replica {
  readonly client: LoaderConnection;
  /** Its health and schema, asked in the dialect it speaks. */
  readonly queries: LoaderQueries;
  /** The capability discovery knows it as (a Kubernetes Service's asf.io/capability label), if any. */
  readonly capability?: string;
  /** The service it reported; set by the registry when it files the replica. */
  serviceId?: string;
  private currentState: ReplicaState = 'unknown';
  private lastError?: string;
  private licences = 0;
  /** Free licences as the loader last said (less those taken since). */
  private reported = 0;
  /** Licences this gateway holds there: calls not answered yet, sessions not ended. */
  private held = 0;
  /** Told each time it is found unreachable: discovery may look for it under another address. */
  onDown?: () => void;

  constructor(
    readonly address: string,
    options: ReplicaOptions = {},
  ) {
    this.client = options.connection ?? new LoaderClient(address, { maxMessageBytes: options.maxMessageBytes });
    this.queries = new LoaderQueries(this.client, options.given);
    this.capability = options.capability ?? options.given?.serviceId;
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
  /**
   * Free licences as far as this gateway can tell: the loader's last count, and never more than
   * it has less those we hold (its count leaves out calls still on their way to it).
   */
  get idle(): number {
    return Math.max(0, this.licences > 0 ? Math.min(this.reported, this.licences - this.held) : this.reported);
  }
  /** Ready and, as far as we know, with a licence free. */
  get available(): boolean {
    return this.currentState === 'ready' && this.idle > 0;
  }

  /** A health report from the loader. */
  report(health: Pick<LoaderHealth, 'state' | 'error' | 'total' | 'idle'>) {
    this.currentState = health.state;
    this.lastError = health.error;
    this.licences = health.total;
    this.reported = health.idle;
  }

  /** A loader's count of free licences, as its answers carry it. */
  observe(idle: number) {
    if (Number.isFinite(idle)) this.reported = idle;
  }

  markDown(error: string) {
    this.currentState = 'down';
    this.lastError = error;
    this.reported = 0;
    // What we held there is gone with it (the calls fail, the sessions end).
    this.held = 0;
    this.onDown?.();
  }

  /** Its connection is back after being down: it may serve again (the next health report says more). */
  markReconnected() {
    if (this.currentState !== 'down') return;
    this.currentState = 'ready';
    this.reported = Math.max(this.reported, 1);
  }

  /** Takes a licence for one call or session; false when it has none free or is not ready. */
  take(): boolean {
    if (!this.available) return false;
    this.held++;
    this.reported--;
    return true;
  }

  /** Gives a licence back: the loader's own count when its last answer carried one, else one more. */
  release(idle?: number) {
    this.held = Math.max(0, this.held - 1);
    if (idle !== undefined && Number.isFinite(idle)) this.reported = idle;
    else this.reported = this.licences > 0 ? Math.min(this.reported + 1, this.licences) : this.reported + 1;
  }

  /** The loader answered 10110 (another gateway holds its licences): the licence we took is not ours, and none is free until it says so. */
  full() {
    this.held = Math.max(0, this.held - 1);
    this.reported = 0;
  }
}
