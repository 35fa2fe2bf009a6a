// The shipped bundle: `asf bundle build` of offline-bundle/bundle.yaml (cpu profile) builds our
// images without a daemon (images/build.sh), fills registry/, and writes both artefacts; they
// verify, and docker-registry serves the runtime and mmocr images from them by the digests the
// image build recorded. Slow (several minutes: the mmocr image holds the OCR engine and models);
// needs root like the image build.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveRegistry } from '../installer/registry/serve.js';
import { asfBin, repoRoot } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

interface BundleJson {
  images: { ref: string; repository: string; tag: string; digest: string }[];
  resources: { path: string; sha256: string }[];
  charts: { name: string }[];
}

describe('the shipped offline bundle (offline-bundle/bundle.yaml, cpu profile; daemonless image build, docker-registry, skopeo)', function () {
  this.timeout(1_800_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-offline-bundle-'));
  let manifest: BundleJson;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: the daemonless image build needs root');
      this.skip();
    }
    const r = await exec(process.execPath, [asfBin, 'bundle', 'build', '-o', out]);
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    assert.match(r.stdout, /asf-0\.1\.0\.oci\.tar: \d+ files verified/);
    assert.match(r.stdout, /asf-offline-0\.1\.0\.tar\.gz: \d+ files verified/);
    const inspected = await exec(process.execPath, [asfBin, 'bundle', 'inspect', '--json', path.join(out, 'asf-offline-0.1.0.tar.gz')]);
    assert.equal(inspected.code, 0, inspected.stderr);
    manifest = JSON.parse(inspected.stdout) as BundleJson;
  });

  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('carries the runtime and mmocr images by the digests images/build.sh recorded, the chart and the OCR models', () => {
    const recorded = new Map(
      fs
        .readFileSync(path.join(repoRoot, '.cache', 'images', 'digests.txt'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    assert.deepEqual(manifest.images.map((i) => i.ref), ['ghcr.io/asf-kit/asf-runtime:0.1.0', 'ghcr.io/asf-kit/asf-mmocr:0.1.0']);
    for (const image of manifest.images) assert.equal(image.digest, recorded.get(image.ref), image.ref);
    assert.deepEqual(manifest.charts.map((c) => c.name), ['asf']);
    assert.deepEqual(
      manifest.resources.map((r) => r.path),
      ['ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'].map((f) => `resources/mmocr-models/${f}`),
    );
  });

  it('the extracted offline tarball serves both images by digest, and its entrypoint and install script are there', async () => {
    const dir = path.join(out, 'extracted');
    const x = await exec(process.execPath, [asfBin, 'bundle', 'extract', path.join(out, 'asf-offline-0.1.0.tar.gz'), '-C', dir]);
    assert.equal(x.code, 0, x.stderr);
    for (const file of ['entrypoint.sh', 'install.sh', 'Kubefile', 'charts/asf/Chart.yaml', 'images/shim/asf-images']) assert.ok(fs.existsSync(path.join(dir, file)), file);
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
