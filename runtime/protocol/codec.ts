import path from 'node:path';
import protobuf from 'protobufjs';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { packageRoot } from '../paths.js';
import { loaderInput, loaderOutput, reqBatch, reqData, resBatch, resData } from './envelope.js';
import type { ToolRequest, ToolResponse } from './messages.js';

const protoDir = path.join(packageRoot, 'runtime', 'protocol', 'proto');
// keepCase: field names (error_info, sync_id) stay as on the wire, as AIGES tools print them.
const root = new protobuf.Root();
// Imports ("xsf.proto") resolve inside our proto folder.
root.resolvePath = (_origin, target) => path.join(protoDir, path.basename(target));
// Only the tool box's Request/Response (xsf.proto) go through protobufjs now.
root.loadSync('xsf.proto', { keepCase: true });

interface Codec<T> {
  encode(message: T): Buffer;
  decode(bytes: Uint8Array): T;
}

function codec<T>(name: string): Codec<T> {
  const type = root.lookupType(name);
  return {
    encode: (message) => {
      const bytes = type.encode(message as protobuf.Message).finish();
      // protobufjs hands back a Buffer on Node; keep it without copying.
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode: (bytes) => type.decode(bytes) as unknown as T,
  };
}

// The messages on the request path have hand-written codecs (envelope.ts); the tool box's go through protobufjs.
export { loaderInput, loaderOutput, reqBatch, reqData, resBatch, resData };
export const toolRequest = codec<ToolRequest>('utils.Request');
export const toolResponse = codec<ToolResponse>('utils.Response');

function method<Req, Res>(path: string, req: Codec<Req>, res: Codec<Res>, streaming = false) {
  return {
    path,
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: req.encode,
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: res.encode,
    responseDeserialize: (b: Buffer) => res.decode(b),
  } as const;
}

export const xsfCallMethod = method('/utils.XsfCall/call', reqData, resData);
export const cmdServerMethod = method('/utils.ToolBox/cmdserver', toolRequest, toolResponse);
export const pipeMethod = method('/asf.LoaderPipe/pipe', reqBatch, resBatch, true);

export const xsfCallService: ServiceDefinition = { call: xsfCallMethod };
export const toolBoxService: ServiceDefinition = { cmdserver: cmdServerMethod };
export const loaderPipeService: ServiceDefinition = { pipe: pipeMethod };

/** ReqData/ResData param pairing a pipe answer with its request. */
export const pipeCallIdKey = 'asf-call-id';

/** Message size limit each way; images need more than gRPC's 4 MiB default. */
export const defaultMaxMessageBytes = 64 * 1024 * 1024;
