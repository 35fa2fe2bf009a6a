import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asf } from './helpers/asf-run.js';
import { freePort, repoRoot } from './helpers/stack.js';

describe('asf on PATH (scripts/link-asf.sh, run by setup.sh)', function () {
  this.timeout(120_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-path-'));
  const binDir = path.join(root, 'bin');
  // PATH as setup leaves it, with our node first so that `#!/usr/bin/env node` finds it.
  const env = { ...process.env, PATH: `${binDir}:${path.dirname(process.execPath)}:/usr/bin:/bin` };
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('links asf into the folder given, and `asf` then runs this checkout', () => {
    const said = execFileSync('bash', [path.join(repoRoot, 'scripts', 'link-asf.sh'), binDir], { encoding: 'utf8', env });
    assert.equal(said, `asf: ${binDir}/asf -> ${repoRoot}/bin/asf.js\n`);
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    assert.equal(execFileSync('asf', ['--version'], { encoding: 'utf8', env, cwd: root }), `${version}\n`);
    assert.match(fs.readFileSync(path.join(repoRoot, 'scripts', 'setup.sh'), 'utf8'), /^bash scripts\/link-asf\.sh$/m, 'setup.sh runs it');
  });

  it("the scaffold's test.sh passes with the plain `asf` its hints name (no ASF variable)", async () => {
    const dir = path.join(root, 'onpath');
    assert.equal((await asf(['new', 'onpath', '--lang', 'js', '--dir', dir])).code, 0);
    const out = execFileSync('sh', [path.join(dir, 'test.sh')], { encoding: 'utf8', env: { ...env, ASF: '', PORT: String(await freePort()) } });
    assert.match(out, /ok: onpath answered/);
  });
});
