// The single asf executable (npm run build:exe → dist/exe/asf) run as an air-gapped site runs it:
// with no Node.js on its PATH (bash, coreutils and the install tools only). Each command it keeps
// answers as `node bin/asf.js` does; the ones it cannot run say so in one line.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildExecutable, type BuiltExecutable } from '../installer/exe/build.js';
import { buildBundleFixture, startRegistry, type Fixture, type Registry } from './helpers/bundle-fixture.js';
import { recordingTools, type RecordingTools } from './helpers/recording-tools.js';
import { asfBin, repoRoot, startStack, type Stack } from './helpers/stack.js';
import { exec, type Result } from './helpers/tools.js';

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };

describe('asf as one executable (dist/exe/asf, no Node.js on its PATH)', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-exe-test-'));
  let built: BuiltExecutable;
  let tools: RecordingTools;
  let fixture: Fixture;

  const exe = (args: string[], env: Record<string, string> = {}): Promise<Result> =>
    exec(built.file, args, { cwd: tmp, env: { PATH: tools.path, ASF_STATE_DIR: path.join(tmp, 'state'), ...tools.env, ...env } });
  const node = (args: string[]): Promise<Result> => exec(process.execPath, [asfBin, ...args], { cwd: tmp });

  before(async () => {
    built = await buildExecutable();
    tools = recordingTools();
    tools.scenario({});
    fixture = await buildBundleFixture({
      version: '0.1.0',
      images: [
        { repository: 'asf-kit/asf-runtime', tag: '0.1.0', layers: ['base', 'runtime-0.1.0'] },
        { repository: 'asf-kit/asf-mmocr', tag: '0.1.0', layers: ['base', 'mmocr-0.1.0'] },
      ],
      root: path.join(tmp, 'asf-offline-0.1.0'),
    });
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(tools.dir, { recursive: true, force: true });
  });

  it('is one 0755 file, and the PATH it runs with here has no node', async () => {
    assert.equal(fs.statSync(built.file).mode & 0o777, 0o755);
    const r = await exec('/bin/bash', ['-c', 'command -v node || echo "no node"'], { env: { PATH: tools.path } });
    assert.equal(r.stdout.trim(), 'no node');
  });

  describe('npm run build:exe (installer/exe/build.ts)', () => {
    const copy = path.join(repoRoot, 'dist', `exe-test-${process.pid}`);
    after(() => fs.rmSync(copy, { recursive: true, force: true }));

    it('leaves the executable as it is when nothing that goes into it changed', async () => {
      const before = fs.statSync(built.file);
      const again = await buildExecutable();
      assert.equal(again.cached, true);
      assert.equal(fs.statSync(built.file).mtimeMs, before.mtimeMs);
      assert.equal(again.bytes, before.size);
    });

    it('is reproducible: built again from scratch it is byte for byte the same', async () => {
      const before = sha256(built.file);
      fs.rmSync(path.join(repoRoot, 'dist', 'exe', 'asf.inputs'));
      const again = await buildExecutable();
      assert.equal(again.cached, false);
      assert.equal(sha256(again.file), before);
    });

    it('is built again when the CLI changed', async () => {
      // A dist/ of its own beside the real one (so that node_modules resolves the same), its cli/ a copy.
      fs.mkdirSync(copy);
      fs.cpSync(path.join(repoRoot, 'dist', 'cli'), path.join(copy, 'cli'), { recursive: true });
      for (const dir of ['runtime', 'installer']) fs.symlinkSync(path.join(repoRoot, 'dist', dir), path.join(copy, dir));
      const first = await buildExecutable({ dist: copy });
      assert.equal((await buildExecutable({ dist: copy })).cached, true);
      const firstSum = sha256(first.file);
      fs.appendFileSync(path.join(copy, 'cli', 'main.js'), '\nglobalThis.asfRebuildMark = 1;\n');
      const changed = await buildExecutable({ dist: copy });
      assert.equal(changed.cached, false);
      assert.notEqual(sha256(changed.file), firstSum);
    });

    it('fails naming what is missing when the CLI was not compiled', async () => {
      await assert.rejects(buildExecutable({ dist: path.join(tmp, 'no-dist') }), /no-dist\/cli\/main\.js missing: compile first \(npx tsc -p tsconfig\.json\)/);
    });
  });

  it("--version prints package.json's version; --help lists the commands as the npm package's asf does", async () => {
    const v = await exe(['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout, `${version}\n`);
    const help = await exe(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of ['install', 'uninstall', 'status', 'check', 'demo', 'call', 'bundle']) assert.match(help.stdout, new RegExp(`^  ${command}[ |]`, 'm'));
    assert.equal(help.stdout, (await node(['--help'])).stdout);
    assert.equal((await exe(['bundle', '--help'])).stdout, (await node(['bundle', '--help'])).stdout);
  });

  it('asf up (and the other commands that need the npm package) exit 1 with one asf: line, no stack trace', async () => {
    for (const args of [['up'], ['gateway'], ['loader', '-c', 'x'], ['bundle', 'build'], ['new', 'x'], ['config', 'list']]) {
      const r = await exe(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stdout, '');
      const name = args[0] === 'bundle' ? 'bundle build' : args[0] === 'config' ? 'config list' : args[0];
      assert.equal(r.stderr, `asf: ${name} is not in this single-file asf: it needs the asf-kit npm package (Node.js 20 and the package's files); this one runs install, uninstall, status, check, demo, call, usage and bundle verify|inspect|extract\n`);
    }
  });

  describe('bundle verify, inspect and extract answer as the node CLI does', () => {
    const tarball = () => path.join(tmp, 'asf-offline-0.1.0.tar.gz');
    before(async () => {
      const r = await exec('tar', ['-czf', tarball(), '-C', tmp, 'asf-offline-0.1.0']);
      assert.equal(r.code, 0, r.stderr);
    });

    for (const args of [['verify'], ['inspect'], ['inspect', '--json']]) {
      it(`bundle ${args.join(' ')}: the same output and exit code, for the folder and the tarball`, async () => {
        for (const artefact of [fixture.root, tarball()]) {
          const ours = await exe(['bundle', ...args, artefact]);
          const theirs = await node(['bundle', ...args, artefact]);
          assert.equal(ours.code, 0, ours.stderr);
          assert.deepEqual(ours, theirs);
        }
      });
    }

    it('bundle verify of a damaged bundle: exit 1 naming the file, as the node CLI says it', async () => {
      const damaged = path.join(tmp, 'damaged');
      fs.cpSync(fixture.root, damaged, { recursive: true });
      fs.appendFileSync(path.join(damaged, 'bundle.json'), ' ');
      const ours = await exe(['bundle', 'verify', damaged]);
      assert.equal(ours.code, 1);
      assert.match(ours.stderr, /bundle\.json/);
      assert.deepEqual(ours, await node(['bundle', 'verify', damaged]));
    });

    it('bundle extract: the same files and bytes as the bundle; an existing target is refused', async () => {
      const into = path.join(tmp, 'extracted');
      const r = await exe(['bundle', 'extract', tarball(), '-C', into]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `extracted ${tarball()} into ${into}\n`);
      const sums = await exec('sha256sum', ['-c', '--quiet', 'checksums'], { cwd: into });
      assert.equal(sums.code, 0, sums.stdout + sums.stderr);
      assert.equal(sha256(path.join(into, 'bundle.json')), sha256(path.join(fixture.root, 'bundle.json')));
      const again = await exe(['bundle', 'extract', tarball(), '-C', into]);
      assert.equal(again.code, 1);
      assert.deepEqual(again, await node(['bundle', 'extract', tarball(), '-C', into]));
    });
  });

  describe('install and status (stand-in helm and kubectl, real docker-registry)', () => {
    let target: Registry;
    before(async () => {
      target = await startRegistry(fs.mkdtempSync(path.join(tmp, 'target-')));
    });
    after(async () => {
      await target?.stop();
    });

    it('asf install --bundle DIR pushes every image to the registry by digest, then installs the release', async () => {
      const r = await exe(['install', '--bundle', fixture.root, '--registry', target.addr, '--plain-http']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      for (const image of fixture.images) {
        const inspected = await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${target.addr}/${image.repository}@${image.digest}`]);
        assert.equal(inspected.code, 0, inspected.stderr);
        assert.equal(inspected.stdout.trim(), image.digest);
      }
      assert.ok(tools.calls().some((c) => c.startsWith('helm upgrade --install') && c.includes(`global.imageRegistry=${target.addr}`)), tools.calls().join('\n'));
    });

    it('bin/asf of an extracted bundle, given no --bundle, checks that bundle: status finds its images in the registry and uninstall its release', async () => {
      const own = path.join(fixture.root, 'bin', 'asf');
      fs.mkdirSync(path.dirname(own), { recursive: true });
      fs.copyFileSync(built.file, own);
      fs.chmodSync(own, 0o755);
      const env = { PATH: tools.path, ASF_STATE_DIR: path.join(tmp, 'state'), ...tools.env };
      const status = await exec(own, ['status', '--registry', target.addr, '--plain-http', '--gateway', 'http://127.0.0.1:1'], { cwd: tmp, env });
      for (const image of fixture.images) assert.ok(status.stdout.includes(`image ${image.repository}:${image.tag}@${image.digest} present in ${target.addr}`), status.stdout);
      assert.match(status.stdout, /release asf in asf: deployed/);
      const uninstall = await exec(own, ['uninstall'], { cwd: tmp, env });
      assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
      assert.ok(tools.calls().includes('helm uninstall asf --namespace asf --wait --timeout 5m'), tools.calls().join('\n'));
    });

    it('asf status --local: no local stack, exit 0', async () => {
      const r = await exe(['status', '--local']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'status: no local stack is running\n');
    });
  });

  describe('call, check and demo mmocr against a real gateway (asf up from the npm package: echo and mmocr)', () => {
    const echo = path.join(repoRoot, 'examples', 'echo');
    const mmocr = path.join(repoRoot, 'examples', 'mmocr');
    let stack: Stack;
    before(async () => {
      stack = await startStack(['-c', echo, '-c', mmocr]);
    });
    after(async () => {
      await stack?.stop();
    });

    it('asf call: the decoded answer, as the node CLI prints it', async () => {
      const args = ['call', `${stack.url}/v1/private/echo`, '-i', 'text=hello offline', '-P', 'mode=upper', '--output', 'result:plain', '--decode'];
      const ours = await exe(args);
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, 'result: HELLO OFFLINE\n');
      assert.deepEqual(ours, await node(args));
    });

    it('asf call of a service the gateway does not serve: exit 1, the 10404 answer', async () => {
      const r = await exe(['call', `${stack.url}/v1/private/nope`, '-i', 'text=x']);
      assert.equal(r.code, 1);
      assert.equal(JSON.parse(r.stdout).header.code, 10404);
    });

    it('asf demo mmocr sends the sample embedded in the executable and prints the three lines it read', async () => {
      const r = await exe(['demo', 'mmocr', '--gateway', stack.url]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^image  examples\/mmocr\/sample\.jpg$/m);
      assert.match(r.stdout, /^demo ok: mmocr read 3 text boxes: "ASF ?KIT", "OFFLINE ?OCR ?2026", "AthenaServing ?demo"\n$/m);
      // The same boxes as from the sample file the npm package reads.
      const boxes = (text: string) => text.split('\n').filter((line) => /^ +\d+ +\d/.test(line));
      assert.deepEqual(boxes(r.stdout), boxes((await node(['demo', 'mmocr', '--gateway', stack.url])).stdout));
    });

    it('asf demo mmocr --image of a missing file: exit 1, one asf: line naming it', async () => {
      const r = await exe(['demo', 'mmocr', '--gateway', stack.url, '--image', path.join(tmp, 'no-such.jpg')]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `asf: cannot read image ${path.join(tmp, 'no-such.jpg')}: ENOENT\n`);
    });

    it("asf check: mmocr's sample request answered", async () => {
      const r = await exe(['check', '--gateway', stack.url, mmocr]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^check mmocr: ok in \d+ ms; boxes: 3 boxes: "ASF ?KIT", "OFFLINE ?OCR ?2026", "AthenaServing ?demo"\ncheck ok: 1 capabilities answered\n$/);
    });
  });
});
