import type { CapabilitySchema } from '../capability/types.js';
import { ErrorCode } from '../protocol/errors.js';
import { RespStatus, type LoaderInput, type LoaderOutput, type MetaDesc } from '../protocol/messages.js';
import { WrapperError, type DataItem, type WrapperHost, type WrapperSession } from './host.js';
import { expectedOutputs, failure, toItem, toPayloads, wrapperFailure } from './items.js';
import type { LicencePool } from './licences.js';

export interface SessionOptions {
  /** Frames may arrive this far ahead of the next expected sync_id; they wait for the gap to fill. */
  reorderWindow: number;
  /** A session with no call for this long is aborted (its gateway went away without AIExcp). */
  idleMs: number;
  /** How many closed sids are remembered, so late calls get 10101 rather than 10008. */
  closedMemory: number;
}

export const sessionDefaults: SessionOptions = { reorderWindow: 16, idleMs: 180_000, closedMemory: 10_000 };

/** How often AIOut asks a reading (not pushing) wrapper again while it waits for results. */
const readPollMs = 20;

/**
 * One streaming session: the wrapper session, its licence, the frames held for ordering and the
 * results not yet collected. Wrapper calls run one at a time, in sync_id order.
 */
class Session {
  private nextSyncId = 1;
  private readonly held = new Map<number, DataItem[]>();
  private readonly results: LoaderOutput[] = [];
  private readonly seqs = new Map<string, number>();
  private wakeUp?: () => void;
  /** The chain of wrapper calls; each frame's write (and read) waits for the one before. */
  private work: Promise<void> = Promise.resolve();
  private emitted = false;
  ended = false;
  wrapper?: WrapperSession;

  constructor(
    readonly sid: string,
    private readonly expect: ReadonlyMap<string, MetaDesc>,
    private readonly schema: CapabilitySchema,
    private readonly window: number,
    private readonly onEnd: (session: Session) => Promise<void>,
  ) {}

  /** wrapperCreate, first in the chain of wrapper calls. */
  open(create: () => Promise<WrapperSession>): Promise<void> {
    this.work = create().then(
      (wrapper) => {
        this.wrapper = wrapper;
      },
      (err) => this.fail(asWrapperError(err, ErrorCode.WrapperCreate)),
    );
    return this.work;
  }

  /** Queues a frame by its sync_id (0: no ordering asked, written as it comes). Resolves once what it unblocked has been written. */
  frame(input: LoaderInput): Promise<void> {
    if (this.ended) return Promise.resolve();
    const items = (input.pl ?? []).map(toItem);
    const syncId = input.sync_id ?? 0;
    if (syncId === 0) return this.write(items);
    if (syncId < this.nextSyncId || this.held.has(syncId)) {
      this.fail(new WrapperError(ErrorCode.InvalidData, `frame sync_id ${syncId} arrived twice or too late (next expected: ${this.nextSyncId})`));
      return Promise.resolve();
    }
    if (syncId >= this.nextSyncId + this.window) {
      const last = this.nextSyncId + this.window - 1;
      this.fail(new WrapperError(ErrorCode.InvalidData, `frame sync_id ${syncId} is too far ahead: frames ${this.nextSyncId}..${last} may be held, not more`));
      return Promise.resolve();
    }
    this.held.set(syncId, items);
    let written = Promise.resolve();
    for (let next = this.held.get(this.nextSyncId); next; next = this.held.get(this.nextSyncId)) {
      this.held.delete(this.nextSyncId++);
      written = this.write(next);
    }
    return written;
  }

  /** wrapperWrite, then (real-time results) wrapperRead when the wrapper reads rather than pushes. */
  private write(items: DataItem[]): Promise<void> {
    this.work = this.work.then(async () => {
      if (this.ended) return;
      try {
        await this.wrapper!.write(items);
      } catch (err) {
        return this.fail(asWrapperError(err, ErrorCode.WrapperWrite));
      }
    });
    return this.read();
  }

  /** wrapperRead, after the calls before it; nothing for wrappers that push. */
  private read(): Promise<void> {
    this.work = this.work.then(async () => {
      if (this.ended || !this.wrapper?.read) return;
      try {
        this.push(await this.wrapper.read());
      } catch (err) {
        this.fail(asWrapperError(err, ErrorCode.WrapperRead));
      }
    });
    return this.work;
  }

  /** Results from a read or from the wrapper's own push; an item with status 2 (or 3) ends the session. */
  push(items: DataItem[]): void {
    if (this.ended || items.length === 0) return;
    let pl;
    try {
      pl = toPayloads(items, this.expect, this.schema, this.seqs);
    } catch (err) {
      return this.fail(asWrapperError(err, ErrorCode.InvalidOutput));
    }
    const last = items.some((item) => item.status >= 2);
    const status = last ? RespStatus.END : this.emitted ? RespStatus.CONTINUE : RespStatus.BEGIN;
    this.emitted = true;
    this.results.push({ status, pl });
    if (last) this.end();
    this.wakeUp?.();
  }

  fail(err: WrapperError): void {
    if (this.ended) return;
    this.results.push(wrapperFailure(err));
    this.end();
    this.wakeUp?.();
  }

  /** Ends the session: no more wrapper calls but wrapperDestroy, after the one running. */
  end(): Promise<void> {
    if (this.ended) return this.work;
    this.ended = true;
    this.held.clear();
    this.work = this.work.then(() => this.onEnd(this));
    return this.work;
  }

  /**
   * The results so far. With `waitMs` (AIOut) and none yet, waits up to that long for some:
   * a pushing wrapper wakes us; a reading one is asked again (wrapperRead) every readPollMs.
   */
  async collect(waitMs: number): Promise<LoaderOutput[]> {
    const deadline = Date.now() + waitMs;
    for (let left = waitMs; this.results.length === 0 && !this.ended && left > 0; left = deadline - Date.now()) {
      if (this.wrapper?.read) {
        await this.read();
        if (this.results.length || this.ended) break;
      }
      await this.sleep(this.wrapper?.read ? Math.min(left, readPollMs) : left);
    }
    const out = this.results.splice(0);
    if (out.length === 0) out.push({ status: this.emitted ? RespStatus.CONTINUE : RespStatus.BEGIN });
    return out;
  }

  /** Waits `ms`, or less if results arrive. */
  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
  }

  /** Everything, including the final result, has been collected. */
  get drained(): boolean {
    return this.ended && this.results.length === 0;
  }
}

/**
 * The loader's streaming sessions (docs/loader-rpc.md): create with SeqNo=1, AIIn per frame,
 * AIOut polling, AIExcp. A session holds one licence from create until wrapperDestroy has returned.
 */
export class SessionTable {
  private readonly open = new Map<string, { session: Session; idle: NodeJS.Timeout }>();
  /** Insertion-ordered, so the oldest are forgotten first. */
  private readonly closed = new Set<string>();

  constructor(
    private readonly host: WrapperHost,
    private readonly pool: LicencePool,
    private readonly options: SessionOptions = sessionDefaults,
  ) {}

  /** SeqNo=1: the caller has taken a licence for us; it is ours to give back from here on. */
  async create(sid: string, input: LoaderInput, schema: CapabilitySchema): Promise<LoaderOutput[]> {
    if (this.open.has(sid)) {
      this.pool.release();
      return [failure(ErrorCode.InvalidOperation, `session '${sid}' is already open`)];
    }
    let expect: ReadonlyMap<string, MetaDesc>;
    try {
      expect = expectedOutputs(input.expect, schema);
    } catch (err) {
      this.pool.release();
      return [wrapperFailure(err as WrapperError)];
    }
    const session = new Session(sid, expect, schema, this.options.reorderWindow, (s) => this.finish(s));
    const idle = setTimeout(() => this.expire(sid), this.options.idleMs);
    this.open.set(sid, { session, idle });
    // Frames that come before wrapperCreate has returned (AIGES clients need not wait) queue behind it.
    await session.open(() =>
      this.host.openSession!(
        { sid, params: input.params ?? {}, expect: [...expect.keys()] },
        { push: (items) => session.push(items), fail: (err) => session.fail(err) },
      ),
    );
    if (input.pl?.length) await session.frame({ ...input, sync_id: 0 });
    return this.collect(session, 0);
  }

  /** AIIn on an open session: the frame, then the results available now. */
  async input(sid: string, input: LoaderInput): Promise<LoaderOutput[]> {
    const entry = this.touch(sid);
    if (!entry) return [this.unknown(sid)];
    await entry.session.frame(input);
    return this.collect(entry.session, 0);
  }

  /** AIOut: results, waiting up to `waitMs` for some. */
  async output(sid: string, waitMs: number): Promise<LoaderOutput[]> {
    const entry = this.touch(sid);
    if (!entry) return [this.unknown(sid)];
    return this.collect(entry.session, waitMs);
  }

  /** AIExcp: the client is gone; the licence is back once wrapperDestroy has returned. */
  async abort(sid: string): Promise<LoaderOutput[]> {
    const entry = this.open.get(sid);
    if (!entry) return [this.unknown(sid)];
    this.forget(sid);
    await entry.session.end();
    return [{ status: RespStatus.END }];
  }

  /** The loader is stopping: every session's wrapperDestroy comes before wrapperFini. */
  async abortAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((sid) => this.abort(sid)));
  }

  /** Once its final result is collected, a session is forgotten (its sid then answers 10101). */
  private async collect(session: Session, waitMs: number): Promise<LoaderOutput[]> {
    const out = await session.collect(waitMs);
    if (session.drained && this.open.get(session.sid)?.session === session) this.forget(session.sid);
    return out;
  }

  private touch(sid: string) {
    const entry = this.open.get(sid);
    entry?.idle.refresh();
    return entry;
  }

  private unknown(sid: string): LoaderOutput {
    if (this.closed.has(sid)) return failure(ErrorCode.SessionReleased, `session '${sid}' was already released`);
    return failure(ErrorCode.UnknownSession, `unknown session handle '${sid}'`);
  }

  private expire(sid: string) {
    const entry = this.open.get(sid);
    if (!entry) return;
    this.forget(sid);
    entry.session.fail(new WrapperError(ErrorCode.Timeout, `session idle for ${this.options.idleMs} ms: closed by the loader`));
  }

  private forget(sid: string) {
    const entry = this.open.get(sid);
    if (!entry) return;
    clearTimeout(entry.idle);
    this.open.delete(sid);
    this.closed.add(sid);
    if (this.closed.size > this.options.closedMemory) this.closed.delete(this.closed.values().next().value!);
  }

  /** wrapperDestroy, then the licence goes back; a failing destroy is logged, never passed to the client. */
  private async finish(session: Session): Promise<void> {
    try {
      await session.wrapper?.destroy();
    } catch (err) {
      process.stderr.write(`asf loader: wrapperDestroy of session ${session.sid} failed: ${(err as Error).message}\n`);
    } finally {
      this.pool.release();
    }
  }
}

function asWrapperError(err: unknown, code: number): WrapperError {
  if (err instanceof WrapperError) return err;
  return new WrapperError(code, err instanceof Error ? err.message : String(err));
}
