// The daemonless image build (images/build.sh: debootstrap + umoci, no Docker), checked with
// real skopeo and umoci, and the unpacked rootfs run under chroot. Slow (about 2 minutes the first
// time, while the Debian base layer is built and cached in .cache/images/base); needs root and
// the Debian packages debootstrap, umoci and skopeo.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';
import { exec } from './helpers/tools.js';
import { OciImages } from './helpers/oci-image.js';

const images = path.join(repoRoot, '.cache', 'images');
const layout = path.join(images, 'oci');
const runtimeRef = (yaml.load(fs.readFileSync(path.join(repoRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] }).images.find(
  (i) => i.name === 'runtime',
)!.ref;
const runtimeTag = `${runtimeRef.slice(0, runtimeRef.lastIndexOf(':')).split('/').pop()}-${runtimeRef.slice(runtimeRef.lastIndexOf(':') + 1)}`;


const oci = new OciImages(layout);
const imageConfig = (tag: string) => oci.config(tag);
const runImage = (rootfs: string, tag: string, args?: string[]) => oci.run(rootfs, tag, args);

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
    const debootstrap = await exec('sh', ['-c', 'command -v debootstrap']);
    assert.equal(debootstrap.code, 0, 'debootstrap not found: apt-get install debootstrap umoci skopeo');
    await oci.checkTools();
    const build = await exec(path.join(repoRoot, 'images', 'build.sh'), ['runtime']);
    assert.equal(build.code, 0, `images/build.sh runtime failed:\n${build.stderr.slice(-4000)}`);
  });

  after(async () => {
    for (const p of procs) {
      if ('stop' in p) await p.stop('SIGKILL');
      else p.kill('SIGKILL');
    }
    oci.stopAll();
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
    const tools = await oci.chroot(rootfs, ['sh', '-c', 'command -v gcc cc make g++; ls /var/lib/apt/lists | wc -l; python3 --version']);
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
    oci.stopAll();
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
    const demo = await oci.chroot(path.join(runtimeBundle, 'rootfs'), [...runtime.Entrypoint, 'demo', 'mmocr', '--url', url, '--timeout', '60000'], runtime.User);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    // The shipped sample, named by its path in the package (/opt/asf in the image).
    assert.ok(fs.existsSync(path.join(runtimeBundle, 'rootfs', 'opt', 'asf', 'examples', 'mmocr', 'sample.jpg')));
    assert.match(demo.stdout, /^image +examples\/mmocr\/sample\.jpg$/m);
    assert.match(demo.stdout, /ASF ?KIT/);
    assert.match(demo.stdout, /AthenaServing ?demo/);
  });
});

describe('daemonless CUDA runtime image build (images/build.sh runtime-cuda: runtime layers + CUDA libraries from NVIDIA wheels)', function () {
  this.timeout(900_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-image-cuda-'));
  const cudaRef = (yaml.load(fs.readFileSync(path.join(repoRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] }).images.find(
    (i) => i.name === 'runtime-cuda',
  )!.ref;
  const cudaTag = `${runtimeTag}${cudaRef.slice(runtimeRef.length)}`;
  const cudart = /^nvidia-cuda-runtime-cu12==([0-9.]+)$/m.exec(fs.readFileSync(path.join(repoRoot, 'images', 'runtime-cuda', 'requirements.txt'), 'utf8'))![1]!;
  let rootfs = '';

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: the daemonless image build needs root');
      this.skip();
    }
    // Reuses the runtime image the suites above built; only the CUDA layer is new.
    const build = await exec(path.join(repoRoot, 'images', 'build.sh'), ['runtime-cuda']);
    assert.equal(build.code, 0, `images/build.sh runtime-cuda failed:\n${build.stderr.slice(-4000)}`);
    const bundle = path.join(tmp, 'bundle');
    const unpack = await exec('umoci', ['unpack', '--image', `${layout}:${cudaTag}`, bundle]);
    assert.equal(unpack.code, 0, unpack.stderr);
    rootfs = path.join(bundle, 'rootfs');
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is the runtime image plus one small layer; NVIDIA toolkit env, CUDA labels, same entrypoint and user; digest recorded', async () => {
    const inspect = async (tag: string) => {
      const r = await exec('skopeo', ['inspect', `oci:${layout}:${tag}`]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { Digest: string; Layers: string[]; Labels: Record<string, string>; Env: string[] };
    };
    const [runtime, cuda] = [await inspect(runtimeTag), await inspect(cudaTag)];
    assert.equal(cuda.Layers.length, 3);
    assert.deepEqual(cuda.Layers.slice(0, 2), runtime.Layers);
    for (const env of ['NVIDIA_VISIBLE_DEVICES=all', 'NVIDIA_DRIVER_CAPABILITIES=compute,utility', `CUDA_VERSION=${cudart}`, 'NODE_ENV=production']) {
      assert.ok(cuda.Env.includes(env), `${env} not in ${cuda.Env.join(' ')}`);
    }
    assert.equal(cuda.Labels['com.nvidia.cuda.version'], cudart);
    assert.equal(cuda.Labels['org.opencontainers.image.title'], 'asf-runtime-cuda');
    const config = await imageConfig(cudaTag);
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', '/opt/asf/bin/asf.js']);
    assert.equal(config.User, '10001:10001');
    const recorded = fs.readFileSync(path.join(images, 'digests.txt'), 'utf8');
    assert.ok(recorded.split('\n').includes(`${cudaRef} ${cuda.Digest}`), `${cudaRef} ${cuda.Digest} not in digests.txt:\n${recorded}`);
    // cudart alone: the CUDA layer stays around 1 MB compressed (headers and static libraries left out).
    const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${layout}:${cudaTag}`])).stdout) as { layers: { size: number }[] };
    assert.ok(raw.layers[2]!.size < 5e6, `CUDA layer is ${raw.layers[2]!.size} bytes`);
  });

  it('its rootfs holds only CUDA shared libraries (no headers, static libraries or Python files) and the loader cache lists libcudart.so.12', async () => {
    const files = await oci.chroot(rootfs, ['find', '/usr/local/cuda', '-type', 'f']);
    assert.equal(files.code, 0, files.stderr);
    const list = files.stdout.trim().split('\n').sort();
    assert.ok(list.includes('/usr/local/cuda/lib64/libcudart.so.12'), list.join('\n'));
    for (const f of list) assert.match(f, /^\/usr\/local\/cuda\/(lib64\/lib[^/]+\.so(\.\d+)*|licenses\/[^/]+\.txt)$/);
    const cache = await oci.chroot(rootfs, ['ldconfig', '-p']);
    assert.equal(cache.code, 0, cache.stderr);
    assert.match(cache.stdout, /libcudart\.so\.12 \(libc6,x86-64\) => \/usr\/local\/cuda\/lib64\/libcudart\.so\.12/);
    assert.equal(fs.readFileSync(path.join(rootfs, 'etc', 'ld.so.conf.d', 'cuda.conf'), 'utf8').trim(), '/usr/local/cuda/lib64');
  });

  it('under chroot as user 10001, Python loads libcudart.so.12 by soname; with no driver (no GPU here) cudaGetDeviceCount returns cudaErrorInsufficientDriver (35)', async () => {
    const config = await imageConfig(cudaTag);
    const probe = [
      'import ctypes',
      'lib = ctypes.CDLL("libcudart.so.12")',
      'version, count = ctypes.c_int(0), ctypes.c_int(-1)',
      'lib.cudaGetErrorName.restype = ctypes.c_char_p',
      'print(lib.cudaRuntimeGetVersion(ctypes.byref(version)), version.value)',
      'rc = lib.cudaGetDeviceCount(ctypes.byref(count))',
      'print(rc, lib.cudaGetErrorName(rc).decode())',
    ].join('\n');
    const r = await oci.chroot(rootfs, ['python3', '-c', probe], config.User);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [major, minor] = cudart.split('.').map(Number);
    assert.deepEqual(r.stdout.trim().split('\n'), [`0 ${major! * 1000 + minor! * 10}`, '35 cudaErrorInsufficientDriver']);
  });

  it('the Dockerfile makes the same image: same requirements, unpack script, env and labels', () => {
    const dockerfile = fs.readFileSync(path.join(repoRoot, 'images', 'runtime-cuda', 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /images\/runtime-cuda\/requirements\.txt images\/runtime-cuda\/unpack_wheels\.py/);
    assert.match(dockerfile, new RegExp(`^ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility CUDA_VERSION=${cudart.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(dockerfile, new RegExp(`^LABEL org\\.opencontainers\\.image\\.title=asf-runtime-cuda com\\.nvidia\\.cuda\\.version=${cudart.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(dockerfile, /echo \/usr\/local\/cuda\/lib64 >\/etc\/ld\.so\.conf\.d\/cuda\.conf && ldconfig/);
  });

  it('unpack_wheels.py refuses a wheel folder with no wheels, or a wheel with no CUDA libraries, saying what to do', async () => {
    const script = path.join(repoRoot, 'images', 'runtime-cuda', 'unpack_wheels.py');
    const empty = fs.mkdtempSync(path.join(tmp, 'wheels-'));
    const none = await exec('python3', [script, empty, path.join(tmp, 'prefix')]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no \.whl files in .*: download them with pip download -r requirements\.txt/);
    // A wheel of plain Python files (made here with Python's zipfile) is not a CUDA library wheel.
    const wheel = path.join(empty, 'plain-1.0-py3-none-any.whl');
    const made = await exec('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("plain/__init__.py", "")', wheel]);
    assert.equal(made.code, 0, made.stderr);
    const plain = await exec('python3', [script, empty, path.join(tmp, 'prefix')]);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /plain-1\.0-py3-none-any\.whl holds no nvidia\/\*\/lib\/\*\.so\*: is it a CUDA library wheel\?/);
  });

  it('an unknown image name fails with the list of images build.sh makes', async () => {
    const r = await exec(path.join(repoRoot, 'images', 'build.sh'), ['runtime-gpu']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown image runtime-gpu \(runtime, runtime-cuda, mmocr\)/);
  });
});
