// The loader's standard gRPC health check (what a Kubernetes `grpc:` readiness probe calls) and its
// drain on SIGTERM, against real `asf loader` processes. The client is built from a protobufjs
// description written here, independently of the runtime's own codec.
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { LoaderClient } from '../runtime/protocol/client.js';
import { loaderInput, loaderOutput } from '../runtime/protocol/codec.js';
import { DataType, SessState } from '../runtime/protocol/messages.js';
import { freePort, repoRoot, runAsf, type RunningProcess } from './helpers/stack.js';

const health = protobuf.Root.fromJSON({
  nested: {
    HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
    HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
  },
});
const Request = health.lookupType('HealthCheckRequest');
const Response = health.lookupType('HealthCheckResponse');
const statusName = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function check(address: string, service = ''): Promise<string> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (arg: { service: string }) => Buffer.from(Request.encode(Request.fromObject(arg)).finish()),
      (bytes: Buffer) => Response.toObject(Response.decode(bytes), { defaults: true }) as { status: number },
      { service },
      (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(statusName[res!.status] ?? String(res!.status));
      },
    );
  });
}

async function startLoader(capability: string, extra: string[] = []): Promise<{ loader: RunningProcess; address: string }> {
  const port = await freePort();
  const loader = runAsf(['loader', '--capability', capability, '--host', '127.0.0.1', '--port', String(port), ...extra]);
  await loader.waitFor(/loader listening/);
  return { loader, address: `127.0.0.1:${port}` };
}

describe('loader: grpc.health.v1.Health/Check (the Kubernetes readiness probe) and the drain on SIGTERM', function () {
  this.timeout(60_000);
  const running: RunningProcess[] = [];
  after(async () => {
    for (const p of running) await p.stop('SIGKILL');
  });

  it('SERVING once the wrapper has loaded, for the server ("") and its services; SERVICE_UNKNOWN for any other name', async () => {
    const { loader, address } = await startLoader(path.join(repoRoot, 'examples', 'echo'));
    running.push(loader);
    await loader.waitFor(/capability ready/);
    assert.equal(await check(address), 'SERVING');
    assert.equal(await check(address, 'utils.XsfCall'), 'SERVING');
    assert.equal(await check(address, 'no.such.Service'), 'SERVICE_UNKNOWN');
  });

  it('NOT_SERVING when wrapperInit failed: the Pod never turns Ready, so a rollout keeps the old one', async () => {
    const { loader, address } = await startLoader(path.join(repoRoot, 'test', 'fixtures', 'python', 'init_fails'));
    running.push(loader);
    await loader.waitFor(/capability failed to start/);
    assert.equal(await check(address), 'NOT_SERVING');
  });

  it("--drain-ms: on SIGTERM it reports NOT_SERVING (and 'stopping' to gateways) yet still answers, then exits 0", async () => {
    const { loader, address } = await startLoader(path.join(repoRoot, 'examples', 'echo'), ['--drain-ms', '1500']);
    running.push(loader);
    await loader.waitFor(/capability ready/);
    loader.child.kill('SIGTERM');
    await loader.waitFor(/loader draining/);
    assert.equal(await check(address), 'NOT_SERVING');
    // The gateway's view, through the ToolBox health query it polls; and a request that still
    // arrives (the gateway had not heard yet) is answered, not refused.
    const client = new LoaderClient(address);
    try {
      assert.equal((JSON.parse(await client.query({ query: 'health' })) as { state: string }).state, 'stopping');
      const input = loaderInput.encode({
        serviceId: 'echo',
        state: SessState.ONCE,
        headers: { sid: 'drain-1', status: '3' },
        params: { mode: 'upper' },
        expect: [{ name: 'result', dataType: DataType.TEXT, attribute: { encoding: 'utf8', format: 'plain' } }],
        pl: [{ meta: { name: 'text', dataType: DataType.TEXT, attribute: { status: '3', encoding: 'utf8' } }, data: Buffer.from('late') }],
      });
      const res = await client.call({ op: 'AIIn', s: { h: 'drain-1' }, param: { SeqNo: '1', version: 'v2', waitTime: '3000' }, data: [{ data: input }] }, 3000);
      const out = loaderOutput.decode(res.data![0]!.data!);
      assert.equal(out.code ?? 0, 0, out.err);
      assert.equal(Buffer.from(out.pl![0]!.data!).toString(), 'LATE');
    } finally {
      client.close();
    }
    assert.equal(await loader.stop(), 0);
    assert.match(loader.output(), /loader stopping/);
  });
});
