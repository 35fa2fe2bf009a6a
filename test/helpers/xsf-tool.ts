import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { repoRoot } from './stack.js';

// The AIGES envelope built from our .proto files by the standard loaders, independently of the
// runtime's codec, as an AIGES tool (xtest) or an AIGES loader builds it.
const protoDir = path.join(repoRoot, 'runtime', 'protocol', 'proto');
const definition = protoLoader.loadSync(path.join(protoDir, 'xsf.proto'), { keepCase: true, longs: Number, defaults: true });
export const utils = grpc.loadPackageDefinition(definition)['utils'] as grpc.GrpcObject;
export const XsfCall = utils['XsfCall'] as grpc.ServiceClientConstructor;
export const ToolBox = utils['ToolBox'] as grpc.ServiceClientConstructor;
const payloadRoot = protobuf.loadSync(path.join(protoDir, 'loader.proto'));
export const LoaderInput = payloadRoot.lookupType('protocol.LoaderInput');
export const LoaderOutput = payloadRoot.lookupType('protocol.LoaderOutput');

export type Res = { code: number; error_info: string; s: { h: string }; param: Record<string, string>; data: { data: Buffer }[] };
export type Client = grpc.Client & Record<string, Function>;

/** One unary call on a generated client, as a promise. */
export function unary<T>(client: Client, method: string, req: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => client[method]!(req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

/** The first LoaderOutput of an answer, enums by name and defaults filled in. */
export const outputOf = (res: Res) => LoaderOutput.toObject(LoaderOutput.decode(res.data[0]!.data), { enums: String, defaults: true }) as any;

/** A one-shot AIIn as AIGES clients send it, carrying `input` (a LoaderInput object, or raw bytes). */
export function onceCall(input: Record<string, unknown> | Buffer, sid = 'iat000704fa@dx16ade44e4d87a1c802') {
  const data = Buffer.isBuffer(input) ? input : LoaderInput.encode(LoaderInput.fromObject(input)).finish();
  return { op: 'AIIn', s: { t: 'trace-1', h: sid }, param: { SeqNo: '1', version: 'v2', waitTime: '3000', baseId: '0' }, data: [{ data }] };
}
