// Bursts wait instead of failing: the gateway's per-service admission queue, with real `asf
// gateway` and `asf loader` processes and a wrapper that holds each licence for a while
// (test/fixtures/js/slow: 4 licences per loader, 20 ms per call).
import assert from 'node:assert/strict';
import path from 'node:path';
import { b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';
import { WsSession, textFrame, textOf } from './helpers/ws-session.js';

const slowDir = path.join(repoRoot, 'test', 'fixtures', 'js', 'slow');
const request = (text: string, sleep = 20) => ({
  header: { app_id: 'a', status: 3 },
  parameter: { slow: { sleep: String(sleep) } },
  payload: { text: { encoding: 'utf8', status: 3, text: b64(text) } },
});

interface Stack {
  url: string;
  loaders: RunningProcess[];
  stop(): Promise<void>;
}

async function stack(replicas: number, gatewayArgs: string[] = []): Promise<Stack> {
  const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
  const loaders = ports.map((port) => runAsf(['loader', '--capability', slowDir, '--host', '127.0.0.1', '--port', String(port)]));
  await Promise.all(loaders.map((l) => l.waitFor(/capability ready/)));
  const gatewayPort = await freePort();
  const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(gatewayPort), ...ports.flatMap((p) => ['--loader', `127.0.0.1:${p}`]), ...gatewayArgs]);
  const url = `http://127.0.0.1:${gatewayPort}`;
  await waitHealthy(url);
  return { url, loaders, stop: async () => void (await Promise.all([gateway, ...loaders].map((p) => p.stop('SIGKILL')))) };
}

/** `clients` clients sending `each` requests one after another; every answer, in order of arrival. */
async function burst(url: string, clients: number, each: number, sleep = 20) {
  const answers: { status: number; code: number; text?: string; sent: string; retryAfter?: string | null }[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < each; i++) {
        const sent = `c${c}-${i}`;
        const res = await fetch(`${url}/v1/private/slow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request(sent, sleep)) });
        const json = (await res.json()) as { header: { code: number }; payload?: { result?: { text: string } } };
        const text = json.payload?.result ? Buffer.from(json.payload.result.text, 'base64').toString() : undefined;
        answers.push({ status: res.status, code: json.header.code, text, sent, retryAfter: res.headers.get('retry-after') });
      }
    }),
  );
  return answers;
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('admission queue: a burst waits for licences instead of failing (real gateway and loaders)', function () {
  this.timeout(120_000);

  it('64 clients on 8 licences (2 loaders × 4): all 640 answered, each with its own text; the waits show in /metrics', async () => {
    const s = await stack(2);
    try {
      const answers = await burst(s.url, 64, 10);
      assert.equal(answers.length, 640);
      const failed = answers.filter((a) => a.status !== 200 || a.text !== a.sent);
      assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of 640 failed`);
      const metrics = await metricsText(s.url);
      const admitted = Number(/asf_gateway_queue_total\{service="slow",outcome="admitted"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      assert.ok(admitted > 100, `only ${admitted} requests waited: the burst never queued?\n${metrics}`);
      assert.match(metrics, /asf_gateway_queue_wait_seconds_count\{service="slow"\} \d+/);
      assert.match(metrics, /asf_gateway_queue_waiting\{service="slow"\} 0/);
    } finally {
      await s.stop();
    }
  });

  it('past the queue depth: 429 with Retry-After and ASF code 10110; the requests that got in are all answered', async () => {
    const s = await stack(1, ['--queue-depth', '4']);
    try {
      // 4 licences + 4 places: of 32 clients sending at once, some must be turned away.
      const answers = await burst(s.url, 32, 1, 200);
      const refused = answers.filter((a) => a.status === 429);
      const ok = answers.filter((a) => a.status === 200 && a.text === a.sent);
      assert.ok(refused.length >= 32 - 8 - 4, `only ${refused.length} refused`);
      assert.equal(ok.length + refused.length, 32, JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 429)));
      for (const r of refused) {
        assert.equal(r.code, 10110);
        assert.match(r.retryAfter ?? '', /^[1-9]\d*$/);
      }
      assert.match(await metricsText(s.url), /asf_gateway_queue_total\{service="slow",outcome="full"\} [1-9]/);
    } finally {
      await s.stop();
    }
  });

  it("a request whose deadline passes while it waits: 504 and ASF code 10114, naming the wait", async () => {
    const s = await stack(1, ['--timeout', '300']);
    try {
      // Four calls of 2 s hold every licence; the fifth waits past its 300 ms.
      const holders = Array.from({ length: 4 }, (_, i) => post(`${s.url}/v1/private/slow`, request(`hold-${i}`, 2000)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const late = await post(`${s.url}/v1/private/slow`, request('late'));
      assert.equal(late.status, 504, late.text);
      assert.equal(late.json.header.code, 10114);
      assert.match(late.json.header.message, /no licence came free within/);
      await Promise.allSettled(holders);
    } finally {
      await s.stop();
    }
  });

  it('a loader SIGKILLed while more clients than licences are sending: no one-shot request lost', async () => {
    const s = await stack(2);
    try {
      const flowing = burst(s.url, 24, 25);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await s.loaders[0]!.stop('SIGKILL');
      const answers = await flowing;
      const failed = answers.filter((a) => a.status !== 200 || a.text !== a.sent);
      assert.equal(answers.length, 600);
      assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of 600 failed`);
    } finally {
      await s.stop();
    }
  });

  it('session starts wait for a licence too: 12 sessions on 4 licences all complete', async () => {
    const s = await stack(1);
    try {
      const sessions = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const ws = await WsSession.open(`${s.url}/v1/private/slow`);
          ws.send(textFrame('slow', `s${i}-a`, 0));
          await new Promise((resolve) => setTimeout(resolve, 150)); // hold the licence a while
          ws.send(textFrame('slow', `s${i}-b`, 2));
          return { i, frames: await ws.rest() };
        }),
      );
      for (const { i, frames } of sessions) {
        assert.deepEqual(
          frames.map((f) => [f.header.code, f.payload?.result && textOf(f, 'result')]),
          [
            [0, `s${i}-a`],
            [0, `s${i}-b`],
          ],
          JSON.stringify(frames),
        );
      }
    } finally {
      await s.stop();
    }
  });
});
