import assert from 'node:assert/strict';
import path from 'node:path';
import { answeredCalls, b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');

describe('balancing across loader replicas (asf gateway + two asf loader processes)', function () {
  const procs: RunningProcess[] = [];
  let url = '';
  let loaders: RunningProcess[] = [];

  before(async () => {
    const ports = [await freePort(), await freePort()];
    loaders = ports.map((port) => runAsf(['loader', '--capability', echoDir, '--host', '127.0.0.1', '--port', String(port)]));
    procs.push(...loaders);
    await Promise.all(loaders.map((l) => l.waitFor(/capability ready/)));
    const gatewayPort = await freePort();
    const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(gatewayPort), ...ports.flatMap((p) => ['--loader', `127.0.0.1:${p}`])]);
    procs.push(gateway);
    url = `http://127.0.0.1:${gatewayPort}`;
    await waitHealthy(url);
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  });

  it('spreads requests over both replicas', async () => {
    const before = await answeredCalls(url, 'echo');
    await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${url}/v1/private/echo`, request(`spread ${i}`))));
    const after = await answeredCalls(url, 'echo');
    assert.equal(after.size, 2);
    for (const [address, count] of after) assert.ok(count - (before.get(address) ?? 0) > 0, `replica ${address} got no request`);
  });

  it('carries inputs larger than the pipe limit (unary path) byte for byte', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
    const { status, json } = await post(`${url}/v1/private/echo`, { header: { app_id: 'a' }, payload: { text: { text: b64(big) } } });
    assert.equal(status, 200);
    assert.ok(Buffer.from(json.payload.result.text, 'base64').equals(big));
  });

  it('keeps every request succeeding when one replica is killed mid-run', async () => {
    const results: number[] = [];
    const worker = async (id: number) => {
      for (let i = 0; i < 60; i++) {
        const { status, json } = await post(`${url}/v1/private/echo`, request(`w${id}-${i}`));
        results.push(status);
        assert.equal(status, 200, JSON.stringify(json));
        assert.equal(Buffer.from(json.payload.result.text, 'base64').toString(), `w${id}-${i}`);
        if (id === 0 && i === 20) loaders[0]!.child.kill('SIGKILL');
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    assert.equal(results.length, 240);
    const health = (await (await fetch(`${url}/healthz`)).json()) as any;
    const states = health.services.echo.map((r: { state: string }) => r.state).sort();
    assert.deepEqual(states, ['down', 'ready']);
  });
});

function request(text: string) {
  return { header: { app_id: 'a' }, payload: { text: { text: b64(text) } } };
}
