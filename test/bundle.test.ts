// asf bundle build / verify / inspect / extract, end to end with real tools and no internet: tiny
// images written into an OCI layout by the test, a "third-party" multi-platform image in a real
// docker-registry that requires basic auth, Debian's docker-registry serving the built registry/,
// skopeo reading every image back by digest, umoci unpacking the cluster image.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveRegistry, type RunningRegistry } from '../installer/registry/serve.js';
import { ociImage, ociIndex } from './helpers/oci-fixture.js';
import { recordingTools } from './helpers/recording-tools.js';
import { asfBin, freePort, repoRoot } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

interface BundleJson {
  name: string;
  version: string;
  images: { ref: string; repository: string; tag: string; digest: string; mediaType: string; platform: string; size: number; blobs: string[] }[];
  resources: { path: string; sha256: string }[];
}

const asf = (args: string[]) => exec(process.execPath, [asfBin, ...args]);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const base = { 'etc/os-release': 'NAME=tiny\n', 'bin/busy': 'b'.repeat(200_000) };
const blobsDir = (root: string) => path.join(root, 'docker', 'registry', 'v2', 'blobs', 'sha256');

/** Every blob file under a registry/ folder: digest → [bytes, mtimeMs, inode]. */
function blobFiles(registryRoot: string): Map<string, { size: number; mtimeMs: number; ino: number }> {
  const out = new Map<string, { size: number; mtimeMs: number; ino: number }>();
  for (const prefix of fs.readdirSync(blobsDir(registryRoot))) {
    for (const hex of fs.readdirSync(path.join(blobsDir(registryRoot), prefix))) {
      const stat = fs.statSync(path.join(blobsDir(registryRoot), prefix, hex, 'data'));
      out.set(`sha256:${hex}`, { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino });
    }
  }
  return out;
}

/** skopeo reads every image bundle.json lists from a registry serving `registryRoot`, by digest. */
async function assertServesEveryImage(registryRoot: string, manifest: BundleJson, copyTo: string) {
  const registry = await serveRegistry(registryRoot, { readonly: true });
  try {
    for (const image of manifest.images) {
      const byDigest = `docker://${registry.host}/${image.repository}@${image.digest}`;
      const tagged = await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${registry.host}/${image.repository}:${image.tag}`]);
      assert.equal(tagged.code, 0, tagged.stderr);
      assert.equal(tagged.stdout.trim(), image.digest, `${image.ref}: tag resolves to another digest`);
      const copied = await exec('skopeo', ['copy', '--src-tls-verify=false', '--preserve-digests', '--all', byDigest, `oci:${copyTo}:${image.repository.replaceAll('/', '-')}`]);
      assert.equal(copied.code, 0, `${image.ref}: ${copied.stderr}`);
    }
  } finally {
    await registry.stop();
  }
}

describe('asf bundle: build, verify, inspect, extract (tiny images, docker-registry, skopeo, umoci)', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-bundle-'));
  const layout = path.join(tmp, 'layout');
  const out = path.join(tmp, 'out');
  const specFile = path.join(tmp, 'bundle.yaml');
  const authfile = path.join(tmp, 'auth.json');
  let vendor: RunningRegistry;
  let vendorRef: string;
  /** Digest of the vendor's two-platform index (what its tag points at). */
  let vendorIndex: string;
  const platforms: Record<string, string> = {};
  let manifest: BundleJson;
  const model = 'model weights v1\n'.repeat(1000);
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  function writeSpec(file: string, extra: { images?: string[]; charts?: string; resourceSha?: string; topLevel?: string; app?: string; vendor?: string } = {}) {
    fs.writeFileSync(
      file,
      [
        'name: tiny',
        'version: 1.0.0',
        'profiles: {cpu: {}}',
        ...(extra.topLevel ? [extra.topLevel] : []),
        'images:',
        extra.app ?? `  - {ref: example.test/tiny/app:1.0, oci: "${layout}:app"}`,
        `  - {ref: example.test/tiny/tool:1.0, oci: "${layout}:tool"}`,
        extra.vendor ?? `  - {ref: "${vendorRef}", insecure: true}`,
        ...(extra.images ?? []),
        'charts:',
        `  - path: ${extra.charts ?? path.join(repoRoot, 'test', 'fixtures', 'bundle', 'chart')}`,
        'resources:',
        '  - name: models',
        `    files: [{path: model.bin, sha256: "${extra.resourceSha ?? sha256(model)}"}]`,
        'packages:',
        '  - name: toolkit',
        `    files: [{path: toolkit.deb, sha256: "${sha256('not really a deb')}"}]`,
      ].join('\n') + '\n',
    );
  }

  before(async function () {
    for (const tool of ['docker-registry', 'skopeo', 'umoci', 'htpasswd']) {
      const found = await exec('sh', ['-c', `command -v ${tool}`]);
      assert.equal(found.code, 0, `${tool} not found: bash scripts/setup.sh installs it`);
    }
    ociImage(layout, 'app', [base, { 'app/main': 'app v1' }]);
    ociImage(layout, 'tool', [base, { 'tool/main': 'tool v1' }]);
    fs.writeFileSync(path.join(tmp, 'model.bin'), model);
    fs.writeFileSync(path.join(tmp, 'toolkit.deb'), 'not really a deb');

    // A vendor's registry with basic auth, holding a two-platform image.
    const vendorLayout = path.join(tmp, 'vendor-layout');
    const amd = ociImage(vendorLayout, 'plugin-amd64', [{ 'plugin': 'amd64 build' }], { os: 'linux', architecture: 'amd64' });
    const arm = ociImage(vendorLayout, 'plugin-arm64', [{ 'plugin': 'arm64 build' }], { os: 'linux', architecture: 'arm64' });
    platforms['linux/amd64'] = amd.digest;
    platforms['linux/arm64'] = arm.digest;
    vendorIndex = ociIndex(vendorLayout, 'plugin', [
      { blob: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { blob: arm, platform: { os: 'linux', architecture: 'arm64' } },
    ]).digest;
    const htpasswd = await exec('htpasswd', ['-Bbn', 'vendor', 's3cret']);
    fs.writeFileSync(path.join(tmp, 'htpasswd'), htpasswd.stdout);
    vendor = await serveRegistry(path.join(tmp, 'vendor-registry'), { htpasswd: path.join(tmp, 'htpasswd') });
    vendorRef = `${vendor.host}/vendor/plugin:2.0`;
    const pushed = await exec('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', 'vendor:s3cret', `oci:${vendorLayout}:plugin`, `docker://${vendorRef}`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    fs.writeFileSync(authfile, JSON.stringify({ auths: { [vendor.host]: { auth: Buffer.from('vendor:s3cret').toString('base64') } } }));

    writeSpec(specFile);
    const built = await asf(['bundle', 'build', '-f', specFile, '-o', out, '--authfile', authfile]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /tiny-1\.0\.0\.oci\.tar: \d+ files verified/);
    manifest = JSON.parse(fs.readFileSync(path.join(out, '.tiny-1.0.0-cpu.work', 'root', 'bundle.json'), 'utf8')) as BundleJson;
  });

  after(async () => {
    await vendor?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('writes the cluster image, the offline tarball, their manifest, SBOM and digests under their final names, nothing half-written', async () => {
    const names = fs.readdirSync(out).filter((n) => !n.startsWith('.')).sort();
    assert.deepEqual(names, ['tiny-1.0.0.manifest.md', 'tiny-1.0.0.oci.tar', 'tiny-1.0.0.sbom.spdx.json', 'tiny-1.0.0.sha256', 'tiny-gpu-driver-1.0.0.oci.tar', 'tiny-offline-1.0.0.tar.gz']);
    const sums = await exec('sha256sum', ['-c', 'tiny-1.0.0.sha256'], { cwd: out });
    assert.equal(sums.code, 0, sums.stdout + sums.stderr);
    assert.match(sums.stdout, /tiny-1\.0\.0\.oci\.tar: OK\ntiny-gpu-driver-1\.0\.0\.oci\.tar: OK\ntiny-offline-1\.0\.0\.tar\.gz: OK/);
    const sbom = JSON.parse(fs.readFileSync(path.join(out, 'tiny-1.0.0.sbom.spdx.json'), 'utf8')) as { spdxVersion: string; packages: { name: string; checksums?: { checksumValue: string }[] }[] };
    assert.equal(sbom.spdxVersion, 'SPDX-2.3');
    for (const image of manifest.images) {
      assert.ok(sbom.packages.some((p) => p.name === image.ref && p.checksums?.[0]?.checksumValue === image.digest.slice(7)), `${image.ref} not in the SBOM`);
    }
    assert.match(fs.readFileSync(path.join(out, 'tiny-1.0.0.manifest.md'), 'utf8'), /\| example\.test\/tiny\/app:1\.0 \| sha256:/);
    assert.deepEqual(
      manifest.images.map((i) => i.ref),
      ['example.test/tiny/app:1.0', 'example.test/tiny/tool:1.0', vendorRef],
    );
    assert.equal(manifest.resources[0]!.sha256, sha256(model));
  });

  it('the cluster image: skopeo reads its config (Kubefile labels, env, CMD); umoci unpacks registry/ at the root', async () => {
    const archive = path.join(out, 'tiny-1.0.0.oci.tar');
    const config = await exec('skopeo', ['inspect', '--config', `oci-archive:${archive}`]);
    assert.equal(config.code, 0, config.stderr);
    const c = (JSON.parse(config.stdout) as { config: { Cmd: string[]; Env: string[]; Labels: Record<string, string> } }).config;
    assert.deepEqual(c.Cmd, ['bash entrypoint.sh']);
    assert.ok(c.Env.includes('RELEASE_NAME=asf') && c.Env.includes('NODE_PORT=30889'), c.Env.join(' '));
    assert.equal(c.Labels['sealos.io.type'], 'application');
    assert.equal(c.Labels['org.opencontainers.image.version'], '1.0.0');
    assert.equal((JSON.parse(config.stdout) as { architecture: string }).architecture, 'amd64');
    const named = await exec('skopeo', ['inspect', '--format', '{{.Digest}}', `oci-archive:${archive}:tiny:1.0.0`]);
    assert.equal(named.code, 0, named.stderr);

    const ociDir = path.join(tmp, 'cluster-oci');
    fs.mkdirSync(ociDir);
    assert.equal((await exec('tar', ['-xf', archive, '-C', ociDir])).code, 0);
    const unpacked = path.join(tmp, 'cluster-unpacked');
    const r = await exec('umoci', ['unpack', '--rootless', '--image', `${ociDir}:tiny:1.0.0`, unpacked]);
    assert.equal(r.code, 0, r.stderr);
    const rootfs = path.join(unpacked, 'rootfs');
    for (const entry of ['Kubefile', 'entrypoint.sh', 'charts/tiny/Chart.yaml', 'images/shim/tiny-images', 'registry/docker/registry/v2', 'resources/models/model.bin', 'bundle.json', 'checksums']) {
      assert.ok(fs.existsSync(path.join(rootfs, entry)), `${entry} missing at the image root`);
    }
    assert.equal(fs.readFileSync(path.join(rootfs, 'resources/models/model.bin'), 'utf8'), model);
    // The Kubefile copies exactly what the layer holds (sealos build in this root makes this image),
    // and the GPU node packages are in the driver patch image only.
    const kubefile = fs.readFileSync(path.join(rootfs, 'Kubefile'), 'utf8');
    const copied = [...kubefile.matchAll(/^COPY (\S+) \1$/gm)].map((m) => m[1]);
    assert.deepEqual(copied, fs.readdirSync(rootfs).sort());
    assert.ok(!copied.includes('packages') && !copied.includes('install-driver.sh'), copied.join(' '));
    assert.match(kubefile, /^LABEL org\.opencontainers\.image\.version="1\.0\.0" io\.asf-kit\.bundle\.profile="cpu"$/m);
    assert.doesNotMatch(fs.readFileSync(path.join(rootfs, 'checksums'), 'utf8'), /packages\/|install-driver\.sh/);
    assert.deepEqual(
      fs.readFileSync(path.join(rootfs, 'images/shim/tiny-images'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')),
      manifest.images.map((i) => i.ref),
    );
    await assertServesEveryImage(path.join(rootfs, 'registry'), manifest, path.join(tmp, 'copied-from-cluster-image'));
  });

  it('the offline tarball, extracted: install.sh and the tools, sha256sum -c passes, docker-registry serves every image by digest, its own bin/asf verifies it', async () => {
    const dir = path.join(tmp, 'offline');
    const r = await asf(['bundle', 'extract', path.join(out, 'tiny-offline-1.0.0.tar.gz'), '-C', dir]);
    assert.equal(r.code, 0, r.stderr);
    for (const tool of ['install.sh', 'bin/registry', 'bin/helm', 'bin/asf', 'install-driver.sh']) assert.ok(fs.statSync(path.join(dir, tool)).mode & 0o100, `${tool} not executable`);
    const sums = await exec('sha256sum', ['-c', '--quiet', 'checksums'], { cwd: dir });
    assert.equal(sums.code, 0, sums.stdout + sums.stderr);
    assert.match(fs.readFileSync(path.join(dir, 'checksums'), 'utf8'), /^[0-9a-f]{64} {2}bin\/asf$/m);
    // The single-file asf (npm run build:exe) it carries, for a site without Node.js.
    const verified = await exec(path.join(dir, 'bin', 'asf'), ['bundle', 'verify', dir], { env: { PATH: '/usr/sbin:/sbin' } });
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /: ok \(\d+ files, \d+ registry blobs verified\)\n$/);
    // A copy served again serves the same digests.
    const copy = path.join(tmp, 'offline-copy');
    fs.cpSync(dir, copy, { recursive: true });
    await assertServesEveryImage(path.join(copy, 'registry'), manifest, path.join(tmp, 'copied-from-tarball'));
    const bundled = await exec(path.join(copy, 'bin', 'registry'), ['--version']);
    assert.equal(bundled.code, 0, bundled.stderr);
  });

  it("the offline tarball installs with its own install.sh: every image pushed by digest (stand-in helm/kubectl, no Node.js on PATH)", async () => {
    const tools = recordingTools();
    tools.scenario({});
    const target = await serveRegistry(path.join(tmp, 'site-registry'));
    try {
      const dir = path.join(tmp, 'offline');
      const r = await exec('/bin/bash', [path.join(dir, 'install.sh'), '--bundle', dir, '--registry', target.host, '--plain-http'], {
        cwd: tmp,
        // The bundle's own helm would look for a real cluster: the stand-in takes its place.
        env: { PATH: tools.path, ASF_STATE_DIR: path.join(tmp, 'install-state'), ASF_HELM: path.join(tools.dir, 'standin-bin', 'helm'), ...tools.env },
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      for (const image of manifest.images) {
        const inspected = await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${target.host}/${image.repository}@${image.digest}`]);
        assert.equal(inspected.code, 0, `${image.ref}: ${inspected.stderr}`);
      }
      assert.ok(tools.calls().some((c) => c.startsWith('helm upgrade --install') && c.includes(`global.imageRegistry=${target.host}`)), tools.calls().join('\n'));
    } finally {
      await target.stop();
      fs.rmSync(tools.dir, { recursive: true, force: true });
    }
  });

  it('bundles with GPU packages also get a sealos patch image: packages, install-driver.sh, CMD running it on every node', async () => {
    const archive = path.join(out, 'tiny-gpu-driver-1.0.0.oci.tar');
    const config = await exec('skopeo', ['inspect', '--config', `oci-archive:${archive}`]);
    assert.equal(config.code, 0, config.stderr);
    const c = (JSON.parse(config.stdout) as { config: { Cmd: string[]; Labels: Record<string, string> } }).config;
    assert.equal(c.Labels['sealos.io.type'], 'patch');
    assert.deepEqual(c.Cmd, ['bash install-driver.sh']);
    const v = await asf(['bundle', 'verify', archive]);
    assert.equal(v.code, 0, v.stderr);
    const dir = path.join(tmp, 'driver-image');
    assert.equal((await asf(['bundle', 'extract', archive, '-C', dir])).code, 0);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['MANIFEST.md', 'bundle.json', 'checksums', 'install-driver.sh', 'packages', 'sbom.spdx.json']);
    assert.equal(fs.readFileSync(path.join(dir, 'packages', 'toolkit', 'toolkit.deb'), 'utf8'), 'not really a deb');
  });

  it('stores a layer shared by two images once (blob count and bytes)', () => {
    const registryRoot = path.join(out, '.tiny-1.0.0-cpu.work', 'root', 'registry');
    const files = blobFiles(registryRoot);
    const [app, tool] = manifest.images;
    const shared = app!.blobs.filter((b) => tool!.blobs.includes(b));
    assert.equal(shared.length, 1, 'the two tiny images share exactly their base layer');
    const wanted = new Set(manifest.images.flatMap((i) => [i.digest, ...i.blobs]));
    // The vendor image is one platform: its manifest and blobs, no index.
    assert.equal(files.size, wanted.size, `blobs on disk: ${[...files.keys()].join(' ')}`);
    const bytesOnDisk = [...files.values()].reduce((s, f) => s + f.size, 0);
    const bytesIfCopied = manifest.images.reduce((s, i) => s + i.size, 0);
    assert.equal(bytesIfCopied - bytesOnDisk, files.get(shared[0]!)!.size, 'exactly one copy of the shared layer saved');
  });

  it("keeps only the wanted platform of a third-party image, pulled with the registry's credentials", () => {
    const plugin = manifest.images[2]!;
    assert.equal(plugin.platform, 'linux/amd64');
    assert.equal(plugin.digest, platforms['linux/amd64']);
  });

  it('--platform adds platforms: the index lists just those, every child stored', async () => {
    const out2 = path.join(tmp, 'out-multi');
    const r = await asf(['bundle', 'build', '-f', specFile, '-o', out2, '--authfile', authfile, '--platform', 'linux/amd64', '--platform', 'linux/arm64', '--only', 'oci']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(fs.readFileSync(path.join(out2, '.tiny-1.0.0-cpu.work', 'root', 'bundle.json'), 'utf8')) as BundleJson;
    const plugin = m.images[2]!;
    assert.equal(plugin.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(plugin.platform, 'linux/amd64,linux/arm64');
    // The cluster image itself: one config per platform over the same layer, each naming its architecture.
    const archive = path.join(out2, 'tiny-1.0.0.oci.tar');
    for (const arch of ['amd64', 'arm64']) {
      const i = await exec('skopeo', ['inspect', '--override-arch', arch, '--config', `oci-archive:${archive}`]);
      assert.equal(i.code, 0, i.stderr);
      assert.equal((JSON.parse(i.stdout) as { architecture: string }).architecture, arch);
    }
    const verified = await asf(['bundle', 'verify', archive]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    // The first two (our single-platform images) cannot offer arm64, but they are ours: kept as they are.
    const noArm = await asf(['bundle', 'build', '-f', specFile, '-o', path.join(tmp, 'out-riscv'), '--authfile', authfile, '--platform', 'linux/riscv64', '--only', 'oci']);
    assert.equal(noArm.code, 1);
    assert.match(noArm.stderr, new RegExp(`${vendorRef.replace(/[.:/]/g, '\\$&')}: no linux/riscv64 image in its index \\(it has: linux/amd64, linux/arm64\\)`));
  });

  it('fails clearly without the credentials a third-party registry wants, and writes no artefact', async () => {
    const out3 = path.join(tmp, 'out-noauth');
    const r = await asf(['bundle', 'build', '-f', specFile, '-o', out3]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${vendorRef.replace(/[.:/]/g, '\\$&')}: cannot read`));
    assert.match(r.stderr, /unauthorized|authentication required/i);
    assert.deepEqual(fs.readdirSync(out3).filter((n) => !n.startsWith('.')), []);
  });

  it('fails clearly when a third-party registry cannot be reached: names the image and the registry, exit 1, no artefact', async () => {
    // A loopback port reserved and released again: nothing listens there.
    const port = await freePort();
    const ref = `127.0.0.1:${port}/vendor/gone:1.0`;
    const file = path.join(tmp, 'unreachable.yaml');
    writeSpec(file, { images: [`  - {ref: "${ref}", insecure: true}`] });
    const target = path.join(tmp, 'out-unreachable');
    const r = await asf(['bundle', 'build', '-f', file, '-o', target, '--authfile', authfile]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`^asf: ${escape(ref)}: cannot read ${escape(ref)}: the registry 127\\.0\\.0\\.1:${port} could not be reached: connection refused`, 'm'));
    assert.doesNotMatch(r.stderr, /level=fatal|dial tcp|pinging container registry/, 'a raw skopeo error instead of a message');
    assert.deepEqual(fs.readdirSync(target).filter((n) => !n.startsWith('.')), [], 'an artefact (or a partial one) under its final name');
  });

  it('a third-party image pinned by digest is pulled by that digest (the tag names it in registry/)', async () => {
    const file = path.join(tmp, 'pinned.yaml');
    writeSpec(file, { vendor: `  - {ref: "${vendorRef}", insecure: true, digest: "${vendorIndex}"}` });
    const target = path.join(tmp, 'out-pinned');
    const r = await asf(['bundle', 'build', '-f', file, '-o', target, '--authfile', authfile, '--only', 'oci']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(fs.readFileSync(path.join(target, '.tiny-1.0.0-cpu.work', 'root', 'bundle.json'), 'utf8')) as BundleJson;
    // The build records what it stored: the linux/amd64 image of the pinned index.
    assert.equal(m.images[2]!.digest, platforms['linux/amd64']);
    assert.equal(m.images[2]!.tag, '2.0');
  });

  it('a pinned digest the third-party registry does not have fails naming the image, the pinned digest and the one its tag has', async () => {
    const wrong = `sha256:${sha256('not the plugin')}`;
    const file = path.join(tmp, 'pinned-wrong.yaml');
    writeSpec(file, { vendor: `  - {ref: "${vendorRef}", insecure: true, digest: "${wrong}"}` });
    const target = path.join(tmp, 'out-pinned-wrong');
    const r = await asf(['bundle', 'build', '-f', file, '-o', target, '--authfile', authfile]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`${escape(vendorRef)}: the pinned digest ${wrong} is not in ${escape(vendor.host)}/vendor/plugin \\(its tag 2\\.0 points at ${vendorIndex} there now\\)`));
    assert.deepEqual(fs.readdirSync(target).filter((n) => !n.startsWith('.')), []);
  });

  it('an image of ours whose digest is not the pinned one fails naming the image and both digests', async () => {
    const wrong = `sha256:${sha256('not the app')}`;
    const file = path.join(tmp, 'pinned-ours.yaml');
    writeSpec(file, { app: `  - {ref: example.test/tiny/app:1.0, oci: "${layout}:app", digest: "${wrong}"}` });
    const target = path.join(tmp, 'out-pinned-ours');
    const r = await asf(['bundle', 'build', '-f', file, '-o', target, '--authfile', authfile]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`example\\.test/tiny/app:1\\.0: digest ${manifest.images[0]!.digest} does not match the pinned ${wrong}`));
    assert.deepEqual(fs.readdirSync(target).filter((n) => !n.startsWith('.')), []);
  });

  it('verify: a clean bundle passes in all three forms', async () => {
    for (const file of [path.join(out, 'tiny-1.0.0.oci.tar'), path.join(out, 'tiny-offline-1.0.0.tar.gz'), path.join(tmp, 'offline')]) {
      const r = await asf(['bundle', 'verify', file]);
      assert.equal(r.code, 0, `${file}: ${r.stderr}`);
      const blobs = new Set(manifest.images.flatMap((i) => [i.digest, ...i.blobs])).size;
      assert.match(r.stdout, new RegExp(`ok \\(\\d+ files, ${blobs} registry blobs verified\\)`));
    }
  });

  it('verify names a blob with one byte changed, a deleted file and an added file', async () => {
    const copy = path.join(tmp, 'tampered');
    fs.cpSync(path.join(tmp, 'offline'), copy, { recursive: true });
    const layer = manifest.images[0]!.blobs[2]!.slice(7);
    const blob = path.join(copy, 'registry/docker/registry/v2/blobs/sha256', layer.slice(0, 2), layer, 'data');
    const bytes = fs.readFileSync(blob);
    bytes[bytes.length - 1]! ^= 0x01;
    fs.writeFileSync(blob, bytes);
    fs.rmSync(path.join(copy, 'charts/tiny/values.yaml'));
    fs.writeFileSync(path.join(copy, 'resources/models/extra.bin'), 'smuggled');

    const r = await asf(['bundle', 'verify', copy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`registry blob sha256:${layer} is corrupt`));
    assert.match(r.stderr, /missing file charts\/tiny\/values\.yaml \(listed in checksums\)/);
    assert.match(r.stderr, /unlisted file resources\/models\/extra\.bin/);
  });

  it('verify reads a tampered cluster image archive and names the changed file', async () => {
    const copy = path.join(tmp, 'tampered.oci.tar');
    const bytes = fs.readFileSync(path.join(out, 'tiny-1.0.0.oci.tar'));
    const at = bytes.indexOf(Buffer.from('model weights v1'));
    assert.ok(at > 0);
    bytes[at] = 'M'.charCodeAt(0);
    fs.writeFileSync(copy, bytes);
    const r = await asf(['bundle', 'verify', copy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /checksum mismatch for resources\/models\/model\.bin/);
    assert.match(r.stderr, /cluster image blob sha256:[0-9a-f]{64}: content hashes to/);
  });

  it('verify and extract report a truncated tarball instead of crashing, and extract leaves nothing', async () => {
    const cut = path.join(tmp, 'cut.tar.gz');
    const full = fs.readFileSync(path.join(out, 'tiny-offline-1.0.0.tar.gz'));
    fs.writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
    const v = await asf(['bundle', 'verify', cut]);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /asf: .+/);
    const target = path.join(tmp, 'cut-extract');
    const x = await asf(['bundle', 'extract', cut, '-C', target]);
    assert.equal(x.code, 1);
    assert.ok(!fs.existsSync(target), 'a failed extraction left the target folder');
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('cut-extract')), []);
  });

  for (const [title, script] of [
    ['a path with ..', "add('bundle.json', b'{}'); add('../evil', b'x')"],
    ['an absolute path', "add('/tmp/asf-evil-abs', b'x')"],
    ['a symlink leaving the folder', "link('registry', '../../../etc', tarfile.SYMTYPE)"],
    ['a hard link to /etc/passwd', "link('passwd', '/etc/passwd', tarfile.LNKTYPE)"],
  ] as const) {
    it(`extract and verify refuse a crafted tarball with ${title}`, async () => {
      const evil = path.join(tmp, `evil-${title.replace(/\W+/g, '-')}.tar.gz`);
      const py = [
        'import io, sys, tarfile',
        "t = tarfile.open(sys.argv[1], 'w:gz')",
        "def add(name, data):\n  i = tarfile.TarInfo('asf-offline-1.0.0/' + name if not name.startswith('/') else name); i.size = len(data); t.addfile(i, io.BytesIO(data))",
        "def link(name, target, kind):\n  i = tarfile.TarInfo('asf-offline-1.0.0/' + name); i.type = kind; i.linkname = target; t.addfile(i)",
        "add('checksums', b'')",
        script,
        't.close()',
      ].join('\n');
      const made = await exec('python3', ['-c', py, evil]);
      assert.equal(made.code, 0, made.stderr);
      const target = path.join(tmp, 'evil-target');
      const x = await asf(['bundle', 'extract', evil, '-C', target]);
      assert.equal(x.code, 1);
      assert.match(x.stderr, /refusing to extract .+:\n {2}\S.*: (path contains '\.\.'|absolute path|link escapes the bundle|link to an absolute path)/);
      assert.ok(!fs.existsSync(target), 'target folder created');
      assert.ok(!fs.existsSync(path.join(tmp, 'evil')) && !fs.existsSync('/tmp/asf-evil-abs'), 'a file was written outside the target');
      const v = await asf(['bundle', 'verify', evil]);
      assert.equal(v.code, 1);
      assert.match(v.stderr, /unsafe entry /);
    });
  }

  it('inspect lists images with digests and sizes without extracting; --json is bundle.json', async () => {
    const r = await asf(['bundle', 'inspect', path.join(out, 'tiny-1.0.0.oci.tar')]);
    assert.equal(r.code, 0, r.stderr);
    for (const image of manifest.images) assert.match(r.stdout, new RegExp(`\\| ${image.ref.replace(/[.:/]/g, '\\$&')} \\| ${image.digest} \\|`));
    assert.match(r.stdout, /\| resources\/models\/model\.bin \| [0-9a-f]{64} \| 17 KiB \|/);
    const j = await asf(['bundle', 'inspect', '--json', path.join(out, 'tiny-offline-1.0.0.tar.gz')]);
    assert.deepEqual(JSON.parse(j.stdout), manifest);
  });

  it('a re-build copies no unchanged blob, and drops the blobs an updated image no longer uses', async () => {
    const registryRoot = path.join(out, '.tiny-1.0.0-cpu.work', 'root', 'registry');
    const before = blobFiles(registryRoot);
    const oldToolLayer = manifest.images[1]!.blobs[2]!;
    ociImage(layout, 'tool', [base, { 'tool/main': 'tool v2' }]);
    const r = await asf(['bundle', 'build', '-f', specFile, '-o', out, '--authfile', authfile]);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(fs.readFileSync(path.join(registryRoot, '..', 'bundle.json'), 'utf8')) as BundleJson;
    const after = blobFiles(registryRoot);
    const newTool = m.images[1]!;
    assert.notEqual(newTool.digest, manifest.images[1]!.digest);
    assert.ok(!after.has(oldToolLayer), 'the replaced layer is still in registry/');
    for (const [digest, file] of after) {
      const old = before.get(digest);
      if (old) assert.deepEqual(file, old, `${digest} was rewritten`);
    }
    const added = [...after.keys()].filter((d) => !before.has(d));
    assert.equal(added.length, 3, `new blobs: ${added.join(' ')} (manifest, config, layer of tool v2)`);
    const v = await asf(['bundle', 'verify', path.join(out, 'tiny-offline-1.0.0.tar.gz')]);
    assert.equal(v.code, 0, v.stderr);
    manifest = m;
  });

  it('an interrupted build leaves no artefact under its final name; the next build completes', async () => {
    const out4 = path.join(tmp, 'out-interrupted');
    fs.mkdirSync(out4);
    // Enough bytes that the archive is still being written when the signal lands.
    const big = path.join(tmp, 'big.bin');
    const chunk = Buffer.alloc(1 << 20, 7);
    const fd = fs.openSync(big, 'w');
    for (let i = 0; i < 96; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    const bigSha = (await exec('sha256sum', [big])).stdout.split(' ')[0]!;
    const spec = path.join(tmp, 'bundle-big.yaml');
    writeSpec(spec);
    fs.appendFileSync(spec, `  - name: big\n    files: [{path: big.bin, sha256: "${bigSha}"}]\n`); // one more package: bytes are bytes

    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, [asfBin, 'bundle', 'build', '-f', spec, '-o', out4, '--authfile', authfile, '--only', 'oci'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const watcher = fs.watch(out4);
      await new Promise<void>((resolve) => {
        watcher.on('change', (_e, name) => {
          if (String(name).endsWith('.partial')) resolve();
        });
      });
      child.kill(signal);
      watcher.close();
      await exited;
      assert.ok(!fs.existsSync(path.join(out4, 'tiny-1.0.0.oci.tar')), `${signal}: artefact under its final name`);
      if (signal === 'SIGTERM') assert.ok(!fs.existsSync(path.join(out4, 'tiny-1.0.0.oci.tar.partial')), 'SIGTERM left the partial file');
    }
    const r = await asf(['bundle', 'build', '-f', spec, '-o', out4, '--authfile', authfile, '--only', 'oci']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(out4).filter((n) => !n.startsWith('.')), ['tiny-1.0.0.manifest.md', 'tiny-1.0.0.oci.tar', 'tiny-1.0.0.sbom.spdx.json', 'tiny-1.0.0.sha256', 'tiny-gpu-driver-1.0.0.oci.tar']);
  });

  describe('bad definitions fail before writing anything, naming what is wrong', () => {
    const cases: [string, (file: string) => void, RegExp][] = [
      ['an unknown key', (f) => writeSpec(f, { topLevel: 'imagez: []' }), /\(top level\): must NOT have additional properties 'imagez'/],
      ['a resource whose sha256 differs', (f) => writeSpec(f, { resourceSha: 'a'.repeat(64) }), /resources\/models\/model\.bin: sha256 of .+model\.bin is [0-9a-f]{64}, bundle\.yaml expects a{64}/],
      ['an image missing from its OCI layout', (f) => writeSpec(f, { images: [`  - {ref: example.test/tiny/gone:1.0, oci: "${layout}:gone"}`] }), /example\.test\/tiny\/gone:1\.0: cannot copy from oci:.+:gone/],
      ['two registries with the same repository', (f) => writeSpec(f, { images: ['  - {ref: "other.test/tiny/app:1.0"}'] }), /example\.test\/tiny\/app:1\.0 and other\.test\/tiny\/app:1\.0 would both be stored as tiny\/app:1\.0/],
      ['a chart using an image the bundle lacks', (f) => writeSpec(f, { charts: path.join(tmp, 'chart-extra') }), /chart tiny uses images the bundle does not carry: example\.test\/tiny\/extra:9/],
      [
        'an image of ours whose layer in its OCI layout is corrupt',
        (f) => {
          const corrupt = path.join(tmp, 'layout-corrupt');
          fs.rmSync(corrupt, { recursive: true, force: true });
          fs.cpSync(layout, corrupt, { recursive: true });
          const index = JSON.parse(fs.readFileSync(path.join(corrupt, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
          const app = index.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === 'app')!;
          const layer = (JSON.parse(fs.readFileSync(path.join(corrupt, 'blobs', 'sha256', app.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] }).layers[1]!;
          fs.appendFileSync(path.join(corrupt, 'blobs', 'sha256', layer.digest.slice(7)), 'x');
          writeSpec(f, { app: `  - {ref: example.test/tiny/app:1.0, oci: "${corrupt}:app"}` });
        },
        /example\.test\/tiny\/app:1\.0: blob sha256:[0-9a-f]{64} in \S+layout-corrupt is corrupt: its content hashes to sha256:[0-9a-f]{64}/,
      ],
    ];
    for (const [title, write, expected] of cases) {
      it(title, async () => {
        fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'bundle', 'chart'), path.join(tmp, 'chart-extra'), { recursive: true });
        fs.appendFileSync(path.join(tmp, 'chart-extra', 'values.yaml'), 'extra: {image: example.test/tiny/extra:9}\n');
        fs.writeFileSync(path.join(tmp, 'chart-extra', 'templates', 'extra.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: extra}\nspec:\n  containers:\n    - name: x\n      image: {{ .Values.extra.image }}\n');
        const file = path.join(tmp, 'bad.yaml');
        write(file);
        const target = path.join(tmp, 'out-bad');
        fs.rmSync(target, { recursive: true, force: true });
        const r = await asf(['bundle', 'build', '-f', file, '-o', target, '--authfile', authfile]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, expected);
        const left = fs.existsSync(target) ? fs.readdirSync(target).filter((n) => !n.startsWith('.')) : [];
        assert.deepEqual(left, []);
      });
    }
  });
});
