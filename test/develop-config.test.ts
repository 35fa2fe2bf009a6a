import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { asf } from './helpers/asf-run.js';
import { freePort, post, runAsf, b64, waitHealthy } from './helpers/stack.js';

describe('asf config', function () {
  this.timeout(120_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-config-'));
  const dir = path.join(root, 'tuned');
  const gatewayFile = path.join(root, 'asf-gateway.yaml');
  const capYaml = () => fs.readFileSync(path.join(dir, 'capability.yaml'), 'utf8');
  before(async () => {
    const made = await asf(['new', 'tuned', '--lang', 'js', '--dir', dir]);
    assert.equal(made.code, 0, made.output);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('rejects an unknown key with the keys it knows and the nearest one, and leaves the file alone', async () => {
    const before = capYaml();
    const cap = await asf(['config', 'set', '-c', dir, 'licenses', '8']);
    assert.equal(cap.code, 1);
    assert.match(cap.output, /asf: unknown capability setting key 'licenses'\. Did you mean 'licences'\? Known keys: serviceId, version, licences, timeoutMs, python\.workers, python\.interpreter, python\.pollMicros, js\.pollMicros, config\.<name>/);
    assert.equal(capYaml(), before);
    const gw = await asf(['config', 'get', '-g', gatewayFile, 'workers']);
    assert.equal(gw.code, 1);
    assert.match(gw.output, /asf: unknown gateway setting key 'workers'\..*Known keys: port, host, replicas, bodyLimit, timeoutMs, queueDepth, sessionTimeoutMs, readTimeoutMs, appIds, logLevel, capabilities, quotas, signing/);
    assert.equal(fs.existsSync(gatewayFile), false);
  });

  it('rejects bad values with what is allowed', async () => {
    const cases: [string[], RegExp][] = [
      [['-c', dir, 'licences', '0'], /asf: licences must be an integer from 1 up, got '0'/],
      [['-c', dir, 'python.workers', 'many'], /asf: python\.workers must be an integer from 1 up, got 'many'/],
      [['-c', dir, 'serviceId', 'a/b'], /asf: serviceId must be letters, digits, '_', '\.' or '-', got 'a\/b'/],
      [['-g', gatewayFile, 'port', '70000'], /asf: port must be an integer from 0 to 65535, got '70000'/],
      [['-g', gatewayFile, 'logLevel', 'loud'], /asf: logLevel must be one of debug, info, warn, error, got 'loud'/],
    ];
    for (const [args, message] of cases) {
      const run = await asf(['config', 'set', ...args]);
      assert.equal(run.code, 1, run.output);
      assert.match(run.output, message);
    }
    const neither = await asf(['config', 'get', 'licences']);
    assert.equal(neither.code, 1);
    assert.match(neither.output, /asf: say which file: --capability DIR \(its capability\.yaml\), --gateway-config FILE \(e\.g\. asf-gateway\.yaml\) or --values FILE/);
  });

  it('sets, gets, lists and unsets capability settings in capability.yaml, keeping its header comment', async () => {
    for (const [key, value] of [['licences', '12'], ['timeoutMs', '5000'], ['python.workers', '3'], ['config.greeting', 'hi']]) {
      const run = await asf(['config', 'set', '-c', dir, key!, value!]);
      assert.equal(run.code, 0, run.output);
    }
    const text = capYaml();
    assert.match(text, /^# tuned: answers its text input/);
    const doc = yaml.load(text) as any;
    assert.equal(doc.licences, 12);
    assert.equal(doc.timeoutMs, 5000);
    assert.deepEqual(doc.python, { workers: 3 });
    assert.deepEqual(doc.config, { greeting: 'hi' });
    assert.equal(doc.inputs.text.dataType, 'text', 'the rest of the file is kept');
    assert.equal((await asf(['config', 'get', '-c', dir, 'licences'])).output, '12\n');
    const list = await asf(['config', 'list', '-c', dir]);
    assert.match(list.output, /^licences = 12 +# concurrent requests per loader/m);
    assert.match(list.output, /^config\.greeting = hi$/m);
    assert.equal((await asf(['config', 'unset', '-c', dir, 'licences'])).code, 0);
    assert.equal((await asf(['config', 'get', '-c', dir, 'licences'])).output, '4\n', 'the default once unset');
  });

  it('keeps every comment of capability.yaml through set and unset, the header too when its key goes', async () => {
    const file = path.join(dir, 'capability.yaml');
    const commented = '# header: what this capability is\nlicences: 4 # one per core\n# the route\nserviceId: tuned\ninputs: {text: {dataType: text}}\noutputs: {result: {dataType: text}}\n';
    fs.writeFileSync(file, commented);
    assert.equal((await asf(['config', 'set', '-c', dir, 'licences', '8'])).code, 0);
    assert.equal(capYaml(), commented.replace('licences: 4', 'licences: 8'), 'one value changed, nothing else');
    assert.equal((await asf(['config', 'set', '-c', dir, 'python.workers', '2'])).code, 0);
    assert.equal((await asf(['config', 'unset', '-c', dir, 'licences'])).code, 0);
    assert.equal(capYaml(), '# header: what this capability is\n# the route\nserviceId: tuned\ninputs: {text: {dataType: text}}\noutputs: {result: {dataType: text}}\npython:\n  workers: 2\n');
  });

  it("shows the gateway's own defaults for gateway keys the file leaves out", async () => {
    const file = path.join(root, 'defaults-gateway.yaml');
    fs.writeFileSync(file, 'port: 9000\n');
    const get = async (key: string) => (await asf(['config', 'get', '-g', file, key])).output;
    assert.equal(await get('port'), '9000\n');
    assert.equal(await get('timeoutMs'), '60000\n', 'the gateway timeout, not the capability one (30000)');
    assert.equal(await get('bodyLimit'), `${32 * 1024 * 1024}\n`);
    assert.equal(await get('host'), '127.0.0.1\n');
    const list = (await asf(['config', 'list', '-g', file])).output;
    assert.match(list, /^port = 9000 +#/m);
    assert.match(list, /^sessionTimeoutMs = 180000 \(default\)/m);
    assert.doesNotMatch(list, /^(port|bodyLimit|host) = \(unset\)/m);
  });

  it('writes a gateway config file that asf up --config serves with: port, timeouts, auth keys, capabilities', async () => {
    const port = await freePort();
    for (const [key, value] of [['port', String(port)], ['appIds', '111,222'], ['timeoutMs', '20000'], ['capabilities', './tuned']]) {
      const run = await asf(['config', 'set', '-g', gatewayFile, key!, value!]);
      assert.equal(run.code, 0, run.output);
    }
    assert.deepEqual(yaml.load(fs.readFileSync(gatewayFile, 'utf8')), { port, appIds: ['111', '222'], timeoutMs: 20000, capabilities: ['./tuned'] });
    const up = runAsf(['up', '--config', gatewayFile]);
    try {
      await up.waitFor(/gateway +http:/);
      const url = `http://127.0.0.1:${port}`;
      await waitHealthy(url);
      const body = (appId: string) => ({ header: { app_id: appId }, parameter: { tuned: { mode: 'upper' } }, payload: { text: { text: b64('ok') } } });
      const allowed = await post(`${url}/v1/private/tuned`, body('222'));
      assert.equal(allowed.status, 200, allowed.text);
      assert.equal(Buffer.from(allowed.json.payload.result.text, 'base64').toString(), 'OK');
      const refused = await post(`${url}/v1/private/tuned`, body('999'));
      assert.equal(refused.json.header.message, "appid '999' is not allowed");
    } finally {
      await up.stop();
    }
  });

  it("edits Helm values for charts/asf, checked against the chart's values.schema.json", async () => {
    const values = path.join(root, 'my-values.yaml');
    const set = await asf(['config', 'set', '--values', values, 'capabilities.mmocr.config.licences', '8']);
    assert.equal(set.code, 0, set.output);
    assert.deepEqual(yaml.load(fs.readFileSync(values, 'utf8')), { capabilities: { mmocr: { config: { licences: 8 } } } });
    assert.equal((await asf(['config', 'get', '--values', values, 'gateway.service.nodePort'])).output, '30889\n', "the chart's default");
    const typo = await asf(['config', 'set', '--values', values, 'gateway.timout', '5000']);
    assert.equal(typo.code, 1);
    assert.match(typo.output, /asf: .*my-values\.yaml: unknown chart value key 'gateway\.timout'\. Did you mean 'gateway\.timeoutMs'\?/);
    const level = await asf(['config', 'set', '--values', values, 'gateway.logLevel', 'loud']);
    assert.equal(level.code, 1);
    assert.match(level.output, /gateway\.logLevel must be equal to one of the allowed values: debug, info, warn, error/);
    assert.deepEqual(yaml.load(fs.readFileSync(values, 'utf8')), { capabilities: { mmocr: { config: { licences: 8 } } } }, 'refused values are not written');
  });

  it('asf up --config fails clearly on a file with an unknown key', async () => {
    const bad = path.join(root, 'bad.yaml');
    fs.writeFileSync(bad, 'prot: 9000\n');
    const run = await asf(['up', '--config', bad]);
    assert.equal(run.code, 1);
    assert.match(run.output, /asf: unknown gateway setting in .*bad\.yaml: key 'prot'\. Did you mean 'port'\?/);
    const missing = await asf(['up', '--config', path.join(root, 'none.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.output, /none\.yaml does not exist: create it with asf config set --gateway/);
  });
});
