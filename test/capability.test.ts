import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCapability } from '../runtime/capability/load.js';
import { b64, post, repoRoot, startStack } from './helpers/stack.js';

function tempCapability(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-cap-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('capability folders', () => {
  it('reads capability.yaml', () => {
    const spec = loadCapability(path.join(repoRoot, 'examples', 'echo'));
    assert.equal(spec.serviceId, 'echo');
    assert.equal(spec.host, 'js');
    assert.equal(spec.licences, 8);
    assert.deepEqual(spec.inputs['text'], { dataType: 'text', encoding: 'utf8' });
  });

  it('honours aiges.toml: [wrapper] is the init config, [fc] max the licences', () => {
    const spec = loadCapability(path.join(repoRoot, 'test', 'fixtures', 'js', 'aiges-toml'));
    assert.equal(spec.serviceId, 'aiges-toml');
    assert.equal(spec.licences, 3);
    assert.deepEqual(spec.config, { greeting: 'hi', repeat: '2' });
  });

  it('names the unknown key in a bad capability.yaml', () => {
    const dir = tempCapability({ 'index.js': 'export function wrapperOnceExec() {}', 'capability.yaml': 'serviceId: x\nlicenses: 4\n' });
    assert.throws(() => loadCapability(dir), /capability\.yaml: \(top level\) must NOT have additional properties 'licenses'/);
  });

  it('names the bad field type', () => {
    const dir = tempCapability({ 'index.js': '', 'capability.yaml': 'inputs:\n  img: {dataType: picture}\n' });
    assert.throws(() => loadCapability(dir), /inputs\.img\.dataType must be equal to one of the allowed values/);
  });

  it('says which files a capability folder needs', () => {
    const dir = tempCapability({ 'README.md': 'nothing here' });
    assert.throws(() => loadCapability(dir), /holds none of index\.js, index\.mjs, index\.ts, wrapper\.py, libwrapper\.so/);
  });

  it('serves a TypeScript module configured only by aiges.toml', async () => {
    const stack = await startStack(['--capability', path.join(repoRoot, 'test', 'fixtures', 'js', 'aiges-toml')]);
    try {
      const { status, json } = await post(`${stack.url}/v1/private/aiges-toml`, { header: { app_id: '1' }, payload: { in: { text: b64('there') } } });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(Buffer.from(json.payload.result.text, 'base64').toString(), 'hi therehi there');
    } finally {
      await stack.stop();
    }
  });

  it('rejects a request without a parameter marked required: 400, 10163', async () => {
    const dir = tempCapability({
      'index.js': "export const wrapperOnceExec = (params) => ({ list: [{ key: 'out', data: params.tag }] });\n",
      'capability.yaml': 'serviceId: tagger\ninputs: {in: {dataType: text}}\noutputs: {out: {dataType: text}}\nparams:\n  tag: {type: string, required: true}\n',
    });
    const stack = await startStack(['--capability', dir]);
    try {
      const url = `${stack.url}/v1/private/tagger`;
      const payload = { in: { text: b64('x') } };
      const none = await post(url, { header: { app_id: '1' }, payload });
      assert.equal(none.status, 400);
      assert.equal(none.json.header.code, 10163);
      assert.equal(none.json.header.message, "request must have required property 'parameter'");
      const missing = await post(url, { header: { app_id: '1' }, parameter: { tagger: {} }, payload });
      assert.equal(missing.json.header.message, "parameter.tagger must have required property 'tag'");
      const given = await post(url, { header: { app_id: '1' }, parameter: { tagger: { tag: 7 } }, payload });
      assert.equal(given.status, 200, 'a number is taken as the string it spells');
      assert.equal(Buffer.from(given.json.payload.out.text, 'base64').toString(), '7');
    } finally {
      await stack.stop();
    }
  });

  it('keeps a capability whose wrapperInit fails out of readiness, with the error shown', async () => {
    const dir = tempCapability({ 'index.js': 'export const wrapperInit = () => 7;\nexport const wrapperError = (c) => `no licence file (code ${c})`;\nexport const wrapperOnceExec = () => ({ list: [] });\n' });
    // With echo beside it, so that the stack has something to serve and keeps running.
    const stack = await startStack(['--capability', dir, '--capability', path.join(repoRoot, 'examples', 'echo')], { waitReady: false });
    try {
      await stack.waitFor(/failed +\S+: wrapperInit returned 7: no licence file \(code 7\)/);
      const res = await fetch(`${stack.url}/healthz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as any;
      assert.match(JSON.stringify(body), /wrapperInit returned 7: no licence file/);
    } finally {
      await stack.stop();
    }
  });
});
