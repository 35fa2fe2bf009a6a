// A loader given to the gateway by name stands for every address the name resolves to, followed as
// it changes (Compose: a service's replicas, a container recreated under a new address). The name
// lives in an /etc/hosts of the gateway's own (a private mount namespace, so the machine's file is
// untouched), pointing at loaders on loopback addresses 127.0.0.2, .3 and .4. Needs root (unshare).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answeredCalls, b64, freePort, post, repoRoot, runAsf, runProcess, waitHealthy, type RunningProcess } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');
const name = 'echo-loaders.test';

describe('gateway --loader NAME:PORT: every address behind the name, followed as it changes', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-names-'));
  const hosts = path.join(tmp, 'hosts');
  const procs: RunningProcess[] = [];
  const loaders = new Map<string, RunningProcess>();
  let port = 0;
  let url = '';

  /** The gateway's /etc/hosts: the name gives these loopback addresses. Written in place (the bind mount holds the inode). */
  const pointNameAt = (...ips: string[]) => fs.writeFileSync(hosts, `127.0.0.1 localhost\n${ips.map((ip) => `${ip} ${name}`).join('\n')}\n`);

  async function startLoader(ip: string) {
    const loader = runAsf(['loader', '--capability', echoDir, '--host', ip, '--port', String(port)]);
    procs.push(loader);
    loaders.set(ip, loader);
    await loader.waitFor(/capability ready/);
  }

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: a private /etc/hosts needs root (unshare --mount)');
      this.skip();
    }
    port = await freePort();
    await Promise.all(['127.0.0.2', '127.0.0.3'].map(startLoader));
    pointNameAt('127.0.0.2', '127.0.0.3');
    const gatewayPort = await freePort();
    // Looked up again only after an hour unless a loader fails: what follows the change below is the failure.
    const gateway = runProcess('unshare', [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      hosts,
      process.execPath,
      path.join(repoRoot, 'bin', 'asf.js'),
      'gateway',
      '--host',
      '127.0.0.1',
      '--port',
      String(gatewayPort),
      '--loader',
      `${name}:${port}`,
      '--resolve-interval',
      '3600000',
    ]);
    procs.push(gateway);
    url = `http://127.0.0.1:${gatewayPort}`;
    await waitHealthy(url);
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('balances over both addresses the name resolves to', async () => {
    assert.deepEqual(await replicaAddresses(url), [`127.0.0.2:${port}`, `127.0.0.3:${port}`]);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${url}/v1/private/echo`, request(`spread ${i}`))));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    const calls = await answeredCalls(url, 'echo');
    assert.deepEqual([...calls.keys()].sort(), [`127.0.0.2:${port}`, `127.0.0.3:${port}`]);
    for (const [address, count] of calls) assert.ok(count > 0, `${address} answered none`);
  });

  it('looks the name up again at once when its loaders fail: requests wait for the loader at its new address, none fails', async () => {
    await startLoader('127.0.0.4');
    pointNameAt('127.0.0.4');
    await Promise.all(['127.0.0.2', '127.0.0.3'].map((ip) => loaders.get(ip)!.stop('SIGKILL')));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`${url}/v1/private/echo`, request(`moved ${i}`))));
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200, answer.text);
      assert.equal(Buffer.from(answer.json.payload.result.text, 'base64').toString(), `moved ${i}`);
    }
    // The old addresses are let go once the new one is ready.
    assert.deepEqual(await replicaAddresses(url), [`127.0.0.4:${port}`]);
    assert.ok((await answeredCalls(url, 'echo')).get(`127.0.0.4:${port}`)! >= 20);
  });
});

function request(text: string) {
  return { header: { app_id: 'a' }, payload: { text: { text: b64(text) } } };
}

async function replicaAddresses(url: string): Promise<string[]> {
  const health = (await (await fetch(`${url}/healthz`)).json()) as { services: Record<string, { address: string }[]> };
  return (health.services['echo'] ?? []).map((r) => r.address).sort();
}
