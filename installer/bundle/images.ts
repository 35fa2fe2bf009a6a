// Puts every planned image into the bundle's registry/: skopeo copies each one into Debian's
// docker-registry serving that folder, so the layout is the registry's own, blobs shared between
// images are stored once, and blobs already there from an earlier build are not copied again.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { serveRegistry } from '../registry/serve.js';
import { blobPath, blobSize, imageBlobs, isIndex, prune, readManifest, tagDigest, v2, type Manifest } from '../registry/layout.js';
import { sha256File } from './files.js';
import { progress } from '../progress.js';
import { splitReference, type PlannedImage } from './spec.js';

export interface BundledImage {
  ref: string;
  repository: string;
  tag: string;
  digest: string;
  mediaType: string;
  /** os/arch of the image; for an index, of each image it lists, comma-separated. */
  platform: string;
  /** Bytes of every manifest and blob the image needs. */
  size: number;
  blobs: string[];
  manifests: string[];
}

export interface CopyOptions {
  platforms: string[];
  /** docker config.json style credentials for pulling third-party images. */
  authfile?: string;
}

export class ImageError extends Error {}

const platformOf = (p: { os: string; architecture: string; variant?: string }) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/**
 * What went wrong, from skopeo's stderr: its fatal message without the logging frame around it,
 * and for a registry that could not be reached or spoken to, that (not a Go error chain).
 */
export function skopeoProblem(stderr: string, registry?: string): string {
  const lines = stderr.trim().split('\n');
  const fatal = lines.map((l) => /level=fatal msg="((?:[^"\\]|\\.)*)"/.exec(l)).find(Boolean);
  let message = fatal ? (JSON.parse(`"${fatal[1]}"`) as string) : (lines.pop() ?? '');
  // "Error parsing image name "docker://…": " only repeats the reference we already name.
  message = message.replace(/^Error (?:parsing image name|initializing source|reading manifest) "?[^"]*"?: /, '');
  const host = /pinging container registry ([^\s:]+(?::\d+)?)/.exec(message)?.[1] ?? registry;
  const where = host ? `the registry ${host}` : 'the registry';
  const network: [RegExp, (m: RegExpExecArray) => string][] = [
    [/connect: connection refused/, () => 'connection refused (nothing listens there)'],
    [/lookup (\S+?)(?: on \S+)?: no such host/, (m) => `no such host: ${m[1]!.replace(/:$/, '')}`],
    [/lookup (\S+?)(?: on \S+)?: (?:server misbehaving|Temporary failure in name resolution)/, (m) => `its name ${m[1]!.replace(/:$/, '')} does not resolve`],
    [/i\/o timeout|context deadline exceeded|TLS handshake timeout/, () => 'timed out'],
    [/network is unreachable/, () => 'network is unreachable'],
    [/no route to host/, () => 'no route to host'],
    [/connection reset by peer/, () => 'the connection was reset'],
  ];
  for (const [pattern, reason] of network) {
    const m = pattern.exec(message);
    if (m) return `${where} could not be reached: ${reason(m)}; check the address, this machine's network and proxy settings, or build where the registry is reachable`;
  }
  if (/x509: |tls: |server gave HTTP response to HTTPS client/.test(message)) {
    return `TLS with ${where} failed (${message.replace(/^.*?((?:x509|tls|http): .*)$/, '$1')}); for a registry without TLS or with a private CA, set insecure: true on the image in bundle.yaml`;
  }
  return message || 'skopeo failed without a message';
}

async function skopeo(args: string[], what: string, registry?: string): Promise<string> {
  const r = await $({ nothrow: true, quiet: true })`skopeo ${args}`;
  if (r.exitCode !== 0) throw new ImageError(`${what}: ${r.stderr.trim() ? skopeoProblem(r.stderr, registry) : `skopeo exited with ${r.exitCode}`}`);
  return r.stdout;
}

/** Copies the images into `root` (a registry/ folder) and drops what they no longer need. */
export async function copyImages(root: string, images: PlannedImage[], options: CopyOptions): Promise<BundledImage[]> {
  fs.mkdirSync(root, { recursive: true });
  const registry = await serveRegistry(root);
  const bar = progress('images', images.length);
  try {
    for (const image of images) {
      bar.tick(0, `${image.ref}`);
      const dest = `docker://${registry.host}/${image.repository}:${image.tag}`;
      const push = ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false'];
      if (image.source.kind === 'oci') {
        await seedBlobs(root, image, image.source.layout, image.source.tag);
        const src = `oci:${image.source.layout}:${image.source.tag}`;
        await skopeo([...push, src, dest], `${image.ref}: cannot copy from ${src}${image.source.recipe ? ` (build it: images/build.sh ${image.source.recipe})` : ''}`);
      } else {
        await copyFromRegistry(image, registry.host, options);
      }
      bar.tick(1, image.ref);
    }
  } finally {
    await registry.stop();
  }

  const bundled = images.map((image): BundledImage => {
    const digest = tagDigest(root, image.repository, image.tag);
    if (!digest) throw new ImageError(`${image.ref}: not found in registry/ after copying`);
    if (image.digest && image.source.kind === 'oci' && digest !== image.digest) {
      throw new ImageError(`${image.ref}: digest ${digest} does not match the pinned ${image.digest}`);
    }
    const manifest = readManifest(root, digest);
    const { manifests, blobs } = imageBlobs(root, digest);
    const size = [...manifests, ...blobs].reduce((sum, d) => sum + blobSize(root, d), 0);
    return {
      ref: image.ref,
      repository: image.repository,
      tag: image.tag,
      digest,
      mediaType: manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      platform: (isIndex(manifest) ? (manifest.manifests ?? []).flatMap((m) => (m.platform ? [platformOf(m.platform)] : [])) : [configPlatform(root, manifest)]).join(','),
      size,
      blobs,
      manifests,
    };
  });
  const { blobsRemoved } = prune(root, bundled.map((b) => ({ repository: b.repository, tag: b.tag, manifests: b.manifests, blobs: b.blobs })));
  bar.done(`${bundled.length} images${blobsRemoved ? `, ${blobsRemoved} stale blobs removed` : ''}`);
  return bundled;
}

/**
 * Our images come from an OCI layout on this machine. Their config and layers go into the blob
 * store of registry/ directly, each hashed first, as a reflink or in-kernel copy (copy_file_range)
 * of the layout's file, and are linked to the repository as docker-registry links them. skopeo
 * then finds them there and sends only the manifest: the bytes are not read by skopeo, pushed over
 * HTTP, hashed again and written by docker-registry. An index (several platforms) is left to skopeo.
 * Not a hard link: tools may rewrite a layout's blob in place, which would change registry/ behind
 * the build's back.
 */
async function seedBlobs(root: string, image: PlannedImage, layout: string, tag: string): Promise<void> {
  type Descriptor = { digest: string; annotations?: Record<string, string> };
  const json = <T>(file: string): T | undefined => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
    } catch {
      return undefined; // skopeo, which reads it next, says what is wrong with it
    }
  };
  const inLayout = (digest: string) => path.join(layout, 'blobs', ...digest.split(':'));
  const top = json<{ manifests?: Descriptor[] }>(path.join(layout, 'index.json'))?.manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const manifest = top && /^sha256:[0-9a-f]{64}$/.test(top.digest) ? json<Manifest>(inLayout(top.digest)) : undefined;
  if (!manifest?.config || isIndex(manifest)) return;
  for (const digest of [manifest.config.digest, ...(manifest.layers ?? []).map((l) => l.digest)]) {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) continue;
    const source = inLayout(digest);
    const target = blobPath(root, digest);
    if (!fs.existsSync(target) && fs.existsSync(source)) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      await placeBlob(source, target, async (copy) => {
        const actual = `sha256:${await sha256File(copy)}`;
        if (actual !== digest) throw new ImageError(`${image.ref}: blob ${digest} in ${layout} is corrupt: its content hashes to ${actual}`);
      });
    }
    const link = path.join(root, v2, 'repositories', image.repository, '_layers', 'sha256', digest.slice(7), 'link');
    if (!fs.existsSync(link)) {
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.writeFileSync(link, digest);
    }
  }
}

/** A copy under a temporary name, checked, then renamed: `data` is never half there or unchecked. */
async function placeBlob(source: string, target: string, check: (copy: string) => Promise<void>): Promise<void> {
  const partial = `${target}.partial`;
  try {
    fs.copyFileSync(source, partial, fs.constants.COPYFILE_FICLONE);
    await check(partial);
    fs.chmodSync(partial, 0o644);
    fs.renameSync(partial, target);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

function configPlatform(root: string, manifest: Manifest): string {
  const config = JSON.parse(fs.readFileSync(blobPath(root, manifest.config!.digest), 'utf8')) as { os?: string; architecture?: string; variant?: string };
  return platformOf({ os: config.os ?? 'unknown', architecture: config.architecture ?? 'unknown', variant: config.variant });
}

/**
 * A third-party image: only the requested platforms of a multi-platform image are kept. One
 * platform → the platform's own manifest under the tag; several → those manifests plus an index
 * listing just them (the original index when every platform is kept, so its digest holds).
 */
async function copyFromRegistry(image: PlannedImage, host: string, options: CopyOptions): Promise<void> {
  if (image.source.kind !== 'registry') return;
  const { reference, insecure } = image.source;
  const src = [...(insecure ? ['--src-tls-verify=false'] : []), ...(options.authfile ? ['--src-authfile', options.authfile] : [])];
  const inspect = [...(insecure ? ['--tls-verify=false'] : []), ...(options.authfile ? ['--authfile', options.authfile] : [])];
  const name = reference.split('@')[0]!.replace(/:[^:/]+$/, '');
  const registry = splitReference(reference).host ?? 'docker.io';
  let raw: string;
  try {
    raw = await skopeo(['inspect', '--raw', ...inspect, `docker://${reference}`], `${image.ref}: cannot read ${reference}`, registry);
  } catch (err) {
    // A pinned digest the registry does not have: say what the tag points at there instead.
    if (!image.digest || !(err instanceof ImageError) || !/manifest unknown|not found/i.test(err.message)) throw err;
    const tagged = await skopeo(['inspect', '--raw', ...inspect, `docker://${name}:${image.tag}`], '', registry).then(
      (body) => `sha256:${createHash('sha256').update(body).digest('hex')}`,
      () => undefined,
    );
    const now = tagged ? `its tag ${image.tag} points at ${tagged} there now` : `its tag ${image.tag} cannot be read there either`;
    throw new ImageError(`${image.ref}: the pinned digest ${image.digest} is not in ${name} (${now}); correct digest: in bundle.yaml, or remove it to take what the tag holds`);
  }
  if (image.digest) {
    const served = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    if (served !== image.digest) throw new ImageError(`${image.ref}: ${name} served a manifest with digest ${served}, which does not match the pinned ${image.digest}`);
  }
  const manifest = JSON.parse(raw) as Manifest;
  const push = ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', ...src];
  const dest = `${host}/${image.repository}`;

  if (!isIndex(manifest)) {
    await skopeo([...push, `docker://${reference}`, `docker://${dest}:${image.tag}`], `${image.ref}: cannot copy`, registry);
    return;
  }
  const children = manifest.manifests ?? [];
  const chosen = options.platforms.map((wanted) => {
    const child = children.find((c) => c.platform && (platformOf(c.platform) === wanted || `${c.platform.os}/${c.platform.architecture}` === wanted));
    if (!child) {
      const has = children.flatMap((c) => (c.platform ? [platformOf(c.platform)] : [])).join(', ');
      throw new ImageError(`${image.ref}: no ${wanted} image in its index (it has: ${has})`);
    }
    return child;
  });
  if (chosen.length === 1) {
    await skopeo([...push, `docker://${name}@${chosen[0]!.digest}`, `docker://${dest}:${image.tag}`], `${image.ref}: cannot copy its ${options.platforms[0]} image`, registry);
    return;
  }
  for (const child of chosen) {
    await skopeo([...push, `docker://${name}@${child.digest}`, `docker://${dest}@${child.digest}`], `${image.ref}: cannot copy ${child.digest}`, registry);
  }
  const body = chosen.length === children.length ? raw : JSON.stringify({ ...manifest, manifests: chosen });
  const mediaType = manifest.mediaType ?? 'application/vnd.oci.image.index.v1+json';
  const res = await fetch(`http://${host}/v2/${image.repository}/manifests/${image.tag}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body,
  });
  if (res.status !== 201) throw new ImageError(`${image.ref}: storing its index failed: HTTP ${res.status} ${await res.text()}`);
}
