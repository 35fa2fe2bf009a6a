import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCapability } from '../runtime/capability/load.js';
import { pollMicros } from '../runtime/loader/poll-micros.js';
import { ThreadLoader } from '../runtime/loader/thread-loader.js';
import { sleepsAndIdleCpu } from './helpers/polling.js';

// asf up's loader thread for a JS capability: one call at a time, an idle thread polls its port
// for the next call instead of sleeping (js.pollMicros), and stops polling once idle.
describe('JS loader thread (asf up)', function () {
  this.timeout(30_000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-thread-'));
    fs.copyFileSync(path.join('examples', 'echo', 'capability.yaml'), path.join(dir, 'capability.yaml'));
    // Answers with the OS thread it runs on ("<pid>/task/<tid>"), for /proc to tell on it.
    fs.writeFileSync(
      path.join(dir, 'index.js'),
      [
        "import fs from 'node:fs';",
        'export const wrapperInit = () => 0;',
        "export const wrapperOnceExec = () => ({ list: [{ key: 'result', data: Buffer.from(fs.readlinkSync('/proc/thread-self')), status: 3 }] });",
        'export const wrapperError = (code) => `error ${code}`;',
        'export const wrapperFini = () => 0;',
      ].join('\n'),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function overCalls(micros: number, calls: number, watch: 'loader thread' | 'gateway thread' = 'loader thread') {
    // The gateway spins for answers as long as the thread polls: 200 µs, the default, is too short on a loaded machine.
    const loader = new ThreadLoader(dir, () => {}, micros, micros);
    const call = async () => {
      const { output } = await loader.callOnce('sid', { expect: [{ name: 'result' }], pl: [{ meta: { name: 'text' }, data: Buffer.from('hi') }] }, 10_000);
      assert.equal(output.code ?? 0, 0, output.err);
      return Buffer.from(output.pl![0]!.data!).toString();
    };
    try {
      // The first call tells which thread to watch; after the last, one poll of at most pollMicros.
      if (watch === 'loader thread') return await sleepsAndIdleCpu(`/proc/${await call()}`, calls, call);
      // As HTTP requests come one at a time: the gateway's event loop sleeps between them.
      const afterAPause = () => new Promise((resolve) => setTimeout(resolve, 1)).then(call);
      return await sleepsAndIdleCpu(`/proc/${process.pid}/task/${process.pid}`, calls, afterAPause);
    } finally {
      await loader.stop();
    }
  }

  it('takes calls that come one after another without sleeping between them, and uses no CPU once idle', async () => {
    // 20 ms, not the default 1 ms: on a loaded machine a round trip through this process's event
    // loop can take longer than 1 ms, and this tests the polling, not its tuning.
    const { slept, idleTicks } = await overCalls(20_000, 200);
    assert.ok(slept < 100, `the thread slept ${slept} times in 200 calls that came one after another`);
    assert.ok(idleTicks < 20, `an idle thread used ${idleTicks * 10} ms of CPU in a second`);
  });

  it('lets the gateway take the answer to a lone call without sleeping for it', async () => {
    // Each call follows a 1 ms pause, for which the gateway's thread sleeps once.
    const { slept } = await overCalls(20_000, 200, 'gateway thread');
    assert.ok(slept < 300, `the gateway's thread slept ${slept} times over 200 calls and their pauses`);
    const { slept: sleptWithoutPolling } = await overCalls(0, 200, 'gateway thread');
    // Without polling it also sleeps for (most) answers: measured 400–410 under load, 565 idle.
    assert.ok(sleptWithoutPolling >= slept + 100, `with js.pollMicros: 0 it slept ${sleptWithoutPolling} times, hardly more than the ${slept} with polling`);
  });

  it('with js.pollMicros: 0 sleeps after every call', async () => {
    const { slept, idleTicks } = await overCalls(0, 200);
    assert.ok(slept >= 150, `the thread slept only ${slept} times in 200 calls`);
    assert.ok(idleTicks < 20);
  });

  it('refuses a polling time that is not an integer from 0 to 100000, naming where it came from', () => {
    assert.throws(() => pollMicros('ASF_JS_POLL_MICROS', undefined, { ASF_JS_POLL_MICROS: '1ms' }), {
      message: "ASF_JS_POLL_MICROS must be an integer from 0 to 100000, got '1ms'",
    });
    assert.equal(pollMicros('ASF_JS_POLL_MICROS', 50, { ASF_JS_POLL_MICROS: '0' }), 0);
    assert.equal(pollMicros('ASF_JS_POLL_MICROS', 50, {}), 50);
    assert.equal(pollMicros('ASF_JS_POLL_MICROS', undefined, {}), 1000);
    const yamlFile = path.join(dir, 'capability.yaml');
    const original = fs.readFileSync(yamlFile, 'utf8');
    try {
      fs.writeFileSync(yamlFile, `${original}js:\n  pollMicros: 200000\n`);
      assert.throws(() => loadCapability(dir), /capability\.yaml.*pollMicros/s);
    } finally {
      fs.writeFileSync(yamlFile, original);
    }
  });
});
