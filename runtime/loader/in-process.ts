import { status as GrpcStatus } from '@grpc/grpc-js';
import type { LoaderConnection, OnceAnswer } from '../protocol/client.js';
import type { LoaderInput, ReqData, ResData, ToolRequest } from '../protocol/messages.js';
import type { Loader } from './loader.js';
import { answerToolQuery } from './toolbox.js';

/**
 * A loader in the gateway's own process (asf up, for capabilities whose wrapper runs in worker
 * processes anyway): the gateway calls it directly, with no gRPC hop, no encoding of the envelope
 * and no wake-up of another process. It answers exactly what the gRPC server would.
 */
export class InProcessLoader implements LoaderConnection {
  constructor(readonly loader: Loader) {}

  call(req: ReqData, timeoutMs: number): Promise<ResData> {
    return withDeadline(this.loader.handle(req), timeoutMs);
  }

  callOnce(sid: string, input: LoaderInput, timeoutMs: number): Promise<OnceAnswer> {
    return withDeadline(this.loader.answerOnce(sid, input), timeoutMs);
  }

  async query(request: ToolRequest): Promise<string> {
    return answerToolQuery(this.loader, request);
  }

  async waitForReady(): Promise<void> {}

  close() {}
}

/** Fails as a gRPC call past its deadline would (the loader keeps its own timeout for the wrapper). */
function withDeadline<T>(answer: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const details = () => `no answer within ${timeoutMs} ms`;
    const timer = setTimeout(() => reject(Object.assign(new Error(details()), { code: GrpcStatus.DEADLINE_EXCEEDED, details: details() })), timeoutMs);
    answer.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
