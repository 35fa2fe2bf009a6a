import * as grpc from '@grpc/grpc-js';
import { cmdServerMethod, defaultMaxMessageBytes, pipeCallIdKey, pipeMethod, xsfCallMethod } from './codec.js';
import type { LoaderInput, LoaderOutput, ReqBatch, ReqData, ResBatch, ResData, ToolRequest } from './messages.js';
import { TurnBatcher } from './turn-batcher.js';

export interface LoaderClientOptions {
  maxMessageBytes?: number;
}

/** Requests with more input than this go as unary calls, so one big image never holds up the pipe. */
const pipeMaxInputBytes = 256 * 1024;

interface Pending {
  resolve(res: ResData): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** One open pipe stream, the calls waiting to be written to it, and those awaiting answers. */
interface Pipe {
  stream: grpc.ClientDuplexStream<ReqBatch, ResBatch>;
  calls: TurnBatcher<ReqData>;
  pending: Map<string, Pending>;
}

/**
 * A failed call. `lost` means the loader had the request when the connection broke: it may have
 * crashed on this very input, so the caller should not send it to that loader again.
 */
export type CallError = grpc.ServiceError & { lost?: boolean };

/** A gRPC error shaped like grpc-js's own, for failures we detect ourselves. */
function grpcError(code: grpc.status, details: string, lost = false): CallError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata: new grpc.Metadata(), lost });
}

/** A loader's answer to a one-shot request, as objects. */
export interface OnceAnswer {
  output: LoaderOutput;
  /** Refused for want of a free licence (10110): the request may go to another loader. */
  busy: boolean;
  /** Licences left idle after the request, for the balancer. */
  idle: number;
}

/** What the gateway needs of a loader: a gRPC client (LoaderClient), or a loader in its own process. */
export interface LoaderConnection {
  /** One envelope call; fails like grpc-js does (a DEADLINE_EXCEEDED code past `timeoutMs`). */
  call(req: ReqData, timeoutMs: number): Promise<ResData>;
  /**
   * A one-shot request handed over without the protobuf envelope, by a loader in the gateway's own
   * process or on one of its threads: the gateway otherwise encodes LoaderInput and the loader
   * decodes it, then the other way round for LoaderOutput, for nothing. Fails as `call` does.
   */
  callOnce?(sid: string, input: LoaderInput, timeoutMs: number): Promise<OnceAnswer>;
  /** ToolBox cmdserver: the answer's body (see discovery/loader-queries.ts for what loaders answer). */
  query(request: ToolRequest, timeoutMs?: number): Promise<string>;
  waitForReady(timeoutMs: number): Promise<void>;
  close(): void;
}

/**
 * A connection to one loader (ours or an AIGES one). Calls go through our multiplexed pipe
 * (asf.LoaderPipe) when the loader has it, and as unary /utils.XsfCall/call otherwise.
 */
export class LoaderClient implements LoaderConnection {
  private readonly client: grpc.Client;
  private pipe?: Pipe;
  private pipeSupported = true;
  private nextId = 0;

  constructor(
    readonly address: string,
    options: LoaderClientOptions = {},
  ) {
    const max = options.maxMessageBytes ?? defaultMaxMessageBytes;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': max,
      'grpc.max_receive_message_length': max,
      // Reconnect quickly after a loader restarts; the balancer routes around it meanwhile.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
  }

  async call(req: ReqData, timeoutMs: number): Promise<ResData> {
    const inputBytes = req.data?.reduce((n, d) => n + d.data.length, 0) ?? 0;
    if (!this.pipeSupported || inputBytes > pipeMaxInputBytes) return this.unary(xsfCallMethod, req, timeoutMs);
    try {
      return await this.viaPipe(req, timeoutMs);
    } catch (err) {
      if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw err;
      this.pipeSupported = false; // an AIGES loader: plain calls from now on
      return this.unary(xsfCallMethod, req, timeoutMs);
    }
  }

  async query(request: ToolRequest, timeoutMs = 2000): Promise<string> {
    const res = await this.unary(cmdServerMethod, request, timeoutMs);
    return res.body ?? '';
  }

  /** Resolves when the connection is up (reconnecting if need be), rejects after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => this.client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())));
  }

  close() {
    this.pipe?.stream.end();
    this.client.close();
  }

  private viaPipe(req: ReqData, timeoutMs: number): Promise<ResData> {
    const pipe = (this.pipe ??= this.openPipe());
    const id = String(++this.nextId);
    // Set on the caller's message: it is only ever in flight on one replica at a time.
    (req.param ??= {})[pipeCallIdKey] = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pipe.pending.delete(id);
        reject(grpcError(grpc.status.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pipe.pending.set(id, { resolve, reject, timer });
      pipe.calls.push(req);
    });
  }

  private openPipe(): Pipe {
    const stream = this.client.makeBidiStreamRequest(pipeMethod.path, pipeMethod.requestSerialize, pipeMethod.responseDeserialize);
    const pipe: Pipe = { stream, calls: new TurnBatcher<ReqData>((calls) => stream.write({ calls })), pending: new Map() };
    // Our loader sends headers as soon as the pipe opens: from then on, requests written reach it.
    let established = false;
    stream.on('metadata', () => (established = true));
    stream.on('data', (batch: ResBatch) => {
      for (const res of batch.answers ?? []) {
        const id = res.param?.[pipeCallIdKey] ?? '';
        const waiting = pipe.pending.get(id);
        if (!waiting) continue; // answered after its deadline
        pipe.pending.delete(id);
        clearTimeout(waiting.timer);
        waiting.resolve(res);
      }
    });
    // When the pipe breaks (loader gone), every call on it fails, and the next call opens a new one.
    const broken = (err: CallError) => {
      if (this.pipe === pipe) this.pipe = undefined;
      pipe.calls.discard();
      err.lost = established && err.code !== grpc.status.UNIMPLEMENTED;
      for (const waiting of pipe.pending.values()) {
        clearTimeout(waiting.timer);
        waiting.reject(err);
      }
      pipe.pending.clear();
    };
    stream.on('error', broken);
    stream.on('end', () => broken(grpcError(grpc.status.UNAVAILABLE, 'loader closed the pipe')));
    return pipe;
  }

  private unary<Req, Res>(
    method: { path: string; requestSerialize: (r: Req) => Buffer; responseDeserialize: (b: Buffer) => Res },
    req: Req,
    timeoutMs: number,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        req,
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (res !== undefined && !err) return resolve(res);
          // A unary call cannot tell "never sent" from "sent, then cut": count it as lost unless refused outright.
          const failure: CallError = err ?? grpcError(grpc.status.INTERNAL, 'empty response');
          failure.lost = failure.code !== grpc.status.UNAVAILABLE || !/ECONNREFUSED|No connection established/.test(failure.details);
          reject(failure);
        },
      );
    });
  }
}
