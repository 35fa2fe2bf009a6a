// The daemonless image build (images/build.sh: debootstrap + umoci, no Docker), checked with
// real skopeo and umoci, and the unpacked rootfs run under chroot. Slow (about 2 minutes the first
// time, while the Debian base layer is built and cached in .cache/images/base); needs root and
// the Debian packages debootstrap, umoci and skopeo.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

const images = path.join(repoRoot, '.cache', 'images');
const layout = path.join(images, 'oci');
const runtimeRef = (yaml.load(fs.readFileSync(path.join(repoRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] }).images.find(
  (i) => i.name === 'runtime',
)!.ref;
const runtimeTag = `${runtimeRef.slice(0, runtimeRef.lastIndexOf(':')).split('/').pop()}-${runtimeRef.slice(runtimeRef.lastIndexOf(':') + 1)}`;


interface ImageConfig {
  Entrypoint: string[];
  Cmd?: string[];
  User: string;
  Env: string[];
  WorkingDir: string;
}

async function imageConfig(tag: string): Promise<ImageConfig> {
  const r = await exec('skopeo', ['inspect', '--config', `oci:${layout}:${tag}`]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { config: ImageConfig }).config;
}

const chrootProcs: ChildProcess[] = [];
let chrootBin = 'chroot';

/**
 * Runs an unpacked image the way a container runtime would, minus the namespaces: its entrypoint
 * (+ `args`, else its Cmd) as its user, with its environment, inside its rootfs (chroot). Resolves
 * once the process prints "capability ready".
 */
async function runImage(rootfs: string, tag: string, args?: string[]) {
  const config = await imageConfig(tag);
  const env = Object.fromEntries(config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const child = spawn(chrootBin, [`--userspec=${config.User}`, rootfs, 'sh', '-c', `cd "$0" && exec "$@"`, config.WorkingDir, ...config.Entrypoint, ...(args ?? config.Cmd ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, HOME: config.WorkingDir },
  });
  chrootProcs.push(child);
  let output = '';
  child.on('error', (err) => (output += `spawn failed: ${err.message}`));
  child.stdout!.on('data', (c: Buffer) => (output += c));
  child.stderr!.on('data', (c: Buffer) => (output += c));
  const deadline = Date.now() + 120_000;
  while (!/capability ready/.test(output)) {
    assert.ok(child.exitCode === null && !output.startsWith('spawn failed'), `${tag} in chroot exited:\n${output}`);
    assert.ok(Date.now() < deadline, `${tag} in chroot not ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output };
}

describe('daemonless runtime image build (images/build.sh: debootstrap + umoci; real skopeo, chroot)', function () {
  this.timeout(900_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-image-'));
  const bundle = path.join(tmp, 'bundle');
  const procs: (RunningProcess | ChildProcess)[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) {
      // debootstrap, image file ownership and chroot need root; CI runs as root.
      console.warn('    skipped: the daemonless image build needs root');
      this.skip();
    }
    for (const tool of ['debootstrap', 'umoci', 'skopeo', 'chroot']) {
      const found = await exec('sh', ['-c', `command -v ${tool}`]);
      assert.equal(found.code, 0, `${tool} not found: apt-get install debootstrap umoci skopeo`);
      if (tool === 'chroot') chrootBin = found.stdout.trim();
    }
    const build = await exec(path.join(repoRoot, 'images', 'build.sh'), ['runtime']);
    assert.equal(build.code, 0, `images/build.sh runtime failed:\n${build.stderr.slice(-4000)}`);
  });

  after(async () => {
    for (const p of procs) {
      if ('stop' in p) await p.stop('SIGKILL');
      else p.kill('SIGKILL');
    }
    for (const p of chrootProcs) p.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('writes an OCI layout skopeo reads: linux/amd64, two layers (Debian base, ASF kit), digest recorded', async () => {
    const r = await exec('skopeo', ['inspect', `oci:${layout}:${runtimeTag}`]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { Digest: string; Architecture: string; Os: string; Layers: string[]; Labels: Record<string, string> };
    assert.equal(info.Os, 'linux');
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Layers.length, 2);
    assert.equal(info.Labels['org.opencontainers.image.version'], JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
    const recorded = fs.readFileSync(path.join(images, 'digests.txt'), 'utf8');
    assert.ok(recorded.split('\n').includes(`${runtimeRef} ${info.Digest}`), `${runtimeRef} ${info.Digest} not in digests.txt:\n${recorded}`);
    // Small: compressed layers well under 200 MB.
    const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${layout}:${runtimeTag}`])).stdout) as { layers: { size: number }[] };
    const size = raw.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(size < 200e6, `layers are ${size} bytes`);
  });

  it('config runs asf as the non-root user: entrypoint node /opt/asf/bin/asf.js, user 10001', async () => {
    const r = await exec('skopeo', ['inspect', '--config', `oci:${layout}:${runtimeTag}`]);
    assert.equal(r.code, 0, r.stderr);
    const { config } = JSON.parse(r.stdout) as { config: { Entrypoint: string[]; Cmd: string[]; User: string; WorkingDir: string; ExposedPorts: object } };
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', '/opt/asf/bin/asf.js']);
    assert.deepEqual(config.Cmd, ['--help']);
    assert.equal(config.User, '10001:10001');
    assert.equal(config.WorkingDir, '/opt/asf');
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['5090/tcp', '8889/tcp']);
  });

  it('its unpacked rootfs, under chroot as user 10001, starts asf loader on the echo capability and answers a request through a gateway', async () => {
    const unpack = await exec('umoci', ['unpack', '--image', `${layout}:${runtimeTag}`, bundle]);
    assert.equal(unpack.code, 0, unpack.stderr);
    const rootfs = path.join(bundle, 'rootfs');
    // No compilers or package caches in the image; Python is there for Python wrappers.
    const tools = await exec(chrootBin, [rootfs, 'sh', '-c', 'command -v gcc cc make g++; ls /var/lib/apt/lists | wc -l; python3 --version']);
    const [lists, python] = tools.stdout.trim().split('\n').slice(-2);
    assert.equal(lists, '0', 'apt lists left in the image');
    assert.match(python!, /^Python 3\.11\./);
    assert.doesNotMatch(tools.stdout, /gcc|\/cc|make|g\+\+/);

    const port = await freePort();
    const loader = await runImage(rootfs, runtimeTag, ['loader', '--capability', '/opt/asf/examples/echo', '--host', '127.0.0.1', '--port', String(port)]);
    const output = loader.output();
    assert.match(output, /"capability":"\/opt\/asf\/examples\/echo"/);

    const gatewayPort = await freePort();
    const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(gatewayPort), '--loader', `127.0.0.1:${port}`]);
    procs.push(gateway);
    const url = `http://127.0.0.1:${gatewayPort}`;
    await waitHealthy(url);
    const { status, json } = await post(`${url}/v1/private/echo`, { header: { app_id: 'a' }, parameter: { echo: { mode: 'upper' } }, payload: { text: { text: b64('from the image') } } });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(Buffer.from(json.payload.result.text, 'base64').toString(), 'FROM THE IMAGE');
  });
});

describe('daemonless mmocr image build (images/build.sh mmocr: runtime layers + capability layer)', function () {
  this.timeout(900_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-image-mmocr-'));
  const procs: RunningProcess[] = [];
  const mmocrTag = runtimeTag.replace(/^asf-runtime-/, 'asf-mmocr-');

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: the daemonless image build needs root');
      this.skip();
    }
    const build = await exec(path.join(repoRoot, 'images', 'build.sh'), ['mmocr']);
    assert.equal(build.code, 0, `images/build.sh mmocr failed:\n${build.stderr.slice(-4000)}`);
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    for (const p of chrootProcs) p.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shares the runtime layers in the one layout and adds one layer; its default command serves mmocr', async () => {
    const layers = async (tag: string) => (JSON.parse((await exec('skopeo', ['inspect', `oci:${layout}:${tag}`])).stdout) as { Layers: string[] }).Layers;
    const [runtime, mmocr] = [await layers(runtimeTag), await layers(mmocrTag)];
    assert.equal(mmocr.length, 3);
    assert.deepEqual(mmocr.slice(0, 2), runtime);
    const config = await imageConfig(mmocrTag);
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', '/opt/asf/bin/asf.js']);
    assert.deepEqual(config.Cmd, ['loader', '--capability', '/opt/asf/capabilities/mmocr']);
    assert.equal(config.User, '10001:10001');
  });

  it('its rootfs under chroot serves the OCR model offline; asf demo mmocr from the runtime image (the helm test hook) reads the sample', async () => {
    const bundle = path.join(tmp, 'bundle');
    const unpack = await exec('umoci', ['unpack', '--image', `${layout}:${mmocrTag}`, bundle]);
    assert.equal(unpack.code, 0, unpack.stderr);
    const config = await imageConfig(mmocrTag);
    const port = await freePort();
    // The image's default command, plus where to listen.
    await runImage(path.join(bundle, 'rootfs'), mmocrTag, [...config.Cmd!, '--host', '127.0.0.1', '--port', String(port)]);
    const gatewayPort = await freePort();
    const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(gatewayPort), '--loader', `127.0.0.1:${port}`]);
    procs.push(gateway);
    const url = `http://127.0.0.1:${gatewayPort}`;
    await waitHealthy(url, 120_000);
    // The demo call as the chart's helm test hook makes it: from the runtime image, as its user.
    const runtimeBundle = path.join(tmp, 'runtime-bundle');
    assert.equal((await exec('umoci', ['unpack', '--image', `${layout}:${runtimeTag}`, runtimeBundle])).code, 0);
    const runtime = await imageConfig(runtimeTag);
    const demo = await exec(chrootBin, [`--userspec=${runtime.User}`, path.join(runtimeBundle, 'rootfs'), ...runtime.Entrypoint, 'demo', 'mmocr', '--url', url, '--timeout', '60000']);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /image +\/opt\/asf\/examples\/mmocr\/sample\.jpg/);
    assert.match(demo.stdout, /ASF ?KIT/);
    assert.match(demo.stdout, /AthenaServing ?demo/);
  });
});
