// The distribution v2 filesystem layout under registry/: reading tags and manifests, listing the
// blobs an image needs, and pruning what no planned image needs any more.
import fs from 'node:fs';
import path from 'node:path';

export const v2 = path.join('docker', 'registry', 'v2');

const indexTypes = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

export function blobPath(root: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return path.join(root, v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

function readLink(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The manifest digest a tag points at, or undefined. */
export function tagDigest(root: string, repository: string, tag: string): string | undefined {
  return readLink(path.join(root, v2, 'repositories', repository, '_manifests', 'tags', tag, 'current', 'link'));
}

export interface Manifest {
  mediaType?: string;
  config?: { digest: string; size: number };
  layers?: { digest: string; size: number }[];
  manifests?: { digest: string; size: number; mediaType?: string; platform?: { os: string; architecture: string; variant?: string } }[];
}

export function readManifest(root: string, digest: string): Manifest {
  return JSON.parse(fs.readFileSync(blobPath(root, digest), 'utf8')) as Manifest;
}

export function isIndex(m: Manifest): boolean {
  return indexTypes.has(m.mediaType ?? '') || (!m.config && Array.isArray(m.manifests));
}

/** The media type a manifest declares, else the one its shape implies (what a registry wants as Content-Type). */
export function manifestMediaType(m: Manifest): string {
  if (m.mediaType) return m.mediaType;
  return Array.isArray(m.manifests) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
}

/**
 * Every blob an image needs, manifest first: for an index, the index, then each child manifest
 * with its config and layers.
 */
export function imageBlobs(root: string, digest: string): { manifests: string[]; blobs: string[] } {
  const manifest = readManifest(root, digest);
  if (isIndex(manifest)) {
    const manifests = [digest];
    const blobs: string[] = [];
    for (const child of manifest.manifests ?? []) {
      const sub = imageBlobs(root, child.digest);
      manifests.push(...sub.manifests);
      blobs.push(...sub.blobs);
    }
    return { manifests, blobs: [...new Set(blobs)] };
  }
  return { manifests: [digest], blobs: [manifest.config!.digest, ...(manifest.layers ?? []).map((l) => l.digest)] };
}

export function blobSize(root: string, digest: string): number {
  return fs.statSync(blobPath(root, digest)).size;
}

/** What each repository of the bundle keeps. */
export interface Keep {
  repository: string;
  tag: string;
  manifests: string[];
  blobs: string[];
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Repository names under repositories/ (they may nest: asf-kit/asf-runtime). */
export function repositories(root: string): string[] {
  const base = path.join(root, v2, 'repositories');
  const found: string[] = [];
  const walk = (rel: string) => {
    const names = entries(path.join(base, rel));
    if (names.includes('_manifests') || names.includes('_layers')) found.push(rel);
    for (const name of names) if (!name.startsWith('_') && fs.statSync(path.join(base, rel, name)).isDirectory()) walk(path.join(rel, name));
  };
  walk('');
  return found.filter(Boolean);
}

/**
 * Removes from registry/ whatever the kept images do not reference: other repositories, tags,
 * revisions, layer links, upload leftovers and blobs. Re-running a build after an image changed
 * thus leaves exactly the new content, while unchanged blobs stay where they are.
 */
export function prune(root: string, keep: Keep[]): { blobsRemoved: number } {
  const base = path.join(root, v2, 'repositories');
  const byRepo = new Map<string, Keep[]>();
  for (const k of keep) byRepo.set(k.repository, [...(byRepo.get(k.repository) ?? []), k]);

  for (const repo of repositories(root)) {
    const kept = byRepo.get(repo);
    const dir = path.join(base, repo);
    fs.rmSync(path.join(dir, '_uploads'), { recursive: true, force: true });
    if (!kept) {
      for (const name of entries(dir)) if (name.startsWith('_')) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      if (entries(dir).length === 0) fs.rmdirSync(dir);
      continue;
    }
    const tags = new Set(kept.map((k) => k.tag));
    const manifests = new Set(kept.flatMap((k) => k.manifests).map((d) => d.replace('sha256:', '')));
    const blobs = new Set(kept.flatMap((k) => k.blobs).map((d) => d.replace('sha256:', '')));
    const tagsDir = path.join(dir, '_manifests', 'tags');
    for (const tag of entries(tagsDir)) {
      if (!tags.has(tag)) {
        fs.rmSync(path.join(tagsDir, tag), { recursive: true, force: true });
        continue;
      }
      const index = path.join(tagsDir, tag, 'index', 'sha256');
      for (const hex of entries(index)) if (!manifests.has(hex)) fs.rmSync(path.join(index, hex), { recursive: true, force: true });
    }
    const revisions = path.join(dir, '_manifests', 'revisions', 'sha256');
    for (const hex of entries(revisions)) if (!manifests.has(hex)) fs.rmSync(path.join(revisions, hex), { recursive: true, force: true });
    const layers = path.join(dir, '_layers', 'sha256');
    for (const hex of entries(layers)) if (!blobs.has(hex)) fs.rmSync(path.join(layers, hex), { recursive: true, force: true });
  }
  // Empty parents of removed nested repositories.
  const clean = (rel: string): boolean => {
    const full = path.join(base, rel);
    let empty = true;
    for (const name of entries(full)) {
      if (name.startsWith('_') || !fs.statSync(path.join(full, name)).isDirectory() || !clean(path.join(rel, name))) empty = false;
    }
    if (empty && rel) fs.rmdirSync(full);
    return empty;
  };
  clean('');

  const reachable = new Set(keep.flatMap((k) => [...k.manifests, ...k.blobs]).map((d) => d.replace('sha256:', '')));
  const blobsDir = path.join(root, v2, 'blobs', 'sha256');
  let blobsRemoved = 0;
  for (const prefix of entries(blobsDir)) {
    for (const hex of entries(path.join(blobsDir, prefix))) {
      if (!reachable.has(hex)) {
        fs.rmSync(path.join(blobsDir, prefix, hex), { recursive: true, force: true });
        blobsRemoved++;
      }
    }
    if (entries(path.join(blobsDir, prefix)).length === 0) fs.rmdirSync(path.join(blobsDir, prefix));
  }
  return { blobsRemoved };
}

/** The digests a directory of sha256/<hex>/link files names (a repository's layers or revisions). */
function linkedDigests(dir: string): string[] {
  const digests: string[] = [];
  for (const hex of entries(path.join(dir, 'sha256')).sort()) {
    const digest = readLink(path.join(dir, 'sha256', hex, 'link'));
    if (digest) digests.push(digest);
  }
  return digests;
}

/** The blobs (configs and layers) a repository of the bundle links. */
export function repositoryLayers(root: string, repository: string): string[] {
  return linkedDigests(path.join(root, v2, 'repositories', repository, '_layers'));
}

/** The manifests (image manifests and indexes) a repository of the bundle holds. */
export function repositoryManifests(root: string, repository: string): string[] {
  return linkedDigests(path.join(root, v2, 'repositories', repository, '_manifests', 'revisions'));
}

/** A repository's tags and the manifest digest each points at, sorted by tag. */
export function repositoryTags(root: string, repository: string): { tag: string; digest: string }[] {
  const tags: { tag: string; digest: string }[] = [];
  for (const tag of entries(path.join(root, v2, 'repositories', repository, '_manifests', 'tags')).sort()) {
    const digest = tagDigest(root, repository, tag);
    if (digest) tags.push({ tag, digest });
  }
  return tags;
}

/** Whether the bundle holds manifest `digest` in `repository`. */
export function hasRevision(root: string, repository: string, digest: string): boolean {
  return readLink(path.join(root, v2, 'repositories', repository, '_manifests', 'revisions', 'sha256', digest.replace(/^sha256:/, ''), 'link')) !== undefined;
}
