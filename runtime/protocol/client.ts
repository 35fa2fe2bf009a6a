import * as grpc from '@grpc/grpc-js';
import { cmdServerMethod, defaultMaxMessageBytes, pipeCallIdKey, pipeMethod, xsfCallMethod } from './codec.js';
import type { ReqData, ResData } from './messages.js';

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

/** A gRPC error shaped like grpc-js's own, for failures we detect ourselves. */
function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata: new grpc.Metadata() });
}

/**
 * A connection to one loader (ours or an AIGES one). Calls go through our multiplexed pipe
 * (asf.LoaderPipe) when the loader has it, and as unary /utils.XsfCall/call otherwise.
 */
export class LoaderClient {
  private readonly client: grpc.Client;
  private pipe?: grpc.ClientDuplexStream<ReqData, ResData>;
  private pipeSupported = true;
  private readonly pending = new Map<string, Pending>();
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

  /** ToolBox cmdserver: our loaders answer "health" and "schema" with JSON. */
  async query(query: string, timeoutMs = 2000): Promise<string> {
    const res = await this.unary(cmdServerMethod, { query }, timeoutMs);
    return res.body ?? '';
  }

  close() {
    this.pipe?.end();
    this.client.close();
  }

  private viaPipe(req: ReqData, timeoutMs: number): Promise<ResData> {
    const pipe = (this.pipe ??= this.openPipe());
    const id = String(++this.nextId);
    const message: ReqData = { ...req, param: { ...req.param, [pipeCallIdKey]: id } };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(grpcError(grpc.status.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      pipe.write(message);
    });
  }

  private openPipe(): grpc.ClientDuplexStream<ReqData, ResData> {
    const pipe = this.client.makeBidiStreamRequest(pipeMethod.path, pipeMethod.requestSerialize, pipeMethod.responseDeserialize);
    pipe.on('data', (res: ResData) => {
      const id = res.param?.[pipeCallIdKey] ?? '';
      const waiting = this.pending.get(id);
      if (!waiting) return; // answered after its deadline
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.resolve(res);
    });
    // When the pipe breaks (loader gone), every call on it fails, and the next call opens a new one.
    const broken = (err: Error) => {
      if (this.pipe === pipe) this.pipe = undefined;
      for (const [id, waiting] of this.pending) {
        clearTimeout(waiting.timer);
        waiting.reject(err);
        this.pending.delete(id);
      }
    };
    pipe.on('error', broken);
    pipe.on('end', () => broken(grpcError(grpc.status.UNAVAILABLE, 'loader closed the pipe')));
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
        (err, res) => (err || res === undefined ? reject(err ?? new Error('empty response')) : resolve(res)),
      );
    });
  }
}
