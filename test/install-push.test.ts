// installer/install/push.ts against Debian's real docker-registry on loopback (its access log says
// what was uploaded and mounted), images read back by digest with skopeo.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { InstallError } from '../installer/install/errors.js';
import { checkRegistryReachable, manifestStatuses, pushBundleImages, type PushReport, type RegistryTarget } from '../installer/install/push.js';
import { blobPath } from '../installer/registry/layout.js';
import { serveRegistry } from '../installer/registry/serve.js';
import { buildBundleFixture, startRegistry, type Fixture, type Registry } from './helpers/bundle-fixture.js';
import { assertIndexPushed, blobPuts, faultyProxy, holdingProxy, mounts, sharedBlobs, skopeoInspect, uniqueBlobs, uploadsAndPuts } from './helpers/registry-checks.js';
import { freePort } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

// Three images sharing a base layer; N+1 brings a new runtime image, the others unchanged.
const v1Images = [
  { repository: 'asf-kit/asf-runtime', tag: '0.1.0', layers: ['base', 'runtime-0.1.0'] },
  { repository: 'asf-kit/asf-mmocr', tag: '0.1.0', layers: ['base', 'mmocr-0.1.0'] },
  { repository: 'asf-kit/asf-layout', tag: '0.1.0', layers: ['base', 'layout-0.1.0'] },
];
const v2Images = [{ ...v1Images[0]!, tag: '0.2.0', layers: ['base', 'runtime-0.2.0'] }, v1Images[1]!, v1Images[2]!];

/** (repository, blob) pairs of a bundle: what the push looks at one by one. */
const links = (f: Fixture) => f.images.reduce((n, image) => n + new Set(image.blobs).size, 0);
const blobSize = (f: Fixture, digest: string) => fs.statSync(blobPath(path.join(f.root, 'registry'), digest)).size;

describe('install push (bundle images into a registry over the distribution API)', function () {
  this.timeout(300_000);
  let work: string;
  let v1: Fixture;
  let v2: Fixture;
  const registries: Registry[] = [];

  async function target(options: { htpasswd?: string } = {}): Promise<Registry> {
    const registry = await startRegistry(fs.mkdtempSync(path.join(work, 'target-')), options);
    registries.push(registry);
    return registry;
  }

  /** Pushes with `jobs` 2 and returns the report and the log lines. */
  async function push(bundle: Fixture | string, to: RegistryTarget): Promise<{ report: PushReport; lines: string[] }> {
    const lines: string[] = [];
    const report = await pushBundleImages(typeof bundle === 'string' ? bundle : bundle.root, to, { jobs: 2, log: (line) => lines.push(line) });
    return { report, lines };
  }

  /** The InstallError a push fails with, and the lines it logged first. */
  async function failedPush(bundle: Fixture | string, to: RegistryTarget): Promise<{ error: InstallError; lines: string[] }> {
    const lines: string[] = [];
    const error = await pushBundleImages(typeof bundle === 'string' ? bundle : bundle.root, to, { jobs: 2, log: (line) => lines.push(line) }).then(
      () => assert.fail('the push succeeded'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof InstallError, String(error));
    return { error, lines };
  }

  async function expectAllThere(registry: Pick<Registry, 'addr'>, f: Fixture, creds?: string): Promise<void> {
    for (const image of f.images) {
      const r = await skopeoInspect(registry, image.repository, image.digest, creds);
      assert.equal(r.code, 0, `${image.repository}@${image.digest}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).Digest, image.digest);
    }
  }

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-push-test-'));
    v1 = await buildBundleFixture({ version: '0.1.0', images: v1Images, root: path.join(work, 'bundle-0.1.0') });
    v2 = await buildBundleFixture({ version: '0.2.0', images: v2Images, root: path.join(work, 'bundle-0.2.0') });
  });
  after(async () => {
    for (const r of registries) await r.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('pushes every image: each shared blob sent once then mounted, the log says what went where; skopeo pulls each back byte for byte by digest', async () => {
    const registry = await target();
    const { report, lines } = await push(v1, { address: registry.addr, plainHttp: true });

    assert.equal(sharedBlobs(v1), 2); // the base layer, in the 2nd and 3rd repository
    assert.deepEqual(report, {
      blobsPushed: uniqueBlobs(v1),
      blobsSkipped: 0,
      blobsMounted: 2,
      bytesSent: [...new Set(v1.images.flatMap((i) => i.blobs))].reduce((n, blob) => n + blobSize(v1, blob), 0),
      manifests: 3,
      tags: 3,
      images: 3,
    });
    assert.equal(blobPuts(registry.requests()).length, uniqueBlobs(v1));
    assert.equal(mounts(registry.requests()).length, 2);

    assert.equal(lines[0], `pushing ${links(v1)} blobs of 3 images to ${registry.addr} (2 at once; blobs it has are skipped)`);
    assert.equal(lines.at(-1), `all 3 images are in ${registry.addr}`);
    const base = v1.images[0]!.blobs.find((b) => v1.images.every((i) => i.blobs.includes(b)))!;
    // Repositories go in name order: asf-layout holds the base first, the others mount it from there.
    assert.ok(lines.includes(`pushed blob asf-kit/asf-layout@${base} (${blobSize(v1, base)} bytes)`), lines.join('\n'));
    for (const other of ['asf-kit/asf-mmocr', 'asf-kit/asf-runtime']) assert.ok(lines.includes(`mounted blob ${other}@${base} from asf-kit/asf-layout`), lines.join('\n'));
    for (const image of v1.images) {
      assert.ok(lines.includes(`pushed manifest ${image.repository}@${image.digest}`), lines.join('\n'));
      assert.ok(lines.includes(`tagged ${image.repository}:${image.tag} (${image.digest})`), lines.join('\n'));
      // Manifests after every blob, tags after their manifest.
      const lastBlob = lines.length - 1 - [...lines].reverse().findIndex((l) => /^(pushed|mounted) blob /.test(l));
      assert.ok(lines.indexOf(`pushed manifest ${image.repository}@${image.digest}`) > lastBlob);
      assert.ok(lines.indexOf(`tagged ${image.repository}:${image.tag} (${image.digest})`) > lines.indexOf(`pushed manifest ${image.repository}@${image.digest}`));
    }

    const pulled = fs.mkdtempSync(path.join(work, 'pulled-'));
    for (const image of v1.images) {
      const dest = path.join(pulled, image.repository.replace('/', '_'));
      const c = await exec('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${registry.addr}/${image.repository}@${image.digest}`, `dir:${dest}`]);
      assert.equal(c.code, 0, c.stderr);
      const manifest = fs.readFileSync(path.join(dest, 'manifest.json'));
      assert.equal(`sha256:${createHash('sha256').update(manifest).digest('hex')}`, image.digest);
      for (const blob of image.blobs) {
        const bytes = fs.readFileSync(path.join(dest, blob.replace('sha256:', '')));
        assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, blob);
      }
    }
  });

  it('a re-run sends nothing: every blob, manifest and tag is skipped', async () => {
    const registry = await target();
    await push(v1, { address: registry.addr, plainHttp: true });
    const before = registry.requests().length;
    const { report, lines } = await push(v1, { address: registry.addr, plainHttp: true });
    assert.deepEqual(report, { blobsPushed: 0, blobsSkipped: links(v1), blobsMounted: 0, bytesSent: 0, manifests: 0, tags: 0, images: 3 });
    assert.deepEqual(uploadsAndPuts(registry.requests().slice(before)), []);
    assert.deepEqual(lines.slice(1), [`all 3 images are in ${registry.addr}`]);
  });

  it('upgrade from bundle N to N+1 sends only the new blobs and moves nothing else', async () => {
    const registry = await target();
    await push(v1, { address: registry.addr, plainHttp: true });
    const before = registry.requests().length;
    const { report, lines } = await push(v2, { address: registry.addr, plainHttp: true });
    const had = new Set(v1.images.flatMap((i) => i.blobs));
    const fresh = new Set(v2.images.flatMap((i) => i.blobs).filter((b) => !had.has(b)));
    assert.equal(fresh.size, 2); // the new runtime layer and its config
    assert.equal(report.blobsPushed, 2);
    assert.equal(report.blobsMounted, 0);
    assert.equal(report.blobsSkipped, links(v2) - 2);
    assert.equal(blobPuts(registry.requests().slice(before)).length, 2);
    for (const blob of fresh) assert.ok(lines.some((l) => l.startsWith(`pushed blob asf-kit/asf-runtime@${blob} (`)), lines.join('\n'));
    assert.equal(report.manifests, 1);
    assert.deepEqual(lines.filter((l) => l.startsWith('tagged')), [`tagged asf-kit/asf-runtime:0.2.0 (${v2.images[0]!.digest})`]);
    await expectAllThere(registry, v2);
    await expectAllThere(registry, v1); // N stays pullable for a rollback
  });

  it('a multi-platform image (OCI index): platform manifests go up before the index, each platform pullable by digest', async () => {
    const multi = await buildBundleFixture({
      version: '0.1.0',
      images: [{ repository: 'nvidia/k8s-device-plugin', tag: 'v0.17.0', layers: ['dp-amd64'], arm64Layers: ['dp-arm64'] }],
      root: path.join(work, 'bundle-multi'),
    });
    const registry = await target();
    const { report } = await push(multi, { address: registry.addr, plainHttp: true });
    assert.equal(report.blobsPushed, 4); // two configs, two layers
    assert.equal(report.manifests, 3);
    await assertIndexPushed(registry, multi.images[0]!);
  });

  it('an interrupted push (the registry stops mid-upload) fails after the other blobs, saying to re-run; the re-run sends only what is missing', async () => {
    const storage = fs.mkdtempSync(path.join(work, 'target-'));
    const first = await startRegistry(storage);
    const proxy = await holdingProxy(first.addr, 3);
    const pushing = failedPush(v1, { address: proxy.addr, plainHttp: true });
    await proxy.held;
    await first.stop(); // the registry goes away with the 3rd upload under way
    await proxy.close();
    const { error, lines } = await pushing;
    const done = lines.filter((l) => l.startsWith('pushed blob ')).length;
    assert.ok(done >= 2 && done < uniqueBlobs(v1), lines.join('\n'));
    assert.equal(error.message, 'some blobs failed to push (see above); re-run the same command to resume');
    assert.ok(lines.some((l) => /^error: pushing blob sha256:[0-9a-f]{64} to asf-kit\/asf-\w+ failed \(no answer: .+\)$/.test(l)), lines.join('\n'));
    assert.ok(!lines.some((l) => l.startsWith('pushed manifest')), 'no manifest before all its blobs');

    const again = await startRegistry(storage); // the same storage, back on another port
    registries.push(again);
    const { report } = await push(v1, { address: again.addr, plainHttp: true });
    assert.equal(report.blobsPushed, uniqueBlobs(v1) - done);
    assert.equal(blobPuts(again.requests()).length, uniqueBlobs(v1) - done);
    assert.equal(report.blobsSkipped + report.blobsPushed + report.blobsMounted, links(v1));
    await expectAllThere(again, v1);
  });

  it('a blob the registry keeps refusing (HTTP 500) is retried 3 times, the others still go up; the re-run sends just that one', async () => {
    const registry = await target();
    const refused = v1.images[1]!.blobs.at(-1)!; // mmocr's own layer: no other repository has it
    const proxy = await faultyProxy(registry.addr, (req) => (req.method === 'PUT' && req.url!.endsWith(`digest=${refused}`) ? 'fail' : 'pass'));
    try {
      const { error, lines } = await failedPush(v1, { address: proxy.addr, plainHttp: true });
      assert.equal(error.message, 'some blobs failed to push (see above); re-run the same command to resume');
      assert.ok(lines.includes(`error: pushing blob ${refused} to asf-kit/asf-mmocr failed (HTTP 500)`), lines.join('\n'));
      assert.equal(proxy.seen.filter((r) => r.startsWith('PUT ') && r.endsWith(refused)).length, 4);
      assert.equal(blobPuts(registry.requests()).length, uniqueBlobs(v1) - 1);
    } finally {
      await proxy.close();
    }
    const before = registry.requests().length;
    const { report } = await push(v1, { address: registry.addr, plainHttp: true });
    assert.equal(report.blobsPushed, 1);
    assert.deepEqual(blobPuts(registry.requests().slice(before)).map((r) => r.split(' ')[1]!.split('/blobs/')[0]), ['/v2/asf-kit/asf-mmocr']);
    await expectAllThere(registry, v1);
  });

  it('a blob that cannot be read from the bundle fails with the read error, the others go up; once readable, the re-run sends just that one', async () => {
    const registry = await target();
    const damaged = path.join(work, 'bundle-unreadable');
    fs.cpSync(v1.root, damaged, { recursive: true });
    const unreadable = v1.images[0]!.blobs.at(-1)!; // runtime's own layer
    const file = blobPath(path.join(damaged, 'registry'), unreadable);
    fs.renameSync(file, `${file}.away`);
    fs.mkdirSync(file); // there, but no bytes come out of it (root reads any mode, so no chmod)
    const { error, lines } = await failedPush(damaged, { address: registry.addr, plainHttp: true });
    assert.equal(error.message, 'some blobs failed to push (see above); re-run the same command to resume');
    assert.ok(lines.includes(`error: pushing blob ${unreadable} to asf-kit/asf-runtime failed (EISDIR: illegal operation on a directory, read)`), lines.join('\n'));
    assert.equal(blobPuts(registry.requests()).length, uniqueBlobs(v1) - 1);

    fs.rmdirSync(file);
    fs.renameSync(`${file}.away`, file);
    const { report } = await push(damaged, { address: registry.addr, plainHttp: true });
    assert.equal(report.blobsPushed, 1);
    await expectAllThere(registry, v1);
  });

  it('a manifest the registry refuses: retried, then the push fails naming it and the HTTP status, with its blobs already in', async () => {
    const registry = await target();
    const refused = v1.images[0]!;
    const proxy = await faultyProxy(registry.addr, (req) => (req.method === 'PUT' && req.url === `/v2/${refused.repository}/manifests/${refused.digest}` ? 'fail' : 'pass'));
    try {
      const { error } = await failedPush(v1, { address: proxy.addr, plainHttp: true });
      assert.equal(error.message, `pushing manifest ${refused.repository}:${refused.digest} (${refused.digest}) failed (HTTP 500)`);
      assert.equal(proxy.seen.filter((r) => r === `PUT /v2/${refused.repository}/manifests/${refused.digest}`).length, 4);
    } finally {
      await proxy.close();
    }
    const { report } = await push(v1, { address: registry.addr, plainHttp: true });
    assert.equal(report.blobsPushed + report.blobsMounted, 0);
    await expectAllThere(registry, v1);
  });

  it('a connection dropped in the middle of a blob is retried and the push completes', async () => {
    const registry = await target();
    let dropped = 0;
    const proxy = await faultyProxy(registry.addr, (req) => {
      if (req.method !== 'PUT' || !req.url!.includes('/blobs/uploads/') || dropped++ > 0) return 'pass';
      req.once('data', () => req.socket.destroy()); // some bytes in, then the connection is gone
      return 'hold';
    });
    try {
      const { report } = await push(v1, { address: proxy.addr, plainHttp: true });
      assert.equal(report.blobsPushed, uniqueBlobs(v1));
      assert.equal(proxy.seen.filter((r) => r.startsWith('PUT ') && r.includes('/blobs/uploads/')).length, uniqueBlobs(v1) + 1);
      assert.equal(blobPuts(registry.requests()).length, uniqueBlobs(v1));
    } finally {
      await proxy.close();
    }
    await expectAllThere(registry, v1);
  });

  it('basic auth: any password bytes work; without credentials or with a wrong password it fails clearly before sending anything', async () => {
    const htpasswd = path.join(work, 'htpasswd');
    const password = `s3 "c\\re't:pä ss ✓`; // quotes, a backslash, a colon, spaces, unicode
    const h = await exec('htpasswd', ['-Bbc', htpasswd, 'pusher', password]);
    assert.equal(h.code, 0, h.stderr);
    const registry = await target({ htpasswd });

    for (const [creds, message] of [
      [{}, `registry ${registry.addr} needs credentials (401): give --registry-user and --registry-password`],
      [{ user: 'pusher', password: 'nope' }, `registry ${registry.addr} rejected user 'pusher' (401): check --registry-user/--registry-password`],
    ] as const) {
      const { error } = await failedPush(v1, { address: registry.addr, plainHttp: true, ...creds });
      assert.equal(error.message, message);
      await assert.rejects(checkRegistryReachable({ address: registry.addr, plainHttp: true, ...creds }), { name: 'InstallError', message });
    }
    assert.deepEqual(uploadsAndPuts(registry.requests()), []);

    const { report, lines } = await push(v1, { address: registry.addr, plainHttp: true, user: 'pusher', password });
    assert.equal(report.blobsPushed, uniqueBlobs(v1));
    assert.ok(!lines.some((l) => l.includes(password) || l.includes('pusher')), 'no credentials in the log');
    await expectAllThere(registry, v1, `pusher:${password}`);
  });

  it('a blob missing from the bundle: refused before anything is sent, naming the blob and its file', async () => {
    const registry = await target();
    const broken = path.join(work, 'bundle-broken');
    fs.cpSync(v1.root, broken, { recursive: true });
    const missing = v1.images[2]!.blobs.at(-1)!;
    const file = blobPath(path.join(broken, 'registry'), missing);
    fs.rmSync(file);
    const { error } = await failedPush(broken, { address: registry.addr, plainHttp: true });
    assert.equal(error.message, `blob ${missing} of asf-kit/asf-layout is missing from the bundle (${file}); the bundle is incomplete`);
    assert.deepEqual(uploadsAndPuts(registry.requests()), []);
  });

  it('jobs not a positive integer: refused, nothing sent', async () => {
    const registry = await target();
    const before = registry.requests().length;
    for (const jobs of [0, 1.5]) {
      await assert.rejects(pushBundleImages(v1.root, { address: registry.addr, plainHttp: true }, { jobs, log: () => {} }), {
        name: 'InstallError',
        message: `--jobs must be a positive integer, got '${jobs}'`,
      });
    }
    assert.deepEqual(registry.requests().slice(before), []);
  });

  it('a folder that is no bundle: says so', async () => {
    const { error } = await failedPush(work, { address: '127.0.0.1:1', plainHttp: true });
    assert.equal(error.message, `no images under ${path.join(work, 'registry')}/; is --bundle the bundle root?`);
  });

  it('an unreachable address, or https to an http registry: "cannot reach" with the scheme it tried', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const { error } = await failedPush(v1, { address: closed, plainHttp: true });
    assert.equal(error.message, `cannot reach registry at http://${closed}/v2/ (is the address right? add --plain-http for an http registry)`);
    const registry = await target();
    await assert.rejects(checkRegistryReachable({ address: registry.addr }), {
      name: 'InstallError',
      message: `cannot reach registry at https://${registry.addr}/v2/ (is the address right? add --plain-http for an http registry)`,
    });
  });

  it('a server that is no registry: names the HTTP status it gave', async () => {
    const server = http.createServer((_req, res) => res.writeHead(404).end('not here'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await assert.rejects(checkRegistryReachable({ address: addr, plainHttp: true }), {
        name: 'InstallError',
        message: `registry ${addr} answered HTTP 404 on /v2/; is it a distribution v2 registry?`,
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a TLS registry with a self-signed certificate: refused without insecure, naming the reason; pushed with it, or verified once its certificate is trusted (SSL_CERT_FILE)', async () => {
    const certs = fs.mkdtempSync(path.join(work, 'tls-'));
    const [certificate, key] = [path.join(certs, 'cert.pem'), path.join(certs, 'key.pem')];
    const made = await exec('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', certificate]);
    assert.equal(made.code, 0, made.stderr);
    const registry = await serveRegistry(path.join(certs, 'storage'), { tls: { certificate, key } });
    try {
      const { error } = await failedPush(v1, { address: registry.host });
      assert.equal(error.message, `registry ${registry.host} has a TLS certificate this machine does not trust (self-signed certificate): add --insecure to skip the check, or trust its CA here`);
      const { report } = await push(v1, { address: registry.host, insecure: true });
      assert.equal(report.blobsPushed, uniqueBlobs(v1));
      await expectAllThere({ addr: registry.host }, v1);
      // Its certificate trusted (as a site adds its CA to the machine's bundle): verified, no insecure needed.
      process.env['SSL_CERT_FILE'] = certificate;
      const trusted = await push(v1, { address: registry.host }).finally(() => delete process.env['SSL_CERT_FILE']);
      assert.equal(trusted.report.blobsSkipped, links(v1));
    } finally {
      await registry.stop();
    }
  });

  it('http_proxy is honoured as curl did (the push goes through the proxy\'s tunnels), and no_proxy listing the registry bypasses it', async () => {
    const registry = await target();
    const tunnels: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: import('node:net').Socket) => {
      tunnels.push(req.url!);
      const [host, port] = req.url!.split(':') as [string, string];
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).on('error', () => {});
        client.pipe(upstream).on('error', () => {});
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const saved = { http_proxy: process.env['http_proxy'], no_proxy: process.env['no_proxy'] };
    const restore = () => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    };
    try {
      process.env['http_proxy'] = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      delete process.env['no_proxy'];
      const { report } = await push(v1, { address: registry.addr, plainHttp: true });
      assert.equal(report.blobsPushed, uniqueBlobs(v1));
      assert.ok(tunnels.length > 0 && tunnels.every((t) => t === registry.addr), tunnels.join(' '));
      for (const image of v1.images) assert.equal((await skopeoInspect(registry, image.repository, image.digest)).code, 0);

      tunnels.length = 0;
      process.env['no_proxy'] = '127.0.0.1';
      assert.deepEqual(await manifestStatuses({ address: registry.addr, plainHttp: true }, [v1.images[0]!]), [200]);
      assert.deepEqual(tunnels, []);
    } finally {
      restore();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('manifestStatuses: 404 before the push, 200 after, 0 when nothing answers', async () => {
    const registry = await target();
    const image = v1.images[0]!;
    const to = { address: registry.addr, plainHttp: true };
    assert.deepEqual(await manifestStatuses(to, [image]), [404]);
    await push(v1, to);
    assert.deepEqual(await manifestStatuses(to, [image]), [200]);
    assert.deepEqual(await manifestStatuses({ address: `127.0.0.1:${await freePort()}`, plainHttp: true }, [image]), [0]);
  });
});
