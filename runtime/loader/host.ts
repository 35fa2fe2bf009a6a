import type { CapabilitySchema } from '../capability/types.js';
import type { DataType } from '../protocol/messages.js';
import type { RequestSignal } from './request-signal.js';

/** AIGES data status: 0 first, 1 continue, 2 last, 3 one-shot. */
export type DataStatus = 0 | 1 | 2 | 3;

/** One input or output as a wrapper sees it (DataListNode / ResponseData). */
export interface DataItem {
  key: string;
  data: Buffer;
  type: DataType;
  status: DataStatus;
  /** Client attributes (encoding, sample_rate, ...), strings as on the wire. */
  attrs: Record<string, string>;
}

export interface OnceRequest {
  sid: string;
  /** parameter.<serviceId> scalars, as strings. */
  params: Record<string, string>;
  inputs: DataItem[];
  /** Output keys the client asked for. */
  expect: string[];
  /** Fires when the loader gives up on the request (timeout); hosts that can, stop the work. */
  signal: RequestSignal;
}

export interface SessionRequest {
  sid: string;
  /** parameter.<serviceId> scalars of the session's first frame, as strings. */
  params: Record<string, string>;
  /** Output keys the client asked for. */
  expect: string[];
}

/**
 * Where a session's results go when the wrapper pushes them (Python's callback(Response, sid), a C
 * wrapperCallback in async mode), at any time between create and destroy.
 */
export interface SessionSink {
  push(items: DataItem[]): void;
  fail(err: WrapperError): void;
}

/** One open wrapper session (wrapperCreate's handle); calls on it never overlap. */
export interface WrapperSession {
  /** wrapperWrite: one frame. */
  write(inputs: DataItem[]): Promise<void>;
  /** wrapperRead: the results ready now. Absent when the wrapper only pushes through the sink. */
  read?(): Promise<DataItem[]>;
  /** wrapperDestroy: at the end, on error and on client abort. */
  destroy(): Promise<void>;
}

/**
 * A wrapper host runs user code of one kind (JS module, Python wrapper.py, C libwrapper.so)
 * behind one interface. It reports wrapper failures by throwing WrapperError.
 */
export interface WrapperHost {
  /** Loads the code and calls wrapperInit(config). Returns what the wrapper declares of its own schema. */
  start(config: Record<string, string>): Promise<Partial<CapabilitySchema>>;
  once(request: OnceRequest): Promise<DataItem[]>;
  /** wrapperCreate; hosts without it serve one-shot requests only (streams get 10003). */
  openSession?(request: SessionRequest, sink: SessionSink): Promise<WrapperSession>;
  /** Calls wrapperFini and releases processes / libraries. */
  stop(): Promise<void>;
  /** Facts worth a line in the loader's start-up log once started (e.g. the plugin's wrapperVersion). */
  readonly details?: Record<string, string>;
}

/**
 * A failure in user code. `code` is the ASF code of the failed call (109xx, or another loader
 * code); `wrapperCode` is the wrapper's own return code, when it gave one (AIGES sends it on as
 * `<text>;code=<n>` under the call's code).
 */
export class WrapperError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly wrapperCode?: number,
  ) {
    super(message);
    this.name = 'WrapperError';
  }
}
