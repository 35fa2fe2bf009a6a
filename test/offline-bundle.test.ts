// The shipped bundle: `asf bundle build` of offline-bundle/bundle.yaml (cpu profile) builds our
// images without a daemon (images/build.sh), fills registry/, and writes both artefacts; they
// verify, and docker-registry serves the runtime and mmocr images from them by the digests the
// image build recorded. Slow (several minutes: the mmocr image holds the OCR engine and models);
// needs root like the image build.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { serveRegistry } from '../installer/registry/serve.js';
import { shippedBundle } from './helpers/shipped-bundle.js';
import { asfBin, repoRoot } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

interface BundleJson {
  images: { ref: string; repository: string; tag: string; digest: string }[];
  resources: { path: string; sha256: string }[];
  charts: { name: string }[];
}

interface BundleValues {
  global: { imageDigests: Record<string, string> };
  capabilities: Record<string, { enabled: boolean; image: { repository: string; tag: string }; sample?: string; resources?: unknown }>;
}

describe('the shipped offline bundle (offline-bundle/bundle.yaml, cpu profile; daemonless image build, docker-registry, skopeo)', function () {
  this.timeout(1_800_000);
  let out: string;
  let manifest: BundleJson;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: the daemonless image build needs root');
      this.skip();
    }
    const bundle = await shippedBundle();
    out = bundle.out;
    assert.match(bundle.build.stdout, /asf-0\.1\.0\.oci\.tar: \d+ files verified/);
    assert.match(bundle.build.stdout, /asf-offline-0\.1\.0\.tar\.gz: \d+ files verified/);
    const inspected = await exec(process.execPath, [asfBin, 'bundle', 'inspect', '--json', bundle.tarball]);
    assert.equal(inspected.code, 0, inspected.stderr);
    manifest = JSON.parse(inspected.stdout) as BundleJson;
  });

  it('carries the runtime and mmocr images by the digests images/build.sh recorded, the capabilities asf build made (layout from bundle.yaml, hello from --capability), and the chart; the OCR models only inside the mmocr image', () => {
    const recorded = new Map(
      fs
        .readFileSync(path.join(repoRoot, '.cache', 'images', 'digests.txt'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    assert.deepEqual(manifest.images.map((i) => i.ref), [
      'ghcr.io/asf-kit/asf-runtime:0.1.0',
      'ghcr.io/asf-kit/asf-mmocr:0.1.0',
      'asf.local/capabilities/layout:v1',
      'asf.local/capabilities/hello:v1',
    ]);
    for (const image of manifest.images.slice(0, 2)) assert.equal(image.digest, recorded.get(image.ref), image.ref);
    assert.deepEqual(manifest.charts.map((c) => c.name), ['asf']);
    // Not shipped twice: the Pods load the models the image carries (checked against
    // images/mmocr/models.sha256 when it is built), so the bundle has no copy beside it.
    assert.deepEqual(manifest.resources, []);
  });

  it('the extracted offline tarball serves every image by digest, enables the capabilities pinned to theirs, and its entrypoint and install script are there', async () => {
    const dir = path.join(out, 'extracted');
    const x = await exec(process.execPath, [asfBin, 'bundle', 'extract', path.join(out, 'asf-offline-0.1.0.tar.gz'), '-C', dir]);
    assert.equal(x.code, 0, x.stderr);
    for (const file of ['entrypoint.sh', 'install.sh', 'Kubefile', 'charts/asf/Chart.yaml', 'images/shim/asf-images', 'README.md']) assert.ok(fs.existsSync(path.join(dir, file)), file);
    // What a site reads first: how to install from this folder, listed in checksums like the rest.
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    assert.match(readme, /\.\/install\.sh --serve-registry/);
    assert.match(readme, /\.\/install\.sh --registry /);
    assert.match(fs.readFileSync(path.join(dir, 'checksums'), 'utf8'), /^[0-9a-f]{64}  README\.md$/m);
    // The capabilities asf build made are enabled, pinned to the digests carried, with their sample.
    const values = yaml.load(fs.readFileSync(path.join(dir, 'charts', 'asf.values.yaml'), 'utf8')) as BundleValues;
    for (const [name, image] of [['layout', manifest.images[2]!], ['hello', manifest.images[3]!]] as const) {
      const capability = values.capabilities[name];
      assert.equal(capability?.enabled, true, name);
      assert.equal(values.global.imageDigests[`${capability.image.repository}:${capability.image.tag}`], image.digest, name);
    }
    assert.equal(values.capabilities['layout']?.sample, 'request.json');
    assert.deepEqual(values.capabilities['layout']?.resources, { requests: { cpu: '150m', memory: '256Mi' }, limits: { memory: '1Gi' } });
    const registry = await serveRegistry(path.join(dir, 'registry'), { readonly: true, binary: path.join(dir, 'bin', 'registry') });
    try {
      for (const image of manifest.images) {
        const r = await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}} {{.Os}}/{{.Architecture}}', `docker://${registry.host}/${image.repository}@${image.digest}`]);
        assert.equal(r.code, 0, `${image.ref}: ${r.stderr}`);
        assert.equal(r.stdout.trim(), `${image.digest} linux/amd64`);
      }
    } finally {
      await registry.stop();
    }
  });
});

describe('the shipped offline bundle, gpu profile (stand-in GPU package files; the images images.test built)', function () {
  this.timeout(600_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-offline-gpu-'));
  const packages = path.join(work, 'packages');
  const shipped = fs.readFileSync(path.join(repoRoot, 'offline-bundle', 'bundle.yaml'), 'utf8');
  const packageNames = [...shipped.matchAll(/\$\{ASF_GPU_PACKAGES\}\/(\S+\.deb)/g)].map((m) => m[1]!);

  before(function () {
    if (process.getuid?.() !== 0 || !fs.existsSync(path.join(repoRoot, '.cache', 'images', 'oci', 'index.json'))) {
      console.warn('    skipped: needs root and the OCI layout images/build.sh writes');
      this.skip();
    }
    fs.mkdirSync(packages);
    for (const name of packageNames) fs.writeFileSync(path.join(packages, name), `stand-in for ${name}\n`);
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  const build = (file: string, out: string) =>
    exec(process.execPath, [asfBin, 'bundle', 'build', '-f', file, '--profile', 'gpu', '--skip-image-build', '-o', out], { env: { ...process.env, ASF_GPU_PACKAGES: packages } });

  it('refuses package files whose sha256 differs from bundle.yaml before any image work, naming the file and both digests', async () => {
    const out = path.join(work, 'out-shipped');
    const r = await build(path.join(repoRoot, 'offline-bundle', 'bundle.yaml'), out);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /packages\/nvidia-container-toolkit\/nvidia-container-toolkit_1\.17\.3-1_amd64\.deb: sha256 of \S+ is [0-9a-f]{64}, bundle\.yaml expects 0{64}/);
    assert.doesNotMatch(r.stderr, /^bundle: images:/m, 'no image was copied first');
    assert.deepEqual(fs.existsSync(out) ? fs.readdirSync(out).filter((name) => !name.startsWith('.')) : [], []);
  });

  it('with matching packages: builds with the NVIDIA device plugin where its registry is reachable, else fails naming that image', async () => {
    // The shipped definition with this test's package digests, and paths made absolute for its new folder.
    const sha = (name: string) => createHash('sha256').update(fs.readFileSync(path.join(packages, name))).digest('hex');
    let text = shipped.replaceAll('../', `${repoRoot}/`);
    for (const name of packageNames) text = text.replace(new RegExp(`(${name.replaceAll('.', '\\.')}\\n\\s+sha256: )"0{64}"`), `$1"${sha(name)}"`);
    const file = path.join(work, 'bundle.yaml');
    fs.writeFileSync(file, text);
    const out = path.join(work, 'out-gpu');
    const r = await build(file, out);
    const plugin = 'nvcr.io/nvidia/k8s-device-plugin:v0.17.1';
    if (r.code === 0) {
      const inspected = await exec(process.execPath, [asfBin, 'bundle', 'inspect', '--json', path.join(out, 'asf-offline-0.1.0.tar.gz')]);
      const manifest = JSON.parse(inspected.stdout) as BundleJson;
      assert.ok(manifest.images.some((i) => i.ref === plugin), inspected.stdout);
      assert.deepEqual(manifest.charts.map((c) => c.name).sort(), ['asf', 'nvidia-device-plugin']);
      return;
    }
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${plugin.replaceAll('.', '\\.')}: cannot read ${plugin.replaceAll('.', '\\.')}: the registry nvcr\\.io could not be reached`));
    assert.deepEqual(fs.readdirSync(out).filter((name) => !name.startsWith('.')), [], 'no artefact under a final name');
  });
});
