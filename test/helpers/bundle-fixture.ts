// A small bundle root built the real way, for install tests until `asf bundle build` lands:
// tiny OCI images made with umoci, pushed with skopeo into Debian's docker-registry whose
// storage is the fixture's registry/ (distribution v2 layout), plus a bundle.json we write.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot } from './stack.js';
import { exec } from './tools.js';

export interface FixtureImage {
  repository: string;
  tag: string;
  /** One layer per seed; equal seeds give byte-identical layers (shared blobs). */
  layers: string[];
  /** When set, the image is a multi-platform index: linux/amd64 from `layers`, linux/arm64 from these. */
  arm64Layers?: string[];
}

export interface BuiltImage extends FixtureImage {
  digest: string;
  blobs: string[];
}

export interface Fixture {
  root: string;
  images: BuiltImage[];
}

async function must(file: string, args: string[], cwd?: string): Promise<string> {
  const r = await exec(file, args, { cwd });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** Deterministic bytes for a layer seed, so the same seed always gives the same blob. */
function layerBytes(seed: string, size = 64 * 1024): Buffer {
  const out = Buffer.alloc(size);
  let block = crypto.createHash('sha256').update(seed).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = crypto.createHash('sha256').update(block).digest();
  }
  return out;
}

export interface Registry {
  addr: string;
  logFile: string;
  /** The registry's access-log lines so far ("METHOD /v2/... STATUS"). */
  requests(): string[];
  stop(): Promise<void>;
}

/** Starts Debian's docker-registry over `rootdirectory`, on loopback unless `host` says where. */
export async function startRegistry(rootdirectory: string, options: { htpasswd?: string; readonly?: boolean; host?: string } = {}): Promise<Registry> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-registry-'));
  const config = path.join(dir, 'config.yml');
  const logFile = path.join(dir, 'registry.log');
  const lines = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: false}}',
    `storage: {filesystem: {rootdirectory: ${rootdirectory}}${options.readonly ? ', maintenance: {readonly: {enabled: true}, uploadpurging: {enabled: false}}' : ''}}`,
    `http: {addr: ${options.host ?? '127.0.0.1'}:${port}}`,
  ];
  if (options.htpasswd) lines.push(`auth: {htpasswd: {realm: asf-test, path: ${options.htpasswd}}}`);
  fs.writeFileSync(config, lines.join('\n') + '\n');
  const log = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const addr = `${options.host ?? '127.0.0.1'}:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited at start:\n${fs.readFileSync(logFile, 'utf8')}`);
    const ok = await fetch(`http://${addr}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    addr,
    logFile,
    requests: () =>
      [...fs.readFileSync(logFile, 'utf8').matchAll(/"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`),
    /** Stops it and removes its config and log (the storage is the caller's). */
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds to an OCI layout an index `name` over manifests already tagged in it (tag -> architecture). */
function addIndex(layout: string, name: string, children: Record<string, string>): void {
  type Descriptor = { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: object };
  const indexFile = path.join(layout, 'index.json');
  const top = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { manifests: Descriptor[] };
  const tagOf = (d: Descriptor) => d.annotations?.['org.opencontainers.image.ref.name'];
  const manifests = Object.entries(children).map(([tag, architecture]) => {
    const d = top.manifests.find((m) => tagOf(m) === tag)!;
    return { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: { architecture, os: 'linux' } };
  });
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  const hex = crypto.createHash('sha256').update(body).digest('hex');
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', hex), body);
  top.manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${hex}`, size: body.length, annotations: { 'org.opencontainers.image.ref.name': name } });
  fs.writeFileSync(indexFile, JSON.stringify(top));
}

/** `checksums`: "<sha256>  <path>" for every file under root but itself (what sha256sum -c reads). */
export function writeChecksums(root: string): void {
  const lines: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const file = path.posix.join(rel, name);
      const stat = fs.lstatSync(path.join(root, file));
      if (stat.isDirectory()) walk(file);
      else if (stat.isFile() && file !== 'checksums') lines.push(`${crypto.createHash('sha256').update(fs.readFileSync(path.join(root, file))).digest('hex')}  ${file}`);
    }
  };
  walk('');
  fs.writeFileSync(path.join(root, 'checksums'), lines.join('\n') + '\n');
}

/** Builds a bundle root: registry/ holding the images, charts/asf (the repo's chart), bundle.json. */
export async function buildBundleFixture(options: { version: string; images: FixtureImage[]; profile?: 'cpu' | 'gpu'; platform?: string; root?: string }): Promise<Fixture> {
  const root = options.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'asf-bundle-'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-images-'));
  fs.mkdirSync(path.join(root, 'registry'), { recursive: true });
  const registry = await startRegistry(path.join(root, 'registry'));
  const images: BuiltImage[] = [];
  try {
    const layout = path.join(work, 'oci');
    await must('umoci', ['init', '--layout', layout]);
    const manifestOf = async (ref: string, layers: string[], arch: string) => {
      await must('umoci', ['new', '--image', ref]);
      // A fixed creation time: the same layers give the same image in every bundle version.
      await must('umoci', ['config', '--no-history', '--image', ref, '--created', '2026-01-01T00:00:00Z', '--architecture', arch]);
      for (const seed of layers) {
        const content = path.join(work, `layer-${seed}`);
        fs.mkdirSync(content, { recursive: true });
        fs.writeFileSync(path.join(content, `${seed}.bin`), layerBytes(seed));
        const tarFile = `${content}.tar`;
        await must('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', tarFile, '-C', content, '.']);
        await must('umoci', ['raw', 'add-layer', '--no-history', '--image', ref, tarFile]);
      }
    };
    for (const [i, image] of options.images.entries()) {
      const name = `img${i}`;
      if (image.arm64Layers) {
        await manifestOf(`${layout}:${name}-amd64`, image.layers, 'amd64');
        await manifestOf(`${layout}:${name}-arm64`, image.arm64Layers, 'arm64');
        addIndex(layout, name, { [`${name}-amd64`]: 'amd64', [`${name}-arm64`]: 'arm64' });
      } else {
        await manifestOf(`${layout}:${name}`, image.layers, 'amd64');
      }
      const dest = `docker://${registry.addr}/${image.repository}:${image.tag}`;
      await must('skopeo', ['copy', '--quiet', '--all', '--dest-tls-verify=false', `oci:${layout}:${name}`, dest]);
      const raw = await must('skopeo', ['inspect', '--raw', '--tls-verify=false', dest]);
      const top = JSON.parse(raw) as { manifests?: { digest: string }[] };
      const blobs: string[] = [];
      for (const child of top.manifests ? top.manifests.map((m) => `docker://${registry.addr}/${image.repository}@${m.digest}`) : [dest]) {
        const manifest = JSON.parse(await must('skopeo', ['inspect', '--raw', '--tls-verify=false', child])) as { config: { digest: string }; layers: { digest: string }[] };
        blobs.push(manifest.config.digest, ...manifest.layers.map((l) => l.digest));
      }
      images.push({ ...image, digest: `sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`, blobs });
    }
  } finally {
    await registry.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  fs.cpSync(path.join(repoRoot, 'charts', 'asf'), path.join(root, 'charts', 'asf'), { recursive: true });
  const bundle = {
    name: 'asf',
    version: options.version,
    profile: options.profile ?? 'cpu',
    created: '2026-11-22T00:00:00Z',
    // As asf bundle build writes it (asf bundle inspect prints it).
    platforms: [...new Set(images.flatMap((image) => (image.arm64Layers ? ['linux/amd64', 'linux/arm64'] : [options.platform ?? 'linux/amd64'])))],
    images: images.map((image) => ({
      ref: `ghcr.io/${image.repository}:${image.tag}`,
      repository: image.repository,
      tag: image.tag,
      digest: image.digest,
      mediaType: image.arm64Layers ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json',
      platform: image.arm64Layers ? 'linux/amd64,linux/arm64' : (options.platform ?? 'linux/amd64'),
      blobs: image.blobs,
    })),
    charts: [{ name: 'asf', version: '0.1.0', path: 'charts/asf' }],
    resources: [],
    packages: [],
  };
  fs.writeFileSync(path.join(root, 'bundle.json'), JSON.stringify(bundle, null, 2) + '\n');
  writeChecksums(root);
  return { root, images };
}
