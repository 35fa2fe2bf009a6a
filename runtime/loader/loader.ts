import { randomBytes } from 'node:crypto';
import type { CapabilitySchema, CapabilitySpec } from '../capability/types.js';
import { ErrorCode } from '../protocol/errors.js';
import { loaderInput, loaderOutput } from '../protocol/codec.js';
import {
  dataTypeOf,
  RespStatus,
  SessState,
  type LoaderInput,
  type LoaderOutput,
  type MetaDesc,
  type Payload,
  type ReqData,
  type ResData,
} from '../protocol/messages.js';
import { LicencePool } from './licences.js';
import { WrapperError, type DataItem, type DataStatus, type WrapperHost } from './host.js';

export type LoaderState = 'starting' | 'ready' | 'failed' | 'stopping';

/** What the loader tells the gateway about itself (ToolBox cmdserver "health"). */
export interface LoaderHealth {
  serviceId: string;
  state: LoaderState;
  error?: string;
  total: number;
  idle: number;
}

/** Ops that AIGES accepts and that change nothing here. */
const noOps = new Set(['AIHotword', 'AIDetect', 'AILoad', 'AIUnLoad']);

/**
 * Hosts one capability: licence pool, request handling in the AIGES envelope, output checks.
 * Transport-free: the gRPC server (server.ts) hands it decoded ReqData.
 */
export class Loader {
  readonly pool: LicencePool;
  schema: CapabilitySchema;
  state: LoaderState = 'starting';
  error?: string;

  constructor(
    readonly spec: CapabilitySpec,
    private readonly host: WrapperHost,
  ) {
    this.pool = new LicencePool(spec.licences);
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
      this.state = 'ready';
    } catch (err) {
      this.state = 'failed';
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopping';
    await this.host.stop();
  }

  health(): LoaderHealth {
    const { serviceId } = this.schema;
    return { serviceId, state: this.state, error: this.error, total: this.pool.total, idle: this.pool.idle };
  }

  async handle(req: ReqData): Promise<ResData> {
    switch (req.op) {
      case 'AIIn':
        return this.input(req);
      case 'AIOut':
      case 'AIExcp':
        return this.reply(req.s?.h ?? '', failure(ErrorCode.UnknownSession, `unknown session handle '${req.s?.h ?? ''}'`));
      case 'AILBType':
        return this.relicence(req);
      default:
        if (noOps.has(req.op)) return this.reply(req.s?.h ?? '', { status: RespStatus.END });
        return this.reply(req.s?.h ?? '', failure(ErrorCode.InvalidOperation, `invalid operation '${req.op}'`));
    }
  }

  private async input(req: ReqData): Promise<ResData> {
    const raw = req.data?.[0]?.data;
    const input = raw ? loaderInput.decode(raw) : ({} as LoaderInput);
    const sid = req.s?.h || input.headers?.['sid'] || newSid();
    if (req.param?.['SeqNo'] !== '1') {
      return this.reply(sid, failure(ErrorCode.UnknownSession, `unknown session handle '${req.s?.h ?? ''}'`));
    }
    if (input.state !== SessState.ONCE && input.headers?.['status'] !== '3') {
      return this.reply(sid, failure(ErrorCode.InvalidOperation, 'streaming sessions are not supported by this loader yet'));
    }
    // A request that arrives while the wrapper initialises (say, right after a restart) waits for it.
    if (this.state === 'starting') await this.started;
    if (this.state !== 'ready') {
      return this.reply(sid, failure(ErrorCode.WrapperInit, `capability ${this.schema.serviceId} is not ready: ${this.error ?? this.state}`));
    }
    if (!this.pool.tryAcquire()) {
      const out = failure(ErrorCode.NoLicence, `no free licence: all ${this.pool.total} are in use`);
      // Only 10110 is also set on the envelope, so the caller retries another loader.
      return { ...this.reply(sid, out), code: ErrorCode.NoLicence, error_info: out.err };
    }
    let out: LoaderOutput;
    try {
      out = await this.once(sid, input);
    } catch (err) {
      const code = err instanceof WrapperError ? err.code : ErrorCode.WrapperExec;
      out = failure(code, err instanceof Error ? err.message : String(err));
    } finally {
      this.pool.release();
    }
    // After the release, so the idle count in the reply is the one the balancer should see.
    return this.reply(sid, out);
  }

  private async once(sid: string, input: LoaderInput): Promise<LoaderOutput> {
    const expect = expectedOutputs(input.expect, this.schema);
    const inputs: DataItem[] = (input.pl ?? []).map((pl) => toItem(pl));
    // The abort signal is made only for hosts that ask for it: most requests never time out.
    let abort: AbortController | undefined;
    const timeoutMs = this.spec.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort?.abort();
        reject(new WrapperError(ErrorCode.OnceTimeout, `request timed out after ${timeoutMs} ms in the loader`));
      }, timeoutMs);
    });
    try {
      const request = {
        sid,
        params: input.params ?? {},
        inputs,
        expect: [...expect.keys()],
        get signal() {
          return (abort ??= new AbortController()).signal;
        },
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

  /** Every answer carries the load figures the balancer uses. */
  private reply(sid: string, out: LoaderOutput): ResData {
    out.serviceId = this.schema.serviceId;
    return {
      s: { h: sid },
      param: { total: String(this.pool.total), idle: String(this.pool.idle) },
      data: [{ data: loaderOutput.encode(out) }],
    };
  }
}

function failure(code: number, err: string): LoaderOutput {
  return { code, err, status: RespStatus.END };
}

/** Expected outputs: those the request names, else every declared output. */
function expectedOutputs(expect: MetaDesc[] | undefined, schema: CapabilitySchema): Map<string, MetaDesc> {
  const out = new Map<string, MetaDesc>();
  if (expect?.length) {
    for (const desc of expect) out.set(desc.name, desc);
    return out;
  }
  for (const [name, decl] of Object.entries(schema.outputs)) {
    const attribute: Record<string, string> = {};
    if (decl.encoding) attribute['encoding'] = decl.encoding;
    if (decl.compress) attribute['compress'] = decl.compress;
    if (decl.format) attribute['format'] = decl.format;
    out.set(name, { name, attribute });
  }
  return out;
}

function toItem(pl: Payload): DataItem {
  const attrs = pl.meta?.attribute ?? {};
  const data = pl.data ?? Buffer.alloc(0);
  return {
    key: pl.meta?.name ?? '',
    data: Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    type: pl.meta?.dataType ?? 0,
    status: Number(attrs['status'] ?? 3) as DataStatus,
    attrs,
  };
}

/** Checks wrapper outputs against the expected ones (10106) and attaches their attributes. */
function toPayloads(items: DataItem[], expect: Map<string, MetaDesc>, schema: CapabilitySchema): Payload[] {
  const seen = new Set<string>();
  return items.map((item) => {
    const desc = expect.get(item.key);
    if (!desc && expect.size > 0) {
      const names = [...expect.keys()].join(', ');
      throw new WrapperError(ErrorCode.InvalidOutput, `wrapper returned output '${item.key}', which is not among the expected outputs (${names})`);
    }
    if (seen.has(item.key)) {
      throw new WrapperError(ErrorCode.InvalidOutput, `wrapper returned output '${item.key}' twice`);
    }
    seen.add(item.key);
    const attribute = { ...desc?.attribute, seq: '0', status: String(item.status) };
    const declared = schema.outputs[item.key];
    const dataType = declared ? dataTypeOf(declared.dataType) : item.type;
    return { meta: { name: item.key, dataType, attribute }, data: item.data };
  });
}

/** capability.yaml wins over what the wrapper declares; the folder name is the last resort. */
function pickSchema(spec: CapabilitySpec, declared: Partial<CapabilitySchema> = {}): CapabilitySchema {
  return {
    serviceId: spec.declared.serviceId ? spec.serviceId : (declared.serviceId ?? spec.serviceId),
    version: spec.declared.version ? spec.version : (declared.version ?? spec.version),
    inputs: spec.declared.inputs ? spec.inputs : (declared.inputs ?? {}),
    outputs: spec.declared.outputs ? spec.outputs : (declared.outputs ?? {}),
    params: Object.keys(spec.params).length ? spec.params : (declared.params ?? {}),
  };
}

// Unique per process by a random prefix, then a counter: no entropy to gather per request.
const sidPrefix = `asf${randomBytes(8).toString('hex')}`;
let sidCounter = 0;

/** A 32-character session id, the length ASF clients are used to. */
export function newSid(): string {
  return sidPrefix + (++sidCounter).toString(16).padStart(13, '0');
}
