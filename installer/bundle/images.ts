// Puts every planned image into the bundle's registry/: skopeo copies each one into Debian's
// docker-registry serving that folder, so the layout is the registry's own, blobs shared between
// images are stored once, and blobs already there from an earlier build are not copied again.
import fs from 'node:fs';
import { $ } from 'zx';
import { serveRegistry } from '../registry/serve.js';
import { blobPath, blobSize, imageBlobs, isIndex, prune, readManifest, tagDigest, type Manifest } from '../registry/layout.js';
import { progress } from '../progress.js';
import type { PlannedImage } from './spec.js';

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

async function skopeo(args: string[], what: string): Promise<string> {
  const r = await $({ nothrow: true, quiet: true })`skopeo ${args}`;
  if (r.exitCode !== 0) throw new ImageError(`${what}: ${r.stderr.trim().split('\n').pop() ?? `skopeo exited with ${r.exitCode}`}`);
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
  const raw = await skopeo(['inspect', '--raw', ...inspect, `docker://${reference}`], `${image.ref}: cannot read ${reference}`);
  const manifest = JSON.parse(raw) as Manifest;
  const push = ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', ...src];
  const name = reference.split('@')[0]!.replace(/:[^:/]+$/, '');
  const dest = `${host}/${image.repository}`;

  if (!isIndex(manifest)) {
    await skopeo([...push, `docker://${reference}`, `docker://${dest}:${image.tag}`], `${image.ref}: cannot copy`);
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
    await skopeo([...push, `docker://${name}@${chosen[0]!.digest}`, `docker://${dest}:${image.tag}`], `${image.ref}: cannot copy its ${options.platforms[0]} image`);
    return;
  }
  for (const child of chosen) {
    await skopeo([...push, `docker://${name}@${child.digest}`, `docker://${dest}@${child.digest}`], `${image.ref}: cannot copy ${child.digest}`);
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
