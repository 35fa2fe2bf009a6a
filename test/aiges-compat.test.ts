import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort, repoRoot, runAsf, type RunningProcess } from './helpers/stack.js';
import { LoaderInput, onceCall, outputOf, unary, XsfCall, type Client, type Res } from './helpers/xsf-tool.js';

// Our loader answers as the AIGES loader does where AIGES-era tools (xtest) look: inside
// LoaderOutput, with AIGES's codes and message shapes, never as a failed gRPC call.
describe('loader answers as AIGES does (real loader processes, real gRPC)', function () {
  const loaders: RunningProcess[] = [];
  after(async () => {
    await Promise.all(loaders.map((loader) => loader.stop()));
  });

  async function startLoader(dir: string): Promise<Client> {
    const port = await freePort();
    const loader = runAsf(['loader', '--capability', dir, '--host', '127.0.0.1', '--port', String(port)]);
    loaders.push(loader);
    await loader.waitFor(/capability ready/);
    return new XsfCall(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
  }

  const textInput = (text: string, expect: unknown[], name = 'text') => ({
    state: 'ONCE',
    headers: { status: '3' },
    expect,
    pl: [{ meta: { name, dataType: 'TEXT', attribute: { status: '3', seq: '0' } }, data: Buffer.from(text) }],
  });

  describe('a JS capability (misbehave, one licence)', () => {
    let client: Client;
    const resultExpected = [{ name: 'result', dataType: 'TEXT' }];
    before(async () => {
      client = await startLoader(path.join(repoRoot, 'test', 'fixtures', 'js', 'misbehave'));
    });
    after(() => client?.close());
    const call = (input: Record<string, unknown> | Buffer) => unary<Res>(client, 'call', onceCall(input));

    it("a wrapper's error code: LoaderOutput 10909 with '<wrapperError text>;code=<n>', the envelope's code 0", async () => {
      const res = await call(textInput('code', resultExpected));
      assert.equal(res.code, 0);
      const out = outputOf(res);
      assert.equal(out.code, 10909);
      assert.equal(out.err, 'the wrapper refused: code 10042;code=10042');
      assert.equal(out.status, 'END');
    });

    it('a wrapper that throws: 10909 with its message, no wrapper code', async () => {
      const out = outputOf(await call(textInput('throw', resultExpected)));
      assert.equal(out.code, 10909);
      assert.equal(out.err, 'boom: the wrapper fell over');
    });

    it('a LoaderInput that is not protobuf: LoaderOutput 10401, not a failed call; the loader keeps serving', async () => {
      // Field 1 (serviceId) claims 127 bytes where 1 follows.
      const res = await call(Buffer.from([0x0a, 0x7f, 0x41]));
      const out = outputOf(res);
      assert.equal(out.code, 10401);
      assert.match(out.err, /^LoaderInput is not a valid protocol\.LoaderInput: invalid protobuf message: field of 127 bytes past the end/);
      assert.equal(out.status, 'END');
      assert.equal(outputOf(await call(textInput('fine', resultExpected))).code, 0);
    });

    it('an empty expect: 10106 naming the declared outputs, and its licence is given back', async () => {
      const res = await call(textInput('fine', []));
      const out = outputOf(res);
      assert.equal(out.code, 10106);
      assert.equal(out.err, 'the request expects no output (LoaderInput.expect is empty): name at least one of result');
      assert.equal(res.param['idle'], '1');
      const ok = outputOf(await call(textInput('fine', resultExpected)));
      assert.equal(ok.code, 0);
      assert.equal(ok.pl[0].meta.name, 'result');
    });
  });

  it('a session opened with an empty expect: 10106, and its licence is given back', async () => {
    const client = await startLoader(path.join(repoRoot, 'test', 'fixtures', 'js', 'stream-probe'));
    try {
      const open = (expect: unknown[]) => {
        const data = LoaderInput.encode(LoaderInput.fromObject({ state: 'STREAM', headers: { status: '0' }, expect })).finish();
        return unary<Res>(client, 'call', { op: 'AIIn', s: { h: `session-${expect.length}` }, param: { SeqNo: '1', version: 'v2' }, data: [{ data }] });
      };
      const refused = await open([]);
      assert.equal(outputOf(refused).code, 10106);
      assert.match(outputOf(refused).err, /expects no output .*: name at least one of result/);
      assert.equal(refused.param['idle'], refused.param['total']);
      const opened = await open([{ name: 'result' }]);
      assert.equal(outputOf(opened).code, 0);
    } finally {
      client.close();
    }
  });

  describe('a Python capability (class-style wrapper returning response_err)', () => {
    let client: Client;
    before(async function () {
      this.timeout(60_000);
      client = await startLoader(path.join(repoRoot, 'test', 'fixtures', 'python', 'faulty'));
    });
    after(() => client?.close());

    it("Response.error_code: 10909 with '<wrapperError text>;code=<n>'", async () => {
      const out = outputOf(await unary<Res>(client, 'call', onceCall(textInput('error', [{ name: 'out' }], 'cmd'))));
      assert.equal(out.code, 10909);
      assert.equal(out.err, 'the engine refused this input (code 4242);code=4242');
    });

    it('a capability that declares no outputs takes an empty expect and answers what its wrapper returns', async () => {
      const out = outputOf(await unary<Res>(client, 'call', onceCall(textInput('fine', [], 'cmd'))));
      assert.equal(out.code, 0);
      assert.equal(out.pl[0].meta.name, 'out');
    });
  });
});
