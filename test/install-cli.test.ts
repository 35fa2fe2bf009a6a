// asf install given the offline tarball: the CLI extracts it safely beside itself, then installs
// from it in-process (installer/install/). Images go to Debian's docker-registry on loopback; helm
// and kubectl are recording stand-ins (no cluster here).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBundleFixture, startRegistry, writeChecksums, type Fixture, type Registry } from './helpers/bundle-fixture.js';
import { recordingTools, type RecordingTools } from './helpers/recording-tools.js';
import { asfBin, repoRoot } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

describe('asf install --bundle FILE (the offline tarball)', function () {
  this.timeout(300_000);
  let fixture: Fixture;
  let tools: RecordingTools;
  let work: string;
  let tarball: string;
  let registry: Registry;

  // node itself is started by absolute path; the tools it runs are only the stand-ins and real tools.
  const asf = (args: string[]) => exec(process.execPath, [asfBin, ...args], { cwd: work, env: { PATH: tools.path, ASF_STATE_DIR: path.join(work, 'state'), ...tools.env } });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-install-cli-'));
    const top = path.join(work, 'staging', 'asf-offline-0.1.0');
    fixture = await buildBundleFixture({
      version: '0.1.0',
      images: [
        { repository: 'asf-kit/asf-runtime', tag: '0.1.0', layers: ['base', 'runtime'] },
        { repository: 'asf-kit/asf-mmocr', tag: '0.1.0', layers: ['base', 'mmocr'] },
      ],
      root: top,
    });
    fs.copyFileSync(path.join(repoRoot, 'installer', 'install.sh'), path.join(top, 'install.sh'));
    writeChecksums(top);
    tarball = path.join(work, 'asf-offline-0.1.0.tar.gz');
    const t = await exec('tar', ['-czf', tarball, '-C', path.join(work, 'staging'), 'asf-offline-0.1.0']);
    assert.equal(t.code, 0, t.stderr);
    tools = recordingTools();
    registry = await startRegistry(fs.mkdtempSync(path.join(work, 'target-')));
  });
  after(async () => {
    await registry.stop();
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(tools.dir, { recursive: true, force: true });
  });

  it('install --bundle FILE.tar.gz extracts it beside itself, pushes every image and ends with the post-install check (stand-in helm/kubectl)', async () => {
    const r = await asf(['install', '--bundle', tarball, '--registry', registry.addr, '--plain-http', '--set', 'gateway.replicas=2']);
    assert.equal(r.code, 0, r.stderr);
    const root = path.join(work, 'asf-offline-0.1.0');
    assert.match(r.stdout, new RegExp(`extracting ${tarball} into ${root}`));
    assert.ok(fs.existsSync(path.join(root, 'registry', 'docker', 'registry', 'v2')));
    for (const image of fixture.images) {
      const inspected = await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.addr}/${image.repository}@${image.digest}`]);
      assert.equal(inspected.code, 0, inspected.stderr);
    }
    const upgrade = tools.calls().find((c) => c.startsWith('helm upgrade'))!;
    assert.match(upgrade, new RegExp(`^helm upgrade --install asf ${root}/charts/asf .*--set global\\.imageRegistry=${registry.addr} --set gateway\\.replicas=2 `));
    assert.match(r.stdout, /check ok: 1 capabilities answered\n/);
    assert.ok(tools.calls().some((c) => c.startsWith('helm test asf')), 'the post-install check ran');

    // Again: the extracted folder is reused, nothing is pushed, the release is left alone.
    tools.clearCalls();
    const before = registry.requests().length;
    const again = await asf(['install', '--bundle', tarball, '--registry', registry.addr, '--plain-http', '--set', 'gateway.replicas=2', '--no-check']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(!tools.calls().some((c) => c.startsWith('helm test')), '--no-check: no helm test');
    assert.match(again.stdout, /using .*asf-offline-0\.1\.0, extracted earlier/);
    assert.deepEqual(registry.requests().slice(before).filter((line) => /^(POST|PUT) /.test(line)), []);
    assert.ok(!tools.calls().some((c) => c.startsWith('helm upgrade')));
  });

  // status and uninstall against a real cluster and a real gateway (exit codes, readiness with the
  // loaders' reasons, asf status without --bundle): test/e2e/cluster.test.ts.

  it('install --registry-password reaches a basic-auth registry; no tool it runs gets the password on its command line', async () => {
    const htpasswd = path.join(work, 'htpasswd');
    assert.equal((await exec('htpasswd', ['-Bbc', htpasswd, 'ci', 'pw "1"'])).code, 0);
    const secured = await startRegistry(fs.mkdtempSync(path.join(work, 'secured-')), { htpasswd });
    try {
      const root = path.join(work, 'asf-offline-0.1.0');
      const r = await asf(['install', '--bundle', root, '--registry', secured.addr, '--plain-http', '--registry-user', 'ci', '--registry-password', 'pw "1"']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /pw "1"/);
      assert.ok(!tools.calls().some((c) => c.includes('pw "1"')), tools.calls().join('\n'));
      assert.ok(tools.calls().some((c) => /^helm upgrade .*--values \S+pull-secret\.yaml/.test(c)), 'pull credentials go to helm in a values file');
      const image = fixture.images[0]!;
      const inspected = await exec('skopeo', ['inspect', '--tls-verify=false', '--creds', 'ci:pw "1"', `docker://${secured.addr}/${image.repository}@${image.digest}`]);
      assert.equal(inspected.code, 0, inspected.stderr);
    } finally {
      await secured.stop();
    }
  });

  it('a tarball with an entry leaving its folder is refused and nothing is written outside', async () => {
    const evil = path.join(work, 'asf-offline-evil.tar.gz');
    const py = [
      'import io, sys, tarfile',
      "t = tarfile.open(sys.argv[1], 'w:gz')",
      "for name in ['asf-offline-9/install.sh', 'asf-offline-9/../../escaped.txt']:",
      "    data = b'x'; info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))",
      't.close()',
    ].join('\n');
    assert.equal((await exec('python3', ['-c', py, evil])).code, 0);
    const r = await asf(['install', '--bundle', evil, '--registry', registry.addr, '--plain-http']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to extract .*asf-offline-evil\.tar\.gz:\n.*escaped\.txt: path contains '\.\.'/);
    assert.ok(!fs.existsSync(path.join(path.dirname(work), 'escaped.txt')));
    assert.ok(!fs.existsSync(path.join(work, 'asf-offline-evil')));
  });

  it('a bundle that does not exist: exit 1 saying what to give', async () => {
    const r = await asf(['install', '--bundle', path.join(work, 'nope.tar.gz'), '--registry', registry.addr]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bundle .*nope\.tar\.gz not found; give the offline tarball \(asf-offline-<version>\.tar\.gz\) or its extracted folder/);
  });

  it('install without --bundle: a usage error (exit 2) saying it is required', async () => {
    const r = await asf(['install', '--registry', registry.addr]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^asf: required option '-b, --bundle <file\|dir>' not specified/);
  });
});
