import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { b64, post, repoRoot, startStack } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');
const misbehaveDir = path.join(repoRoot, 'test', 'fixtures', 'js', 'misbehave');
const badRequest = { header: { app_id: '1' }, payload: { nope: { text: b64('x') } } };

/** A Python wrapper that logs at INFO and at WARNING through aiges's logger while it loads. */
const chattyWrapper = `from aiges.utils.log import getLogger
log = getLogger()

def wrapperInit(config):
    log.info("chatty: info while loading")
    log.warning("chatty: warning while loading")
    return 0

def wrapperOnceExec(params, reqData, respData, psrIds, psrCnt):
    return 0
`;

describe('asf up console output: for people by default, JSON on request', function () {
  this.timeout(60_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-console-'));
  const chatty = path.join(root, 'chatty');
  before(() => {
    fs.mkdirSync(chatty);
    fs.writeFileSync(path.join(chatty, 'wrapper.py'), chattyWrapper);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("keeps a client's bad requests off the console at the default level, and shows them as one readable line at info", async () => {
    const quiet = await startStack(['-c', echoDir]);
    try {
      assert.equal((await post(`${quiet.url}/v1/private/echo`, badRequest)).status, 400);
      await post(`${quiet.url}/v1/private/nowhere`, badRequest);
    } finally {
      await quiet.stop();
    }
    assert.doesNotMatch(quiet.output(), /request failed|"level"/);

    const told = await startStack(['-c', echoDir, '--log-level', 'info']);
    try {
      await post(`${told.url}/v1/private/echo`, badRequest);
      await told.waitFor(/^info +request failed {2}sid=asf\w+ service=echo code=10163 ms=[\d.]+$/m);
    } finally {
      await told.stop();
    }
    assert.doesNotMatch(told.output(), /^\{/m, 'no JSON records');
  });

  it('writes JSON records with --log-format json; a server-side failure is a warning', async () => {
    const stack = await startStack(['-c', misbehaveDir, '--log-format', 'json']);
    try {
      assert.equal((await post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64('throw') } } })).status, 502);
      const [line] = await stack.waitFor(/^\{.*"request failed".*\}$/m);
      const record = JSON.parse(line);
      assert.deepEqual([record.level, record.service, record.code], [40, 'misbehave', 10909]);
    } finally {
      await stack.stop();
    }
  });

  it("holds a Python wrapper's own log to --log-level: its INFO lines show only at info", async () => {
    const quiet = await startStack(['-c', chatty]);
    await quiet.waitFor(/chatty: warning while loading/);
    await quiet.stop();
    assert.doesNotMatch(quiet.output(), /chatty: info while loading/);
    const told = await startStack(['-c', chatty, '--log-level', 'info']);
    await told.waitFor(/chatty: info while loading/);
    await told.stop();
  });
});
