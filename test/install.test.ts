// The cluster install (installer/install/, run as `asf install|uninstall|status|check`) against
// Debian's docker-registry on loopback, checked with skopeo; helm, kubectl and systemctl are
// recording stand-ins (no cluster here). The tools it finds on PATH include no Node.js, as on an
// air-gapped target (test/exe.test.ts runs the same through the bundle's install.sh and bin/asf).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildBundleFixture, startRegistry, writeChecksums, type Fixture, type Registry } from './helpers/bundle-fixture.js';
import { assertIndexPushed, blobPuts, holdingProxy, mounts, sharedBlobs, skopeoInspect, uniqueBlobs, uploadsAndPuts } from './helpers/registry-checks.js';
import { recordingTools, type RecordingTools } from './helpers/recording-tools.js';
import { freePort, repoRoot } from './helpers/stack.js';
import { exec, helm } from './helpers/tools.js';

const asfCli = path.join(repoRoot, 'bin', 'asf.js');
const actions = new Set(['install', 'uninstall', 'status', 'check']);

const v1Images = [
  { repository: 'asf-kit/asf-runtime', tag: '0.1.0', layers: ['base', 'runtime-0.1.0'] },
  { repository: 'asf-kit/asf-mmocr', tag: '0.1.0', layers: ['base', 'mmocr-0.1.0'] },
];
// N+1: a new runtime image; mmocr unchanged.
const v2Images = [
  { repository: 'asf-kit/asf-runtime', tag: '0.2.0', layers: ['base', 'runtime-0.2.0'] },
  { repository: 'asf-kit/asf-mmocr', tag: '0.1.0', layers: ['base', 'mmocr-0.1.0'] },
];

describe('asf install / uninstall / status / check (offline install from a bundle)', function () {
  this.timeout(300_000);
  let v1: Fixture;
  let v2: Fixture;
  let tools: RecordingTools;
  let work: string;
  const registries: Registry[] = [];

  /** Like install.sh: an action first (install when none), then its options. */
  const run = (args: string[], env: Record<string, string> = {}, PATH = tools.path) => {
    const [action, rest] = actions.has(args[0] ?? '') ? [args[0]!, args.slice(1)] : ['install', args];
    return exec(process.execPath, [asfCli, action, ...rest], { cwd: work, env: { PATH, ASF_STATE_DIR: path.join(work, 'state'), ...tools.env, ...env } });
  };

  /** A copy of bundle v1 carrying bin/registry, as the offline tarball does. */
  function v1WithRegistryServer(name: string): string {
    const bundle = path.join(work, name);
    fs.cpSync(v1.root, bundle, { recursive: true });
    fs.mkdirSync(path.join(bundle, 'bin'), { recursive: true });
    fs.rmSync(path.join(bundle, 'bin', 'registry'), { force: true }); // the serving test puts one in v1 itself
    fs.symlinkSync(path.join('/usr/bin', 'docker-registry'), path.join(bundle, 'bin', 'registry'));
    return bundle;
  }

  async function target(options: { htpasswd?: string } = {}): Promise<Registry> {
    const registry = await startRegistry(fs.mkdtempSync(path.join(work, 'target-')), options);
    registries.push(registry);
    return registry;
  }

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-install-test-'));
    v1 = await buildBundleFixture({ version: '0.1.0', images: v1Images, root: path.join(work, 'bundle-0.1.0') });
    v2 = await buildBundleFixture({ version: '0.2.0', images: v2Images, root: path.join(work, 'bundle-0.2.0') });
    tools = recordingTools();
  });
  beforeEach(() => {
    tools.scenario({});
    tools.reset();
  });
  after(async () => {
    for (const r of registries) await r.stop();
    const pidfile = path.join(work, 'state', 'registry.pid');
    if (fs.existsSync(pidfile)) stopServed(pidfile);
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(tools.dir, { recursive: true, force: true });
  });

  it('the tools it finds on PATH include no Node.js (as on an air-gapped target)', async () => {
    const r = await exec('/bin/bash', ['-c', 'command -v node || echo "no node"'], { env: { PATH: tools.path } });
    assert.equal(r.stdout.trim(), 'no node');
  });

  it('push path: pushes every image, skopeo finds each by digest, then helm upgrade -i with global.imageRegistry (stand-in helm/kubectl)', async () => {
    const registry = await target();
    const r = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(r.code, 0, r.stderr);
    for (const image of v1.images) {
      const inspected = await skopeoInspect(registry, image.repository, image.digest);
      assert.equal(inspected.code, 0, inspected.stderr);
      assert.equal(JSON.parse(inspected.stdout).Digest, image.digest);
    }
    // The base layer both images share is sent once and mounted into the second repository.
    assert.equal(blobPuts(registry.requests()).length, uniqueBlobs(v1));
    assert.equal(sharedBlobs(v1), 1);
    assert.equal(mounts(registry.requests()).length, sharedBlobs(v1));
    assert.match(r.stdout, /mounted blob asf-kit\/asf-runtime@sha256:[0-9a-f]{64} from asf-kit\/asf-mmocr/);
    // The post-install check's answers, then how to call the API.
    assert.match(r.stdout, /check mmocr: ok in 812 ms; boxes: 3 boxes: "ASF KIT"\ncheck ok: 1 capabilities answered\n/);
    assert.match(r.stdout, /curl http:\/\/10\.0\.0\.5:30889\/v1\/private\/<serviceId> .* -d @request\.json\n$/);

    const calls = tools.calls();
    const order = calls.map((c) => c.split(' ').slice(0, 3).join(' '));
    assert.deepEqual(order, [
      'kubectl version -o',
      'kubectl get nodes',
      'helm template asf', // the images the release would run, checked against the bundle
      'kubectl get namespace',
      'kubectl create namespace',
      'kubectl label namespace', // so that uninstall knows it may remove it
      'helm status asf',
      'helm upgrade --install',
      'kubectl get nodes',
      'helm status asf', // the check: the release is there,
      'kubectl -n asf', // its Deployments rolled out (none behind the stand-in),
      'helm test asf', // and each capability answers its sample request
    ]);
    const upgrade = calls.find((c) => c.startsWith('helm upgrade'))!;
    assert.match(upgrade, new RegExp(`^helm upgrade --install asf ${v1.root}/charts/asf --namespace asf --create-namespace `));
    assert.match(upgrade, new RegExp(`--set global\\.imageRegistry=${registry.addr} `));
    assert.match(upgrade, /--set gateway\.service\.nodePort=30889 /);
  });

  it('a re-run pushes nothing and leaves the helm release alone (stand-in helm)', async () => {
    const registry = await target();
    const first = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(first.code, 0, first.stderr);
    const before = registry.requests().length;
    tools.clearCalls(); // the release helm "installed" stays
    const again = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(uploadsAndPuts(registry.requests().slice(before)), []);
    assert.ok(!tools.calls().some((c) => c.startsWith('helm upgrade')), tools.calls().join('\n'));
    assert.match(again.stdout, /already has this chart and these settings; nothing to change/);
    assert.match(again.stdout, /check ok: 1 capabilities answered/);
  });

  it('the post-install check: a capability that does not answer fails the install naming it (exit 1, the release stays); --no-check skips it; asf check runs it again (stand-in helm)', async () => {
    const registry = await target();
    tools.scenario({ checkFails: true });
    const failed = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stderr, /check mmocr: FAILED: HTTP 503, code 10200: no loader of mmocr is ready/);
    assert.match(failed.stderr, /installed, but the check failed \(above\): kubectl -n asf get pods shows the loaders; re-run the check with: asf check/);
    assert.ok(tools.calls().some((c) => c.startsWith('helm upgrade')), 'the release was installed');

    tools.clearCalls();
    const skipped = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http', '--no-check']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.ok(!tools.calls().some((c) => c.startsWith('helm test')), tools.calls().join('\n'));
    assert.match(skipped.stdout, /then check: asf check/);

    tools.scenario({});
    const again = await run(['check']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /check mmocr: ok in 812 ms/);
    tools.reset();
    const none = await run(['check']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /release asf is not installed in namespace asf/);
    const bad = await run(['--bundle', v1.root, '--check-timeout', 'soon']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--check-timeout must be a positive number of seconds, got 'soon'/);
  });

  it('upgrade from bundle N to N+1 pushes only the new blobs, then helm upgrade (stand-in helm)', async () => {
    const registry = await target();
    const first = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(first.code, 0, first.stderr);
    const before = registry.requests().length;
    tools.reset();
    const r = await run(['--bundle', v2.root, '--registry', registry.addr, '--plain-http', '--set', 'gateway.image.tag=0.2.0']);
    assert.equal(r.code, 0, r.stderr);
    const had = new Set(v1.images.flatMap((i) => i.blobs.map((b) => `${i.repository}@${b}`)));
    const fresh = new Set(v2.images.flatMap((i) => i.blobs.map((b) => `${i.repository}@${b}`)).filter((b) => !had.has(b)));
    assert.equal(fresh.size, 2); // the new runtime layer and its config
    assert.equal(blobPuts(registry.requests().slice(before)).length, fresh.size);
    for (const image of v2.images) assert.equal((await skopeoInspect(registry, image.repository, image.digest)).code, 0);
    assert.ok(tools.calls().some((c) => c.startsWith(`helm upgrade --install asf ${v2.root}/charts/asf`)));
  });

  it('a multi-platform image (OCI index): its platform manifests go up before the index, skopeo finds each by digest', async () => {
    const multi = await buildBundleFixture({
      version: '0.1.0',
      images: [{ repository: 'nvidia/k8s-device-plugin', tag: 'v0.17.0', layers: ['dp-amd64'], arm64Layers: ['dp-arm64'] }],
      root: path.join(work, 'bundle-multi'),
    });
    const registry = await target();
    tools.scenario({ nodes: ['node-1 amd64  ', 'node-2 arm64  '] });
    // A bundle of just this image: the check that the chart's images are in it would refuse it.
    const r = await run(['--bundle', multi.root, '--registry', registry.addr, '--plain-http', '--skip-preflight']);
    assert.equal(r.code, 0, r.stderr);
    await assertIndexPushed(registry, multi.images[0]!);
    assert.equal(blobPuts(registry.requests()).length, 4); // two configs, two layers
  });

  it('an interrupted push resumes: the re-run sends only what is missing', async () => {
    const registry = await target();
    const holdAt = 3; // the 3rd blob upload never gets an answer; the install is killed meanwhile
    const proxy = await holdingProxy(registry.addr, holdAt);
    const child = spawn(process.execPath, [asfCli, 'install', '--bundle', v1.root, '--registry', proxy.addr, '--plain-http', '--jobs', '1'], {
      cwd: work,
      env: { ...process.env, PATH: tools.path, ...tools.env },
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await proxy.held;
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    await proxy.close();
    const done = blobPuts(registry.requests()).length;
    assert.equal(done, holdAt - 1);

    const r = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(blobPuts(registry.requests()).length - done, uniqueBlobs(v1) - done);
    for (const image of v1.images) assert.equal((await skopeoInspect(registry, image.repository, image.digest)).code, 0);
  });

  it('a registry requiring basic auth: works with credentials, fails clearly without or with a wrong password', async () => {
    const htpasswd = path.join(work, 'htpasswd');
    const password = 's3 "c\\ret'; // quotes, a backslash and a space survive the trip to curl
    const h = await exec('htpasswd', ['-Bbc', htpasswd, 'pusher', password]);
    assert.equal(h.code, 0, h.stderr);
    const registry = await target({ htpasswd });

    const without = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /registry 127\.0\.0\.1:\d+ needs credentials \(401\): give --registry-user and --registry-password/);

    const wrong = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http', '--registry-user', 'pusher', '--registry-password', 'nope']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /rejected user 'pusher' \(401\)/);
    assert.ok(!tools.calls().some((c) => c.startsWith('helm upgrade')), 'nothing installed after a failed push');

    const ok = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http', '--registry-user', 'pusher', '--registry-password', password]);
    assert.equal(ok.code, 0, ok.stderr);
    for (const image of v1.images) assert.equal((await skopeoInspect(registry, image.repository, image.digest, `pusher:${password}`)).code, 0);
    assert.equal(blobPuts(registry.requests()).length, uniqueBlobs(v1));
  });

  it('registry-serving path: the bundled registry serves the bundle read-only, skopeo pulls every image by digest, mirror config applied; uninstall --purge-registry stops it (stand-in helm/kubectl)', async () => {
    const bin = path.join(v1.root, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(path.join('/usr/bin', 'docker-registry'), path.join(bin, 'registry')); // what the tarball carries
    const port = await freePort();
    const certs = path.join(work, 'certs.d');
    const state = path.join(work, 'state');
    try {
      const r = await run(['--bundle', v1.root, '--serve-registry', `127.0.0.1:${port}`, '--advertise', `10.0.0.5:${port}`, '--apply-mirror'], {
        ASF_CONTAINERD_CERTS_DIR: certs,
      });
      assert.equal(r.code, 0, r.stderr);
      const pulled = fs.mkdtempSync(path.join(work, 'pulled-'));
      for (const image of v1.images) {
        const dest = path.join(pulled, image.repository.replace('/', '_'));
        const c = await exec('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://127.0.0.1:${port}/${image.repository}@${image.digest}`, `dir:${dest}`]);
        assert.equal(c.code, 0, c.stderr);
        for (const blob of image.blobs) assert.ok(fs.existsSync(path.join(dest, blob.replace('sha256:', ''))), `${blob} pulled`);
      }
      // Read-only: a push is refused.
      const push = await exec('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `dir:${path.join(pulled, 'asf-kit_asf-mmocr')}`, `docker://127.0.0.1:${port}/other/image:1`]);
      assert.notEqual(push.code, 0);

      const hosts = fs.readFileSync(path.join(certs, 'ghcr.io', 'hosts.toml'), 'utf8');
      // The mirror is also the server: a missing image fails there, never falls back to ghcr.io.
      assert.equal(
        hosts,
        `# written by ASF kit install.sh: the bundle's registry at 10.0.0.5:${port}\nserver = "http://10.0.0.5:${port}"\n\n[host."http://10.0.0.5:${port}"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n`,
      );
      assert.match(fs.readFileSync(path.join(certs, `10.0.0.5:${port}`, 'hosts.toml'), 'utf8'), new RegExp(`\nserver = "http://10\\.0\\.0\\.5:${port}"`));
      assert.match(r.stdout, new RegExp(`### ${certs}/ghcr\\.io/hosts\\.toml`));
      const upgrade = tools.calls().find((c) => c.startsWith('helm upgrade'))!;
      assert.doesNotMatch(upgrade, /imageRegistry/); // pods keep their names; containerd mirrors them

      // Re-run: the registry keeps serving, nothing copied again.
      const again = await run(['--bundle', v1.root, '--serve-registry', `127.0.0.1:${port}`, '--advertise', `10.0.0.5:${port}`], { ASF_CONTAINERD_CERTS_DIR: certs });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /copied 0 new files/);
      assert.match(again.stdout, /registry already serving/);

      // status finds the served registry by itself (no gateway runs here: that alone makes it exit 1).
      const status = await run(['status', '--bundle', v1.root, '--gateway', `http://127.0.0.1:${await freePort()}`]);
      assert.equal(status.code, 1, status.stdout + status.stderr);
      assert.doesNotMatch(status.stdout, /MISSING/);
      assert.match(status.stdout, /gateway http:\/\/127\.0\.0\.1:\d+: not reachable/);
      for (const image of v1.images) assert.ok(status.stdout.includes(`image ${image.repository}:${image.tag}@${image.digest} present in 127.0.0.1:${port}`), status.stdout);

      const un = await run(['uninstall', '--purge-registry']);
      assert.equal(un.code, 0, un.stderr);
      assert.match(un.stdout, /helm uninstall asf --namespace asf/);
      assert.ok(!fs.existsSync(path.join(state, 'registry')), 'registry data removed');
      const gone = await fetch(`http://127.0.0.1:${port}/v2/`).then(() => 'up', () => 'down');
      assert.equal(gone, 'down');
      const twice = await run(['uninstall']);
      assert.equal(twice.code, 0);
      assert.match(twice.stdout, /release asf is not installed in asf; nothing to remove/);
    } finally {
      stopServed(path.join(state, 'registry.pid'));
    }
  });

  it('registry-serving path under systemd (stand-in systemctl): an enabled unit runs the server from the state dir, so it serves again at boot with the bundle gone; uninstall --purge-registry removes it', async () => {
    tools.scenario({ systemd: true });
    const bundle = v1WithRegistryServer('bundle-systemd');
    const port = await freePort();
    const state = path.join(work, 'state-systemd');
    const unitFile = path.join(tools.env.ASF_SYSTEMD_UNIT_DIR!, 'asf-registry.service');
    const unitPid = path.join(tools.dir, 'systemd-units', 'asf-registry.service.pid');
    const serve = () =>
      run(['--bundle', bundle, '--serve-registry', `127.0.0.1:${port}`, '--advertise', `10.0.0.5:${port}`, '--state-dir', state], {
        ASF_CONTAINERD_CERTS_DIR: path.join(work, 'certs-systemd'),
      });
    const pullEvery = async () => {
      for (const image of v1.images) {
        const r = await skopeoInspect({ addr: `127.0.0.1:${port}` }, image.repository, image.digest);
        assert.equal(r.code, 0, `${image.repository}@${image.digest}: ${r.stderr}`);
      }
    };
    try {
      const r = await serve();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /starting systemd unit asf-registry\.service/);
      assert.match(r.stdout, /it is enabled, so it starts again at boot/);
      assert.deepEqual(
        tools.calls().filter((c) => c.startsWith('systemctl ') && !/ (is-active|show) /.test(c)),
        ['systemctl daemon-reload', 'systemctl enable --quiet asf-registry.service', 'systemctl restart asf-registry.service'],
      );
      const unit = fs.readFileSync(unitFile, 'utf8');
      assert.match(unit, new RegExp(`^ExecStart=${state}/registry-server serve ${state}/registry\\.yml$`, 'm'));
      assert.match(unit, /^Restart=on-failure$/m);
      assert.match(unit, /^WantedBy=multi-user\.target$/m);
      await pullEvery();

      // Re-run: the unit keeps running, nothing restarted.
      tools.clearCalls();
      const again = await serve();
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`registry already serving on 127\\.0\\.0\\.1:${port} \\(pid ${fs.readFileSync(unitPid, 'utf8').trim()}\\)`));
      assert.ok(!tools.calls().some((c) => / (restart|enable) /.test(c)), tools.calls().join('\n'));

      // A reboot: the process is gone, and so is the extracted bundle; systemd starts the enabled unit.
      stopServed(unitPid);
      fs.rmSync(bundle, { recursive: true, force: true });
      assert.ok(fs.existsSync(path.join(tools.dir, 'systemd-units', 'asf-registry.service.enabled')), 'unit enabled');
      const boot = await exec('/bin/bash', [path.join(tools.dir, 'standin-bin', 'systemctl'), 'start', 'asf-registry.service'], { env: { PATH: tools.path, ...tools.env } });
      assert.equal(boot.code, 0, boot.stderr);
      await waitServing(port);
      await pullEvery();

      const un = await run(['uninstall', '--purge-registry', '--state-dir', state]);
      assert.equal(un.code, 0, un.stderr);
      assert.match(un.stdout, /stopping and disabling systemd unit asf-registry\.service/);
      assert.ok(!fs.existsSync(unitFile), 'unit file removed');
      assert.ok(!fs.existsSync(path.join(state, 'registry-server')), 'server binary removed');
      assert.equal(await fetch(`http://127.0.0.1:${port}/v2/`).then(() => 'up', () => 'down'), 'down');
    } finally {
      stopServed(unitPid);
    }
  });

  it('a registry an earlier install.sh started without systemd gives way to the unit once systemd runs, on the same port (stand-in systemctl)', async () => {
    const bundle = v1WithRegistryServer('bundle-to-systemd');
    const port = await freePort();
    const state = path.join(work, 'state-to-systemd');
    const unitPid = path.join(tools.dir, 'systemd-units', 'asf-registry.service.pid');
    const serve = () =>
      run(['--bundle', bundle, '--serve-registry', `127.0.0.1:${port}`, '--advertise', `10.0.0.5:${port}`, '--state-dir', state], {
        ASF_CONTAINERD_CERTS_DIR: path.join(work, 'certs-to-systemd'),
      });
    try {
      const first = await serve();
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /no systemd here, so it is not restarted after a reboot/);
      const oldPid = fs.readFileSync(path.join(state, 'registry.pid'), 'utf8').trim();

      tools.scenario({ systemd: true });
      const second = await serve();
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, new RegExp(`stopping the served registry \\(pid ${oldPid}\\)[\\s\\S]*starting systemd unit asf-registry\\.service`));
      assert.ok(!fs.existsSync(path.join(state, 'registry.pid')), 'pid file of the nohup server removed');
      assert.notEqual(fs.readFileSync(unitPid, 'utf8').trim(), oldPid);
      for (const image of v1.images) {
        const r = await skopeoInspect({ addr: `127.0.0.1:${port}` }, image.repository, image.digest);
        assert.equal(r.code, 0, `${image.repository}@${image.digest}: ${r.stderr}`);
      }
    } finally {
      stopServed(path.join(state, 'registry.pid'));
      stopServed(unitPid);
    }
  });

  it('a damaged bundle is refused before anything is pushed, naming the bad file', async () => {
    const registry = await target();
    const damaged = path.join(work, 'bundle-damaged');
    fs.cpSync(v1.root, damaged, { recursive: true });
    const hex = v1.images[0]!.blobs[1]!.replace('sha256:', '');
    fs.appendFileSync(path.join(damaged, 'registry/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), 'x');
    const r = await run(['--bundle', damaged, '--registry', registry.addr, '--plain-http']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`the bundle is damaged or incomplete; copy it again \\(or pass --skip-verify\\):\\n.*registry/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data: FAILED`));
    assert.deepEqual(uploadsAndPuts(registry.requests()), []);
    assert.deepEqual(tools.calls(), []);
  });

  it('registry-serving path, bundle N to N+1: copies only the files the new bundle adds and serves both versions (stand-in helm/kubectl)', async () => {
    const port = await freePort();
    const state = path.join(work, 'state-upgrade');
    const serve = (bundle: Fixture) =>
      run(['--bundle', bundle.root, '--serve-registry', `127.0.0.1:${port}`, '--advertise', `10.0.0.5:${port}`, '--state-dir', state, '--set', `gateway.image.tag=${bundle.images[0]!.tag}`], {
        ASF_CONTAINERD_CERTS_DIR: path.join(work, 'certs-upgrade'),
      });
    try {
      assert.equal((await serve(v1)).code, 0);
      const r = await serve(v2);
      assert.equal(r.code, 0, r.stderr);
      const filesOf = (root: string) => new Set(fs.readdirSync(path.join(root, 'registry'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))));
      const old = filesOf(v1.root);
      const added = [...filesOf(v2.root)].filter((f) => !old.has(f));
      assert.match(r.stdout, new RegExp(`copied ${added.length} new files`));
      assert.ok(added.length < filesOf(v2.root).size);
      for (const image of [...v1.images, ...v2.images]) {
        const c = await exec('skopeo', ['inspect', '--tls-verify=false', `docker://127.0.0.1:${port}/${image.repository}@${image.digest}`]);
        assert.equal(c.code, 0, c.stderr);
      }
      assert.ok(tools.calls().some((c) => c.startsWith(`helm upgrade --install asf ${v2.root}/charts/asf`)));
      assert.equal((await run(['uninstall', '--purge-registry', '--state-dir', state])).code, 0);
    } finally {
      stopServed(path.join(state, 'registry.pid'));
    }
  });

  describe('preflight stops before changing anything (stand-in kubectl)', () => {
    const cases: { name: string; scenario: Parameters<RecordingTools['scenario']>[0]; args?: string[]; message: RegExp }[] = [
      { name: 'no cluster', scenario: { noCluster: true }, message: /cannot reach the cluster with kubectl \(The connection to the server .* was refused.*\); check KUBECONFIG/ },
      { name: 'Kubernetes too old', scenario: { kubeVersion: 'v1.23.4' }, message: /Kubernetes v1\.23\.4 is too old: the chart needs v1\.25 or newer/ },
      { name: 'wrong node architecture', scenario: { nodes: ['node-1 amd64  ', 'pi-1 arm64  '] }, message: /node architecture not in the bundle: pi-1\(arm64\); this bundle carries images for: amd64/ },
      { name: 'GPU profile, no GPU node', scenario: {}, args: ['--profile', 'gpu'], message: /GPU profile, but no node is labelled nvidia\.com\/gpu\.present=true/ },
      { name: 'GPU profile, missing GPU driver', scenario: { nodes: ['gpu-1 amd64 true 550.54', 'gpu-2 amd64 true '] }, args: ['--profile', 'gpu'], message: /GPU driver missing on: gpu-2; on each, run the bundle's install-driver\.sh --node NAME/ },
      { name: 'low disk for the served registry', scenario: { dfFreeKiB: 10 }, args: ['--serve-registry', '127.0.0.1:1'], message: /not enough disk for the registry in .*: need \d+ KiB, .* has 10 KiB free/ },
    ];
    for (const c of cases) {
      it(`${c.name}: clear error, no push, no helm change`, async () => {
        const registry = await target();
        tools.scenario(c.scenario);
        const where = c.args?.includes('--serve-registry') ? [] : ['--registry', registry.addr, '--plain-http'];
        const r = await run(['--bundle', v1.root, ...where, ...(c.args ?? [])]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, c.message);
        assert.deepEqual(uploadsAndPuts(registry.requests()), []);
        assert.ok(!tools.calls().some((call) => call.startsWith('helm upgrade')), tools.calls().join('\n'));
      });
    }

    it('GPU profile with drivers on every GPU node: applies the profile values, installs our NVIDIA device plugin chart after ours with the registry rewrite, idempotently; status and uninstall cover it (stand-in helm/kubectl)', async () => {
      const registry = await target();
      // A gpu bundle as asf bundle build lays it out: the device plugin image in registry/, our
      // chart for it in charts/nvidia-device-plugin, listed in bundle.json after ours.
      const gpu = await buildBundleFixture({
        version: '0.1.0',
        profile: 'gpu',
        images: [...v1Images, { repository: 'nvidia/k8s-device-plugin', tag: 'v0.17.1', layers: ['device-plugin-0.17.1'] }],
        root: path.join(work, 'bundle-gpu'),
      });
      fs.cpSync(path.join(repoRoot, 'charts', 'nvidia-device-plugin'), path.join(gpu.root, 'charts', 'nvidia-device-plugin'), { recursive: true });
      const bundleJson = JSON.parse(fs.readFileSync(path.join(gpu.root, 'bundle.json'), 'utf8')) as { charts: unknown[] };
      bundleJson.charts.push({ name: 'nvidia-device-plugin', version: '0.1.0', path: 'charts/nvidia-device-plugin' });
      fs.writeFileSync(path.join(gpu.root, 'bundle.json'), JSON.stringify(bundleJson, null, 2) + '\n');
      // The gpu profile's values travel in the bundle (asf bundle build writes them from bundle.yaml).
      fs.writeFileSync(path.join(gpu.root, 'charts', 'asf.values.yaml'), 'loaderDefaults: {gpu: {enabled: true}}\n');
      writeChecksums(gpu.root);

      tools.scenario({ nodes: ['cpu-1 amd64  ', 'gpu-1 amd64 true 550.54'] });
      const r = await run(['--bundle', gpu.root, '--registry', registry.addr, '--plain-http']); // profile from bundle.json
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /GPU nodes with a driver: gpu-1/);
      const upgrades = tools.calls().filter((c) => c.startsWith('helm upgrade'));
      assert.equal(upgrades.length, 2, upgrades.join('\n'));
      assert.match(upgrades[0]!, new RegExp(`^helm upgrade --install asf ${gpu.root}/charts/asf .*--values ${gpu.root}/charts/asf\\.values\\.yaml`));
      assert.match(upgrades[1]!, new RegExp(`^helm upgrade --install nvidia-device-plugin ${gpu.root}/charts/nvidia-device-plugin --namespace asf --create-namespace --set global\\.imageRegistry=${registry.addr} --description `));

      // The real chart with the values install.sh gave it renders an image the registry now serves.
      const sets = [...upgrades[1]!.matchAll(/--set (\S+)/g)].flatMap((m) => ['--set', m[1]!]);
      const rendered = await helm(['template', 'nvidia-device-plugin', path.join(gpu.root, 'charts', 'nvidia-device-plugin'), '--namespace', 'asf', ...sets]);
      assert.equal(rendered.code, 0, rendered.stderr);
      const image = /^\s*image: (\S+)$/m.exec(rendered.stdout)?.[1];
      assert.equal(image, `${registry.addr}/nvidia/k8s-device-plugin:v0.17.1`);
      const pulled = await exec('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${image}`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(pulled.stdout.trim(), gpu.images[2]!.digest);

      // Again: both releases are left alone.
      tools.clearCalls();
      const again = await run(['--bundle', gpu.root, '--registry', registry.addr, '--plain-http']);
      assert.equal(again.code, 0, again.stderr);
      assert.ok(!tools.calls().some((c) => c.startsWith('helm upgrade')), tools.calls().join('\n'));
      assert.equal(again.stdout.match(/already has this chart and these settings; nothing to change/g)?.length, 2, again.stdout);

      const status = await run(['status', '--bundle', gpu.root, '--registry', registry.addr, '--plain-http', '--gateway', `http://127.0.0.1:${await freePort()}`]);
      assert.match(status.stdout, /^status: release asf in asf: deployed$/m);
      assert.match(status.stdout, /^status: release nvidia-device-plugin in asf: deployed \(NVIDIA device plugin\)$/m);
      assert.ok(status.stdout.includes(`image nvidia/k8s-device-plugin:v0.17.1@${gpu.images[2]!.digest} present in ${registry.addr}`), status.stdout);

      const un = await run(['uninstall']);
      assert.equal(un.code, 0, un.stderr);
      assert.match(un.stdout, /^uninstall: helm uninstall asf --namespace asf$/m);
      assert.match(un.stdout, /^uninstall: helm uninstall nvidia-device-plugin --namespace asf$/m);
      assert.ok(tools.calls().includes('helm uninstall nvidia-device-plugin --namespace asf --wait --timeout 5m'), tools.calls().join('\n'));
    });

    it('GPU profile of a bundle without the device plugin chart: ours is installed, and it says GPU loaders need a device plugin already running (stand-in helm)', async () => {
      const registry = await target();
      tools.scenario({ nodes: ['gpu-1 amd64 true 550.54'] });
      const r = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http', '--profile', 'gpu']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(tools.calls().filter((c) => c.startsWith('helm upgrade')).map((c) => c.split(' ')[3]), ['asf']);
      assert.match(r.stdout, /no charts\/nvidia-device-plugin in this bundle; GPU loaders need a device plugin already running on the cluster/);
    });
  });

  describe('bad input', () => {
    const cases: [string, string[], RegExp][] = [
      ['no target', [], /say where the images go: --registry HOST:PORT .* or --serve-registry/],
      ['both targets', ['--registry', '127.0.0.1:1', '--serve-registry'], /choose one of --registry .* and --serve-registry/],
      ['registry with a scheme', ['--registry', 'http://x:5000'], /--registry must be HOST or HOST:PORT \(no scheme or path\), got 'http:\/\/x:5000'/],
      ['bad --jobs', ['--jobs', '0'], /--jobs must be a positive integer, got '0'/],
      ['user without password', ['--registry', 'x:1', '--registry-user', 'u'], /--registry-user needs --registry-password/],
    ];
    for (const [name, args, message] of cases) {
      it(`${name}: exit 1 with a clear message`, async () => {
        const r = await run(['--bundle', v1.root, ...args]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, message);
      });
    }
    const usage: [string, string[], RegExp][] = [
      ['unknown option', ['--registy', 'x'], /unknown option '--registy'/],
      ['bad profile', ['--profile', 'tpu'], /argument 'tpu' is invalid\. Allowed choices are cpu, gpu/],
      ['missing value', ['--registry'], /option '--registry <host:port>' argument missing/],
    ];
    for (const [name, args, message] of usage) {
      it(`${name}: a usage error (exit 2) saying what is wrong`, async () => {
        const r = await run(['--bundle', v1.root, ...args]);
        assert.equal(r.code, 2, r.stdout);
        assert.match(r.stderr, message);
      });
    }
    it('status with a helm that cannot run: the release is NOT CHECKED and it exits 1, never "not installed" and 0', async () => {
      const realToolsOnly = tools.path.split(':').at(-1)!; // no helm, no kubectl
      const r = await run(['status'], { ASF_HELM: path.join(work, 'no-such-helm') }, realToolsOnly);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /release asf in asf: NOT CHECKED: helm status failed: .*no-such-helm/);
      assert.doesNotMatch(r.stdout, /not installed/);
    });

    it('--help: usage with every option, exit 0', async () => {
      const r = await run(['--help']);
      assert.equal(r.code, 0);
      for (const flag of ['--registry <host:port>', '--registry-user', '--serve-registry [addr]', '--apply-mirror', '--skip-verify', '--no-check', '--check-timeout']) assert.ok(r.stdout.includes(flag), flag);
      assert.match(r.stdout, /^Examples:\n {2}asf install --bundle /m);
      const status = await run(['status', '--help']);
      for (const flag of ['--gateway <url>', '--registry <host:port>', '--node-port']) assert.ok(status.stdout.includes(flag), flag);
    });
    it('status --gateway without a scheme: exit 1 with a clear message', async () => {
      const r = await run(['status', '--gateway', '10.0.0.5:30889']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /--gateway must be a URL such as http:\/\/HOST:PORT, got '10\.0\.0\.5:30889'/);
    });
    it('not a bundle root: exit 1 naming the folder', async () => {
      const r = await run(['--bundle', work, '--registry', '127.0.0.1:1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is not a bundle root \(no registry\/docker\/registry\/v2\); pass --bundle DIR/);
    });
    it('an unreachable registry: exit 1 saying so', async () => {
      const r = await run(['--bundle', v1.root, '--registry', `127.0.0.1:${await freePort()}`, '--plain-http']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot reach registry at http:\/\/127\.0\.0\.1:\d+\/v2\//);
    });
  });

  it('status lists the release and every bundle image present in the registry by digest; exit 1 when one is missing or the gateway is not reached (stand-in helm)', async () => {
    const registry = await target();
    const empty = await run(['status', '--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(empty.code, 1);
    assert.match(empty.stdout, /release asf in asf: not installed/);
    assert.match(empty.stdout, /image asf-kit\/asf-mmocr:0\.1\.0@sha256:[0-9a-f]{64} MISSING/);
    assert.match(empty.stdout, /gateway: not checked \(release asf is not installed\)/);
    assert.doesNotMatch(empty.stdout, /nvidia-device-plugin/, 'no device plugin line when it is not installed');
    const first = await run(['--bundle', v1.root, '--registry', registry.addr, '--plain-http']);
    assert.equal(first.code, 0, first.stderr);
    // The first node's address with nothing listening on the NodePort (test/install-cli.test.ts asks a real gateway).
    tools.scenario({ nodeIp: '127.0.0.1' });
    const port = await freePort();
    const r = await run(['status', '--bundle', v1.root, '--registry', registry.addr, '--plain-http', '--node-port', String(port)]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /release asf in asf: deployed/);
    for (const image of v1.images) assert.ok(r.stdout.includes(`image ${image.repository}:${image.tag}@${image.digest} present`), r.stdout);
    assert.ok(r.stdout.includes(`status: gateway http://127.0.0.1:${port}: not reachable, capability readiness unknown`), r.stdout);
    // Something that answers, but not an ASF gateway.
    const other = http.createServer((_req, res) => res.writeHead(404).end('no such page'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as import('node:net').AddressInfo).port}`;
      const wrong = await run(['status', '--gateway', url]);
      assert.equal(wrong.code, 1);
      assert.ok(wrong.stdout.includes(`status: gateway ${url}/healthz: HTTP 404, not an ASF gateway's answer`), wrong.stdout);
    } finally {
      other.close();
    }
  });
});

async function waitServing(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status, () => 0)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing serves on 127.0.0.1:${port} after the unit started`);
}

/**
 * Stops a registry install.sh (or a stand-in systemd unit) left serving, from its pid file, and
 * waits until it is gone so that its port is free again.
 */
function stopServed(pidfile: string): void {
  if (!fs.existsSync(pidfile)) return;
  const pid = Number(fs.readFileSync(pidfile, 'utf8'));
  fs.rmSync(pidfile);
  try {
    process.kill(pid);
    execFileSync('bash', ['-c', `while kill -0 ${pid} 2>/dev/null; do sleep 0.1; done`]);
  } catch {
    /* already stopped */
  }
}
