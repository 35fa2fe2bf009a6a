// Balancing strategies per capability (capability.yaml `balance`), with a real gateway in front of
// three real loaders of the same capability: how requests spread, read from the gateway's own
// per-replica counters in /metrics.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

const slowDir = path.join(repoRoot, 'test', 'fixtures', 'js', 'slow');

/** The slow fixture with `balance` (and fast calls) in its capability.yaml. */
function capabilityWith(balance: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-balance-'));
  fs.copyFileSync(path.join(slowDir, 'index.js'), path.join(dir, 'index.js'));
  fs.writeFileSync(path.join(dir, 'capability.yaml'), `${fs.readFileSync(path.join(slowDir, 'capability.yaml'), 'utf8')}balance: ${balance}\n`);
  return dir;
}

async function stack(dir: string, replicas = 3) {
  const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
  const procs: RunningProcess[] = ports.map((port) => runAsf(['loader', '--capability', dir, '--host', '127.0.0.1', '--port', String(port)]));
  await Promise.all(procs.map((p) => p.waitFor(/capability ready/)));
  const gatewayPort = await freePort();
  procs.push(runAsf(['gateway', '--host', '127.0.0.1', '--port', String(gatewayPort), ...ports.flatMap((p) => ['--loader', `127.0.0.1:${p}`])]));
  const url = `http://127.0.0.1:${gatewayPort}`;
  await waitHealthy(url);
  return { url, stop: () => Promise.all(procs.map((p) => p.stop('SIGKILL'))) };
}

const call = (url: string, header: Record<string, unknown>) =>
  post(`${url}/v1/private/slow`, { header: { app_id: 'a', status: 3, ...header }, parameter: { slow: { sleep: '1' } }, payload: { text: { encoding: 'utf8', status: 3, text: b64('x') } } });

async function callsByReplica(url: string): Promise<number[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/asf_gateway_replica_calls_total\{service="slow",replica="[^"]+",outcome="answered"\} (\d+)/g)].map((m) => Number(m[1]));
}

describe('balancing strategies per capability (capability.yaml balance; real gateway, three loaders)', function () {
  this.timeout(60_000);

  it('round-robin: one request after another, each replica in turn', async () => {
    const s = await stack(capabilityWith('{strategy: round-robin}'));
    try {
      for (let i = 0; i < 30; i++) assert.equal((await call(s.url, {})).status, 200);
      assert.deepEqual(await callsByReplica(s.url), [10, 10, 10]);
    } finally {
      await s.stop();
    }
  });

  it('hash on header.uid: every request of a uid on one replica, different uids spread; without the field, balanced as usual', async () => {
    const s = await stack(capabilityWith('{strategy: hash, key: header.uid}'));
    try {
      for (let i = 0; i < 12; i++) assert.equal((await call(s.url, { uid: 'user-1' })).status, 200);
      assert.deepEqual((await callsByReplica(s.url)).sort((a, b) => b - a), [12]);
      for (let u = 0; u < 60; u++) assert.equal((await call(s.url, { uid: `user-${u + 100}` })).status, 200);
      const spread = await callsByReplica(s.url);
      assert.equal(spread.length, 3, `60 uids reached only ${spread.length} replicas`);
      assert.equal((await call(s.url, {})).status, 200);
    } finally {
      await s.stop();
    }
  });

  it('a balance setting the loader cannot read fails the capability with the setting named', async () => {
    const dir = capabilityWith('{strategy: hash}');
    const r = await exec(process.execPath, [path.join(repoRoot, 'bin', 'asf.js'), 'loader', '--capability', dir, '--port', '0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /balance/);
    assert.match(r.stderr, /key/);
  });
});
