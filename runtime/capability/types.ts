import type { BalanceSpec } from '../balancer/strategies.js';
import type { DataTypeName } from '../protocol/messages.js';

/** One payload input or output of a capability. */
export interface FieldDecl {
  dataType: DataTypeName;
  encoding?: string;
  compress?: string;
  format?: string;
  /** Inputs only: a request without this input is rejected (default true). */
  required?: boolean;
  description?: string;
}

/** What the gateway needs to route, validate and document a capability. */
export interface CapabilitySchema {
  serviceId: string;
  version: string;
  inputs: Record<string, FieldDecl>;
  outputs: Record<string, FieldDecl>;
  /** JSON-schema fragments for parameter.<serviceId>.<name>. */
  params: Record<string, Record<string, unknown>>;
  /** How the gateway balances one-shot requests over the loaders (default: most free licences). */
  balance?: BalanceSpec;
  /** Requests that may wait at the gateway when every licence is taken (default: the gateway's). */
  queue?: { depth?: number };
  /** Wrapper error codes that mean the client's input was at fault: answered 400, not 502. */
  clientErrors?: number[];
}

export type HostKind = 'js' | 'python' | 'c';

/** A capability folder, resolved: schema plus what the loader needs to host it. */
export interface CapabilitySpec extends CapabilitySchema {
  dir: string;
  host: HostKind;
  /** The wrapper file: index.js/ts, wrapper.py or libwrapper.so. */
  entry: string;
  /** Maximum concurrent requests in one loader (10110 past it). */
  licences: number;
  /** String map handed to wrapperInit. */
  config: Record<string, string>;
  /** One-shot requests running longer fail with 10102. */
  timeoutMs: number;
  /** Python host settings from capability.yaml (hosts/python-options.ts fills in the defaults). */
  python?: { interpreter?: string; workers?: number; pollMicros?: number };
  /**
   * JS host settings from capability.yaml: `thread: false` runs the wrapper on asf up's gateway
   * thread; `pollMicros` is how long its own thread, idle, polls for the next call before it sleeps.
   */
  js?: { thread?: boolean; pollMicros?: number };
  /** Files declared in capability.yaml `resources:` (paths relative to `dir`). */
  resources: { path: string; sha256: string }[];
  /** Which schema fields were stated by the folder's files (the wrapper may declare the rest). */
  declared: { serviceId: boolean; version: boolean; inputs: boolean; outputs: boolean };
}
