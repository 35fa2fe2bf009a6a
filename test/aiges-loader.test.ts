import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';

// A stand-in for an AIGES loader (AIGES itself is Go + C and does not run here): it speaks only
// /utils.XsfCall/call and ToolBox, not our pipe, so the gateway must fall back to unary calls.
const protoDir = path.join(repoRoot, 'runtime', 'protocol', 'proto');
const utils = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(protoDir, 'xsf.proto'), { keepCase: true }))['utils'] as grpc.GrpcObject;
const payloads = protobuf.loadSync(path.join(protoDir, 'loader.proto'));
const LoaderInput = payloads.lookupType('protocol.LoaderInput');
const LoaderOutput = payloads.lookupType('protocol.LoaderOutput');

describe('gateway in front of a loader without our pipe (AIGES stand-in, in-test gRPC server)', function () {
  let server: grpc.Server;
  let gateway: RunningProcess;
  let url = '';
  const ops: string[] = [];

  before(async () => {
    server = new grpc.Server();
    server.addService((utils['XsfCall'] as grpc.ServiceClientConstructor).service, {
      call: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        ops.push(call.request.op);
        const input = LoaderInput.toObject(LoaderInput.decode(call.request.data[0].data)) as any;
        const text = Buffer.from(input.pl[0].data).toString().split('').reverse().join('');
        const out = LoaderOutput.encode(
          LoaderOutput.fromObject({ serviceId: 'rev', status: 'ONCE', pl: [{ meta: { name: 'out', dataType: 'TEXT', attribute: { seq: '0', status: '3' } }, data: Buffer.from(text) }] }),
        ).finish();
        cb(null, { code: 0, s: call.request.s, param: { total: '2', idle: '2' }, data: [{ data: out }] });
      },
    });
    server.addService((utils['ToolBox'] as grpc.ServiceClientConstructor).service, {
      cmdserver: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        const schema = { serviceId: 'rev', version: 'v1', inputs: { in: { dataType: 'text' } }, outputs: { out: { dataType: 'text' } }, params: {} };
        const health = { serviceId: 'rev', state: 'ready', total: 2, idle: 2 };
        cb(null, { body: JSON.stringify(call.request.query === 'schema' ? schema : health) });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const gatewayPort = await freePort();
    gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(gatewayPort), '--loader', `127.0.0.1:${port}`]);
    url = `http://127.0.0.1:${gatewayPort}`;
    await waitHealthy(url);
  });
  after(async () => {
    await gateway?.stop();
    server?.forceShutdown();
  });

  it('answers through unary /utils.XsfCall/call', async () => {
    for (const word of ['abc', 'hello']) {
      const { status, json } = await post(`${url}/v1/private/rev`, { header: { app_id: '1' }, payload: { in: { text: b64(word) } } });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(Buffer.from(json.payload.out.text, 'base64').toString(), word.split('').reverse().join(''));
    }
    assert.deepEqual(ops, ['AIIn', 'AIIn']);
  });
});
