// Capability folders in a bundle: `asf bundle build --capability DIR` and bundle.yaml `capabilities:`
// build each with asf build, carry its image, and enable it in our chart's values (image by digest,
// folder, sample request), so the install needs no values written by hand. Real asf build (umoci,
// chroot), docker-registry, helm; needs root like test/build.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { asfBin, repoRoot } from './helpers/stack.js';
import { exec, helm } from './helpers/tools.js';

interface Values {
  capabilities: Record<string, { enabled: boolean; image: { registry: string; repository: string; tag: string }; path: string; sample?: string; config: object; replicas?: number }>;
  global: { imageDigests: Record<string, string> };
}

describe('asf bundle build with capability folders (asf build, docker-registry, helm)', function () {
  this.timeout(900_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-bundle-caps-'));
  // An images folder of this suite's own, the runtime image copied in (the gateway, and every capability's base).
  const images = path.join(tmp, 'images');
  const env = { ASF_IMAGES: images };
  const asf = (args: string[]) => exec(process.execPath, [asfBin, ...args], { cwd: tmp, env });
  const specFile = path.join(tmp, 'bundle.yaml');
  const out = path.join(tmp, 'out');
  const root = path.join(out, '.caps-1.0.0-cpu.work', 'root');

  const writeSpec = (capabilities: string[] = []) =>
    fs.writeFileSync(
      specFile,
      [
        'name: caps',
        'version: 1.0.0',
        // The chart's own mmocr demo stays out: this bundle carries only what it is given.
        'profiles: {cpu: {values: {capabilities: {mmocr: {enabled: false}}}}}',
        'images:',
        '  - build: runtime',
        'charts:',
        `  - path: ${path.join(repoRoot, 'charts', 'asf')}`,
        ...(capabilities.length ? ['capabilities:', ...capabilities] : []),
      ].join('\n') + '\n',
    );
  const build = (...args: string[]) => asf(['bundle', 'build', '-f', specFile, '-o', out, '--skip-image-build', '--only', 'offline', ...args]);
  const scaffold = async (name: string, lang: string, dir = name) => {
    const r = await asf(['new', name, '--lang', lang, '--dir', path.join(tmp, dir)]);
    assert.equal(r.code, 0, r.stderr);
    return path.join(tmp, dir);
  };

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: asf build needs root (chroot, file ownership)');
      this.skip();
    }
    const base = await exec(path.join(repoRoot, 'images', 'build.sh'), ['runtime']);
    assert.equal(base.code, 0, `images/build.sh runtime failed:\n${base.stderr.slice(-4000)}`);
    fs.mkdirSync(images);
    const copy = await exec('skopeo', ['copy', '--quiet', `oci:${path.join(repoRoot, '.cache', 'images', 'oci')}:asf-runtime-0.1.0`, `oci:${path.join(images, 'oci')}:asf-runtime-0.1.0`]);
    assert.equal(copy.code, 0, copy.stderr);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('--capability DIR (repeatable) and capabilities: both land as images by digest, enabled in the values with their folder and sample; verify passes; the chart renders a loader and a check Pod for each', async () => {
    const py = await scaffold('pyhello', 'python');
    const js = await scaffold('jshello', 'js');
    writeSpec([`  - {path: ${js}, values: {replicas: 2}}`]);
    const r = await build('--capability', py);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 capabilities/);

    const bundle = JSON.parse(fs.readFileSync(path.join(root, 'bundle.json'), 'utf8')) as { images: { ref: string; digest: string }[] };
    const digestOf = (ref: string) => bundle.images.find((i) => i.ref === ref)?.digest;
    for (const id of ['pyhello', 'jshello']) assert.match(digestOf(`asf.local/capabilities/${id}:v1`) ?? '', /^sha256:[0-9a-f]{64}$/, `${id} not in bundle.json`);

    const values = yaml.load(fs.readFileSync(path.join(root, 'charts', 'asf.values.yaml'), 'utf8')) as Values;
    assert.deepEqual(values.capabilities['pyhello'], {
      enabled: true,
      image: { registry: 'asf.local', repository: 'capabilities/pyhello', tag: 'v1' },
      path: '/opt/asf/capabilities/pyhello',
      config: {},
      sample: 'request.json',
    });
    assert.equal(values.capabilities['jshello']!.replicas, 2, "bundle.yaml's values for it apply over the generated ones");
    assert.equal(values.global.imageDigests['capabilities/pyhello:v1'], digestOf('asf.local/capabilities/pyhello:v1'));

    const verify = await asf(['bundle', 'verify', path.join(out, 'caps-offline-1.0.0.tar.gz')]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    const rendered = await helm(['template', 'asf', path.join(root, 'charts', 'asf'), '--values', path.join(root, 'charts', 'asf.values.yaml')]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const docs = yaml.loadAll(rendered.stdout).filter(Boolean) as { kind: string; metadata: { name: string }; spec: any }[];
    const deploy = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'asf-pyhello')!;
    assert.equal(deploy.spec.template.spec.containers[0].image, `asf.local/capabilities/pyhello:v1@${digestOf('asf.local/capabilities/pyhello:v1')}`);
    assert.equal(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'asf-jshello')!.spec.replicas, 2);
    const check = docs.find((d) => d.kind === 'Pod' && d.metadata.name === 'asf-pyhello-check')!;
    assert.deepEqual(check.spec.containers[0].args.slice(-3), ['--timeout', '120000', '/opt/asf/capabilities/pyhello/request.json']);
    assert.ok(!docs.some((d) => d.metadata.name === 'asf-mmocr'), 'mmocr stays out');
  });

  describe('refuses before writing any artefact, naming the folders', () => {
    const refused = async (message: RegExp, ...dirs: string[]) => {
      fs.rmSync(out, { recursive: true, force: true });
      writeSpec();
      const r = await build(...dirs.flatMap((d) => ['--capability', d]));
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!fs.existsSync(path.join(out, 'caps-offline-1.0.0.tar.gz')));
    };

    it('two folders with the same serviceId', async () => {
      const a = await scaffold('twin', 'js', 'twin-a');
      const b = await scaffold('twin', 'js', 'twin-b');
      await refused(new RegExp(`capabilities: ${a} and ${b} both have serviceId 'twin'; a bundle serves each serviceId once`), a, b);
    });

    it("a serviceId that names the chart's gateway, or its own mmocr demo", async () => {
      await refused(/has serviceId 'gateway', the name of the gateway; rename it/, await scaffold('gateway', 'js'));
      await refused(/has serviceId 'mmocr', the name of the chart's own mmocr capability; rename it/, await scaffold('mmocr', 'js'));
    });

    it('a serviceId Kubernetes cannot name objects after', async () => {
      await refused(/has serviceId 'Hello_World', which cannot name its Kubernetes objects/, await scaffold('Hello_World', 'js'));
    });

    it('a folder that does not exist', async () => {
      await refused(/capabilities: .*\/nowhere is not a folder/, path.join(tmp, 'nowhere'));
    });
  });
});
