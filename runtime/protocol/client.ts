import * as grpc from '@grpc/grpc-js';
import { cmdServerMethod, defaultMaxMessageBytes, xsfCallMethod } from './codec.js';
import type { ReqData, ResData } from './messages.js';

export interface LoaderClientOptions {
  maxMessageBytes?: number;
}

/** A gRPC connection to one loader (ours or an AIGES one): the XsfCall envelope plus ToolBox queries. */
export class LoaderClient {
  private readonly client: grpc.Client;

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

  call(req: ReqData, timeoutMs: number): Promise<ResData> {
    return this.unary(xsfCallMethod, req, timeoutMs);
  }

  /** ToolBox cmdserver: our loaders answer "health" and "schema" with JSON. */
  async query(query: string, timeoutMs = 2000): Promise<string> {
    const res = await this.unary(cmdServerMethod, { query }, timeoutMs);
    return res.body ?? '';
  }

  close() {
    this.client.close();
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
