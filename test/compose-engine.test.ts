// `asf compose` on a real Docker engine: the generated file brought up with Compose v2 (built from
// the Go module proxy, cached outside the repo: test/compose-engine/build.sh) on Debian's dockerd
// started by this suite (helpers/docker-engine.ts), with our images loaded from the daemonless OCI
// layout by skopeo (built with images/build.sh when missing or built from other code than the
// tree's). Needs root, Go and `docker.io` (scripts/setup.sh installs it). The first run pays the
// Compose build (about 4 minutes on 2 cores).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { startDockerEngine, type DockerEngine } from './helpers/docker-engine.js';
import { answeredCalls, b64, freePort, post, repoRoot, runAsf } from './helpers/stack.js';
import { exec, type Result } from './helpers/tools.js';

const images = process.env['ASF_IMAGES'] ?? path.join(repoRoot, '.cache', 'images');
const layout = path.join(images, 'oci');
const shipped = (yaml.load(fs.readFileSync(path.join(repoRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] }).images;
/** images/build.sh tags each image in the layout <repository basename>-<tag>. */
const layoutTag = (ref: string) => `${ref.slice(0, ref.lastIndexOf(':')).split('/').pop()}-${ref.slice(ref.lastIndexOf(':') + 1)}`;
const needed = shipped.filter((i) => i.name === 'runtime' || i.name === 'mmocr');
const project = 'asf-engine-test';

/** A fingerprint of the compiled runtime under a folder (its .js files, in path order): the same script on the tree and in an image. */
const fingerprint = [
  "const fs = require('fs'), path = require('path'), hash = require('crypto').createHash('sha256'), root = process.argv[1];",
  'const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1)).forEach((e) => {',
  '  const file = path.join(dir, e.name);',
  "  if (e.isDirectory()) walk(file); else if (file.endsWith('.js')) hash.update(path.relative(root, file)).update(fs.readFileSync(file));",
  '});',
  "walk(root); console.log(hash.digest('hex'));",
].join('\n');

/** Loads the images from the layout into the engine; the names of those missing there or built from other code than dist/runtime. */
async function loadImages(engine: DockerEngine): Promise<string[]> {
  const tree = (await exec(process.execPath, ['-e', fingerprint, path.join(repoRoot, 'dist', 'runtime')])).stdout;
  const stale: string[] = [];
  for (const image of needed) {
    // A shared lock on the layout: images/build.sh holds it exclusively while it writes.
    const load = await exec('flock', ['-s', path.join(images, '.lock'), 'skopeo', 'copy', '-q', `oci:${layout}:${layoutTag(image.ref)}`, `docker-daemon:${image.ref}`, '--dest-daemon-host', engine.host]);
    const inside = load.code === 0 ? await engine.docker(['run', '--rm', '--network', 'none', '--entrypoint', '/usr/local/bin/node', image.ref, '-e', fingerprint, '/opt/asf/dist/runtime']) : undefined;
    if (!inside || inside.code !== 0 || inside.stdout !== tree) stale.push(image.name);
  }
  return stale;
}

describe('asf compose on a real Docker engine (dockerd 20.10 + Compose v2)', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-engine-'));
  const composeFile = path.join(tmp, 'stack', 'docker-compose.yaml');
  let engine: DockerEngine | undefined;
  let composeBin = '';
  let url = '';

  const compose = (args: string[], file = composeFile): Promise<Result> => exec(composeBin, ['-p', project, '-f', file, ...args], { env: engine!.env, cwd: path.dirname(file) });
  const health = async () => (await (await fetch(`${url}/healthz`)).json()) as { services: Record<string, { address: string; state: string }[]> };
  /** Polls until `check` holds (the stack settling after a change), failing with what it last saw. */
  async function eventually<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T = await read();
    while (!check(last)) {
      assert.ok(Date.now() < deadline, `${what}; last seen: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      last = await read();
    }
    return last;
  }

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.warn('    skipped: starting a Docker engine needs root');
      this.skip();
    }
    assert.equal((await exec('sh', ['-c', 'command -v dockerd'])).code, 0, 'dockerd not found: apt-get install docker.io (scripts/setup.sh does)');
    const built = await exec(path.join(repoRoot, 'test', 'compose-engine', 'build.sh'), []);
    assert.equal(built.code, 0, `building Compose failed:\n${built.stderr.slice(-3000)}`);
    composeBin = built.stdout.trim().split('\n').pop()!;
    engine = await startDockerEngine(path.join(tmp, 'engine'));
    let stale = await loadImages(engine);
    if (stale.length) {
      // Not built yet, or built from other code than this tree's: build them (as images.test does).
      const targets = stale.includes('runtime') ? ['runtime', 'mmocr'] : stale;
      const build = await exec(path.join(repoRoot, 'images', 'build.sh'), targets);
      assert.equal(build.code, 0, `images/build.sh ${targets.join(' ')} failed:\n${build.stderr.slice(-3000)}`);
      stale = await loadImages(engine);
      assert.deepEqual(stale, [], 'images/build.sh made images whose code differs from dist/runtime');
    }
    const port = await freePort();
    fs.mkdirSync(path.dirname(composeFile));
    fs.writeFileSync(path.join(tmp, 'asf-gateway.yaml'), `host: 127.0.0.1\nport: ${port}\n`);
    const examples = ['echo', 'wordcount-stream', 'mmocr'].map((name) => path.join(repoRoot, 'examples', name));
    const wrote = await exec(process.execPath, [path.join(repoRoot, 'bin', 'asf.js'), 'compose', ...examples.flatMap((dir) => ['-c', dir]), '-g', path.join(tmp, 'asf-gateway.yaml'), '-o', composeFile]);
    assert.equal(wrote.code, 0, wrote.stderr);
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    if (engine) {
      await compose(['down', '--timeout', '1']);
      await engine.stop();
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('up --wait: every service healthy, the gateway published on the config host only', async () => {
    const started = performance.now();
    const up = await compose(['up', '--detach', '--wait']);
    const seconds = (performance.now() - started) / 1000;
    if (up.code !== 0) assert.fail(`up --wait failed:\n${up.stderr}\n${(await compose(['logs', '--no-color'])).stdout.slice(-4000)}`);
    console.log(`      up --wait: ${seconds.toFixed(1)} s`);
    const ps = (await compose(['ps', '--format', 'json'])).stdout.trim().split('\n').flatMap((line) => [JSON.parse(line)].flat());
    assert.deepEqual(ps.map((c: { Service: string }) => c.Service).sort(), ['gateway', 'loader-echo', 'loader-mmocr', 'loader-wordcount']);
    for (const c of ps) assert.equal(c.Health, 'healthy', `${c.Service}: ${c.Status}`);
    const gateway = ps.find((c: { Service: string }) => c.Service === 'gateway');
    assert.deepEqual(
      gateway.Publishers.filter((p: { PublishedPort: number }) => p.PublishedPort).map((p: { URL: string }) => p.URL),
      ['127.0.0.1'],
    );
  });

  it('runs as uid 10001 on a read-only root, with no capabilities', async () => {
    const id = await compose(['exec', '-T', 'loader-echo', 'sh', '-c', 'id -u; grep CapEff /proc/self/status; touch /opt/asf/x']);
    assert.notEqual(id.code, 0, 'touch on the root file system succeeded');
    assert.match(id.stdout, /^10001\nCapEff:\s+0000000000000000\n/);
    assert.match(id.stderr, /Read-only file system/);
  });

  it('answers every capability: echo, the mmocr demo (the words in its sample), a wordcount stream', async () => {
    const echo = await post(`${url}/v1/private/echo`, { header: { app_id: 'a' }, payload: { text: { text: b64('through compose') } } });
    assert.equal(echo.status, 200, echo.text);
    assert.equal(Buffer.from(echo.json.payload.result.text, 'base64').toString(), 'through compose');
    const demo = await exec(process.execPath, [path.join(repoRoot, 'bin', 'asf.js'), 'demo', 'mmocr', '--url', url]);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /3 text boxes/);
    assert.match(demo.stdout, /ASF KIT/);
    const words = path.join(tmp, 'words.txt');
    fs.writeFileSync(words, 'one two three four five six seven');
    const stream = runAsf(['call', `${url}/v1/private/wordcount`, '--stream', '--input', `text=@${words}`, '--chunk-bytes', '10']);
    assert.equal(await new Promise((resolve) => stream.child.once('exit', resolve)), 0, stream.output());
    const answers = stream.output().trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(
      answers.map((a) => [a.header.status, a.payload.counts.text.words]),
      [
        [0, 2],
        [1, 3],
        [1, 5],
        [2, 7],
      ],
    );
  });

  it('--scale loader-echo=2: the gateway finds the second replica by the service name and uses both', async () => {
    const up = await compose(['up', '--detach', '--wait', '--scale', 'loader-echo=2']);
    assert.equal(up.code, 0, up.stderr);
    await eventually('two ready echo replicas', health, (h) => h.services['echo']?.filter((r) => r.state === 'ready').length === 2);
    const before = await answeredCalls(url, 'echo');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${url}/v1/private/echo`, { header: { app_id: 'a' }, payload: { text: { text: b64(`n${i}`) } } })));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    const after = await answeredCalls(url, 'echo');
    const used = [...after].filter(([address, n]) => n > (before.get(address) ?? 0));
    assert.equal(used.length, 2, `replicas that answered: ${JSON.stringify([...after])}`);
  });

  it('a loader killed under load: no request fails, and it comes back (restart policy) and is used again', async () => {
    const containers = (await compose(['ps', '--quiet', 'loader-echo'])).stdout.trim().split('\n');
    assert.equal(containers.length, 2);
    const pid = Number((await engine!.docker(['inspect', '--format', '{{.State.Pid}}', containers[0]!])).stdout.trim());
    assert.ok(pid > 0);
    const statuses: number[] = [];
    const worker = async (id: number) => {
      for (let i = 0; i < 150; i++) {
        const r = await post(`${url}/v1/private/echo`, { header: { app_id: 'a' }, payload: { text: { text: b64(`w${id}-${i}`) } } });
        statuses.push(r.status);
        assert.equal(r.status, 200, r.text);
        if (id === 0 && i === 30) process.kill(pid, 'SIGKILL');
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    assert.equal(statuses.length, 600);
    await eventually('both echo replicas ready again', health, (h) => h.services['echo']?.filter((r) => r.state === 'ready').length === 2);
    const restarts = Number((await engine!.docker(['inspect', '--format', '{{.RestartCount}}', containers[0]!])).stdout.trim());
    assert.equal(restarts, 1);
  });

  it('the only loader killed under load: requests wait for it to come back; only those it was running fail (502, never sent to it again)', async () => {
    const down = await compose(['up', '--detach', '--wait', '--scale', 'loader-echo=1']);
    assert.equal(down.code, 0, down.stderr);
    await eventually('one echo replica', health, (h) => h.services['echo']?.length === 1 && h.services['echo'][0]!.state === 'ready');
    const [container] = (await compose(['ps', '--quiet', 'loader-echo'])).stdout.trim().split('\n');
    const pid = Number((await engine!.docker(['inspect', '--format', '{{.State.Pid}}', container!])).stdout.trim());
    const workers = 4;
    const failed: string[] = [];
    let answered = 0;
    const worker = async (id: number) => {
      for (let i = 0; i < 150; i++) {
        const r = await post(`${url}/v1/private/echo`, { header: { app_id: 'a' }, payload: { text: { text: b64(`w${id}-${i}`) } } });
        if (r.status === 200) answered++;
        else failed.push(`${r.status} ${r.json?.header?.message}`);
        if (id === 0 && i === 30) process.kill(pid, 'SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, id) => worker(id)));
    console.log(`      ${failed.length} of ${workers * 150} failed (the requests in flight when it died)`);
    assert.ok(failed.length <= workers, failed.join('\n'));
    for (const f of failed) assert.match(f, /^502 loader .* went away while running the request/);
    assert.equal(answered + failed.length, workers * 150);
  });

  it('a capability that cannot start: up --wait fails at once naming its container, which shows as exited', async () => {
    const broken = path.join(tmp, 'broken', 'docker-compose.yaml');
    fs.mkdirSync(path.dirname(broken));
    const wrote = await exec(process.execPath, [path.join(repoRoot, 'bin', 'asf.js'), 'compose', '-c', path.join(repoRoot, 'test', 'fixtures', 'python', 'init_fails'), '-o', broken]);
    assert.equal(wrote.code, 0, wrote.stderr);
    // Its own project: the running stack is left alone.
    const run = (args: string[]) => exec(composeBin, ['-p', `${project}-broken`, '-f', broken, ...args], { env: engine!.env });
    try {
      const up = await run(['up', '--detach', '--wait']);
      assert.notEqual(up.code, 0);
      assert.match(up.stderr, /loader-init_fails/);
      const logs = await run(['logs', '--no-color', 'loader-init_fails']);
      assert.match(logs.stdout, /capability failed to start/);
      assert.match(logs.stdout, /model file weights\.bin is missing/);
    } finally {
      await run(['down', '--timeout', '1']);
    }
  });

  it('down leaves nothing: no container, network or volume', async () => {
    const down = await compose(['down', '--timeout', '5']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await engine!.docker(['ps', '--all', '--quiet'])).stdout.trim(), '');
    assert.equal((await engine!.docker(['volume', 'ls', '--quiet'])).stdout.trim(), '');
    const networks = (await engine!.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout.trim().split('\n').sort();
    assert.deepEqual(networks, ['host', 'none']);
  });
});
