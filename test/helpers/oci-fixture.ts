// Tiny OCI images written by hand into an OCI image layout (no daemon, no network): the bundle
// tests' "own images". Identical layer contents give identical layer digests, so two images can
// share a layer on purpose.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

function writeBlob(layout: string, body: Buffer, mediaType: string): Blob {
  const hex = createHash('sha256').update(body).digest('hex');
  fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', hex), body);
  return { mediaType, digest: `sha256:${hex}`, size: body.length };
}

function tag(layout: string, name: string, blob: Blob, platform?: { os: string; architecture: string }): void {
  const file = path.join(layout, 'index.json');
  const index = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { manifests: unknown[] }) : { schemaVersion: 2, manifests: [] };
  index.manifests = index.manifests.filter((m) => (m as { annotations?: Record<string, string> }).annotations?.['org.opencontainers.image.ref.name'] !== name);
  index.manifests.push({ ...blob, ...(platform ? { platform } : {}), annotations: { 'org.opencontainers.image.ref.name': name } });
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(file, JSON.stringify(index));
}

/** File path → content (text, or bytes such as the benchmark's random data). */
export type LayerFiles = Record<string, string | Buffer>;

/** A layer holding `files` (path → content), as a deterministic tar. */
function layer(layout: string, files: LayerFiles): Blob {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-layer-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  const file = path.join(dir, '..', `${path.basename(dir)}.tar`);
  tar.c({ cwd: dir, sync: true, portable: true, mtime: new Date(0), file }, Object.keys(files).sort());
  const blob = writeBlob(layout, fs.readFileSync(file), 'application/vnd.oci.image.layer.v1.tar');
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(file);
  return blob;
}

/** Writes an image of the given layers and tags it `name` in the layout; returns its manifest blob. */
export function ociImage(layout: string, name: string, layers: LayerFiles[], platform = { os: 'linux', architecture: 'amd64' }): Blob {
  const layerBlobs = layers.map((files) => layer(layout, files));
  const config = writeBlob(
    layout,
    Buffer.from(JSON.stringify({ ...platform, config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: layerBlobs.map((l) => l.digest) } })),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = writeBlob(
    layout,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: layerBlobs })),
    'application/vnd.oci.image.manifest.v1+json',
  );
  tag(layout, name, manifest, platform);
  return manifest;
}

/** An index over images already in the layout, tagged `name`. */
export function ociIndex(layout: string, name: string, images: { blob: Blob; platform: { os: string; architecture: string } }[]): Blob {
  const index = writeBlob(
    layout,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: images.map((i) => ({ ...i.blob, platform: i.platform })) })),
    'application/vnd.oci.image.index.v1+json',
  );
  tag(layout, name, index);
  return index;
}
