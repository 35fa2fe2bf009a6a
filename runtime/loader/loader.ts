import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pickSchema, schemaConflicts } from '../capability/schema-sources.js';
import type { CapabilitySchema, CapabilitySpec } from '../capability/types.js';
import { ErrorCode } from '../protocol/errors.js';
import { loaderInput, loaderOutput } from '../protocol/codec.js';
import { RespStatus, SessState, type LoaderInput, type LoaderOutput, type ReqData, type ResData } from '../protocol/messages.js';
import { LicencePool } from './licences.js';
import { WrapperError, type DataItem, type WrapperHost } from './host.js';
import { expectedOutputs, failure, toItem, toPayloads, wrapperFailure } from './items.js';
import { SessionTable } from './sessions.js';
import { RequestSignal } from './request-signal.js';
import type { OnceAnswer } from '../protocol/client.js';

export type LoaderState = 'starting' | 'ready' | 'failed' | 'stopping';

/** What the loader tells the gateway about itself (ToolBox cmdserver "health"). */
export interface LoaderHealth {
  serviceId: string;
  state: LoaderState;
  error?: string;
  total: number;
  idle: number;
}

/** AIOut's wait for results when the caller gives no waitTime (AIGES's default). */
const defaultWaitMs = 500;

/** Ops that AIGES accepts and that change nothing here. */
const noOps = new Set(['AIHotword', 'AIDetect', 'AILoad', 'AIUnLoad']);

/**
 * Hosts one capability: licence pool, request handling in the AIGES envelope, output checks.
 * Transport-free: the gRPC server (server.ts) hands it decoded ReqData.
 */
export class Loader {
  readonly pool: LicencePool;
  private readonly sessions: SessionTable;
  schema: CapabilitySchema;
  state: LoaderState = 'starting';
  error?: string;
  /** Where capability.yaml and the wrapper's own declarations disagree (known once started). */
  schemaWarnings: string[] = [];

  constructor(
    readonly spec: CapabilitySpec,
    private readonly host: WrapperHost,
  ) {
    this.pool = new LicencePool(spec.licences);
    this.sessions = new SessionTable(host, this.pool);
    this.schema = pickSchema(spec);
  }

  private started?: Promise<void>;

  /** Initialises the wrapper; a failure is kept (and shown in health), not thrown. */
  start(): Promise<void> {
    return (this.started ??= this.init());
  }

  private async init(): Promise<void> {
    try {
      const declared = await this.host.start(this.spec.config);
      this.schema = pickSchema(this.spec, declared);
      this.schemaWarnings = schemaConflicts(this.spec, declared);
      this.state = 'ready';
    } catch (err) {
      this.state = 'failed';
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopping';
    await this.sessions.abortAll();
    await this.host.stop();
  }

  /**
   * Going away soon (SIGTERM in a Pod): the loader still serves whatever reaches it, but reports
   * 'stopping' so that balancers send it nothing new while they learn it is leaving.
   */
  draining = false;

  /** Ready for new work: loaded and not draining. */
  get serving(): boolean {
    return this.state === 'ready' && !this.draining;
  }

  health(): LoaderHealth {
    const { serviceId } = this.schema;
    const state = this.draining && this.state === 'ready' ? 'stopping' : this.state;
    return { serviceId, state, error: this.error, total: this.pool.total, idle: this.pool.idle };
  }

  async handle(req: ReqData): Promise<ResData> {
    switch (req.op) {
      case 'AIIn':
        return this.input(req);
      case 'AIOut': {
        const sid = req.s?.h ?? '';
        const waitMs = Number(req.param?.['waitTime'] ?? defaultWaitMs);
        return this.replyAll(sid, await this.sessions.output(sid, Number.isFinite(waitMs) ? waitMs : defaultWaitMs));
      }
      case 'AIExcp':
        return this.replyAll(req.s?.h ?? '', await this.sessions.abort(req.s?.h ?? ''));
      case 'AILBType':
        return this.relicence(req);
      default:
        if (noOps.has(req.op)) return this.reply(req.s?.h ?? '', { status: RespStatus.END });
        return this.reply(req.s?.h ?? '', failure(ErrorCode.InvalidOperation, `invalid operation '${req.op}'`));
    }
  }

  private async input(req: ReqData): Promise<ResData> {
    const raw = req.data?.[0]?.data;
    let input: LoaderInput;
    try {
      input = raw ? loaderInput.decode(raw) : {};
    } catch (err) {
      // As AIGES: an answer the caller can read, not a failed call (which tools count as transport errors).
      return this.reply(req.s?.h ?? '', failure(ErrorCode.PbUnmarshal, `LoaderInput is not a valid protocol.LoaderInput: ${(err as Error).message}`));
    }
    const sid = req.s?.h || input.headers?.['sid'] || newSid();
    if (req.param?.['SeqNo'] !== '1') return this.replyAll(sid, await this.sessions.input(sid, input));
    const stream = input.state !== SessState.ONCE && input.headers?.['status'] !== '3';
    if (stream && !this.host.openSession) {
      return this.reply(sid, failure(ErrorCode.InvalidOperation, `capability ${this.schema.serviceId} serves one-shot requests only: its host has no streaming sessions`));
    }
    if (stream) {
      // A session is known from here on, in the same turn: its next frames may be on their way already.
      if (this.state === 'starting') await this.started;
      const refused = this.admit();
      if (refused) return this.envelope(sid, refused);
      // The session keeps the licence until it ends.
      return this.replyAll(sid, await this.sessions.create(sid, input, this.schema));
    }
    const answer = await this.answerOnce(sid, input);
    return this.envelope(sid, answer.output);
  }

  /**
   * A one-shot request: the wrapper's output (or why there is none), the licences left idle after
   * it, and whether it was refused for want of a licence (10110: try another loader). The envelope
   * path (input) and a gateway in this process (InProcessLoader) both come through here.
   */
  async answerOnce(sid: string, input: LoaderInput): Promise<OnceAnswer> {
    if (this.state === 'starting') await this.started;
    const refused = this.admit();
    if (refused) return { output: this.finish(refused), busy: refused.code === ErrorCode.NoLicence, idle: this.pool.idle };
    let out: LoaderOutput;
    try {
      out = await this.run(sid, input);
    } catch (err) {
      out = err instanceof WrapperError ? wrapperFailure(err) : failure(ErrorCode.WrapperExec, err instanceof Error ? err.message : String(err));
    } finally {
      this.pool.release();
    }
    // After the release, so that the idle count is the one the balancer should see.
    return { output: this.finish(out), busy: false, idle: this.pool.idle };
  }

  /**
   * Takes a licence for a new request or session; the output to answer instead when there is none
   * to take. A request that arrives while the wrapper initialises (say, right after a restart) has
   * waited for it (this.started) before it comes here.
   */
  private admit(): LoaderOutput | undefined {
    if (this.state !== 'ready') return failure(ErrorCode.WrapperInit, `capability ${this.schema.serviceId} is not ready: ${this.error ?? this.state}`);
    if (!this.pool.tryAcquire()) return failure(ErrorCode.NoLicence, `no free licence: all ${this.pool.total} are in use`);
    return undefined;
  }

  /** A single output in the envelope; only 10110 is also set on the envelope itself, so the caller retries another loader. */
  private envelope(sid: string, out: LoaderOutput): ResData {
    const res = this.reply(sid, out);
    return out.code === ErrorCode.NoLicence ? { ...res, code: ErrorCode.NoLicence, error_info: out.err } : res;
  }

  private async run(sid: string, input: LoaderInput): Promise<LoaderOutput> {
    const expect = expectedOutputs(input.expect, this.schema);
    const inputs: DataItem[] = (input.pl ?? []).map((pl) => toItem(pl));
    const signal = new RequestSignal();
    const timeoutMs = this.spec.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        signal.abort();
        reject(new WrapperError(ErrorCode.OnceTimeout, `request timed out after ${timeoutMs} ms in the loader`));
      }, timeoutMs);
    });
    try {
      const request = {
        sid,
        params: input.params ?? {},
        inputs,
        expect: [...expect.keys()],
        signal,
      };
      const items = await Promise.race([this.host.once(request), timedOut]);
      return { serviceId: this.schema.serviceId, status: RespStatus.ONCE, pl: toPayloads(items, expect, this.schema) };
    } finally {
      clearTimeout(timer);
    }
  }

  private relicence(req: ReqData): ResData {
    const max = Number(req.param?.['authzNo']);
    if (!Number.isInteger(max) || max < 1) {
      return this.reply('', failure(ErrorCode.InvalidParam, `AILBType needs authzNo as a positive integer, got '${req.param?.['authzNo'] ?? ''}'`));
    }
    this.pool.resize(max);
    return this.reply('', { status: RespStatus.END });
  }

  /**
   * Error text goes to clients, who have no business with where the capability lives on this
   * server: its files are named relative to its folder, the folder by its name.
   */
  private withoutPaths(text: string): string {
    return text.replaceAll(`${this.spec.dir}${path.sep}`, '').replaceAll(this.spec.dir, path.basename(this.spec.dir));
  }

  /** Every answer carries the load figures the balancer uses. */
  private reply(sid: string, out: LoaderOutput): ResData {
    return this.replyAll(sid, [out]);
  }

  /** Session calls may collect several results at once: one DataMeta each, in order. */
  private replyAll(sid: string, outs: LoaderOutput[]): ResData {
    return {
      s: { h: sid },
      param: { total: String(this.pool.total), idle: String(this.pool.idle) },
      data: outs.map((out) => ({ data: loaderOutput.encode(this.finish(out)) })),
    };
  }

  /** Every output names the service, and its error text no path on this server. */
  private finish(out: LoaderOutput): LoaderOutput {
    out.serviceId = this.schema.serviceId;
    if (out.err) out.err = this.withoutPaths(out.err);
    return out;
  }
}

// Unique per process by a random prefix, then a counter: no entropy to gather per request.
const sidPrefix = `asf${randomBytes(8).toString('hex')}`;
let sidCounter = 0;

/** A 32-character session id, the length ASF clients are used to. */
export function newSid(): string {
  return sidPrefix + (++sidCounter).toString(16).padStart(13, '0');
}
