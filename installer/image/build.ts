// asf build: a capability folder → an OCI image, without any daemon.
//   base          our runtime image (or its CUDA variant), by digest, from the images' OCI layout
//   dependencies  Python: a venv of the pinned wheels; JS: node_modules from package-lock.json (cached)
//   resources     the model/data files capability.yaml declares, sha256-checked
//   code          the folder itself (C: after its Makefile ran) at /opt/asf/capabilities/<serviceId>
// Layers go from least to most often changed, so a code-only change makes one new layer and the
// others keep their digests.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { $ } from 'zx';
import { CapabilityError, loadCapability } from '../../runtime/capability/load.js';
import { packageRoot } from '../../runtime/paths.js';
import { cachedLayer, writeLayer } from './layer.js';
import { layoutTag, stackImage, tagDigest, type Layer } from './oci.js';
import { pythonDepsLayer } from './python-deps.js';
import { sha256File } from '../bundle/files.js';

export class BuildError extends Error {}

export interface BuildImageOptions {
  dir: string;
  /** Reference the image is named by (default asf.local/capabilities/<serviceId>:<version>). */
  ref?: string;
  /** Base it on the CUDA variant of the runtime image. */
  gpu?: boolean;
  /** OCI layout to read the base from and write the image to (default: where images/build.sh writes). */
  layout?: string;
  created?: Date;
  say?: (line: string) => void;
}

export interface BuiltImage {
  ref: string;
  layout: string;
  tag: string;
  digest: string;
  serviceId: string;
  version: string;
  host: string;
  /** The capability folder inside the image. */
  path: string;
  licences: number;
  workers?: number;
  base: { ref: string; digest: string };
  layers: { history: string; reused: boolean }[];
}

/** Files of a folder that never go into its image: local environments, caches, VCS data. */
const skipped = new Set(['.venv', 'node_modules', '__pycache__', '.git', '.pytest_cache', '.mypy_cache']);

export function defaultLayout(): string {
  return path.join(process.env.ASF_IMAGES ?? path.join(packageRoot, '.cache', 'images'), 'oci');
}

export async function buildCapabilityImage(options: BuildImageOptions): Promise<BuiltImage> {
  const say = options.say ?? (() => {});
  const src = path.resolve(options.dir);
  if (!fs.existsSync(src) || !fs.statSync(src).isDirectory()) throw new BuildError(`capability folder ${src} does not exist`);
  const layout = path.resolve(options.layout ?? defaultLayout());
  const cacheDir = path.join(path.dirname(layout), 'capabilities');
  fs.mkdirSync(path.join(cacheDir, 'work'), { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, 'work', 'build-'));
  try {
    // A copy keeps the user's folder as it was (make's outputs, resources moved to their layer).
    const folder = path.join(work, path.basename(src));
    fs.cpSync(src, folder, { recursive: true, preserveTimestamps: true, filter: (from) => !skipped.has(path.basename(from)) && !from.endsWith('.pyc') });
    await runMakefile(folder, src);
    const spec = readCapability(folder, src);
    const inImage = `/opt/asf/capabilities/${spec.serviceId}`;
    // Repository names are lower-case; serviceIds need not be.
    const ref = options.ref ?? `asf.local/capabilities/${spec.serviceId.toLowerCase()}:${spec.version}`;
    if (!/^[a-z0-9][a-z0-9._\-/:]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(ref) || ref.includes('//')) {
      throw new BuildError(`-t ${ref}: not an image reference with a tag (e.g. registry.example/team/${spec.serviceId}:1.0)`);
    }
    const base = await baseImage(layout, options.gpu ?? false, say);
    say(`${spec.serviceId} ${spec.version} (${spec.host}) on ${base.ref}@${base.digest.slice(0, 19)}…`);

    const layers: (Layer & { reused: boolean })[] = [];
    const requirements = path.join(folder, 'requirements.txt');
    if (spec.host === 'python' && fs.existsSync(requirements)) {
      layers.push(await pythonDepsLayer({ requirements, venv: `${inImage}/.venv`, base: { layout, tag: base.tag, digest: base.digest }, cacheDir, say }));
    }
    const nodeModules = spec.host === 'js' ? await nodeModulesLayer(folder, src, inImage, cacheDir, say) : undefined;
    if (nodeModules) layers.push(nodeModules);
    const resources = await checkResources(folder, spec.resources);
    if (resources.length) {
      const stage = path.join(work, 'resources');
      for (const rel of resources) {
        fs.mkdirSync(path.dirname(path.join(stage, inImage, rel)), { recursive: true });
        fs.renameSync(path.join(folder, rel), path.join(stage, inImage, rel));
      }
      layers.push({ file: await layerOf(stage, work, 'resources'), history: `resources: ${resources.join(', ')} (sha256 checked)`, reused: false });
    }
    const code = path.join(work, 'code');
    fs.mkdirSync(path.dirname(path.join(code, inImage)), { recursive: true });
    fs.renameSync(folder, path.join(code, inImage));
    layers.push({ file: await layerOf(code, work, 'code'), history: `capability ${spec.serviceId} ${spec.version} (${path.basename(src)}/)`, reused: false });

    const tag = layoutTag(ref);
    const labels: Record<string, string> = {
      'org.opencontainers.image.title': spec.serviceId,
      'org.opencontainers.image.version': spec.version,
      'org.opencontainers.image.base.name': base.ref,
      'org.opencontainers.image.base.digest': base.digest,
      'io.asf-kit.service-id': spec.serviceId,
      'io.asf-kit.capability.path': inImage,
      'io.asf-kit.capability.host': spec.host,
      ...(await sourceLabels(src)),
    };
    const digest = await stackImage(layout, base.tag, tag, layers, {
      cmd: ['loader', '--capability', inImage],
      labels,
      created: options.created ?? (process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date()),
    });
    return {
      ref,
      layout,
      tag,
      digest,
      serviceId: spec.serviceId,
      version: spec.version,
      host: spec.host,
      path: inImage,
      licences: spec.licences,
      ...(spec.python?.workers ? { workers: spec.python.workers } : {}),
      base: { ref: base.ref, digest: base.digest },
      layers: layers.map(({ history, reused }) => ({ history, reused })),
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The folder's spec, read from the build's copy; messages name the user's folder. */
function readCapability(copy: string, src: string) {
  try {
    return loadCapability(copy);
  } catch (err) {
    if (err instanceof CapabilityError) throw new BuildError(err.message.replaceAll(copy, src));
    throw err;
  }
}

/** A C capability is built with its Makefile on this host (a Debian like the image's); the image gets no compiler. */
async function runMakefile(folder: string, src: string): Promise<void> {
  const hasEntry = ['index.js', 'index.mjs', 'index.ts', 'wrapper.py'].some((f) => fs.existsSync(path.join(folder, f)));
  const makefile = ['Makefile', 'makefile', 'GNUmakefile'].some((f) => fs.existsSync(path.join(folder, f)));
  if (hasEntry || !makefile) {
    if (!hasEntry && !fs.existsSync(path.join(folder, 'libwrapper.so'))) {
      throw new BuildError(`${src} holds no wrapper: none of index.js, index.mjs, index.ts, wrapper.py or libwrapper.so, and no Makefile to build libwrapper.so with`);
    }
    return;
  }
  const r = await $({ quiet: true, nothrow: true, cwd: folder })`make`;
  if (r.exitCode !== 0) throw new BuildError(`make in ${src} failed (exit ${r.exitCode}):\n${(r.stderr || r.stdout).trim().split('\n').slice(-10).join('\n')}`);
  if (!fs.existsSync(path.join(folder, 'libwrapper.so'))) throw new BuildError(`make in ${src} succeeded but made no libwrapper.so (the file a C capability is loaded from)`);
}

/** Each declared resource exists inside the folder and has its sha256; returns their paths. */
async function checkResources(folder: string, resources: { path: string; sha256: string }[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of resources) {
    const rel = path.normalize(r.path);
    if (path.isAbsolute(rel) || rel.startsWith('..')) throw new BuildError(`resource ${r.path}: must be a path inside the capability folder`);
    const file = path.join(folder, rel);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new BuildError(`resource ${r.path}: no such file in the capability folder`);
    const found = await sha256File(file);
    if (found !== r.sha256) throw new BuildError(`resource ${r.path}: sha256 is ${found}, capability.yaml says ${r.sha256}`);
    out.push(rel);
  }
  return out;
}

async function layerOf(stage: string, work: string, name: string): Promise<string> {
  const file = path.join(work, `${name}.tar`);
  await writeLayer(stage, file);
  return file;
}

interface BaseImage {
  ref: string;
  tag: string;
  digest: string;
}

/** The runtime image (or its CUDA variant) in the layout; built with images/build.sh when missing. */
async function baseImage(layout: string, gpu: boolean, say: (line: string) => void): Promise<BaseImage> {
  const name = gpu ? 'runtime-cuda' : 'runtime';
  const list = yaml.load(fs.readFileSync(path.join(packageRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] };
  const ref = list.images.find((i) => i.name === name)!.ref;
  const tag = layoutTag(ref);
  let digest = tagDigest(layout, tag);
  if (!digest) {
    const script = path.join(packageRoot, 'images', 'build.sh');
    if (!fs.existsSync(script)) throw new BuildError(`the base image ${ref} is not in ${layout}; build it from an ASF kit checkout (images/build.sh ${name})`);
    say(`the base image ${ref} is not built yet: images/build.sh ${name}`);
    const r = await $({ nothrow: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ASF_IMAGES: path.dirname(layout) } })`${script} ${name}`;
    if (r.exitCode !== 0) throw new BuildError(`images/build.sh ${name} failed (above)`);
    digest = tagDigest(layout, tag);
    if (!digest) throw new BuildError(`images/build.sh ${name} left no ${tag} in ${layout}`);
  }
  return { ref, tag, digest };
}

/** node_modules of a JS capability, from its lock file only (npm ci: exact versions, no scripts). */
async function nodeModulesLayer(folder: string, src: string, inImage: string, cacheDir: string, say: (line: string) => void): Promise<(Layer & { reused: boolean }) | undefined> {
  const lock = path.join(folder, 'package-lock.json');
  const pkg = path.join(folder, 'package.json');
  const manifest = fs.existsSync(pkg) ? (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { dependencies?: Record<string, string> }) : {};
  const count = Object.keys(manifest.dependencies ?? {}).length;
  if (!count) return undefined;
  if (!fs.existsSync(lock)) throw new BuildError(`${src}/package.json has dependencies but no package-lock.json: run npm install there to pin them`);
  const key = createHash('sha256').update(fs.readFileSync(lock)).update(inImage).digest('hex').slice(0, 16);
  const layer = await cachedLayer(path.join(cacheDir, 'layers'), `node-${key}`, async (stage) => {
    const dir = path.join(stage, inImage);
    fs.mkdirSync(dir, { recursive: true });
    say(`npm ci --omit=dev: ${count} dependencies`);
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(folder, f), path.join(dir, f));
    const r = await $({ quiet: true, nothrow: true, cwd: dir })`npm ci --omit=dev --ignore-scripts --no-audit --no-fund`;
    if (r.exitCode !== 0) throw new BuildError(`npm ci failed:\n${r.stderr.trim()}`);
    for (const f of ['package.json', 'package-lock.json']) fs.rmSync(path.join(dir, f));
  });
  return { ...layer, history: `node_modules (${count} dependencies, package-lock.json)` };
}

/** Where the folder came from: its git remote and commit when it is in a repository. */
async function sourceLabels(dir: string): Promise<Record<string, string>> {
  const git = $({ quiet: true, nothrow: true, cwd: dir });
  const remote = (await git`git remote get-url origin`).stdout.trim();
  const revision = (await git`git rev-parse HEAD`).stdout.trim();
  return {
    ...(remote ? { 'org.opencontainers.image.source': remote } : {}),
    ...(revision ? { 'org.opencontainers.image.revision': revision } : {}),
  };
}
