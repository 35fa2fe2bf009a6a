// Writes the two artefacts from a staged bundle root: the sealos cluster image (an OCI archive
// whose single layer is the root) and the offline tarball (the root under one top folder, plus
// the installer's tools). Both are written under a temporary name and renamed when complete, so
// an interrupted build never leaves a half-written file under the final name. The tar streams are
// ours (headers by node-tar's Header/Pax, so the bytes are what tar.c wrote before): we know where
// each file's bytes start, read them in large pieces, and hash what we write as we write it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import zlib from 'node:zlib';
import * as tar from 'tar';
import { humanBytes, progress } from '../progress.js';

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

/** Bytes per read of a file going into an archive (the next read runs while this one is used). */
const readChunk = 4 << 20;

/** One entry of a tar we write: a file (with where its bytes come from) or a folder. */
interface TarItem {
  path: string;
  type: 'File' | 'Directory';
  size: number;
  mode: number;
  chunks?: () => AsyncIterable<Buffer>;
}

/** A piece of a tar stream; `data` is file content (headers and padding are not). */
interface TarPart {
  chunk: Buffer;
  data: boolean;
}

/** A file's bytes in `readChunk` pieces, the next one read while the caller uses the last. */
async function* fileChunks(file: string, size: number): AsyncGenerator<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  const read = async (at: number) => {
    const buffer = Buffer.allocUnsafe(Math.min(readChunk, size - at));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
    if (bytesRead !== buffer.length) throw new Error(`${file} changed while it was being archived (shorter than ${size} bytes)`);
    return buffer;
  };
  let next: Promise<Buffer> | undefined = size > 0 ? read(0) : undefined;
  try {
    for (let at = 0; next; ) {
      const buffer = await next;
      at += buffer.length;
      next = at < size ? read(at) : undefined;
      yield buffer;
    }
  } finally {
    await next?.catch(() => undefined);
    await handle.close();
  }
}

/**
 * The entries of `dir` in archive order: the files readers want first, then every folder, then
 * the other files (links followed: the offline stage links the root's entries in).
 */
function tarItems(dir: string): { items: TarItem[]; bytes: number } {
  const { files, dirs, bytes } = entriesOf(dir, leading);
  const list = [...files.filter((f) => leading.includes(f)), ...dirs, ...files.filter((f) => !leading.includes(f))];
  const items = list.map((rel): TarItem => {
    const full = path.join(dir, rel);
    const stat = fs.statSync(full);
    if (stat.isDirectory()) return { path: rel, type: 'Directory', size: 0, mode: stat.mode };
    return { path: rel, type: 'File', size: stat.size, mode: stat.mode, chunks: () => fileChunks(full, stat.size) };
  });
  return { items, bytes };
}

const inMemory = (rel: string, body: Buffer): TarItem => ({
  path: rel,
  type: 'File',
  size: body.length,
  mode: 0o644,
  chunks: async function* () {
    yield body;
  },
});

/** Permission bits as `tar --portable` writes them (what node-tar's portable mode did for us before). */
function portableMode(mode: number, dir: boolean): number {
  let m = ((mode & 0o7777) | 0o600) & ~0o22;
  if (dir) m |= ((m & 0o444) >> 2) & 0o111;
  return m;
}

/** The header block(s) of one entry: no owner, fixed mtime (none for folders), a pax header for long paths. */
function tarHeader(item: TarItem, mtime: Date, prefix?: string): Buffer {
  const dir = item.type === 'Directory';
  const name = `${prefix ? `${prefix.replace(/\/+$/, '')}/` : ''}${item.path}${dir ? '/' : ''}`;
  const header = new tar.Header({ path: name, mode: portableMode(item.mode, dir), size: dir ? 0 : item.size, mtime: dir ? undefined : mtime, type: item.type });
  const needPax = header.encode();
  const block = header.block!;
  return needPax ? Buffer.concat([new tar.Pax({ path: name, size: dir ? 0 : item.size, mtime: dir ? undefined : mtime }).encode(), block]) : block;
}

/** A deterministic tar stream of `items` (read as it is consumed, never all in memory). */
async function* tarParts(items: TarItem[], mtime: Date, prefix?: string): AsyncGenerator<TarPart> {
  for (const item of items) {
    yield { chunk: tarHeader(item, mtime, prefix), data: false };
    if (item.type !== 'File') continue;
    let size = 0;
    for await (const chunk of item.chunks!()) {
      size += chunk.length;
      yield { chunk, data: true };
    }
    if (size !== item.size) throw new Error(`${item.path}: ${size} bytes where ${item.size} were expected (changed while being archived)`);
    if (size % 512) yield { chunk: Buffer.alloc(512 - (size % 512)), data: false };
  }
  yield { chunk: Buffer.alloc(1024), data: false };
}

/** The size and sha256 of a tar stream, read without writing it anywhere. */
async function tarDigest(parts: AsyncIterable<TarPart>, onData: (n: number) => void): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const { chunk, data } of parts) {
    hash.update(chunk);
    size += chunk.length;
    if (data) onData(chunk.length);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** A file written in order, its sha256 computed from the bytes on their way (no read-back). */
function hashedFile(file: string) {
  const hash = createHash('sha256');
  // Opened here, not by the stream on the thread pool: an interrupt that removes the partial file
  // could otherwise run before that open, which would then create the file again as we exit.
  const fd = fs.openSync(file, 'w');
  // Room for a few pieces in flight, so small pieces are gathered into one writev, not awaited one by one.
  const stream = fs.createWriteStream(file, { fd, highWaterMark: 4 * readChunk });
  return {
    async write(chunk: Buffer): Promise<void> {
      hash.update(chunk);
      if (!stream.write(chunk)) await once(stream, 'drain');
    },
    async end(): Promise<string> {
      stream.end();
      await finished(stream);
      return hash.digest('hex');
    },
    destroy: () => stream.destroy(),
  };
}

/** Pieces of at least this size are judged (and deflated or stored) on their own; smaller ones are gathered. */
const bigPiece = 1 << 20;

/** Whether deflate gains anything on this piece of a file: three 8 KiB samples, deflated fast. */
function compresses(chunk: Buffer): boolean {
  const sample = 8 << 10;
  const step = Math.floor((chunk.length - sample) / 2);
  const probe = Buffer.concat([0, step, 2 * step].map((at) => chunk.subarray(at, at + sample)));
  return zlib.deflateRawSync(probe, { level: 1 }).length < probe.length * 0.9;
}

/** `data` in deflate's stored blocks (at most 65535 bytes each, not final): framing, no copy. */
function storedBlocks(data: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += 0xffff) {
    const n = Math.min(0xffff, data.length - at);
    parts.push(Buffer.from([0, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff]), data.subarray(at, at + n));
  }
  return parts;
}

const deflateRaw = (data: Buffer, level: number) =>
  new Promise<Buffer[]>((resolve, reject) =>
    // A sync flush ends the unit byte-aligned and not final, so the next unit's blocks can follow.
    zlib.deflateRaw(data, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH }, (err, out) => (err ? reject(err) : resolve([out]))),
  );

/**
 * A gzip file (one member: every gunzip reads it) written piece by piece. Registry layers are
 * gzip or zstd already and model weights barely shrink: deflating them again at level 6 costs a
 * CPU-second per 25 MB for nothing, so a large piece deflate cannot shrink goes into stored
 * blocks as it is; other large pieces (binaries) are deflated at level 1 (level 6 saves ~10% more
 * of them at 2.5× the CPU), the small ones (headers, manifests, charts) gathered and deflated at
 * level 6. Each unit is deflated on its own on the thread pool, several at once, written in order.
 */
class GzipWriter {
  private crc = 0;
  private length = 0;
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  // ID1 ID2, deflate, no flags, no mtime (the tar entries carry theirs), no extra flags, Unix.
  private queue: Promise<Buffer[]>[] = [Promise.resolve([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])])];
  /** Bytes that went into stored blocks. */
  stored = 0;

  constructor(private readonly out: { write(chunk: Buffer): Promise<void> }) {}

  async write(chunk: Buffer, data: boolean): Promise<void> {
    this.crc = zlib.crc32(chunk, this.crc);
    this.length += chunk.length;
    if (!data || chunk.length < bigPiece) {
      this.gathered.push(chunk);
      this.gatheredBytes += chunk.length;
      if (this.gatheredBytes >= bigPiece) await this.flushGathered();
      return;
    }
    await this.flushGathered();
    if (compresses(chunk)) await this.enqueue(deflateRaw(chunk, 1));
    else {
      this.stored += chunk.length;
      await this.enqueue(Promise.resolve(storedBlocks(chunk)));
    }
  }

  async end(): Promise<void> {
    await this.flushGathered();
    while (this.queue.length) await this.writeNext();
    const trailer = Buffer.alloc(13);
    trailer.set([1, 0, 0, 0xff, 0xff]); // an empty final stored block ends the deflate stream
    trailer.writeUInt32LE(this.crc >>> 0, 5);
    trailer.writeUInt32LE(this.length % 2 ** 32, 9);
    await this.out.write(trailer);
  }

  private async flushGathered(): Promise<void> {
    if (!this.gatheredBytes) return;
    const unit = Buffer.concat(this.gathered);
    this.gathered = [];
    this.gatheredBytes = 0;
    await this.enqueue(deflateRaw(unit, 6));
  }

  /** Keeps a few units deflating while the earliest one is written. */
  private async enqueue(unit: Promise<Buffer[]>): Promise<void> {
    unit.catch(() => undefined); // awaited in order below
    this.queue.push(unit);
    while (this.queue.length > 4) await this.writeNext();
  }

  private async writeNext(): Promise<void> {
    for (const part of await this.queue.shift()!) await this.out.write(part);
  }
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
    // Renaming over an existing file makes ext4 (auto_da_alloc) start writing the new one out
    // there and then, which stalls the build for seconds on a large artefact; remove the old
    // one first. Between the two steps the final name is absent, never half-written.
    fs.rmSync(final, { force: true });
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
  /** os/arch of the cluster the image is for (default linux/amd64); several make an index of them. */
  platforms?: string[];
}

/** What was written: the image's manifest digest and size, and the sha256 of the archive file. */
export interface WrittenImage {
  digest: string;
  size: number;
  sha256: string;
}

/**
 * The sealos cluster image: an OCI image layout (oci-layout, index.json, blobs/) in one tar, the
 * image having a single uncompressed layer holding the bundle root. Readers want the manifest and
 * config before the (large) layer, and those name the layer's digest: a first pass over the root
 * computes it without writing anything, the second streams the layer straight into the archive
 * (no temporary layer file written and read back), checking it hashes the same.
 */
export async function writeClusterImage(root: string, out: string, config: ClusterImageConfig): Promise<WrittenImage> {
  const { items, bytes } = tarItems(root);
  const bar = progress('image', 2 * bytes, 'bytes');
  const layerBlob = await tarDigest(tarParts(items, config.created), (n) => bar.tick(n, 'layer digest'));

  const blob = (value: unknown) => {
    const body = Buffer.from(JSON.stringify(value));
    return { body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length };
  };
  const created = config.created.toISOString();
  // The layer holds no binaries, but sealos picks an image by the cluster's architecture: one
  // config and manifest per platform, all over the same layer.
  const platforms = [...new Set(config.platforms?.length ? config.platforms : ['linux/amd64'])].map((p) => {
    const [os = 'linux', architecture = 'amd64', variant] = p.split('/');
    return { os, architecture, ...(variant ? { variant } : {}) };
  });
  const images = platforms.map((platform) => {
    const configBlob = blob({
      created,
      ...platform,
      config: { Env: config.env, Cmd: config.cmd, Labels: config.labels },
      rootfs: { type: 'layers', diff_ids: [layerBlob.digest] },
      history: [{ created, created_by: 'asf bundle build' }],
    });
    const manifestBlob = blob({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerBlob }],
    });
    return { platform, configBlob, manifestBlob };
  });
  const refName = { 'org.opencontainers.image.ref.name': config.reference };
  const single = images.length === 1 ? images[0]! : undefined;
  const indexBlob = single
    ? undefined
    : blob({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: images.map(({ platform, manifestBlob }) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestBlob.digest, size: manifestBlob.size, platform })),
      });
  const top = single
    ? { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: single.manifestBlob.digest, size: single.manifestBlob.size, platform: single.platform, annotations: refName }
    : { mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexBlob!.digest, size: indexBlob!.size, annotations: refName };
  const index = { schemaVersion: 2, manifests: [top] };
  const blobEntry = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
  const directory = (rel: string): TarItem => ({ path: rel, type: 'Directory', size: 0, mode: 0o755 });

  let sha256 = '';
  await atomically(out, async (partial) => {
    const file = hashedFile(partial);
    try {
      const check = createHash('sha256');
      const layer: TarItem = {
        path: blobEntry(layerBlob.digest),
        type: 'File',
        size: layerBlob.size,
        mode: 0o644,
        chunks: async function* () {
          for await (const { chunk, data } of tarParts(items, config.created)) {
            check.update(chunk);
            if (data) bar.tick(chunk.length, 'writing');
            yield chunk;
          }
        },
      };
      const outer = [
        inMemory('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))),
        inMemory('index.json', Buffer.from(JSON.stringify(index))),
        directory('blobs'),
        directory('blobs/sha256'),
        ...(indexBlob ? [inMemory(blobEntry(indexBlob.digest), indexBlob.body)] : []),
        ...images.flatMap(({ manifestBlob, configBlob }) => [inMemory(blobEntry(manifestBlob.digest), manifestBlob.body), inMemory(blobEntry(configBlob.digest), configBlob.body)]),
        layer,
      ];
      for await (const { chunk } of tarParts(outer, config.created)) await file.write(chunk);
      if (`sha256:${check.digest('hex')}` !== layerBlob.digest) throw new Error(`${root} changed while ${path.basename(out)} was being written; build again`);
      sha256 = await file.end();
    } catch (err) {
      file.destroy();
      throw err;
    }
  });
  bar.done(`layer of ${path.basename(out)}`);
  return { digest: top.digest, size: top.size, sha256 };
}

/**
 * The offline tarball: everything in `stage` (the root's entries, linked, plus the tools) under
 * `prefix/`, gzip-compressed where that gains something (see `compresses`). Returns its sha256.
 */
export async function writeOfflineTarball(stage: string, out: string, prefix: string, mtime: Date): Promise<string> {
  const { items, bytes } = tarItems(stage);
  const bar = progress('tarball', bytes, 'bytes');
  let sha256 = '';
  let stored = 0;
  await atomically(out, async (partial) => {
    const file = hashedFile(partial);
    try {
      const gzip = new GzipWriter(file);
      for await (const { chunk, data } of tarParts(items, mtime, prefix)) {
        await gzip.write(chunk, data);
        if (data) bar.tick(chunk.length, path.basename(out));
      }
      await gzip.end();
      stored = gzip.stored;
      sha256 = await file.end();
    } catch (err) {
      file.destroy();
      throw err;
    }
  });
  bar.done(`${path.basename(out)} (${humanBytes(stored)} of ${humanBytes(bytes)} stored as they are: deflate could not shrink them)`);
  return sha256;
}
