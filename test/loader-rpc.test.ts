import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { freePort, repoRoot, runAsf, type RunningProcess } from './helpers/stack.js';

// Built from our .proto files by the standard loaders, independently of the runtime's codec,
// as an AIGES tool (xtest) would build its client.
const protoDir = path.join(repoRoot, 'runtime', 'protocol', 'proto');
const definition = protoLoader.loadSync(path.join(protoDir, 'xsf.proto'), { keepCase: true, longs: Number, defaults: true });
const utils = grpc.loadPackageDefinition(definition)['utils'] as grpc.GrpcObject;
const XsfCall = utils['XsfCall'] as grpc.ServiceClientConstructor;
const ToolBox = utils['ToolBox'] as grpc.ServiceClientConstructor;
const payloadRoot = protobuf.loadSync(path.join(protoDir, 'loader.proto'));
const LoaderInput = payloadRoot.lookupType('protocol.LoaderInput');
const LoaderOutput = payloadRoot.lookupType('protocol.LoaderOutput');

type Res = { code: number; error_info: string; s: { h: string }; param: Record<string, string>; data: { data: Buffer }[] };

describe('loader gRPC envelope (/utils.XsfCall/call) driven like an AIGES tool', function () {
  let loader: RunningProcess;
  let client: grpc.Client & Record<string, Function>;
  let toolbox: grpc.Client & Record<string, Function>;

  before(async () => {
    const port = await freePort();
    loader = runAsf(['loader', '--capability', path.join(repoRoot, 'examples', 'echo'), '--host', '127.0.0.1', '--port', String(port)]);
    await loader.waitFor(/capability ready/);
    client = new XsfCall(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
    toolbox = new ToolBox(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
  });
  after(async () => {
    client?.close();
    toolbox?.close();
    await loader?.stop();
  });

  const call = (req: unknown) =>
    new Promise<Res>((resolve, reject) => client['call']!(req, (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))));
  const output = (res: Res) => LoaderOutput.toObject(LoaderOutput.decode(res.data[0]!.data), { enums: String, defaults: true }) as any;

  function onceRequest(text: string, sid = 'iat000704fa@dx16ade44e4d87a1c802') {
    const input = LoaderInput.encode(
      LoaderInput.fromObject({
        serviceId: 'echo',
        serviceName: 'echo',
        state: 'ONCE',
        headers: { sid, status: '3', appid: '123456', uid: 'u1', sub: 'ase' },
        params: { mode: 'upper' },
        expect: [{ name: 'result', dataType: 'TEXT', attribute: { encoding: 'utf8', compress: 'raw', format: 'plain' } }],
        pl: [{ meta: { name: 'text', dataType: 'TEXT', attribute: { status: '3', seq: '0', encoding: 'utf8' } }, data: Buffer.from(text) }],
      }),
    ).finish();
    return { op: 'AIIn', s: { t: 'trace-1', h: sid }, param: { SeqNo: '1', version: 'v2', waitTime: '3000', baseId: '0' }, data: [{ data: input }] };
  }

  it('AIIn one-shot returns LoaderOutput with the result, status ONCE and seq/status attributes', async () => {
    const res = await call(onceRequest('hello loader'));
    assert.equal(res.code, 0);
    assert.equal(res.s.h, 'iat000704fa@dx16ade44e4d87a1c802');
    const out = output(res);
    assert.equal(out.code, 0);
    assert.equal(out.status, 'ONCE');
    assert.equal(out.pl.length, 1);
    assert.equal(out.pl[0].meta.name, 'result');
    assert.equal(out.pl[0].meta.dataType, 'TEXT');
    assert.deepEqual(out.pl[0].meta.attribute, { encoding: 'utf8', compress: 'raw', format: 'plain', seq: '0', status: '3' });
    assert.equal(Buffer.from(out.pl[0].data).toString(), 'HELLO LOADER');
  });

  it('reports its load (total / idle licences) in every answer', async () => {
    const res = await call(onceRequest('x'));
    assert.equal(res.param['total'], '8');
    assert.equal(res.param['idle'], '8');
  });

  it('AILBType changes the licence count at run time', async () => {
    const res = await call({ op: 'AILBType', param: { lbType: '0', authzNo: '3', timeout: '1000' } });
    assert.equal(res.code, 0);
    const after = await call(onceRequest('x'));
    assert.equal(after.param['total'], '3');
    await call({ op: 'AILBType', param: { authzNo: '8' } });
  });

  it('AILBType without a valid authzNo is refused with 10107', async () => {
    const res = await call({ op: 'AILBType', param: { authzNo: 'many' } });
    assert.equal(output(res).code, 10107);
  });

  it('unknown op: 10003; AIOut on an unknown handle: 10008; accepted no-ops succeed', async () => {
    assert.equal(output(await call({ op: 'AIFly' })).code, 10003);
    const out = output(await call({ op: 'AIOut', s: { h: 'nope' } }));
    assert.equal(out.code, 10008);
    assert.equal(out.status, 'END');
    assert.equal(output(await call({ op: 'AIHotword' })).code, 0);
  });

  it('ToolBox cmdserver answers health and schema', async () => {
    const query = (q: string) =>
      new Promise<{ body: string }>((resolve, reject) => toolbox['cmdserver']!({ query: q }, (err: Error | null, res: { body: string }) => (err ? reject(err) : resolve(res))));
    const health = JSON.parse((await query('health')).body);
    assert.equal(health.serviceId, 'echo');
    assert.equal(health.state, 'ready');
    const schema = JSON.parse((await query('schema')).body);
    assert.deepEqual(Object.keys(schema.outputs), ['result']);
    assert.match((await query('bogus')).body, /unknown query 'bogus'/);
  });
});
