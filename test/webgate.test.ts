// The WebGate side of ASF on a real `asf up`: per-app metering (/metrics and `asf usage`), per-app
// quotas changed live, and signed requests (HMAC-SHA256 as WebGate clients sign them).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signUrl } from '../runtime/gateway/signing.js';
import { asfBin, b64, post, repoRoot, startStack, type Stack } from './helpers/stack.js';
import { exec } from './helpers/tools.js';
import { WsSession, textFrame } from './helpers/ws-session.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');
const slowDir = path.join(repoRoot, 'test', 'fixtures', 'js', 'slow');
const echo = (appId: string, text = 'hi') => ({ header: { app_id: appId, status: 3 }, payload: { text: { encoding: 'utf8', status: 3, text: b64(text) } } });
const slow = (appId: string, sleep = 20) => ({
  header: { app_id: appId, status: 3 },
  parameter: { slow: { sleep: String(sleep) } },
  payload: { text: { encoding: 'utf8', status: 3, text: b64(appId) } },
});
const asf = (args: string[]) => exec(process.execPath, [asfBin, ...args]);

describe('per-app metering, quotas and signed requests (the WebGate side; real asf up)', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-webgate-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('metering', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(['--capability', echoDir, '--app-id', 'app-a', '--app-id', 'app-b']);
    });
    after(() => stack?.stop());

    it('counts a known mix exactly by app id, service and code, with bytes and loader time; asf usage prints it', async () => {
      for (let i = 0; i < 5; i++) assert.equal((await post(`${stack.url}/v1/private/echo`, echo('app-a'))).status, 200);
      for (let i = 0; i < 2; i++) assert.equal((await post(`${stack.url}/v1/private/echo`, { header: { app_id: 'app-a' }, payload: { text: { text: '!!not base64' } } })).status, 400);
      for (let i = 0; i < 3; i++) assert.equal((await post(`${stack.url}/v1/private/echo`, echo('app-b', 'a longer text for b'))).status, 200);
      // Not in the --app-id list: refused, and counted under "other", not under its own name.
      assert.equal((await post(`${stack.url}/v1/private/echo`, echo('intruder-1'))).status, 400);
      assert.equal((await post(`${stack.url}/v1/private/echo`, echo('intruder-2'))).status, 400);

      const r = await asf(['usage', '--gateway', stack.url, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as { appId: string; service: string; requests: number; errors: number; inBytes: number; outBytes: number; loaderSeconds: number }[];
      const row = (appId: string) => rows.find((x) => x.appId === appId && x.service === 'echo');
      assert.deepEqual([row('app-a')?.requests, row('app-a')?.errors], [7, 2]);
      assert.deepEqual([row('app-b')?.requests, row('app-b')?.errors], [3, 0]);
      assert.deepEqual([row('other')?.requests, row('other')?.errors], [2, 2]);
      assert.ok(!rows.some((x) => x.appId.startsWith('intruder')), 'an app id outside the list was counted by name');
      assert.ok(row('app-b')!.inBytes > row('app-b')!.requests * 50 && row('app-b')!.outBytes > 0, JSON.stringify(row('app-b')));
      assert.ok(row('app-a')!.loaderSeconds > 0 && row('app-b')!.loaderSeconds > 0);

      const table = await asf(['usage', '--gateway', stack.url]);
      assert.match(table.stdout, /^app_id\s+service\s+requests\s+errors\s+in\s+out\s+loader s$/m);
      assert.match(table.stdout, /^app-a\s+echo\s+7\s+2\s/m);
    });

    it('asf usage against nothing listening: exit 1 saying what it could not reach', async () => {
      const r = await asf(['usage', '--gateway', 'http://127.0.0.1:9']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:9\/metrics/);
    });
  });

  describe('quotas', () => {
    let stack: Stack;
    const file = path.join(tmp, 'quotas.yaml');
    before(async () => {
      fs.writeFileSync(file, 'default: {perMinute: 3}\napps:\n  one-at-a-time: {concurrent: 1}\n');
      stack = await startStack(['--capability', slowDir, '--quotas', file]);
    });
    after(() => stack?.stop());

    it('concurrent: a second request of an app with one in flight is refused with 429, 10429 and Retry-After', async () => {
      const first = post(`${stack.url}/v1/private/slow`, slow('one-at-a-time', 600));
      await new Promise((resolve) => setTimeout(resolve, 150));
      const res = await fetch(`${stack.url}/v1/private/slow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(slow('one-at-a-time')) });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '1');
      const body = (await res.json()) as { header: { code: number; message: string } };
      assert.equal(body.header.code, 10429);
      assert.match(body.header.message, /app one-at-a-time has 1 requests in flight, its quota \(concurrent: 1\)/);
      assert.equal((await first).status, 200);
      assert.equal((await post(`${stack.url}/v1/private/slow`, slow('one-at-a-time'))).status, 200, 'its slot came back');
    });

    it('perMinute from the default: the 4th request of a minute is refused; raised in the file, it passes without a restart', async () => {
      // The quota counts per clock minute (weighing in the one before): four requests that straddle
      // a minute's turn are not "four in a minute", so such a try is made again, as another app.
      const minute = () => Math.floor(Date.now() / 60_000);
      let statuses: number[] = [];
      let app = '';
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = minute();
        app = `metered-${attempt}`;
        statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await post(`${stack.url}/v1/private/slow`, slow(app))).status);
        if (minute() === started) break;
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      fs.writeFileSync(file, 'default: {perMinute: 100}\napps:\n  one-at-a-time: {concurrent: 1}\n');
      const deadline = Date.now() + 15_000;
      let status = 429;
      while (status === 429 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = (await post(`${stack.url}/v1/private/slow`, slow(app))).status;
      }
      assert.equal(status, 200, 'the raised quota did not take effect');
    });

    it('a quota file that no longer reads keeps the quotas in force (and says so in the log)', async () => {
      fs.writeFileSync(file, 'default: {perMinute: lots}\n');
      await stack.waitFor(/quota file not reloaded/, 10_000);
      assert.equal((await post(`${stack.url}/v1/private/slow`, slow('metered'))).status, 200);
    });

    it('a bad quota file at start: the gateway refuses to start, naming the file and the problem', async () => {
      const bad = path.join(tmp, 'bad-quotas.yaml');
      fs.writeFileSync(bad, 'apps: {x: {concurent: 1}}\n');
      const r = await asf(['gateway', '--loader', '127.0.0.1:9', '--port', '0', '--quotas', bad]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /quota file .*bad-quotas\.yaml: \/apps\/x must NOT have additional properties/);
    });
  });

  describe('signed requests', () => {
    let stack: Stack;
    const file = path.join(tmp, 'signing.yaml');
    before(async () => {
      fs.writeFileSync(file, "keys: {key-1: secret-1}\nservices: [echo]\nskewSeconds: 300\n");
      stack = await startStack(['--capability', echoDir, '--capability', slowDir, '--signing', file]);
    });
    after(() => stack?.stop());
    const url = () => `${stack.url}/v1/private/echo`;

    it('unsigned: 401 with 10317 saying what to send; a service not listed needs no signature', async () => {
      const r = await post(url(), echo('a'));
      assert.equal(r.status, 401);
      assert.equal(r.json.header.code, 10317);
      assert.match(r.json.header.message, /echo requires a signed request: query parameters host, date and authorization/);
      assert.equal((await post(`${stack.url}/v1/private/slow`, slow('a'))).status, 200);
    });

    it('signed with the right secret: 200; with another secret: 401; with an unknown key: 401', async () => {
      assert.equal((await post(signUrl(url(), 'key-1', 'secret-1'), echo('a'))).status, 200);
      const wrong = await post(signUrl(url(), 'key-1', 'not-the-secret'), echo('a'));
      assert.deepEqual([wrong.status, wrong.json.header.code], [401, 10317]);
      assert.match(wrong.json.header.message, /signature does not match/);
      const unknown = await post(signUrl(url(), 'key-9', 'secret-1'), echo('a'));
      assert.match(unknown.json.header.message, /api_key "key-9" is not known/);
    });

    it('a date outside the skew window: 403 with 10318', async () => {
      const old = await post(signUrl(url(), 'key-1', 'secret-1', 'POST', new Date(Date.now() - 10 * 60_000)), echo('a'));
      assert.deepEqual([old.status, old.json.header.code], [403, 10318]);
      assert.match(old.json.header.message, /s from the gateway's clock \(allowed: 300 s\)/);
    });

    it('the same signed request twice is a replay (403); another body signed in the same second is not', async () => {
      const signed = signUrl(url(), 'key-1', 'secret-1');
      assert.equal((await post(signed, echo('a', 'first'))).status, 200);
      const replay = await post(signed, echo('a', 'first'));
      assert.deepEqual([replay.status, replay.json.header.code], [403, 10318]);
      assert.match(replay.json.header.message, /a replay/);
      assert.equal((await post(signed, echo('a', 'second'))).status, 200);
    });

    it('asf call --api-key/--api-secret signs one-shot requests, --bench requests and the WebSocket handshake', async () => {
      const once = await asf(['call', url(), '-i', 'text=signed', '--api-key', 'key-1', '--api-secret', 'secret-1', '--decode']);
      assert.equal(once.code, 0, once.stdout + once.stderr);
      assert.match(once.stdout, /result: signed/);
      const bench = await asf(['call', url(), '-i', 'text=x', '--api-key', 'key-1', '--api-secret', 'secret-1', '--bench', '40', '--concurrency', '4']);
      assert.equal(bench.code, 0, bench.stdout + bench.stderr);
      const unsignedSession = await WsSession.open(url());
      unsignedSession.send(textFrame('echo', 'x', 0));
      assert.equal((await unsignedSession.next()).header.code, 10317);
      const missing = await asf(['call', url(), '-i', 'text=x', '--api-key', 'key-1']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /--api-key needs --api-secret/);
    });
  });
});
