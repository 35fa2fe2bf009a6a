import { status as GrpcStatus } from '@grpc/grpc-js';
import type { LoaderConnection } from '../protocol/client.js';
import type { ReqData, ResData, ToolRequest } from '../protocol/messages.js';
import type { Loader } from './loader.js';
import { answerToolQuery } from './toolbox.js';

/**
 * A loader in the gateway's own process (asf up, for capabilities whose wrapper runs in worker
 * processes anyway): the gateway calls it directly, with no gRPC hop, no encoding of the envelope
 * and no wake-up of another process. It answers exactly what the gRPC server would.
 */
export class InProcessLoader implements LoaderConnection {
  constructor(readonly loader: Loader) {}

  async call(req: ReqData, timeoutMs: number): Promise<ResData> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: GrpcStatus.DEADLINE_EXCEEDED, details: `no answer within ${timeoutMs} ms` })), timeoutMs);
    });
    try {
      return await Promise.race([this.loader.handle(req), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async query(request: ToolRequest): Promise<string> {
    return answerToolQuery(this.loader, request);
  }

  async waitForReady(): Promise<void> {}

  close() {}
}
