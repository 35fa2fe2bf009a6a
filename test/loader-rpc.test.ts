import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort, repoRoot, runAsf, type RunningProcess } from './helpers/stack.js';
import { onceCall, outputOf as output, ToolBox, unary, XsfCall, type Client, type Res } from './helpers/xsf-tool.js';

describe('loader gRPC envelope (/utils.XsfCall/call) driven like an AIGES tool', function () {
  let loader: RunningProcess;
  let client: Client;
  let toolbox: Client;

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

  const call = (req: unknown) => unary<Res>(client, 'call', req);

  const onceRequest = (text: string, sid?: string) =>
    onceCall(
      {
        serviceId: 'echo',
        serviceName: 'echo',
        state: 'ONCE',
        headers: { sid: sid ?? 'iat000704fa@dx16ade44e4d87a1c802', status: '3', appid: '123456', uid: 'u1', sub: 'ase' },
        params: { mode: 'upper' },
        expect: [{ name: 'result', dataType: 'TEXT', attribute: { encoding: 'utf8', compress: 'raw', format: 'plain' } }],
        pl: [{ meta: { name: 'text', dataType: 'TEXT', attribute: { status: '3', seq: '0', encoding: 'utf8' } }, data: Buffer.from(text) }],
      },
      sid,
    );

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

  it('ToolBox cmdserver answers health and schema with JSON, asked by name or as AIGES tools ask ({"cmd":...}, string headers)', async () => {
    const query = (request: { query: string; headers?: string }) => unary<{ headers: string; body: string }>(toolbox, 'cmdserver', request);
    for (const health of [await query({ query: 'health' }), await query({ query: '{"cmd":"health"}', headers: '{"method":"GET"}' })]) {
      assert.deepEqual(JSON.parse(health.body), { serviceId: 'echo', state: 'ready', total: 8, idle: 8 });
    }
    const schema = JSON.parse((await query({ query: '{"cmd":"schema"}' })).body);
    assert.deepEqual(Object.keys(schema.outputs), ['result']);
    assert.equal((await query({ query: 'bogus' })).body, "unknown query 'bogus': try health or schema");
  });
});
