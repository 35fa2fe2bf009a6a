import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { b64, post, startStack, type Stack } from './helpers/stack.js';

/** A JS capability whose answer depends on its input: bad input (40003), a fault of its own (40004), an exception naming its file, an exit. */
const wrapper = `import { fileURLToPath } from 'node:url';
const here = fileURLToPath(import.meta.url);
export function wrapperOnceExec(params, reqData) {
  const text = reqData.get('text').data.toString();
  if (text === 'bad') return { list: [], error_code: 40003 };
  if (text === 'fault') return { list: [], error_code: 40004 };
  if (text === 'throw') throw new Error(\`cannot open \${here.replace('index.js', 'model.bin')} (from \${here})\`);
  if (text === 'exit') process.exit(3);
  return { list: [{ key: 'result', data: text }] };
}
export const wrapperError = (code) => (code === 40003 ? 'input is not an image' : 'the model failed');
`;

describe("wrapper errors: the client's fault or the server's, and no server paths", function () {
  this.timeout(60_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-wrapper-errors-'));
  const dir = path.join(root, 'picky');
  let stack: Stack;
  before(async () => {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'index.js'), wrapper);
    fs.writeFileSync(path.join(dir, 'capability.yaml'), 'inputs: {text: {dataType: text}}\noutputs: {result: {dataType: text}}\nclientErrors: [40003]\n');
    stack = await startStack(['--capability', dir]);
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const call = (text: string) => post(`${stack.url}/v1/private/picky`, { header: { app_id: '1' }, payload: { text: { text: b64(text) } } });

  it('answers 400 for a code capability.yaml lists in clientErrors, 502 for any other', async () => {
    const bad = await call('bad');
    assert.deepEqual([bad.status, bad.json.header.code, bad.json.header.message], [400, 40003, 'input is not an image']);
    const fault = await call('fault');
    assert.deepEqual([fault.status, fault.json.header.code, fault.json.header.message], [502, 40004, 'the model failed']);
  });

  it("names the capability's files relative to its folder, never by their path on the server", async () => {
    const thrown = await call('throw');
    assert.equal(thrown.status, 502);
    assert.equal(thrown.json.header.message, 'cannot open model.bin (from index.js)');
    const exited = await call('exit');
    assert.equal(exited.status, 502);
    assert.doesNotMatch(exited.json.header.message, new RegExp(root), exited.json.header.message);
    assert.match(exited.json.header.message, /its thread ended \(exit code 3\)/);
  });

  it('refuses a clientErrors that is not a list of codes, naming the file', async () => {
    const { loadCapability } = await import('../runtime/capability/load.js');
    fs.writeFileSync(path.join(root, 'capability.yaml'), 'clientErrors: [bad]\n');
    fs.writeFileSync(path.join(root, 'index.js'), wrapper);
    assert.throws(() => loadCapability(root), /capability\.yaml: clientErrors\.0 must be integer/);
  });
});
