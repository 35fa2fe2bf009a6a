import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';
import { asf } from './helpers/asf-run.js';
import { LoaderInput, LoaderOutput, utils } from './helpers/xsf-tool.js';

const revSchema = path.join(repoRoot, 'test', 'fixtures', 'aiges', 'rev');

/**
 * A stand-in for an AIGES v3.6.0 loader (AIGES itself is Go + C and is not built here), behaving
 * as the real one was measured to: only /utils.XsfCall/call (no pipe) and ToolBox/cmdserver, whose
 * query must be JSON ({"cmd":"health"}) with a {"method":"GET"} header and whose answer is plain
 * text; no schema query; no load figures in answers; an output not in `expect` is 10106; a wrapper
 * error is 10909 with '<text>;code=<n>'. It reverses the text of input 'in' into output 'out'.
 */
class AigesStandIn {
  readonly server = new grpc.Server();
  port = 0;
  /** What cmdserver's health command answers. */
  health = 'health staus:';
  readonly ops: string[] = [];
  readonly expects: string[][] = [];

  async start() {
    this.server.addService((utils['XsfCall'] as grpc.ServiceClientConstructor).service, {
      call: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        this.ops.push(call.request.op);
        const input = LoaderInput.toObject(LoaderInput.decode(call.request.data[0].data), { defaults: true }) as any;
        const expect: string[] = input.expect.map((e: { name: string }) => e.name);
        this.expects.push(expect);
        const text = Buffer.from(input.pl[0].data).toString();
        const answer = (out: Record<string, unknown>) => cb(null, { code: 0, s: call.request.s, data: [{ data: LoaderOutput.encode(LoaderOutput.fromObject(out)).finish() }] });
        if (text === 'fail') return answer({ code: 10909, err: 'engine refused;code=42', status: 'END' });
        if (!expect.includes('out')) return answer({ code: 10106, err: 'wrapper output data is nil ', status: 'END' });
        const pl = [{ meta: { name: 'out', dataType: 'TEXT', attribute: { seq: '0', status: '3' } }, data: Buffer.from([...text].reverse().join('')) }];
        answer({ serviceId: 'rev', status: 'ONCE', pl });
      },
    });
    this.server.addService((utils['ToolBox'] as grpc.ServiceClientConstructor).service, {
      cmdserver: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        const { query, headers } = call.request as { query: string; headers: string };
        let cmd: string;
        try {
          cmd = JSON.parse(query).cmd;
        } catch (err) {
          return cb({ code: grpc.status.UNKNOWN, details: `query:${query},err:${(err as Error).message}` });
        }
        if (String(JSON.parse(headers || '{}').method).toUpperCase() !== 'GET') return cb({ code: grpc.status.UNKNOWN, details: "don't support the method" });
        cb(null, { body: cmd === 'health' ? this.health : "don't support the cmd" });
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  }
}

async function startGateway(args: string[]): Promise<{ gateway: RunningProcess; url: string }> {
  const port = await freePort();
  const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(port), ...args]);
  await gateway.waitFor(/gateway listening/);
  return { gateway, url: `http://127.0.0.1:${port}` };
}

const request = (text: string, outputs?: Record<string, unknown>) => ({
  header: { app_id: '1' },
  ...(outputs ? { parameter: { rev: outputs } } : {}),
  payload: { in: { text: b64(text) } },
});

/** Polls /healthz until `check` holds for its answer. */
async function healthUntil(url: string, check: (status: number, text: string) => boolean): Promise<string> {
  for (let last = ''; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const res = await fetch(`${url}/healthz`);
    last = await res.text();
    if (check(res.status, last)) return last;
  }
}

describe('asf gateway in front of an AIGES loader (stand-in with AIGES v3.6.0 behaviour, real gRPC)', function () {
  const standIn = new AigesStandIn();
  before(() => standIn.start());
  after(() => standIn.server.forceShutdown());

  describe('named, with its capability (--loader rev=HOST:PORT --capability DIR)', () => {
    let gateway: RunningProcess;
    let url = '';
    before(async () => {
      ({ gateway, url } = await startGateway(['--loader', `rev=127.0.0.1:${standIn.port}`, '--capability', revSchema]));
      await waitHealthy(url);
    });
    after(() => gateway?.stop());

    it('is ready from its plain-text health, with the licences its capability.yaml states', async () => {
      const health = await (await fetch(`${url}/healthz`)).json();
      assert.deepEqual(health.services.rev.map((r: any) => [r.state, r.total]), [['ready', 2]]);
    });

    it('answers through unary /utils.XsfCall/call, sending the declared outputs when the client names none', async () => {
      const before = standIn.expects.length;
      for (const word of ['abc', 'hello']) {
        const { status, json } = await post(`${url}/v1/private/rev`, request(word));
        assert.equal(status, 200, JSON.stringify(json));
        assert.equal(Buffer.from(json.payload.out.text, 'base64').toString(), [...word].reverse().join(''));
      }
      assert.deepEqual(standIn.expects.slice(before), [['out'], ['out']]);
      assert.deepEqual([...new Set(standIn.ops)], ['AIIn']);
    });

    it("a wrapper error (10909 '<text>;code=<n>'): 502 with the wrapper's code and text", async () => {
      const { status, json } = await post(`${url}/v1/private/rev`, request('fail'));
      assert.equal(status, 502);
      assert.equal(json.header.code, 42);
      assert.equal(json.header.message, 'engine refused');
    });

    it('validates requests against the given schema', async () => {
      const { status, json } = await post(`${url}/v1/private/rev`, request('abc', { nope: {} }));
      assert.equal(status, 400);
      assert.equal(json.header.code, 10106);
    });

    it('a failing health answer takes it out of service (503 with its text), and back when it recovers', async () => {
      standIn.health = 'report error';
      try {
        const text = await healthUntil(url, (status) => status === 503);
        assert.match(text, /AIGES health: report error/);
        const { status, json } = await post(`${url}/v1/private/rev`, request('abc'));
        assert.equal(status, 503);
        assert.match(json.header.message, /report error/);
      } finally {
        standIn.health = 'health staus:';
      }
      await waitHealthy(url);
    });
  });

  it('named, without a capability: serves requests unchecked; a request naming no output gets the loader\'s 10106', async () => {
    const { gateway, url } = await startGateway(['--loader', `rev=127.0.0.1:${standIn.port}`]);
    try {
      await waitHealthy(url);
      const named = await post(`${url}/v1/private/rev`, request('abc', { out: { encoding: 'utf8' } }));
      assert.equal(named.status, 200, JSON.stringify(named.json));
      assert.equal(Buffer.from(named.json.payload.out.text, 'base64').toString(), 'cba');
      const unnamed = await post(`${url}/v1/private/rev`, request('abc'));
      assert.equal(unnamed.status, 502);
      assert.equal(unnamed.json.header.code, 10106);
    } finally {
      await gateway.stop();
    }
  });

  it('not named: not ready, and /healthz says how to name it', async () => {
    const { gateway, url } = await startGateway(['--loader', `127.0.0.1:${standIn.port}`]);
    try {
      const text = await healthUntil(url, (status, body) => status === 503 && body.includes('failed'));
      assert.match(text, /an AIGES loader cannot say which capability it serves: name it, --loader NAME=HOST:PORT/);
      assert.equal((await post(`${url}/v1/private/rev`, request('abc'))).status, 404);
    } finally {
      await gateway.stop();
    }
  });

  it('a name given to one of our loaders (JSON health) routes it under that name', async () => {
    const loaderPort = await freePort();
    const loader = runAsf(['loader', '--capability', path.join(repoRoot, 'examples', 'echo'), '--host', '127.0.0.1', '--port', String(loaderPort)]);
    try {
      await loader.waitFor(/capability ready/);
      const { gateway, url } = await startGateway(['--loader', `shout=127.0.0.1:${loaderPort}`]);
      try {
        await waitHealthy(url);
        const body = { header: { app_id: '1' }, parameter: { shout: { mode: 'upper' } }, payload: { text: { text: b64('hi') } } };
        const { status, json } = await post(`${url}/v1/private/shout`, body);
        assert.equal(status, 200, JSON.stringify(json));
        assert.equal(Buffer.from(json.payload.result.text, 'base64').toString(), 'HI');
        assert.equal((await post(`${url}/v1/private/echo`, body)).status, 404);
      } finally {
        await gateway.stop();
      }
    } finally {
      await loader.stop();
    }
  });

  describe('bad arguments: exit 1 with a clear message', () => {
    const fails = async (args: string[], message: RegExp) => {
      const { code, output } = await asf(['gateway', '--port', '0', ...args]);
      assert.equal(code, 1, output);
      assert.match(output, message);
    };

    it('a --capability no loader is named after', () =>
      fails(['--loader', `127.0.0.1:${standIn.port}`, '--capability', revSchema], /--capability .*rev is service 'rev', but no loader is named so: give --loader rev=HOST:PORT/));
    it('a --capability that does not exist', () => fails(['--loader', `rev=127.0.0.1:${standIn.port}`, '--capability', '/nonexistent/rev'], /asf: capability \/nonexistent\/rev does not exist/));
    it('a capability folder without capability.yaml', () =>
      fails(['--loader', `rev=127.0.0.1:${standIn.port}`, '--capability', path.join(repoRoot, 'test', 'fixtures', 'c')], /has no capability.yaml to give the schema of the loader/));
    it('a name that is not a service id', () => fails(['--loader', `r/v=127.0.0.1:${standIn.port}`], /'r\/v' is not a service id/));
    it('an address without a port', () => fails(['--loader', 'rev=127.0.0.1'], /loader address 127.0.0.1 has no port: write host:port/));
  });
});
