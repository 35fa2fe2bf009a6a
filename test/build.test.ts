// asf build: capability folders (Python, C, JS, as `asf new` writes them) into OCI images with no
// daemon; each image unpacked with real umoci and run under chroot answers through a gateway.
// Needs root and the Debian packages umoci, skopeo and debootstrap (the base image is built once
// and cached, as test/images.test.ts does); Python wheels come from the package index at build time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asfBin, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';
import { exec } from './helpers/tools.js';
import { OciImages } from './helpers/oci-image.js';

const sharedLayout = path.join(repoRoot, '.cache', 'images', 'oci');
const runtimeTag = 'asf-runtime-0.1.0';

describe('asf build: a capability folder into an OCI image (real umoci, skopeo, chroot)', function () {
  this.timeout(900_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-build-'));
  // A layout of this suite's own (with the runtime image copied in): caches and tags stay here.
  const layout = path.join(tmp, 'images', 'oci');
  const oci = new OciImages(layout);
  const procs: RunningProcess[] = [];

  const asf = (args: string[], cwd = tmp) => exec(process.execPath, [asfBin, ...args], { cwd });
  const build = (dir: string, ...args: string[]) => asf(['build', dir, '--layout', layout, ...args]);
  const scaffold = async (name: string, lang: string) => {
    const r = await asf(['new', name, '--lang', lang]);
    assert.equal(r.code, 0, r.stderr);
    return path.join(tmp, name);
  };

  /** The image unpacked and run (its own Cmd + where to listen), a gateway in front; the scaffold's request.json answered. */
  async function serveAndCall(tag: string, dir: string, name: string) {
    const rootfs = await oci.unpack(tag, path.join(tmp, `${tag}-bundle`));
    const config = await oci.config(tag);
    const port = await freePort();
    await oci.run(rootfs, tag, [...config.Cmd!, '--host', '127.0.0.1', '--port', String(port)]);
    const gatewayPort = await freePort();
    const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(gatewayPort), '--loader', `127.0.0.1:${port}`]);
    procs.push(gateway);
    const url = `http://127.0.0.1:${gatewayPort}`;
    await waitHealthy(url, 120_000);
    const { status, json } = await post(`${url}/v1/private/${name}`, JSON.parse(fs.readFileSync(path.join(dir, 'request.json'), 'utf8')));
    assert.equal(status, 200, JSON.stringify(json));
    return { rootfs, answer: Buffer.from(json.payload.result.text, 'base64').toString() };
  }

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: asf build needs root (chroot, file ownership)');
      this.skip();
    }
    await oci.checkTools();
    const base = await exec(path.join(repoRoot, 'images', 'build.sh'), ['runtime']);
    assert.equal(base.code, 0, `images/build.sh runtime failed:\n${base.stderr.slice(-4000)}`);
    fs.mkdirSync(path.dirname(layout), { recursive: true });
    const copy = await exec('skopeo', ['copy', '--quiet', `oci:${sharedLayout}:${runtimeTag}`, `oci:${layout}:${runtimeTag}`]);
    assert.equal(copy.code, 0, copy.stderr);
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    oci.stopAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('a Python capability with pinned requirements', () => {
    let dir = '';
    let first: { Layers: string[]; Digest: string };

    it('builds: the runtime image by digest + dependency, resource and code layers, labelled, non-root, its Cmd serving the folder', async () => {
      dir = await scaffold('pyhello', 'python');
      fs.writeFileSync(path.join(dir, 'requirements.txt'), '# the wrapper imports it: proves the venv is the one used\nsix==1.17.0\n');
      fs.appendFileSync(path.join(dir, 'wrapper.py'), '\nimport six  # from requirements.txt\n');
      fs.mkdirSync(path.join(dir, 'models'));
      fs.writeFileSync(path.join(dir, 'models', 'table.bin'), 'weights\n');
      fs.appendFileSync(path.join(dir, 'capability.yaml'), '\nresources:\n  - {path: models/table.bin, sha256: 1b465fa6b6bcbc06a3199e3d2d8aec35d37494a712f888b6d5536684dd89d0f0}\n');
      const r = await build(dir);
      assert.equal(r.code, 0, r.stderr);
      const [line] = r.stdout.trim().split('\n');
      assert.match(line!, /^asf\.local\/capabilities\/pyhello:v1 sha256:[0-9a-f]{64}$/);
      assert.match(r.stderr, /downloading 1 wheels for CPython 3\.11/);

      first = await oci.inspect('pyhello-v1');
      const runtime = await oci.inspect(runtimeTag);
      assert.equal(first.Digest, line!.split(' ')[1]);
      assert.deepEqual(first.Layers.slice(0, 2), runtime.Layers);
      assert.equal(first.Layers.length, 5);
      assert.match(r.stderr, /layer resources: models\/table\.bin \(sha256 checked\)/);
      const config = await oci.config('pyhello-v1');
      assert.deepEqual(config.Cmd, ['loader', '--capability', '/opt/asf/capabilities/pyhello']);
      assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', '/opt/asf/bin/asf.js']);
      assert.equal(config.User, '10001:10001');
      assert.equal(config.Labels!['io.asf-kit.service-id'], 'pyhello');
      assert.equal(config.Labels!['org.opencontainers.image.version'], 'v1');
      assert.equal(config.Labels!['org.opencontainers.image.base.name'], 'ghcr.io/asf-kit/asf-runtime:0.1.0');
      assert.equal(config.Labels!['org.opencontainers.image.base.digest'], runtime.Digest);
    });

    it('its rootfs under chroot answers request.json through a gateway, importing six from the venv; no compilers, caches or .pyc', async () => {
      const { rootfs, answer } = await serveAndCall('pyhello-v1', dir, 'pyhello');
      assert.equal(answer, 'HELLO WORLD');
      const venv = await oci.chroot(rootfs, ['/opt/asf/capabilities/pyhello/.venv/bin/python', '-c', 'import six; print(six.__version__)'], '10001:10001');
      assert.equal(venv.stdout.trim(), '1.17.0', venv.stderr);
      const leftovers = await oci.chroot(rootfs, ['sh', '-c', 'command -v gcc cc make; find /opt/asf/capabilities -name __pycache__ -o -name "*.pyc"; ls -A /root/.cache 2>/dev/null']);
      assert.equal(leftovers.stdout.trim(), '');
      // Owned by root, readable (not writable) by the user the image runs as.
      const stat = await oci.chroot(rootfs, ['stat', '-c', '%u %a', '/opt/asf/capabilities/pyhello/wrapper.py']);
      assert.equal(stat.stdout.trim(), '0 644');
      assert.equal(fs.readFileSync(path.join(rootfs, 'opt/asf/capabilities/pyhello/models/table.bin'), 'utf8'), 'weights\n');
    });

    it('a change to wrapper.py alone gives one new layer: base, dependency and resource layers keep their digests', async () => {
      fs.appendFileSync(path.join(dir, 'wrapper.py'), '# a code-only change\n');
      const r = await build(dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /layer \(cached\) python dependencies/);
      const again = await oci.inspect('pyhello-v1');
      assert.deepEqual(again.Layers.slice(0, 4), first.Layers.slice(0, 4));
      assert.notEqual(again.Layers[4], first.Layers[4]);
      assert.notEqual(again.Digest, first.Digest);
    });

    it('-t names the image: the layout tag is the name\'s last part and its tag', async () => {
      const r = await build(dir, '-t', 'registry.example/team/pyhello:1.2.0');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^registry\.example\/team\/pyhello:1\.2\.0 sha256:/);
      assert.match(r.stdout, new RegExp(`oci:${layout}:pyhello-1\\.2\\.0`));
      assert.equal((await oci.config('pyhello-1.2.0')).Labels!['io.asf-kit.service-id'], 'pyhello');
    });
  });

  it('a C capability is built with its Makefile (the image gets libwrapper.so, no compiler) and answers under chroot', async () => {
    const dir = await scaffold('chello', 'c');
    fs.rmSync(path.join(dir, 'libwrapper.so'));
    const r = await build(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'libwrapper.so')), 'the build ran make in a copy, not in the folder');
    const { rootfs, answer } = await serveAndCall('chello-v1', dir, 'chello');
    assert.equal(answer, 'HELLO WORLD');
    assert.ok(fs.existsSync(path.join(rootfs, 'opt/asf/capabilities/chello/libwrapper.so')));
  });

  it('a JS capability with an npm dependency: node_modules from its package-lock.json in a layer of their own; answers under chroot', async () => {
    const dir = await scaffold('jshello', 'js');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'jshello', private: true, type: 'module', dependencies: { ms: '2.1.3' } }));
    const lock = await exec('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
    assert.equal(lock.code, 0, lock.stderr);
    const index = path.join(dir, 'index.js');
    fs.writeFileSync(index, `import ms from 'ms';\n${fs.readFileSync(index, 'utf8').replace("Buffer.from(answer, 'utf8')", "Buffer.from(`${answer} ${ms(60_000)}`, 'utf8')")}`);
    const r = await build(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /layer node_modules \(1 dependencies, package-lock\.json\)/);
    assert.equal((await oci.inspect('jshello-v1')).Layers.length, 4);
    const { answer } = await serveAndCall('jshello-v1', dir, 'jshello');
    assert.equal(answer, 'HELLO WORLD 1m');
  });

  describe('refuses, naming the problem, and writes no image', () => {
    const refused = async (name: string, lang: string, change: (dir: string) => void, message: RegExp) => {
      const dir = await scaffold(name, lang);
      change(dir);
      const r = await build(dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
      assert.ok(!index.manifests.some((m) => m.annotations?.['org.opencontainers.image.ref.name'] === `${name}-v1`), `${name}-v1 was written`);
    };

    it('an unpinned requirement', () =>
      refused('unpinned', 'python', (dir) => fs.writeFileSync(path.join(dir, 'requirements.txt'), 'six==1.17.0\nnumpy>=1.26\n'), /requirements\.txt line 2: 'numpy>=1\.26' is not pinned: write name==version/));

    it('a requirement with no wheel for the image\'s Python and platform', () =>
      refused('nowheel', 'python', (dir) => fs.writeFileSync(path.join(dir, 'requirements.txt'), 'antlr4-python3-runtime==4.9.3\n'), /antlr4-python3-runtime==4\.9\.3 has no wheel for CPython 3\.11 on linux\/amd64/));

    it('a resource whose sha256 differs from capability.yaml', () =>
      refused(
        'badmodel',
        'python',
        (dir) => {
          fs.mkdirSync(path.join(dir, 'models'));
          fs.writeFileSync(path.join(dir, 'models', 'net.onnx'), 'not the model\n');
          fs.appendFileSync(path.join(dir, 'capability.yaml'), `\nresources:\n  - {path: models/net.onnx, sha256: "${'0'.repeat(64)}"}\n`);
        },
        /resource models\/net\.onnx: sha256 is [0-9a-f]{64}, capability\.yaml says 0{64}/,
      ));

    it('a capability.yaml the loader would refuse (named as the user\'s file)', () =>
      refused('badyaml', 'js', (dir) => fs.appendFileSync(path.join(dir, 'capability.yaml'), '\nlicenses: 2\n'), new RegExp(`asf: ${tmp}/badyaml/capability\\.yaml: \\(top level\\) must NOT have additional properties 'licenses'`)));

    it('a C folder with neither libwrapper.so nor a Makefile', () =>
      refused('nolib', 'c', (dir) => ['libwrapper.so', 'Makefile'].forEach((f) => fs.rmSync(path.join(dir, f))), /holds no wrapper: none of index\.js, .*libwrapper\.so, and no Makefile/));

    it('a Makefile that fails', () =>
      refused('badc', 'c', (dir) => {
        fs.rmSync(path.join(dir, 'libwrapper.so'));
        fs.appendFileSync(path.join(dir, 'wrapper.c'), '\nthis is not C;\n');
      }, /make in .*badc failed \(exit 2\):[\s\S]*error/));

    it('npm dependencies without a package-lock.json', () =>
      refused('nolock', 'js', (dir) => fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ dependencies: { ms: '2.1.3' } })), /nolock\/package\.json has dependencies but no package-lock\.json: run npm install there to pin them/));

    it('a -t that is not a reference with a tag', async () => {
      const dir = await scaffold('badref', 'js');
      const r = await build(dir, '-t', 'Not A Ref');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /-t Not A Ref: not an image reference with a tag/);
    });
  });
});
