import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asf } from './helpers/asf-run.js';
import { post, repoRoot, startStack, type Stack } from './helpers/stack.js';

/** A request with these inputs (each the text "hi"), for a capability named `service`. */
const requestWith = (service: string, ...keys: string[]) =>
  JSON.stringify({
    header: { app_id: '123456', status: 3 },
    parameter: { [service]: {} },
    payload: Object.fromEntries(keys.map((key) => [key, { encoding: 'utf8', status: 3, text: 'aGk=' }])),
  });

describe("asf schema / validate / up: a Python wrapper's own declarations", function () {
  this.timeout(120_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-sources-'));
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("asf validate examples/mmocr answers as the gateway does for a payload key mmocr's wrapper.py does not declare", async () => {
    const file = path.join(root, 'image-key.json');
    fs.writeFileSync(file, requestWith('mmocr', 'image'));
    const out = await asf(['validate', path.join(repoRoot, 'examples', 'mmocr'), file]);
    assert.equal(out.code, 1, out.output);
    assert.equal(out.output, `${file}: invalid: 10163 payload has unknown field 'image' (the gateway answers HTTP 400)\n`);
    const schema = JSON.parse((await asf(['schema', path.join(repoRoot, 'examples', 'mmocr'), '--format', 'request'])).output);
    assert.deepEqual(Object.keys(schema.properties.payload.properties), ['data']);
  });

  it('the scaffold states the schema once (wrapper.py): a field added to requestCls reaches asf schema, validate and the gateway alike', async () => {
    const dir = path.join(root, 'grow');
    assert.equal((await asf(['new', 'grow', '--lang', 'python', '--dir', dir])).code, 0);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'capability.yaml'), 'utf8'), /^(inputs|outputs|params):/m);
    const wrapper = path.join(dir, 'wrapper.py');
    fs.writeFileSync(wrapper, fs.readFileSync(wrapper, 'utf8').replace('    text = StringBodyField(key="text", value=b"hello world")\n', '    text = StringBodyField(key="text", value=b"hello world")\n    note = StringBodyField(key="note")\n'));
    const schema = JSON.parse((await asf(['schema', dir, '--format', 'request'])).output);
    assert.deepEqual(Object.keys(schema.properties.payload.properties).sort(), ['note', 'text']);

    const file = path.join(root, 'note.json');
    fs.writeFileSync(file, requestWith('grow', 'text', 'note'));
    const offline = await asf(['validate', dir, file]);
    assert.equal(offline.code, 0, offline.output);
    assert.equal(offline.output, `${file}: valid (inputs: text, note)\n`);
    stack = await startStack(['--capability', dir]);
    const online = await post(`${stack.url}/v1/private/grow`, fs.readFileSync(file, 'utf8'));
    assert.equal(online.json.header.code, 0, online.text);
  });

  it('warns at asf schema, asf validate and asf up when capability.yaml and wrapper.py disagree', async () => {
    const dir = path.join(root, 'twice');
    assert.equal((await asf(['new', 'twice', '--lang', 'python', '--dir', dir])).code, 0);
    fs.appendFileSync(path.join(dir, 'capability.yaml'), 'inputs:\n  words: {dataType: text}\n');
    const warning = "warning:? +.*twice: capability.yaml declares inputs \\{words\\} but wrapper.py declares \\{text\\}; capability.yaml wins";
    const schema = await asf(['schema', dir, '--format', 'request']);
    assert.equal(schema.code, 0, schema.output);
    assert.match(schema.output, new RegExp(`^asf: ${warning}`, 'm'));
    const validate = await asf(['validate', dir, path.join(dir, 'request.json')]);
    assert.match(validate.output, new RegExp(`^asf: ${warning}`, 'm'));
    assert.match(validate.output, /invalid: 10163 payload must have required property 'words'/);
    stack = await startStack(['--capability', dir]);
    await stack.waitFor(new RegExp(`^${warning}`, 'm'));
  });

  it('refuses, saying why, when the wrapper cannot be read: no interpreter, or an import that fails', async () => {
    const dir = path.join(root, 'broken');
    assert.equal((await asf(['new', 'broken', '--lang', 'python', '--dir', dir])).code, 0);
    fs.appendFileSync(path.join(dir, 'capability.yaml'), 'python: {interpreter: ./no-such-python}\n');
    const noPython = await asf(['schema', dir]);
    assert.equal(noPython.code, 1);
    assert.match(noPython.output, /^asf: cannot read the schema .*broken\/wrapper\.py declares: Python interpreter .*no-such-python not found/m);

    fs.writeFileSync(path.join(dir, 'capability.yaml'), 'licences: 1\n');
    fs.writeFileSync(path.join(dir, 'wrapper.py'), 'import no_such_module\n');
    const file = path.join(root, 'any.json');
    fs.writeFileSync(file, requestWith('broken', 'text'));
    const noImport = await asf(['validate', dir, file]);
    assert.equal(noImport.code, 1);
    assert.match(noImport.output, /^asf: cannot read the schema .*wrapper\.py declares: cannot import wrapper\.py ModuleNotFoundError: No module named 'no_such_module'$/m);
    assert.doesNotMatch(noImport.output, /valid/);
  });
});
