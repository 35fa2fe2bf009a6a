import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asf } from './helpers/asf-run.js';
import { b64, post, repoRoot, startStack, type Stack } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');

/** echo's request with the given output descriptor and input attributes (echo declares both as utf8, compress unstated). */
const echoRequest = (result: Record<string, unknown>, input: Record<string, unknown> = {}) => ({
  header: { app_id: '123456' },
  parameter: { echo: { result } },
  payload: { text: { encoding: 'utf8', status: 3, text: b64('hi'), ...input } },
});

describe('gateway: data attributes are the capability’s, request bodies are UTF-8', function () {
  this.timeout(60_000);
  let stack: Stack;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-attributes-'));
  before(async () => void (stack = await startStack(['--capability', echoDir])));
  after(async () => {
    await stack?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const url = () => `${stack.url}/v1/private/echo`;

  it('answers with the attributes asked for when they are what the capability declares', async () => {
    const { status, json } = await post(url(), echoRequest({ encoding: 'utf8', compress: 'raw', format: 'plain' }, { compress: 'raw' }));
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.payload.result.compress, 'raw');
    assert.equal(json.payload.result.encoding, 'utf8');
  });

  it('refuses, as asf validate does, an output or input attribute nothing would honour (400, 10163)', async () => {
    const cases: [string, unknown, string][] = [
      ['gzip asked of an output that is not gzipped', echoRequest({ compress: 'gzip' }), 'parameter.echo.result.compress must be one of "raw"'],
      ['an output encoding other than the declared one', echoRequest({ encoding: 'gbk' }), 'parameter.echo.result.encoding must be one of "utf8"'],
      ['an input said to be gzip, which the wrapper would take for raw text', echoRequest({}, { compress: 'gzip' }), 'payload.text.compress must be one of "raw"'],
    ];
    for (const [what, body, message] of cases) {
      const online = await post(url(), body);
      assert.equal(online.status, 400, what);
      assert.deepEqual([online.json.header.code, online.json.header.message], [10163, message], what);
      const file = path.join(root, 'request.json');
      fs.writeFileSync(file, JSON.stringify(body));
      const offline = await asf(['validate', echoDir, file]);
      assert.equal(offline.output, `${file}: invalid: 10163 ${message} (the gateway answers HTTP 400)\n`, what);
    }
  });

  it('refuses a body that is not UTF-8 (400, 10160) where it used to read it with replacement characters', async () => {
    const json = Buffer.from(JSON.stringify(echoRequest({})));
    const broken = Buffer.concat([json.subarray(0, 20), Buffer.from([0xff, 0xfe]), json.subarray(20)]);
    const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: broken });
    assert.equal(res.status, 400);
    const answer = (await res.json()) as { header: { code: number; message: string } };
    assert.deepEqual([answer.header.code, answer.header.message], [10160, 'body is not valid UTF-8']);
    const file = path.join(root, 'latin1.json');
    fs.writeFileSync(file, broken);
    const offline = await asf(['validate', echoDir, file]);
    assert.equal(offline.output, `${file}: invalid: 10160 body is not valid UTF-8 (the gateway answers HTTP 400)\n`);
  });
});
