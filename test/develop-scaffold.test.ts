import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asf, asfStreams } from './helpers/asf-run.js';
import { asfBin, freePort, startStack, type Stack } from './helpers/stack.js';

describe('asf new: scaffold, serve with asf up, call with asf call', function () {
  this.timeout(180_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-new-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  for (const lang of ['python', 'c', 'js'] as const) {
    describe(lang, () => {
      const name = `hello${lang}`;
      const dir = path.join(root, name);
      let stack: Stack | undefined;
      after(async () => void (await stack?.stop()));

      it('creates the folder with wrapper, capability.yaml, request.json and test.sh', async () => {
        const made = await asf(['new', name, '--lang', lang, '--dir', dir]);
        assert.equal(made.code, 0, made.output);
        const wrapper = { python: 'wrapper.py', c: 'libwrapper.so', js: 'index.js' }[lang];
        for (const file of ['capability.yaml', 'request.json', 'test.sh', wrapper]) assert.ok(fs.existsSync(path.join(dir, file)), `${file} missing`);
        if (lang === 'c') for (const file of ['Makefile', 'wrapper.c', 'include/aiges_wrapper.h']) assert.ok(fs.existsSync(path.join(dir, file)));
        assert.match(made.output, new RegExp(`asf up --capability .*${name}`));
        // ...and the way to a cluster.
        assert.match(made.output, /to an air-gapped cluster \(README: From wrapper\.py to an air-gapped cluster\)/);
        assert.match(made.output, new RegExp(`asf bundle build --capability .*${name}`));
      });

      it('is served by asf up --capability at once and answers asf call', async () => {
        stack = await startStack(['--capability', dir]);
        const url = `${stack.url}/v1/private/${name}`;
        const decoded = await asf(['call', url, '--input', 'text=hello world', '--param', 'mode=upper', '--output', 'result', '--decode']);
        assert.equal(decoded.code, 0, decoded.output);
        assert.equal(decoded.output, 'result: HELLO WORLD\n');
        const json = await asf(['call', url, '--input', 'text=quiet', '--output', 'result:plain']);
        const answer = JSON.parse(json.output);
        assert.equal(answer.header.code, 0);
        assert.equal(Buffer.from(answer.payload.result.text, 'base64').toString(), 'quiet');
        assert.equal(answer.payload.result.format, 'plain');
      });

      it("its own test.sh passes (asf up on a spare port, asf validate, asf call)", async () => {
        await stack?.stop();
        const out = execFileSync('sh', [path.join(dir, 'test.sh')], {
          env: { ...process.env, ASF: `${process.execPath} ${asfBin}`, PORT: String(await freePort()) },
          encoding: 'utf8',
        });
        assert.match(out, /request\.json: valid \(inputs: text\)/);
        assert.match(out, new RegExp(`ok: ${name} answered`));
      });
    });
  }

  it('refuses a name that cannot be a route, a YAML string or a folder, before printing anything on stdout or writing a file', async () => {
    const unfit = /must start with a letter and hold only letters, digits, '_' and '-'/;
    const notAString = (read: string) => new RegExp(`reads as ${read} in YAML, not as a name`);
    const cases: [string, RegExp][] = [['no/slash', unfit], ['123', unfit], ['1e3', unfit], ['.', unfit], ['null', notAString('null')], ['true', notAString('true')], ['NULL', notAString('null')]];
    for (const [name, why] of cases) {
      const dir = path.join(root, `bad-${cases.findIndex(([n]) => n === name)}`);
      const bad = await asfStreams(['new', name, '--lang', 'js', '--dir', dir]);
      assert.equal(bad.code, 1, `${name}: ${bad.stderr}`);
      assert.equal(bad.stdout, '', name);
      assert.match(bad.stderr, new RegExp(`^asf: capability name '${name.replace(/[./]/g, '\\$&')}' ${why.source}`), name);
      assert.equal(fs.existsSync(dir), false, name);
    }
    fs.mkdirSync(path.join(root, 'full'));
    fs.writeFileSync(path.join(root, 'full', 'keep.txt'), 'mine');
    const full = await asf(['new', 'full', '--lang', 'js', '--dir', path.join(root, 'full')]);
    assert.equal(full.code, 1);
    assert.match(full.output, /already exists and is not empty: pick another --dir or remove it/);
    assert.equal(fs.readFileSync(path.join(root, 'full', 'keep.txt'), 'utf8'), 'mine');
    const lang = await asf(['new', 'x', '--lang', 'rust']);
    assert.equal(lang.code, 2, 'a usage error');
    assert.match(lang.output, /Allowed choices are python, c, js/);
  });
});
