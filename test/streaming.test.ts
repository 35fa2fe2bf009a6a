import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { byHash } from '../runtime/balancer/strategies.js';
import type { Replica } from '../runtime/discovery/registry.js';
import { LoaderClient } from '../runtime/protocol/client.js';
import { loaderInput, loaderOutput } from '../runtime/protocol/codec.js';
import { SessState, type LoaderOutput, type ResData } from '../runtime/protocol/messages.js';
import { buildCapability, fixtureSource, fixtureYaml } from './helpers/c-capability.js';
import { repoRoot, runAsf, startStack, type Stack } from './helpers/stack.js';
import { textFrame, textOf, WsSession } from './helpers/ws-session.js';

const wordcountDir = path.join(repoRoot, 'examples', 'wordcount-stream');
const probeDir = path.join(repoRoot, 'test', 'fixtures', 'js', 'stream-probe');
const pythonFixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', 'python', name);

/** Polls until the condition holds; the assertion is the condition, the wait only bounds a hang. */
async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The gateway's view of a service's free licences (refreshed from the loaders every second). */
async function idleLicences(stack: Stack, serviceId: string): Promise<number> {
  const health = (await (await fetch(`${stack.url}/healthz`)).json()) as { services: Record<string, { idle: number }[]> };
  return health.services[serviceId]!.reduce((n, r) => n + r.idle, 0);
}

/** Opens a session with one frame and waits for its first answer. */
async function openProbe(stack: Stack, serviceId = 'probe'): Promise<{ session: WsSession; first: any }> {
  const session = await WsSession.open(`${stack.url}/v1/private/${serviceId}`);
  session.send(textFrame(serviceId, 'hello', 0));
  return { session, first: await session.next() };
}

/** Sends three frames at once and returns everything the server sent until it closed. */
async function threeFrames(stack: Stack, serviceId: string, texts: [string, string, string]) {
  const session = await WsSession.open(`${stack.url}/v1/private/${serviceId}`);
  texts.forEach((text, i) => session.send(textFrame(serviceId, text, i as 0 | 1 | 2)));
  const frames = await session.rest();
  return frames.map((f) => [f.header.code, f.header.status, f.payload?.result?.seq, f.payload?.result && textOf(f, 'result')]);
}

describe('session affinity: consistent hashing by sid', () => {
  // The order only: the admission queue skips replicas that are not ready or have no licence free.
  const replica = (address: string) => ({ address }) as Replica;
  const sids = Array.from({ length: 1000 }, (_, i) => `sid-${i}`);

  it('spreads sids over the replicas and always gives a sid the same first choice', () => {
    const replicas = [replica('a:1'), replica('b:1'), replica('c:1')];
    const counts = new Map<string, number>();
    for (const sid of sids) {
      const order = byHash(replicas, sid);
      assert.deepEqual(order.map((r) => r.address).sort(), ['a:1', 'b:1', 'c:1']);
      assert.equal(byHash(replicas, sid)[0], order[0]);
      counts.set(order[0]!.address, (counts.get(order[0]!.address) ?? 0) + 1);
    }
    for (const n of counts.values()) assert.ok(n > 250 && n < 420, `uneven spread: ${[...counts]}`);
  });

  it('moves only the sessions of a replica that goes away', () => {
    const all = [replica('a:1'), replica('b:1'), replica('c:1')];
    const withoutC = all.slice(0, 2);
    for (const sid of sids) {
      const before = byHash(all, sid)[0]!.address;
      if (before !== 'c:1') assert.equal(byHash(withoutC, sid)[0]!.address, before);
    }
  });
});

describe('streaming sessions over WebSocket (asf up)', function () {
  let stack: Stack;
  const markers = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-probe-'));

  before(async () => {
    stack = await startStack(['--capability', wordcountDir, '--capability', probeDir], { env: { ASF_PROBE_MARKERS: markers } });
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(markers, { recursive: true, force: true });
  });

  describe('JS host', () => {
    it('a 3-frame session returns incremental results in order, ending with status 2, then closes', async () => {
      const session = await WsSession.open(`${stack.url}/v1/private/wordcount`);
      session.send(textFrame('wordcount', 'one two', 0, { counts: { format: 'json' } }));
      session.send(textFrame('wordcount', 'three', 1));
      session.send(textFrame('wordcount', 'four five six', 2));
      const frames = await session.rest();
      assert.equal(await session.closed, 1000);
      assert.deepEqual(
        frames.map((f) => [f.header.code, f.header.status, f.payload.counts.seq, f.payload.counts.text]),
        [
          [0, 0, 0, { chunk: 1, chunkWords: 2, words: 2 }],
          [0, 1, 1, { chunk: 2, chunkWords: 1, words: 3 }],
          [0, 2, 2, { chunk: 3, chunkWords: 3, words: 6 }],
        ],
      );
      assert.equal(new Set(frames.map((f) => f.header.sid)).size, 1);
      const metrics = await (await fetch(`${stack.url}/metrics`)).text();
      assert.match(metrics, /asf_gateway_stream_sessions_total\{service="wordcount",outcome="0"\} [1-9]/);
    });

    it('asf call --stream cuts a file into frames and prints each answer as a JSON line', async () => {
      const file = path.join(markers, 'words.txt');
      fs.writeFileSync(file, 'one two three four five six seven');
      const call = runAsf(['call', `${stack.url}/v1/private/wordcount`, '--stream', '--input', `text=@${file}`, '--chunk-bytes', '10']);
      assert.equal(await new Promise((resolve) => call.child.once('exit', resolve)), 0);
      const answers = call.output().trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(
        answers.map((a) => [a.header.status, a.payload.counts.text.words]),
        [
          [0, 2], // "one two "
          [1, 3], // "three "
          [1, 5], // "four five "
          [2, 7], // "six seven"
        ],
      );
    });

    it('answers a first frame without data with an empty success frame (status 0)', async () => {
      const session = await WsSession.open(`${stack.url}/v1/private/wordcount`);
      session.send({ header: { app_id: '123456', status: 0 }, parameter: { wordcount: {} } });
      const first = await session.next();
      assert.deepEqual([first.header.code, first.header.status, first.payload], [0, 0, {}]);
      session.send(textFrame('wordcount', 'a b', 2));
      const last = await session.next();
      assert.equal(last.header.status, 2);
      assert.equal(last.payload.counts.text.words, 2);
    });

    it('end-only results: after the last frame, AIOut polling (wrapperRead) brings the final result', async () => {
      const session = await WsSession.open(`${stack.url}/v1/private/probe`);
      session.send(textFrame('probe', 'a', 0, { mode: 'late' }));
      session.send(textFrame('probe', 'b', 1));
      session.send(textFrame('probe', 'c', 2));
      const frames = await session.rest();
      assert.deepEqual(
        frames.map((f) => [f.header.code, f.header.status, textOf(f, 'result')]),
        [[0, 2, 'a b c']],
      );
    });

    it('a wrapper error mid-stream: an error frame (the wrapper code and its wrapperWrite text), then close', async () => {
      const { session, first } = await openProbe(stack);
      assert.equal(textOf(first, 'result'), 'hello');
      session.send(textFrame('probe', 'boom', 1));
      const error = await session.next();
      // The loader answers 10907 with '...;code=7', as AIGES does; ASF clients get the wrapper's own code.
      assert.deepEqual([error.header.code, error.header.status], [7, 2]);
      assert.equal(error.header.message, 'wrapperWrite returned 7: probe refused the frame');
      assert.equal(await session.closed, 1000);
      await eventually('wrapperDestroy after the error', () => fs.existsSync(path.join(markers, `${first.header.sid}.destroyed`)));
    });

    it('a bad frame (not JSON) gets 10160 and the session is closed', async () => {
      const { session, first } = await openProbe(stack);
      session.send('{"header": {');
      const error = await session.next();
      assert.equal(error.header.code, 10160);
      await eventually('wrapperDestroy after AIExcp', () => fs.existsSync(path.join(markers, `${first.header.sid}.destroyed`)));
    });

    it('a plain GET on a service route is 405 (sessions need the WebSocket upgrade); on an unknown one, 404', async () => {
      const plain = await fetch(`${stack.url}/v1/private/wordcount`);
      assert.equal(plain.status, 405);
      assert.equal(((await plain.json()) as any).header.code, 10003);
      assert.equal((await fetch(`${stack.url}/v1/private/nothing-here`)).status, 404);
    });

    it('an unknown service gets a 10404 error frame', async () => {
      const session = await WsSession.open(`${stack.url}/v1/private/nothing-here`);
      const error = await session.next();
      assert.equal(error.header.code, 10404);
    });

    it('the client vanishing mid-session destroys the wrapper session and frees its licence', async () => {
      const { session, first } = await openProbe(stack);
      assert.equal(first.header.code, 0);
      session.ws.terminate();
      await eventually('wrapperDestroy after the client vanished', () => fs.existsSync(path.join(markers, `${first.header.sid}.destroyed`)));
      await eventually('all 10 licences free again', async () => (await idleLicences(stack, 'probe')) === 10);
      // Fill the licences: all 10 sessions open; the 11th waits for a licence and gets the one
      // freed when a client vanishes.
      const held = await Promise.all(Array.from({ length: 10 }, () => openProbe(stack)));
      assert.deepEqual(
        held.map(({ first }) => first.header.code),
        Array.from({ length: 10 }, () => 0),
      );
      const extra = openProbe(stack);
      let admitted = false;
      void extra.then(() => (admitted = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(admitted, false, 'the 11th session started while all 10 licences were held');
      held[0]!.session.ws.terminate();
      assert.equal((await extra).first.header.code, 0);
      for (const { session } of [...held.slice(1), await extra]) session.ws.close();
      await eventually('licences back after the clients closed', async () => (await idleLicences(stack, 'probe')) === 10);
    });

    it('100 concurrent sessions on 10 licences: each waits its turn, all 100 complete, none lost', async () => {
      const runs = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const { session, first } = await openProbe(stack);
          session.send(textFrame('probe', `middle ${i}`, 1));
          session.send(textFrame('probe', `end ${i}`, 2));
          return [first.header.code, ...(await session.rest()).map((f) => textOf(f, 'result'))];
        }),
      );
      runs.forEach((run, i) => assert.deepEqual(run, [0, `middle ${i}`, `end ${i}`]));
    });

    it('with --queue-depth 0, 100 concurrent sessions on 10 licences: 10 complete, 90 are refused with 10110 at once, none lost', async () => {
      const refusing = await startStack(['--capability', probeDir, '--queue-depth', '0'], { env: { ASF_PROBE_MARKERS: markers } });
      try {
        const sessions = await Promise.all(Array.from({ length: 100 }, () => openProbe(refusing)));
        const open = sessions.filter(({ first }) => first.header.code === 0);
        const refused = sessions.filter(({ first }) => first.header.code === 10110);
        assert.equal(open.length, 10);
        assert.equal(refused.length, 90);
        for (const { session } of open) {
          session.send(textFrame('probe', 'middle', 1));
          session.send(textFrame('probe', 'end', 2));
        }
        for (const { session } of open) {
          const rest = await session.rest();
          assert.deepEqual(
            rest.map((f) => [f.header.status, textOf(f, 'result')]),
            [
              [1, 'middle'],
              [2, 'end'],
            ],
          );
        }
        for (const { session } of refused) assert.equal(await session.closed, 1000);
      } finally {
        await refusing.stop();
      }
    });
  });

  describe('two loader replicas', () => {
    it('pins each session to one replica: 20 concurrent 3-frame sessions all complete (a frame sent elsewhere would get 10008)', async () => {
      const two = await startStack(['--capability', wordcountDir, '--replicas', '2']);
      try {
        const runs = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const session = await WsSession.open(`${two.url}/v1/private/wordcount`);
            ['a', 'b c', 'd e f'].forEach((text, i) => session.send(textFrame('wordcount', text, i as 0 | 1 | 2)));
            return (await session.rest()).map((f) => [f.header.code, f.header.status, f.payload.counts.text.words]);
          }),
        );
        for (const run of runs) {
          assert.deepEqual(run, [
            [0, 0, 1],
            [0, 1, 3],
            [0, 2, 6],
          ]);
        }
      } finally {
        await two.stop();
      }
    });
  });

  describe('timeouts (short, set on the command line)', () => {
    const cases = [
      { flag: '--session-timeout', message: /session timed out: longer than 1000 ms/ },
      { flag: '--read-timeout', message: /no frame from the client within 1000 ms/ },
    ];
    for (const { flag, message } of cases) {
      it(`${flag}: an idle session gets a 10114 error frame, then close, and its wrapper session is destroyed`, async () => {
        const short = await startStack(['--capability', probeDir, flag, '1000'], { env: { ASF_PROBE_MARKERS: markers } });
        try {
          const { session, first } = await openProbe(short);
          assert.equal(first.header.code, 0);
          const error = await session.next();
          assert.deepEqual([error.header.code, error.header.status], [10114, 2]);
          assert.match(error.header.message, message);
          assert.equal(await session.closed, 1000);
          await eventually('wrapperDestroy after the timeout', () => fs.existsSync(path.join(markers, `${first.header.sid}.destroyed`)));
        } finally {
          await short.stop();
        }
      });
    }

    it('no final result after the last frame within --read-timeout: 12000 error frame, then close', async function () {
      const short = await startStack(['--capability', probeDir, '--read-timeout', '1000']);
      try {
        const session = await WsSession.open(`${short.url}/v1/private/probe`);
        session.send(textFrame('probe', 'endless', 0));
        session.send(textFrame('probe', 'endless', 2));
        const frames = await session.rest();
        assert.deepEqual(
          frames.map((f) => [f.header.code, f.header.status]),
          [
            [0, 0],
            [0, 1],
            [12000, 2],
          ],
        );
        assert.match(frames[2].header.message, /no final result came within 1000 ms/);
      } finally {
        await short.stop();
      }
    });
  });

  describe('Python host', () => {
    let python: Stack;
    before(async () => {
      const fixtures = ['stream_read', 'stream_callback', 'stream_legacy'].flatMap((name) => ['--capability', pythonFixture(name)]);
      python = await startStack(fixtures, {
        env: { ASF_PROBE_MARKERS: markers },
      });
    });
    after(async () => {
      await python?.stop();
    });

    it('wrapperRead style: a 3-frame session returns incremental results in order, ending with status 2', async () => {
      assert.deepEqual(await threeFrames(python, 'pyread', ['ab', 'cd', 'ef']), [
        [0, 0, 0, 'AB'],
        [0, 1, 1, 'CD'],
        [0, 2, 2, 'EF'],
      ]);
    });

    it('callback(Response, sid) style: results pushed from a wrapper thread arrive in order, ending with status 2', async () => {
      assert.deepEqual(await threeFrames(python, 'pycallback', ['ab', 'cd', 'ef']), [
        [0, 0, 0, 'ba'],
        [0, 1, 1, 'dc'],
        [0, 2, 2, 'fe'],
      ]);
    });

    it('legacy function style (wrapperCreate/Write/Read/Destroy on lists of dicts): a 3-frame session in order', async () => {
      assert.deepEqual(await threeFrames(python, 'stream_legacy', ['ab', 'cde', 'f']), [
        [0, 0, 0, 'ab:2'],
        [0, 1, 1, 'cde:3'],
        [0, 2, 2, 'f:1'],
      ]);
    });

    it('a wrapper error mid-stream: an error frame (the wrapper code and its wrapperWrite text), then close', async () => {
      const { session, first } = await openProbe(python, 'pyread');
      session.send(textFrame('pyread', 'boom', 1));
      const error = await session.next();
      // The loader answers 10907 with '...;code=7', as AIGES does; ASF clients get the wrapper's own code.
      assert.deepEqual([error.header.code, error.header.status], [7, 2]);
      assert.equal(error.header.message, 'wrapperWrite returned 7: pyread refused the frame');
      await eventually('wrapperDestroy after the error', () => fs.existsSync(path.join(markers, `${first.header.sid}.destroyed`)));
    });

    it('the client vanishing mid-session calls wrapperDestroy and frees the licence', async () => {
      const { session, first } = await openProbe(python, 'pyread');
      assert.equal(textOf(first, 'result'), 'HELLO');
      session.ws.terminate();
      await eventually('wrapperDestroy after the client vanished', () => fs.existsSync(path.join(markers, `${first.header.sid}.destroyed`)));
      const total = (await (await fetch(`${python.url}/healthz`)).json()).services.pyread[0].total as number;
      await eventually('all licences free again', async () => (await idleLicences(python, 'pyread')) === total);
      const held = await Promise.all(Array.from({ length: total }, () => openProbe(python, 'pyread')));
      assert.ok(held.every(({ first }) => first.header.code === 0));
      // One more waits for a licence, and gets the one the next vanishing client frees.
      const extra = openProbe(python, 'pyread');
      held[0]!.session.ws.terminate();
      assert.equal((await extra).first.header.code, 0);
      for (const { session } of [...held.slice(1), await extra]) session.ws.close();
    });
  });

  describe('C host (libwrapper.so through the native bridge)', () => {
    let native: Stack;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-cstream-'));
    before(async () => {
      const sync = buildCapability(root, 'csync', fixtureSource, fixtureYaml('csync'));
      const async = buildCapability(root, 'casync', fixtureSource, fixtureYaml('casync', { asyncMode: 'true' }));
      native = await startStack(['--capability', sync, '--capability', async]);
    });
    after(async () => {
      await native?.stop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    // The fixture answers each frame with all the text so far, upper-cased.
    const expected = [
      [0, 0, 0, 'AB '],
      [0, 1, 1, 'AB CD '],
      [0, 2, 2, 'AB CD EF'],
    ];

    it('synchronous mode (wrapperRead after each write): a 3-frame session returns incremental results, ending with status 2', async () => {
      assert.deepEqual(await threeFrames(native, 'csync', ['ab ', 'cd ', 'ef']), expected);
    });

    it('asynchronous mode (wrapperCallback): a 3-frame session returns incremental results, ending with status 2', async () => {
      assert.deepEqual(await threeFrames(native, 'casync', ['ab ', 'cd ', 'ef']), expected);
    });
  });

  describe('loader session ops (AIGES envelope)', () => {
    let client: LoaderClient;
    let isolated: Stack;
    before(async () => {
      // The loader as a process of its own, reached over gRPC as an AIGES tool would.
      isolated = await startStack(['--capability', probeDir, '--isolate'], { env: { ASF_PROBE_MARKERS: markers } });
      const port = isolated.output().match(/loader +\S+stream-probe +127\.0\.0\.1:(\d+)/)![1];
      client = new LoaderClient(`127.0.0.1:${port}`);
    });
    after(async () => {
      client?.close();
      await isolated?.stop();
    });

    const outputs = (res: ResData): LoaderOutput[] => (res.data ?? []).map((d) => loaderOutput.decode(d.data));
    const texts = (res: ResData) => outputs(res).flatMap((o) => (o.pl ?? []).map((pl) => Buffer.from(pl.data!).toString()));
    const frame = (sid: string, syncId: number, text: string, status: number) =>
      client.call(
        {
          op: 'AIIn',
          s: { h: sid },
          param: { version: 'v2' },
          data: [{ data: loaderInput.encode({ sync_id: syncId, pl: [{ meta: { name: 'text', dataType: 0, attribute: { status: String(status) } }, data: Buffer.from(text) }] }) }],
        },
        10_000,
      );
    const create = (sid: string) =>
      client.call(
        {
          op: 'AIIn',
          s: { h: sid },
          param: { SeqNo: '1', version: 'v2' },
          data: [{ data: loaderInput.encode({ serviceId: 'probe', state: SessState.STREAM, headers: { sid, status: '0' }, expect: [{ name: 'result' }] }) }],
        },
        10_000,
      );

    it('holds a frame that comes early until the gap is filled, then writes both in sync_id order', async () => {
      const sid = 'reorder-1';
      assert.equal(outputs(await create(sid))[0]!.code ?? 0, 0);
      assert.deepEqual(texts(await frame(sid, 2, 'second', 1)), []);
      assert.deepEqual(texts(await frame(sid, 1, 'first', 1)), ['first', 'second']);
      const last = outputs(await frame(sid, 3, 'third', 2));
      assert.equal(last.at(-1)!.status, 2);
      const out = outputs(await client.call({ op: 'AIOut', s: { h: sid }, param: { waitTime: '0' } }, 10_000))[0]!;
      assert.equal(out.code, 10101, 'a collected session is released');
    });

    it('a frame sent without waiting for the create answer queues behind wrapperCreate', async () => {
      const sid = 'pipelined-1';
      const [created, written] = await Promise.all([create(sid), frame(sid, 1, 'eager', 2)]);
      assert.equal(outputs(created)[0]!.code ?? 0, 0);
      assert.deepEqual(texts(written), ['eager']);
      assert.equal(outputs(written).at(-1)!.status, 2);
    });

    it('rejects a repeated sync_id with 10009 and ends the session; unknown handles get 10008', async () => {
      const sid = 'reorder-2';
      await create(sid);
      assert.deepEqual(texts(await frame(sid, 1, 'first', 1)), ['first']);
      const repeated = outputs(await frame(sid, 1, 'again', 1))[0]!;
      assert.equal(repeated.code, 10009);
      assert.match(repeated.err!, /sync_id 1 arrived twice or too late/);
      assert.equal(outputs(await frame(sid, 2, 'late', 1))[0]!.code, 10101);
      const unknown = outputs(await client.call({ op: 'AIOut', s: { h: 'never-opened' } }, 10_000))[0]!;
      assert.equal(unknown.code, 10008);
    });
  });
});
