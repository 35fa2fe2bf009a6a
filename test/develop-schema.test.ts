import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { post, startStack, type Stack } from './helpers/stack.js';
import { asf } from './helpers/asf-run.js';

describe('asf schema and asf validate', function () {
  this.timeout(120_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-schema-'));
  const dir = path.join(root, 'shout');
  const sample = path.join(dir, 'request.json');
  let stack: Stack | undefined;
  const request = () => JSON.parse(fs.readFileSync(sample, 'utf8'));

  /** Broken requests, each with what makes it broken. */
  const broken: [string, string | ((r: any) => unknown)][] = [
    ['a parameter outside its enum', (r) => (r.parameter.shout.mode = 'shout')],
    ['a missing input', (r) => delete r.payload.text],
    ['an undeclared input', (r) => (r.payload.extra = { text: 'eA==' })],
    ['an undeclared output asked for', (r) => (r.parameter.shout.nope = { format: 'json' })],
    ['text that is not base64', (r) => (r.payload.text.text = 'not base64!')],
    ['no app id', (r) => delete r.header.app_id],
    ['a body that is not JSON', '{"header": {'],
  ];
  const write = (name: string, change: string | ((r: any) => unknown)) => {
    const file = path.join(root, `${name.replaceAll(' ', '-')}.json`);
    if (typeof change === 'string') fs.writeFileSync(file, change);
    else {
      const r = request();
      change(r);
      fs.writeFileSync(file, JSON.stringify(r));
    }
    return file;
  };

  before(async () => {
    const made = await asf(['new', 'shout', '--lang', 'js', '--dir', dir]);
    assert.equal(made.code, 0, made.output);
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("prints a request schema that accepts the scaffold's sample request and rejects broken ones", async () => {
    const out = await asf(['schema', dir, '--format', 'request']);
    assert.equal(out.code, 0, out.output);
    const validate = new Ajv({ strict: false }).compile(JSON.parse(out.output));
    assert.equal(validate(request()), true, JSON.stringify(validate.errors));
    const wrongMode = request();
    wrongMode.parameter.shout.mode = 'shout';
    assert.equal(validate(wrongMode), false);
    assert.equal(validate.errors?.[0]?.keyword, 'enum');
    const noText = request();
    delete noText.payload.text;
    assert.equal(validate(noText), false);
    assert.deepEqual(validate.errors?.[0]?.params, { missingProperty: 'text' });
  });

  it('prints the ASF schema document (meta, schemainput, schemaoutput) and the OpenAPI document the gateway serves', async () => {
    const all = JSON.parse((await asf(['schema', dir])).output);
    assert.deepEqual(Object.keys(all), ['request', 'response', 'openapi', 'asf']);
    assert.deepEqual(Object.keys(all.asf), ['meta', 'schemainput', 'schemaoutput']);
    assert.equal(all.asf.meta.serviceId, 'shout');
    assert.equal(all.asf.meta.route, '/v1/private/shout');
    assert.deepEqual(all.asf.schemainput, all.request);
    assert.deepEqual(all.asf.schemaoutput, all.response);
    assert.ok(all.response.properties.payload.properties.result, 'response schema names the output');

    stack = await startStack(['--capability', dir]);
    const served = await (await fetch(`${stack.url}/openapi.json`)).json();
    assert.deepEqual(all.openapi, served);
  });

  it('asf validate passes the sample and fails each broken request with the message and code the gateway answers', async () => {
    const good = await asf(['validate', dir, sample]);
    assert.equal(good.code, 0, good.output);
    assert.match(good.output, /request\.json: valid \(inputs: text\)/);
    assert.ok(stack, 'the previous test started the stack');
    for (const [name, change] of broken) {
      const file = write(name, change);
      const offline = await asf(['validate', dir, file]);
      const online = await post(`${stack.url}/v1/private/shout`, fs.readFileSync(file, 'utf8'));
      assert.equal(offline.code, 1, `${name}: ${offline.output}`);
      assert.equal(
        offline.output,
        `${file}: invalid: ${online.json.header.code} ${online.json.header.message} (the gateway answers HTTP ${online.status})\n`,
        name,
      );
    }
  });

  it('says clearly when the folder or the request file is missing', async () => {
    const noDir = await asf(['schema', path.join(root, 'nowhere')]);
    assert.equal(noDir.code, 1);
    assert.match(noDir.output, /asf: capability folder .*nowhere does not exist/);
    const noFile = await asf(['validate', dir, path.join(root, 'missing.json')]);
    assert.equal(noFile.code, 1);
    assert.match(noFile.output, /asf: cannot read .*missing\.json: ENOENT/);
  });
});
