// asf bundle verify: every file against `checksums` (and no file it does not list), every registry
// blob against its digest, every registry link to a blob that is there, every image bundle.json
// names present under its tag. Problems are collected, so one run reports all of them.
import { createHash } from 'node:crypto';
import { readArtefact } from './read.js';
import { checksumsFile, manifestFile, parseChecksums, readBundleManifest } from './manifest.js';

export interface VerifyReport {
  problems: string[];
  files: number;
  blobs: number;
}

const blobPattern = /^registry\/docker\/registry\/v2\/blobs\/sha256\/([0-9a-f]{2})\/([0-9a-f]{64})\/data$/;
const linkPattern = /^registry\/docker\/registry\/v2\/repositories\/(.+)\/(_layers|_manifests)\/(.+)\/link$/;

export async function verifyArtefact(file: string): Promise<VerifyReport> {
  const problems: string[] = [];
  const hashes = new Map<string, string>();
  const blobs = new Set<string>();
  const links = new Map<string, string>();
  const kept = new Map<string, string>();

  const { kind, image } = await readArtefact(file, {
    unsafe: (raw, reason) => problems.push(`unsafe entry ${raw}: ${reason}`),
    problem: (message) => problems.push(message),
    async entry(entry, body) {
      if (entry.type === 'symlink' || entry.type === 'hardlink') {
        problems.push(`unexpected link ${entry.path} -> ${entry.linkpath}`);
        return;
      }
      if (!body) return;
      const hash = createHash('sha256');
      const small: Buffer[] = [];
      const keep = entry.path === checksumsFile || entry.path === manifestFile || linkPattern.test(entry.path);
      body.on('data', (c: Buffer) => {
        hash.update(c);
        if (keep) small.push(c);
      });
      await new Promise((resolve, reject) => body.once('end', resolve).once('error', reject));
      const hex = hash.digest('hex');
      hashes.set(entry.path, hex);
      if (keep) kept.set(entry.path, Buffer.concat(small).toString());
      const blob = blobPattern.exec(entry.path);
      if (blob) {
        if (blob[2] !== hex) problems.push(`registry blob sha256:${blob[2]} is corrupt: its content hashes to sha256:${hex} (${entry.path})`);
        else if (blob[1] !== blob[2]!.slice(0, 2)) problems.push(`registry blob ${entry.path} is filed under the wrong prefix`);
        blobs.add(`sha256:${blob[2]}`);
      } else if (entry.path.startsWith('registry/docker/registry/v2/blobs/')) {
        problems.push(`unexpected file in the registry's blob store: ${entry.path}`);
      }
      const link = linkPattern.exec(entry.path);
      if (link) links.set(entry.path, kept.get(entry.path)!.trim());
    },
  });

  const listedText = kept.get(checksumsFile);
  if (listedText === undefined) problems.push(`no ${checksumsFile} file: cannot tell what the bundle should hold`);
  else {
    const listed = parseChecksums(listedText);
    for (const [path, hex] of hashes) {
      if (path === checksumsFile) continue;
      const want = listed.get(path);
      if (want === undefined) problems.push(`unlisted file ${path} (not in ${checksumsFile})`);
      else if (want !== hex) problems.push(`checksum mismatch for ${path}: expected ${want}, got ${hex}`);
    }
    for (const path of listed.keys()) if (!hashes.has(path)) problems.push(`missing file ${path} (listed in ${checksumsFile})`);
  }

  for (const [path, target] of links) {
    if (!/^sha256:[0-9a-f]{64}$/.test(target)) problems.push(`registry link ${path} holds '${target.slice(0, 80)}', not a digest`);
    else if (!blobs.has(target)) problems.push(`registry link ${path} points at ${target}, which is not in the blob store`);
  }

  const manifestText = kept.get(manifestFile);
  if (manifestText === undefined) problems.push(`no ${manifestFile}`);
  else {
    let images: ReturnType<typeof readBundleManifest>['images'] = [];
    try {
      images = readBundleManifest(manifestText).images;
      if (!Array.isArray(images)) throw new Error('no images list');
    } catch (err) {
      problems.push(`${manifestFile} is not an ASF kit bundle manifest (${(err as Error).message})`);
      images = [];
    }
    for (const img of images) {
      const tagLink = `registry/docker/registry/v2/repositories/${img.repository}/_manifests/tags/${img.tag}/current/link`;
      const current = links.get(tagLink);
      if (current === undefined) problems.push(`image ${img.ref}: tag ${img.tag} missing from registry/`);
      else if (current !== img.digest) problems.push(`image ${img.ref}: tag points at ${current}, bundle.json says ${img.digest}`);
      for (const digest of [img.digest, ...img.blobs]) if (!blobs.has(digest)) problems.push(`image ${img.ref}: blob ${digest} missing from registry/`);
    }
  }

  if (kind === 'cluster-image' && image?.config) {
    const cmd = image.config.config?.Cmd ?? [];
    if (!cmd.length) problems.push('cluster image: its config has no Cmd (sealos would run nothing)');
  }
  return { problems, files: hashes.size, blobs: blobs.size };
}
