// Writes the two artefacts from a staged bundle root: the sealos cluster image (an OCI archive
// whose single layer is the root) and the offline tarball (the root under one top folder, plus
// the installer's tools). Both are written under a temporary name and renamed when complete, so
// an interrupted build never leaves a half-written file under the final name.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import * as tar from 'tar';
import { progress } from '../progress.js';

export const partialSuffix = '.partial';

/** Files and folders under `dir`, sorted, with the ones readers want first kept in front. */
export function entriesOf(dir: string, first: string[] = []): { files: string[]; dirs: string[]; bytes: number } {
  const files: string[] = [];
  const dirs: string[] = [];
  let bytes = 0;
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const relPath = rel ? `${rel}/${name}` : name;
      const stat = fs.statSync(path.join(dir, relPath)); // follows the offline stage's links
      if (stat.isDirectory()) {
        dirs.push(relPath);
        walk(relPath);
      } else if (stat.isFile()) {
        files.push(relPath);
        bytes += stat.size;
      } else {
        throw new Error(`${path.join(dir, relPath)}: only files and folders can go into a bundle`);
      }
    }
  };
  walk('');
  const ordered = [...first.filter((f) => files.includes(f)), ...files.filter((f) => !first.includes(f))];
  return { files: ordered, dirs, bytes };
}

/** Files readers look for before the rest (`asf bundle inspect` stops once it has read these). */
const leading = ['bundle.json', 'MANIFEST.md', 'checksums'];

/** A deterministic tar stream of `dir`: fixed mtime, no owner names, leading files first. */
function packDir(dir: string, options: { prefix?: string; mtime: Date }) {
  const { files, dirs, bytes } = entriesOf(dir, leading);
  const list = [...files.filter((f) => leading.includes(f)), ...dirs, ...files.filter((f) => !leading.includes(f))];
  const stream = tar.c(
    { cwd: dir, portable: true, follow: true, noDirRecurse: true, mtime: options.mtime, prefix: options.prefix },
    list,
  );
  return { stream, bytes };
}

function counter(bar: ReturnType<typeof progress>, label: string) {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      bar.tick(chunk.length, label);
      done(null, chunk);
    },
  });
}

function hasher() {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { tap, result: () => ({ digest: `sha256:${hash.digest('hex')}`, size }) };
}

async function atomically(final: string, write: (partial: string) => Promise<void>): Promise<void> {
  const partial = final + partialSuffix;
  fs.rmSync(partial, { force: true });
  const cleanup = () => fs.rmSync(partial, { force: true });
  // Ctrl-C or a stop request removes the partial file too (SIGKILL cannot; the next build does).
  const interrupted = (signal: NodeJS.Signals) => {
    cleanup();
    process.stderr.write(`bundle: interrupted (${signal}); removed ${partial}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', cleanup);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await write(partial);
    fs.renameSync(partial, final);
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

export interface ClusterImageConfig {
  /** name:tag the archive's index names the image by (sealos load keeps it). */
  reference: string;
  env: string[];
  cmd: string[];
  labels: Record<string, string>;
  created: Date;
}

/**
 * The sealos cluster image: an OCI image layout (oci-layout, index.json, blobs/) in one tar, the
 * image having a single uncompressed layer holding the bundle root.
 */
export async function writeClusterImage(root: string, out: string, work: string, config: ClusterImageConfig): Promise<{ digest: string; size: number }> {
  const layout = path.join(work, 'oci');
  fs.rmSync(layout, { recursive: true, force: true });
  const blobs = path.join(layout, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });

  const { stream, bytes } = packDir(root, { mtime: config.created });
  const bar = progress('image', bytes, 'bytes');
  const layerFile = path.join(layout, 'layer.tmp');
  const layer = hasher();
  await pipeline(stream, counter(bar, 'layer'), layer.tap, fs.createWriteStream(layerFile));
  bar.done(`layer of ${path.basename(out)}`);
  const layerBlob = layer.result();
  fs.renameSync(layerFile, path.join(blobs, layerBlob.digest.slice(7)));

  const writeBlob = (value: unknown) => {
    const body = Buffer.from(JSON.stringify(value));
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    fs.writeFileSync(path.join(blobs, digest.slice(7)), body);
    return { digest, size: body.length };
  };
  const created = config.created.toISOString();
  const configBlob = writeBlob({
    created,
    architecture: 'amd64',
    os: 'linux',
    config: { Env: config.env, Cmd: config.cmd, Labels: config.labels },
    rootfs: { type: 'layers', diff_ids: [layerBlob.digest] },
    history: [{ created, created_by: 'asf bundle build' }],
  });
  const manifestBlob = writeBlob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerBlob }],
  });
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': config.reference } }],
    }),
  );

  // Readers find the manifest and config before the (large) layer.
  const order = ['oci-layout', 'index.json', 'blobs', 'blobs/sha256', ...[manifestBlob, configBlob, layerBlob].map((b) => `blobs/sha256/${b.digest.slice(7)}`)];
  await atomically(out, (partial) =>
    pipeline(tar.c({ cwd: layout, portable: true, noDirRecurse: true, mtime: config.created }, order), fs.createWriteStream(partial)),
  );
  fs.rmSync(layout, { recursive: true, force: true });
  return manifestBlob;
}

/** The offline tarball: everything in `stage` (the root's entries, linked, plus the tools) under `prefix/`. */
export async function writeOfflineTarball(stage: string, out: string, prefix: string, mtime: Date): Promise<void> {
  const { stream, bytes } = packDir(stage, { prefix, mtime });
  const bar = progress('tarball', bytes, 'bytes');
  await atomically(out, (partial) => pipeline(stream, counter(bar, path.basename(out)), zlib.createGzip({ level: 6 }), fs.createWriteStream(partial)));
  bar.done(path.basename(out));
}
