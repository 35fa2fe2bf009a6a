import { createRequire } from 'node:module';
import path from 'node:path';
import type { CapabilitySpec } from '../../capability/types.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { DataType } from '../../protocol/messages.js';
import { packageRoot } from '../../paths.js';
import { WrapperError, type DataItem, type DataStatus, type OnceRequest, type SessionRequest, type SessionSink, type WrapperHost, type WrapperSession } from '../host.js';

/**
 * A request as the addon takes it (native/src/convert.h): one string of fields, each text as
 * `${length}:${text}` and each number as `${n},`, holding the tag, the params (count, then keys and
 * values) and the items (key, type, status, attrCount, attribute keys and values), as the call
 * needs; the items' bytes go beside it as Buffers. The addon adds the sid param (the tag).
 */
type Packed = string;
/**
 * An answer from the addon: its head (a latin1 string when small, else an ArrayBuffer) holding
 * int32 item count and meta length, per item int32 type, status, size (-1 for a big one) and
 * attrCount, the meta (each key and attribute NUL-ended) and the items' bytes; or, when some items
 * are big, [head, their ArrayBuffers, ...].
 */
type NativeHead = string | ArrayBuffer;
type NativeAnswer = NativeHead | [NativeHead, ...ArrayBuffer[]];

/** How the addon rejects: the ABI function that failed and the plugin's code (0 when it gave none). */
interface NativeFailure extends Error {
  call: string;
  code: number;
}

/** An opened libwrapper.so, as `open` resolves it. */
interface LibraryHandle {
  readonly __library: unique symbol;
}

/** The addon's Wrapper class (native/src/wrapper.h); every method runs the plugin on a worker thread. */
interface NativeWrapper {
  init(config: Packed): Promise<string>;
  fini(): Promise<void>;
  exec(request: Packed, data: Buffer[]): Promise<NativeAnswer>;
  execAsync(request: Packed, data: Buffer[], timeoutMs: number): Promise<NativeAnswer>;
  abandon(tag: string, why: string): boolean;
  create(request: Packed, psrIds: number[], onResult?: (err: NativeFailure | null, answer?: NativeAnswer) => void): Promise<number>;
  write(session: number, items: Packed, data: Buffer[]): Promise<void>;
  read(session: number): Promise<NativeAnswer>;
  destroy(session: number): Promise<void>;
  debugInfo(session: number): Promise<string>;
  loadRes(resId: number, key: string, data: Buffer): Promise<void>;
  unloadRes(resId: number): Promise<void>;
  close(): void;
}

interface NativeAddon {
  open(file: string): Promise<LibraryHandle>;
  meters(): Record<string, number>;
  Wrapper: new (library: LibraryHandle) => NativeWrapper;
}

/** Built by `npm run build:native` (native/build.mjs). */
export const addonPath = path.join(packageRoot, 'native', 'build', 'Release', 'asf_native.node');

let addon: NativeAddon | undefined;

function loadAddon(): NativeAddon {
  if (!addon) {
    try {
      addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      throw new WrapperError(ErrorCode.WrapperInit, `the C wrapper bridge is not built (${why}); run: npm run build:native`);
    }
  }
  return addon;
}

/** The ASF code for a failed ABI call whose plugin gave no code of its own (10901–10910). */
const callCodes: Record<string, number> = {
  dlopen: ErrorCode.WrapperInit,
  wrapperInit: ErrorCode.WrapperInit,
  wrapperFini: ErrorCode.WrapperFini,
  wrapperLoadRes: ErrorCode.WrapperLoad,
  wrapperUnloadRes: ErrorCode.WrapperUnload,
  wrapperCreate: ErrorCode.WrapperCreate,
  wrapperDestroy: ErrorCode.WrapperDestroy,
  wrapperWrite: ErrorCode.WrapperWrite,
  wrapperRead: ErrorCode.WrapperRead,
  wrapperExec: ErrorCode.WrapperExec,
  wrapperExecAsync: ErrorCode.WrapperExecAsync,
  wrapperCallback: ErrorCode.WrapperExecAsync,
};

/** The failed call's 109xx code, with the plugin's own code (when it returned one) and wrapperError text. */
function toWrapperError(err: unknown): WrapperError {
  if (err instanceof WrapperError) return err;
  const failure = err as Partial<NativeFailure>;
  return new WrapperError(callCodes[failure.call ?? ''] ?? ErrorCode.WrapperExec, failure.message ?? String(err), failure.code || undefined);
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toWrapperError(err);
  }
}

const rethrow = (err: unknown): never => {
  throw toWrapperError(err);
};

const field = (text: string) => `${text.length}:${text}`;

/** Params, count first; with `tagged`, less the sid, which the addon sets to the tag. */
function packParams(params: Record<string, string>, tagged: boolean): Packed {
  let packed = '';
  let count = 0;
  for (const key in params) {
    if (tagged && key === 'sid') continue;
    packed += field(key) + field(params[key]!);
    count++;
  }
  return `${count},${packed}`;
}

function packItems(items: DataItem[]): Packed {
  let packed = '';
  for (const item of items) {
    let attrs = '';
    let count = 0;
    for (const key in item.attrs) {
      attrs += field(key) + field(item.attrs[key]!);
      count++;
    }
    // `| 0` as the ABI's ints take them (NaN is 0).
    packed += `${field(item.key)}${item.type | 0},${item.status | 0},${count},${attrs}`;
  }
  return packed;
}

/** The tag (the sid), the params and the inputs of a one-shot call. */
const packOnce = (request: OnceRequest) => field(request.sid) + packParams(request.params, true) + packItems(request.inputs);

const dataOfItem = (item: DataItem) => item.data;
const dataOf = (items: DataItem[]) => items.map(dataOfItem);

function toItems(answer: NativeAnswer): DataItem[] {
  const head = Array.isArray(answer) ? answer[0] : answer;
  // A small head lands in Buffer's pool.
  const bytes = typeof head === 'string' ? Buffer.from(head, 'latin1') : Buffer.from(head);
  const count = bytes.readInt32LE(0);
  const metaStart = 8 + 16 * count;
  let offset = metaStart + bytes.readInt32LE(4);
  const meta = bytes.toString('utf8', metaStart, offset).split('\0');
  const items: DataItem[] = [];
  let big = 1;
  for (let i = 0, at = 0; i < count; i++) {
    const fields = 8 + 16 * i;
    const size = bytes.readInt32LE(fields + 8);
    const key = meta[at++]!;
    const attrs: Record<string, string> = {};
    for (let n = bytes.readInt32LE(fields + 12); n > 0; n--) attrs[meta[at++]!] = meta[at++]!;
    const data = size < 0 ? Buffer.from((answer as ArrayBuffer[])[big++]!) : Buffer.from(bytes.buffer, bytes.byteOffset + offset, size);
    if (size > 0) offset += size;
    items.push({ key, data, type: bytes.readInt32LE(fields) as DataType, status: bytes.readInt32LE(fields + 4) as DataStatus, attrs });
  }
  return items;
}

/** `asyncMode` in the capability's config (capability.yaml `config:` or aiges.toml `[wrapper]`). */
export function asyncModeOf(config: Record<string, string>): boolean {
  const value = (config['asyncMode'] ?? 'false').trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0' || value === '') return false;
  throw new WrapperError(ErrorCode.WrapperInit, `config asyncMode must be true or false, got '${config['asyncMode']}'`);
}

export interface SessionOptions {
  /** Personalisation resources (wrapperLoadRes ids) the session uses. */
  psrIds?: number[];
  /** Asynchronous mode: every wrapperCallback of the session, in order. Synchronous mode reads instead. */
  onResult?: (err: WrapperError | null, items: DataItem[]) => void;
}

/**
 * Hosts an AIGES libwrapper.so, unchanged, through the asf_native addon (native/).
 *
 * Threads: the addon makes every plugin call on its own threads, never on the Node.js main thread;
 * every call in flight gets a thread promptly (so up to the licence count run in parallel), and the
 * one-shot calls of one JS turn are handed over together. Asynchronous callbacks may come from any
 * plugin thread; results reach JS in batches, one event-loop wake-up for the calls that finish together.
 *
 * Modes, chosen by config `asyncMode`: false (default) calls wrapperExec and copies the result
 * before wrapperExecFree; true calls wrapperExecAsync and ends a one-shot request at the first
 * callback with ret != 0 or with an item of status DataEnd/DataOnce, joining same-key items of
 * earlier callbacks.
 *
 * Crashes: the plugin runs inside the loader process, and a crash in it (SIGSEGV, abort) takes that
 * process down with the requests in flight, which fail with a 502 at the gateway. `asf up` runs one
 * loader process per capability and restarts it when it dies (cli/supervisor.ts); in a cluster,
 * Kubernetes restarts the loader's pod. The gateway and other capabilities keep serving.
 */
export class NativeHost implements WrapperHost {
  details: Record<string, string> = {};
  private wrapper?: NativeWrapper;
  private asyncMode = false;

  constructor(private readonly spec: CapabilitySpec) {}

  async start(config: Record<string, string>) {
    this.asyncMode = asyncModeOf(config);
    const native = loadAddon();
    const library = await guard(() => native.open(this.spec.entry));
    const wrapper = new native.Wrapper(library);
    let version: string;
    try {
      version = await wrapper.init(packParams(config, false));
    } catch (err) {
      wrapper.close();
      const failure = err as NativeFailure;
      const why = failure.code ? `wrapperInit returned ${failure.code}: ${failure.message}` : `wrapperInit failed: ${failure.message}`;
      throw new WrapperError(ErrorCode.WrapperInit, why);
    }
    this.details = { wrapperVersion: version, mode: this.asyncMode ? 'async' : 'sync' };
    this.wrapper = wrapper;
    return {};
  }

  // Not async in synchronous mode: the hot path, one promise chain from the addon's.
  once(request: OnceRequest): Promise<DataItem[]> {
    const wrapper = this.wrapper;
    if (!wrapper) return Promise.reject(notReady());
    if (this.asyncMode) return this.onceAsync(wrapper, request);
    try {
      return wrapper.exec(packOnce(request), dataOf(request.inputs)).then(toItems, rethrow);
    } catch (err) {
      return Promise.reject(toWrapperError(err));
    }
  }

  private async onceAsync(wrapper: NativeWrapper, request: OnceRequest): Promise<DataItem[]> {
    // On the loader's timeout, later callbacks for this sid are dropped.
    const abandon = () => wrapper.abandon(request.sid, 'the loader stopped waiting for this request');
    const off = request.signal.onAbort(abandon);
    try {
      return toItems(await guard(() => wrapper.execAsync(packOnce(request), dataOf(request.inputs), this.spec.timeoutMs)));
    } finally {
      off();
    }
  }

  async stop() {
    const wrapper = this.wrapper;
    if (!wrapper) return;
    this.wrapper = undefined;
    try {
      await guard(() => wrapper.fini());
    } finally {
      wrapper.close();
    }
  }

  /** wrapperCreate: a streaming session, known by the number this resolves with. */
  async createSession(sid: string, params: Record<string, string>, options: SessionOptions = {}): Promise<number> {
    const wrapper = this.ready();
    const { onResult } = options;
    if (this.asyncMode !== Boolean(onResult)) {
      const need = this.asyncMode ? 'needs onResult in asynchronous mode' : 'takes no onResult in synchronous mode (use readSession)';
      throw new WrapperError(ErrorCode.WrapperCreate, `createSession ${need}`);
    }
    const callback = onResult && ((err: NativeFailure | null, answer?: NativeAnswer) => onResult(err && toWrapperError(err), answer ? toItems(answer) : []));
    return guard(() => wrapper.create(field(sid) + packParams(params, true), options.psrIds ?? [], callback));
  }

  /** The loader's session interface over createSession & co.: results pushed by wrapperCallback in async mode, wrapperRead after each write in sync mode. */
  async openSession(request: SessionRequest, sink: SessionSink): Promise<WrapperSession> {
    const onResult = this.asyncMode ? (err: WrapperError | null, items: DataItem[]) => (err ? sink.fail(err) : sink.push(items)) : undefined;
    const session = await this.createSession(request.sid, request.params, { onResult });
    return {
      write: (inputs) => this.writeSession(session, inputs),
      read: this.asyncMode ? undefined : () => this.readSession(session),
      destroy: () => this.destroySession(session),
    };
  }

  /** wrapperWrite: one frame of a session. */
  async writeSession(session: number, inputs: DataItem[]): Promise<void> {
    const wrapper = this.ready();
    return guard(() => wrapper.write(session, packItems(inputs), dataOf(inputs)));
  }

  /** wrapperRead (synchronous mode): the session's results available now. */
  async readSession(session: number): Promise<DataItem[]> {
    const wrapper = this.ready();
    return toItems(await guard(() => wrapper.read(session)));
  }

  /** wrapperDestroy; also on client abort. */
  async destroySession(session: number): Promise<void> {
    const wrapper = this.ready();
    return guard(() => wrapper.destroy(session));
  }

  /** wrapperDebugInfo of a session. */
  async sessionDebugInfo(session: number): Promise<string> {
    const wrapper = this.ready();
    return guard(() => wrapper.debugInfo(session));
  }

  /** wrapperLoadRes: a personalisation resource, passed as one DataPer item with status DataEnd. */
  async loadResource(resId: number, data: Buffer, key = 'res'): Promise<void> {
    const wrapper = this.ready();
    return guard(() => wrapper.loadRes(resId, key, data));
  }

  /** wrapperUnloadRes. */
  async unloadResource(resId: number): Promise<void> {
    const wrapper = this.ready();
    return guard(() => wrapper.unloadRes(resId));
  }

  /** Totals plugins reported through the CTMeterCustom callback, by meter key (process-wide). */
  meters(): Record<string, number> {
    return loadAddon().meters();
  }

  private ready(): NativeWrapper {
    if (!this.wrapper) throw notReady();
    return this.wrapper;
  }
}

const notReady = () => new WrapperError(ErrorCode.WrapperInit, 'the C wrapper is not initialised');
