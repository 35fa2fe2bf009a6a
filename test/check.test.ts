// asf check: the post-install check's command (the chart runs it in a helm test Pod per capability,
// from the capability's own image): each capability's request.json through a real gateway.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mmocrRequest } from '../cli/demo.js';
import { asfBin, freePort, repoRoot, startStack, type Stack } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

const mmocr = path.join(repoRoot, 'examples', 'mmocr');

describe('asf check: every sample request through the gateway, one line per capability (real asf up)', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-check-'));
  const hello = path.join(tmp, 'hello');
  let stack: Stack;
  const check = (...args: string[]) => exec(process.execPath, [asfBin, 'check', '--gateway', stack.url, ...args]);

  before(async () => {
    assert.equal((await exec(process.execPath, [asfBin, 'new', 'hello', '--lang', 'python', '--dir', hello])).code, 0);
    stack = await startStack(['-c', mmocr, '-c', hello]);
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("examples/mmocr/request.json is the demo's own request for sample.jpg (the cluster check sends it)", () => {
    const stored = JSON.parse(fs.readFileSync(path.join(mmocr, 'request.json'), 'utf8'));
    assert.deepEqual(stored, JSON.parse(JSON.stringify(mmocrRequest(fs.readFileSync(path.join(mmocr, 'sample.jpg')), '123456'))));
  });

  it('prints what each capability answered: the words mmocr read, the text the scaffold answered; exit 0', async () => {
    const r = await check(mmocr, hello);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^check mmocr: ok in \d+ ms; boxes: 3 boxes: "ASF ?KIT", "OFFLINE ?OCR ?2026", "AthenaServing ?demo"$/);
    assert.match(lines[1]!, /^check hello: ok in \d+ ms; result: "HELLO WORLD"$/);
    assert.equal(lines[2], 'check ok: 2 capabilities answered');
  });

  it('a capability the gateway does not serve, a folder without request.json, a request that is not JSON: each FAILED with why, exit 1, the others still checked', async () => {
    const nope = path.join(tmp, 'nope');
    fs.mkdirSync(nope);
    fs.copyFileSync(path.join(hello, 'request.json'), path.join(nope, 'request.json'));
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    const broken = path.join(tmp, 'broken.json');
    fs.writeFileSync(broken, '{"header": ');
    const r = await check(nope, empty, hello, broken, '--timeout', '20000');
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^check nope: FAILED: HTTP 404, code 10404: /);
    assert.match(lines[1]!, /^check empty: FAILED: no sample request: .*\/empty\/request\.json does not exist$/);
    assert.match(lines[2]!, /^check hello: ok/);
    assert.match(lines[3]!, /^check [^:]+: FAILED: sample request .*broken\.json: /);
    assert.equal(lines[4], 'check failed: 3 of 4 capabilities did not answer');
  });

  it('--service sends a request file to the named capability; nothing listening fails saying where', async () => {
    const named = await check('--service', 'hello', path.join(hello, 'request.json'));
    assert.equal(named.code, 0, named.stdout);
    const port = await freePort();
    // --url: the chart's helm test passes it, so images built by an older asf keep working.
    const down = await exec(process.execPath, [asfBin, 'check', '--url', `http://127.0.0.1:${port}`, hello]);
    assert.equal(down.code, 1);
    assert.match(down.stdout, new RegExp(`check hello: FAILED: cannot reach http://127\\.0\\.0\\.1:${port}/v1/private/hello`));
  });
});
