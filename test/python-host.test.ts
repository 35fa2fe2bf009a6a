import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCapability } from '../runtime/capability/load.js';
import { ErrorCode } from '../runtime/protocol/errors.js';
import type { DataItem, WrapperError } from '../runtime/loader/host.js';
import { PythonHost } from '../runtime/loader/hosts/python.js';
import { encodeFrame, FrameReader, type Frame } from '../runtime/loader/hosts/python-frames.js';
import { sleepsAndIdleCpu } from './helpers/polling.js';
import { pythonOptions } from '../runtime/loader/hosts/python-options.js';
import { RequestSignal } from '../runtime/loader/request-signal.js';
import { b64, post, repoRoot, startStack, type Stack } from './helpers/stack.js';

const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', 'python', name);

/** A one-shot ASF request body. */
function request(service: string, payload: Record<string, Record<string, unknown>>, params: Record<string, unknown> = {}) {
  return { header: { app_id: 'test' }, parameter: { [service]: params }, payload };
}

const text = (value: string) => ({ text: b64(value), encoding: 'utf8', status: 3 });

describe('python host: AIGES wrapper.py run by `asf up` in python worker processes', function () {
  let stack: Stack;

  before(async () => {
    const capabilities = ['class_style', 'two_arg', 'legacy', 'faulty', 'upstream_demo'];
    stack = await startStack(capabilities.flatMap((name) => ['--capability', fixture(name)]));
  });
  after(async () => {
    await stack?.stop('SIGKILL');
  });

  describe('class style with requestCls/responseCls', () => {
    it('calls the four-argument wrapperOnceExec with bytes in, and returns its bytes out', async () => {
      // Bigger than a pipe chunk, every byte value: the framing must carry it untouched.
      const picture = randomBytes(3 * 1024 * 1024 + 17);
      const body = request(
        'classy',
        { text: text('héllo'), picture: { image: picture.toString('base64'), encoding: 'png' } },
        { mode: 'upper', repeat: 2, loud: true },
      );
      const { status, json } = await post(`${stack.url}/v2/private/classy`, body);
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.header.code, 0);
      const result = json.payload.result.text;
      assert.equal(result.text, 'HÉLLOHÉLLO');
      assert.equal(result.usrTag, json.header.sid, 'usrTag is the request sid');
      assert.equal(result.persId, 0);
      assert.equal(result.greeting, 'hello from capability.yaml');
      assert.deepEqual(result.params, { mode: 'upper', repeat: '2', loud: 'true' });
      assert.deepEqual(result.inputs, {
        text: { type: 0, len: 6, bytes: true },
        picture: { type: 2, len: picture.length, bytes: true },
      });
      assert.equal(json.payload.result.format, 'json');
      assert.equal(json.payload.mirror.encoding, 'png');
      assert.ok(Buffer.from(json.payload.mirror.image, 'base64').equals(Buffer.from(picture).reverse()), 'mirror is the picture reversed');
    });

    it('queues concurrent requests (as many as its licences) for its single worker', async () => {
      const words = Array.from({ length: 4 }, (_, i) => `call ${i}`);
      const answers = await Promise.all(words.map((w) => post(`${stack.url}/v2/private/classy`, request('classy', { text: text(w) }))));
      assert.deepEqual(
        answers.map(({ status, json }) => (status === 200 ? json.payload.result.text.text : JSON.stringify(json))),
        words,
      );
    });

    it('validates requests against the declared params (10163) and outputs (10106)', async () => {
      const url = `${stack.url}/v2/private/classy`;
      const badEnum = await post(url, request('classy', { text: text('x') }, { mode: 'shout' }));
      assert.equal(badEnum.status, 400);
      assert.equal(badEnum.json.header.code, 10163);
      assert.match(badEnum.json.header.message, /mode must be one of "plain", "upper"/);

      const tooMany = await post(url, request('classy', { text: text('x') }, { repeat: 9 }));
      assert.equal(tooMany.status, 400);
      assert.equal(tooMany.json.header.code, 10163);
      assert.match(tooMany.json.header.message, /repeat/);

      const undeclared = await post(url, request('classy', { text: text('x') }, { boxes: { format: 'json' } }));
      assert.equal(undeclared.status, 400);
      assert.equal(undeclared.json.header.code, 10106);
    });

    it('is routed by the serviceId it declares, not by its folder name', async () => {
      const health = (await (await fetch(`${stack.url}/healthz`)).json()) as any;
      assert.ok(health.services.classy, 'classy is served');
      assert.equal(health.services.class_style, undefined, 'the folder name is no service');
      const { status } = await post(`${stack.url}/v1/private/class_style`, request('class_style', { text: text('x') }));
      assert.equal(status, 404);
    });

    it('publishes the declared schema in /openapi.json', async () => {
      const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as any;
      const op = doc.paths['/v2/private/classy']?.post;
      assert.ok(op, `no /v2/private/classy in ${Object.keys(doc.paths).join(', ')}`);
      const schema = op.requestBody.content['application/json'].schema;
      const params = schema.properties.parameter.properties.classy.properties;
      assert.deepEqual(params.mode, { type: 'string', enum: ['plain', 'upper'] });
      assert.deepEqual(params.repeat, { type: 'integer', minimum: 1, maximum: 3 });
      assert.deepEqual(params.loud, { type: 'boolean', default: false });
      assert.deepEqual(Object.keys(schema.properties.payload.properties).sort(), ['picture', 'text']);
      assert.ok(schema.properties.payload.properties.picture.properties.image, 'picture is an image input');
      const outputs = op.responses['200'].content['application/json'].schema.properties.payload.properties;
      assert.deepEqual(Object.keys(outputs).sort(), ['mirror', 'result']);
      assert.ok(outputs.mirror.properties.image, 'mirror is an image output');
    });
  });

  it('calls a two-argument wrapperOnceExec, and the wrapper printing to stdout does not disturb the pipe', async () => {
    for (const words of ['hello world', 'again', 'and again']) {
      const { status, json } = await post(`${stack.url}/v1/private/two_arg`, request('two_arg', { words: text(words) }));
      assert.equal(status, 200, JSON.stringify(json));
      // "hi" is the [wrapper] config from aiges.toml.
      assert.equal(Buffer.from(json.payload.echo.text, 'base64').toString(), `hi, ${words.toUpperCase()}`);
    }
    assert.match(stack.output(), /two_arg: got \[\('words', 11\)\]/, "the wrapper's print() reaches the log");
  });

  it('runs a legacy function-style wrapper (dicts in reqData, appended to respData)', async () => {
    const url = `${stack.url}/v1/private/legacy`;
    const expect = { boxes: { format: 'json' }, raw: { encoding: 'raw' } };
    const { status, json } = await post(url, request('legacy', { text: text('a b c') }, expect));
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json.payload.boxes.text, { key: 'text', len: 5, type: 0, words: ['a', 'b', 'c'], usrTag: json.header.sid, psrCnt: 0 });
    assert.deepEqual([...Buffer.from(json.payload.raw.text, 'base64')], [...Array(256).keys()]);

    const refused = await post(url, request('legacy', { text: text('refuse') }, expect));
    assert.equal(refused.status, 502);
    assert.equal(refused.json.header.code, 10013);
    assert.equal(refused.json.header.message, 'reqData is empty or refused');
  });

  it("loads a wrapper written as upstream's demos are (import flags; logger = flags.logger), its log lines in the loader's log at the loader's level", async () => {
    // No output named: the gateway asks for the declared one.
    const { status, json } = await post(`${stack.url}/v1/private/demo`, request('demo', { text: text('one two three') }));
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json.payload.result.text, { words: 3 });
    // Its logger follows the loader's --log-level (asf up's default: warn).
    assert.match(stack.output(), /wrapper:wrapperInit:\d+ - WARNING:  no model file in this fixture/);
    assert.doesNotMatch(stack.output(), /model initializing/);
  });

  describe('a misbehaving wrapper (two workers, timeoutMs 1500)', () => {
    const url = () => `${stack.url}/v1/private/faulty`;
    const call = (cmd: string) => post(url(), request('faulty', { cmd: text(cmd) }));
    const pids = new Set<number>();

    /** A request that must succeed; notes which worker process answered. */
    async function ok() {
      const { status, json } = await call('fine');
      assert.equal(status, 200, JSON.stringify(json));
      const answer = Buffer.from(json.payload.out.text, 'base64').toString();
      assert.match(answer, /^ok fine from \d+$/);
      pids.add(Number(answer.split(' ').pop()));
    }

    it('fails a request whose wrapper raises with 10909 and the exception text; the traceback goes to the log', async () => {
      const { status, json } = await call('raise');
      assert.equal(status, 502);
      assert.equal(json.header.code, 10909);
      assert.match(json.header.message, /wrapperOnceExec raised ValueError: cannot handle 'raise' today/);
      assert.match(stack.output(), /Traceback[^]*ValueError: cannot handle 'raise' today/);
      await ok();
    });

    it("fails a request whose Response has error_code with that code and wrapperError's text", async () => {
      const { status, json } = await call('error');
      assert.equal(status, 502);
      assert.equal(json.header.code, 4242);
      assert.equal(json.header.message, 'the engine refused this input (code 4242)');
      await ok();
    });

    it('fails only the request whose worker exits, and restarts the worker', async () => {
      const exited = await call('exit');
      assert.equal(exited.status, 502);
      assert.equal(exited.json.header.code, 10909);
      assert.equal(exited.json.header.message, 'python worker exited (code 1) while running the request');
      const crashed = await call('segv');
      assert.equal(crashed.status, 502);
      assert.equal(crashed.json.header.code, 10909);
      assert.equal(crashed.json.header.message, 'python worker exited (signal SIGSEGV) while running the request');
      for (let i = 0; i < 4; i++) await ok();
    });

    it('runs requests queued behind one whose worker exits on another worker, failing only that one', async () => {
      const [exited, ...fine] = await Promise.all([call('exit-later'), call('fine'), call('fine'), call('fine')]);
      assert.equal(exited!.status, 502);
      assert.equal(exited!.json.header.message, 'python worker exited (code 1) while running the request');
      for (const { status, json } of fine) {
        assert.equal(status, 200, JSON.stringify(json));
        assert.match(Buffer.from(json.payload.out.text, 'base64').toString(), /^ok fine from \d+$/);
      }
    });

    it('sends a request that waited in the pipe of a worker that exits to a live worker; only the running one fails', async () => {
      // Both workers are busy for 300 ms, and each holds one more request in its pipe meanwhile.
      const [exited, slow, ...queued] = await Promise.all([call('exit-later'), call('slow'), call('fine'), call('fine')]);
      assert.equal(exited!.status, 502);
      assert.equal(exited!.json.header.message, 'python worker exited (code 1) while running the request');
      assert.equal(slow!.status, 200, JSON.stringify(slow!.json));
      for (const { status, json } of queued) assert.equal(status, 200, JSON.stringify(json));
      assert.match(stack.output(), /a request queued behind the one that ended worker \d never reached the wrapper; sending it again/);
    });

    it('answers 10102 for a request that hangs past timeoutMs, kills its worker, and keeps serving', async () => {
      let hungAnswered = false;
      const hung = call('hang').finally(() => (hungAnswered = true));
      // The other worker serves meanwhile: answered while the hung one still waits for its timeout.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await ok();
      assert.equal(hungAnswered, false, 'the hung request was answered before the one beside it');
      const { status, json } = await hung;
      assert.equal(status, 502);
      assert.equal(json.header.code, 10102);
      await Promise.all([ok(), ok(), ok(), ok()]);
      assert.match(stack.output(), /exited \(signal SIGKILL: request timed out after 1500 ms\); starting a new one/);
    });

    it('ends the python workers when asf up stops', async () => {
      assert.ok(pids.size >= 2, `saw worker pids ${[...pids].join(', ')}`);
      await stack.stop('SIGTERM');
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is still running`);
    });
  });
});

describe('python host: worker pipe framing', () => {
  const frames: [Record<string, unknown>, Buffer[]][] = [
    [{ op: 'exec', params: { 'ü': 'ß' } }, [Buffer.from('abc'), Buffer.alloc(0), randomBytes(70_000)]],
    [{ ok: true }, []],
    [{ ok: true, outputs: [] }, [Buffer.from([0, 0, 0, 9])]],
  ];
  const wire = Buffer.concat(frames.flatMap(([header, blobs]) => encodeFrame(header, blobs)));

  function check(read: Frame[]) {
    assert.equal(read.length, frames.length);
    read.forEach((frame, i) => {
      const [header, blobs] = frames[i]!;
      assert.deepEqual(frame.header, { ...header, sizes: blobs.map((b) => b.length) });
      assert.deepEqual(frame.blobs, blobs);
    });
  }

  it('reads frames that arrive in one piece', () => check(new FrameReader().push(wire)));

  it('reads frames cut at every possible place', () => {
    for (const size of [1, 3, 5, 4096, 65_536]) {
      const reader = new FrameReader();
      const read: Frame[] = [];
      for (let at = 0; at < wire.length; at += size) read.push(...reader.push(wire.subarray(at, at + size)));
      check(read);
    }
  });
});

describe('python host: a wrapperInit that fails', function () {
  let stack: Stack;
  const names = ['init_fails', 'init_raises', 'no_python'];

  before(async () => {
    // echo keeps the stack running (one with nothing to serve exits).
    stack = await startStack([...names.flatMap((name) => ['--capability', fixture(name)]), '--capability', path.join(repoRoot, 'examples', 'echo')], { waitReady: false });
    await stack.waitFor(/^failed .*\n(.*\n)*failed .*\n(.*\n)*failed /m);
  });
  after(async () => {
    await stack?.stop('SIGKILL');
  });

  it('shows each init error in /healthz (503)', async () => {
    const res = await fetch(`${stack.url}/healthz`);
    assert.equal(res.status, 503);
    const health = (await res.json()) as { services: Record<string, { state: string; error: string }[]> };
    const error = (name: string) => {
      const replica = health.services[name]?.[0];
      assert.equal(replica?.state, 'failed', `${name}: ${JSON.stringify(health.services[name])}`);
      return replica.error;
    };
    assert.equal(error('init_fails'), 'wrapperInit returned 7: model file weights.bin is missing');
    assert.equal(error('init_raises'), 'wrapperInit raised RuntimeError: no GPU in this machine');
    assert.match(error('no_python'), /^cannot run python interpreter '.*\/no_python\/missing-venv\/bin\/python' \(spawn .* ENOENT\)/);
  });
});

describe('python host: a request the loader gives up on while it waits for a worker', () => {
  it('fails at once with 10102 and never reaches the wrapper; the calls ahead of it are answered', async () => {
    const spec = loadCapability(fixture('faulty'));
    const host = new PythonHost({ ...spec, python: { ...spec.python, workers: 1 } });
    await host.start({});
    const once = (cmd: string, signal = new RequestSignal()) =>
      host.once({ sid: cmd, params: {}, inputs: [{ key: 'cmd', data: Buffer.from(cmd), type: 0, status: 3, attrs: {} }], expect: ['out'], signal });
    const answer = async (call: Promise<DataItem[]>) => (await call)[0]!.data.toString();
    try {
      // The one worker holds four calls (one running, three in its pipe); the fifth waits in the loader.
      const ahead = ['slow', 'fine', 'fine', 'fine'].map((cmd) => answer(once(cmd)));
      const signal = new RequestSignal();
      const queued = once('exit', signal);
      // Given up while 'slow' still runs (300 ms): the calls ahead are all in the worker's hands.
      await new Promise((resolve) => setTimeout(resolve, 100));
      signal.abort();
      await assert.rejects(queued, (err: WrapperError) => {
        assert.equal(err.code, ErrorCode.OnceTimeout);
        assert.equal(err.message, 'request timed out after 1500 ms waiting for a free python worker');
        return true;
      });
      const answers = await Promise.all(ahead);
      const pid = answers[0]!.split(' ').pop();
      assert.deepEqual(answers, [`ok slow from ${pid}`, `ok fine from ${pid}`, `ok fine from ${pid}`, `ok fine from ${pid}`]);
      // 'exit' never ran: the same worker answers the next call.
      assert.equal(await answer(once('fine')), `ok fine from ${pid}`);
    } finally {
      await host.stop();
    }
  });
});

describe('python host: an idle worker polls for its next call, then sleeps', () => {
  const fine = (host: PythonHost) =>
    host.once({ sid: 'poll', params: {}, inputs: [{ key: 'cmd', data: Buffer.from('fine'), type: 0, status: 3, attrs: {} }], expect: ['out'], signal: new RequestSignal() });

  async function sleepsOver(pollMicros: number, calls: number) {
    const spec = loadCapability(fixture('faulty'));
    const host = new PythonHost({ ...spec, python: { ...spec.python, workers: 1, pollMicros } });
    await host.start({});
    try {
      // The faulty fixture answers with its worker's pid.
      const pid = Number((await fine(host))[0]!.data.toString().split(' ').pop());
      // Idle: one poll of at most pollMicros, then read() blocks.
      return await sleepsAndIdleCpu(`/proc/${pid}`, calls, async () => assert.match((await fine(host))[0]!.data.toString(), /^ok fine from/));
    } finally {
      await host.stop();
    }
  }

  it('catches calls that come one after another without sleeping between them, and uses no CPU once idle', async () => {
    const { slept, idleTicks } = await sleepsOver(1000, 200);
    assert.ok(slept < 100, `the worker slept ${slept} times in 200 calls that came one after another`);
    assert.ok(idleTicks < 20, `an idle worker used ${idleTicks * 10} ms of CPU in a second`);
  });

  it('with python.pollMicros: 0 sleeps after every call', async () => {
    const { slept, idleTicks } = await sleepsOver(0, 200);
    assert.ok(slept >= 150, `the worker slept only ${slept} times in 200 calls`);
    assert.ok(idleTicks < 20);
  });

  it('refuses a polling time that is not an integer from 0 to 100000, naming where it came from', () => {
    const spec = loadCapability(fixture('faulty'));
    assert.throws(() => pythonOptions(spec, { ASF_PYTHON_POLL_MICROS: 'soon' }), { message: "ASF_PYTHON_POLL_MICROS must be an integer from 0 to 100000, got 'soon'" });
    assert.equal(pythonOptions(spec, { ASF_PYTHON_POLL_MICROS: '0' }).pollMicros, 0);
    assert.equal(pythonOptions(spec, {}).pollMicros, 1000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-poll-'));
    try {
      fs.cpSync(fixture('faulty'), dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'capability.yaml'), 'python:\n  pollMicros: -5\n');
      assert.throws(() => loadCapability(dir), /capability\.yaml.*pollMicros/s);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
