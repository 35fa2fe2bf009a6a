// Reads a bundle in one streaming pass, whatever its form: the cluster image (.oci.tar: the bundle
// root is its single layer, read in place), the offline tarball (.tar.gz: the root under one top
// folder) or an extracted folder. Entries reach the visitor with paths relative to the bundle root;
// unsafe entries (absolute paths, `..`, links leaving the root, devices) are reported, never followed.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import * as tar from 'tar';

export interface Entry {
  /** Path relative to the bundle root, `/`-separated. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  size: number;
  mode: number;
  linkpath?: string;
}

export interface Visitor {
  /** A file's bytes arrive on `body` (consume it); return 'stop' to end the walk early. */
  entry(entry: Entry, body: Readable | undefined): Promise<void | 'stop'> | void | 'stop';
  /** An entry that must not be extracted, and why. */
  unsafe(rawPath: string, reason: string): void;
  /** A problem with the container itself (OCI archive structure). */
  problem(message: string): void;
}

export type ArtefactKind = 'cluster-image' | 'offline-tarball' | 'directory';

/**
 * Bytes per read: large reads keep the hash (on this thread) busy while the next read runs on the
 * thread pool; the default 64 KiB spends more time waiting for reads than hashing.
 */
export const readChunk = 4 << 20;
const readStream = (file: string) => fs.createReadStream(file, { highWaterMark: readChunk });

/** Why a raw tar path or link may not be extracted under a root, or undefined when it is safe. */
export function unsafeReason(rawPath: string, type: string, linkpath?: string): string | undefined {
  if (rawPath.startsWith('/') || /^[A-Za-z]:/.test(rawPath)) return 'absolute path';
  if (rawPath.split(/[\\/]/).includes('..')) return "path contains '..'";
  if (!['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'].includes(type)) return `${type} entries are not allowed`;
  if (type === 'SymbolicLink' || type === 'Link') {
    if (!linkpath) return 'link without a target';
    if (linkpath.startsWith('/')) return `link to an absolute path (${linkpath})`;
    const base = type === 'SymbolicLink' ? path.posix.dirname(rawPath) : '.';
    const resolved = path.posix.normalize(path.posix.join(base, linkpath));
    if (resolved === '..' || resolved.startsWith('../')) return `link escapes the bundle (${linkpath})`;
  }
  return undefined;
}

const kinds: Record<string, Entry['type']> = { File: 'file', OldFile: 'file', ContiguousFile: 'file', Directory: 'directory', SymbolicLink: 'symlink', Link: 'hardlink' };

class Stop extends Error {}

/** Feeds one tar stream's entries to the visitor; `strip` is removed from every path. */
function parseTar(source: Readable, visitor: Visitor, strip: (raw: string) => string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let chain = Promise.resolve();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      source.destroy();
      reject(err);
    };
    const parser = new tar.Parser({
      onReadEntry(entry) {
        entry.pause();
        chain = chain.then(async () => {
          if (failed) return entry.resume();
          const raw = entry.path;
          const reason = unsafeReason(raw, entry.type, entry.linkpath);
          const rel = reason ? undefined : strip(raw);
          if (reason || rel === undefined) {
            visitor.unsafe(raw, reason ?? 'outside the bundle folder');
            entry.resume();
            return;
          }
          if (rel === '') {
            entry.resume();
            return;
          }
          const type = kinds[entry.type]!;
          const body = type === 'file' ? new PassThrough() : undefined;
          const done = body ? new Promise((r) => body.once('end', r).once('close', r)) : Promise.resolve();
          if (body) entry.pipe(body);
          else entry.resume();
          const verdict = await visitor.entry({ path: rel.replace(/\/$/, ''), type, size: entry.size ?? 0, mode: entry.mode ?? 0o644, linkpath: entry.linkpath }, body);
          if (body && !body.readableEnded) body.resume();
          await done;
          if (verdict === 'stop') throw new Stop();
        }).catch(fail);
      },
    });
    parser.on('error', fail);
    // tar only warns when its input stops inside an entry: for a bundle that is a truncated file.
    parser.on('warn', (code: string, message: string | Error) => code === 'TAR_BAD_ARCHIVE' && fail(Object.assign(new Error(String(message)), { code })));
    parser.on('end', () => chain.then(() => !failed && resolve(), fail));
    source.on('error', fail);
    source.pipe(parser);
  });
}

/** Which artefact a path is (by content, not by name). */
export function artefactKind(file: string): ArtefactKind {
  if (fs.statSync(file).isDirectory()) return 'directory';
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(512);
  fs.readSync(fd, head, 0, 512, 0);
  fs.closeSync(fd);
  if (head[0] === 0x1f && head[1] === 0x8b) return 'offline-tarball';
  return 'cluster-image';
}

export interface ImageRecord {
  index?: { manifests: { digest: string; annotations?: Record<string, string> }[] };
  manifest?: { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
  config?: { config?: { Env?: string[]; Cmd?: string[]; Labels?: Record<string, string> } };
}

/**
 * Walks the bundle inside `file`. For a cluster image the OCI structure is checked on the way
 * (blob digests, index → manifest → config → layer) and the record of it returned.
 */
export async function readArtefact(file: string, visitor: Visitor): Promise<{ kind: ArtefactKind; image?: ImageRecord }> {
  let kind: ArtefactKind;
  try {
    kind = artefactKind(file);
  } catch (err) {
    throw readFailure(file, err as NodeJS.ErrnoException);
  }
  try {
    if (kind === 'directory') await walkDirectory(file, visitor);
    else if (kind === 'offline-tarball') {
      let top: string | undefined;
      // Inflated on the thread pool (tar.Parser would inflate on this thread, between hashes).
      const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
      const source = readStream(file);
      source.once('error', (err) => gunzip.destroy(err));
      gunzip.once('close', () => source.destroy());
      await parseTar(source.pipe(gunzip), visitor, (raw) => {
        const first = raw.split('/')[0]!;
        top ??= first;
        if (first !== top) return undefined;
        return raw.slice(first.length + 1);
      });
    } else return { kind, image: await readClusterImage(file, visitor) };
  } catch (err) {
    if (!(err instanceof Stop)) throw readFailure(file, err as NodeJS.ErrnoException);
  }
  return { kind };
}

/** A read that failed, as a person can act on it: the file named, and what its state suggests. */
export function readFailure(file: string, err: NodeJS.ErrnoException): Error {
  const truncated = err.code === 'TAR_BAD_ARCHIVE' || err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message);
  const why =
    err.code === 'ENOENT' ? 'no such file or folder'
    : err.code === 'EACCES' ? 'permission denied'
    : truncated ? `the file ends early (${err.message}): a copy or download cut short? compare it with its .sha256 and copy it again`
    : err.code === 'Z_DATA_ERROR' ? `not valid gzip data (${err.message}): the file is damaged`
    : err.message;
  return new Error(`${file}: ${why}`);
}

async function walkDirectory(dir: string, visitor: Visitor): Promise<void> {
  const walk = async (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, relPath);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) {
        const linkpath = fs.readlinkSync(full);
        const reason = unsafeReason(relPath, 'SymbolicLink', linkpath);
        if (reason) visitor.unsafe(relPath, reason);
        else if ((await visitor.entry({ path: relPath, type: 'symlink', size: 0, mode: 0o777, linkpath }, undefined)) === 'stop') throw new Stop();
      } else if (stat.isDirectory()) {
        if ((await visitor.entry({ path: relPath, type: 'directory', size: 0, mode: stat.mode & 0o7777 }, undefined)) === 'stop') throw new Stop();
        await walk(relPath);
      } else if (stat.isFile()) {
        const body = readStream(full);
        const verdict = await visitor.entry({ path: relPath, type: 'file', size: stat.size, mode: stat.mode & 0o7777 }, body);
        if (!body.readableEnded) body.destroy();
        if (verdict === 'stop') throw new Stop();
      } else visitor.unsafe(relPath, 'not a file, folder or link');
    }
  };
  await walk('');
}

/** The OCI archive: small JSON blobs are kept; the layer is read as the bundle root as it streams by. */
async function readClusterImage(file: string, visitor: Visitor): Promise<ImageRecord> {
  const record: ImageRecord = {};
  const json = new Map<string, Buffer>();
  let spool: string | undefined;
  const spooled = new Map<string, string>();
  const layerOf = () => record.manifest?.layers[0];
  let layerRead = false;

  const readLayer = async (body: Readable, mediaType: string) => {
    layerRead = true;
    // tar.Parser recognises a gzip-compressed layer by itself, so the media type needs no branch.
    void mediaType;
    await parseTar(body, visitor, (raw) => raw.replace(/^\.\//, ''));
  };

  const learn = () => {
    const indexBody = json.get('index.json');
    if (indexBody && !record.index) record.index = JSON.parse(indexBody.toString()) as ImageRecord['index'];
    let m = record.index?.manifests[0]?.digest;
    // A multi-platform bundle: index.json names an index of per-platform manifests, all over the same layer.
    while (m && !record.manifest && json.has(m)) {
      const body = JSON.parse(json.get(m)!.toString()) as { manifests?: { digest: string }[] };
      if (body.manifests) m = body.manifests[0]?.digest;
      else record.manifest = body as unknown as ImageRecord['manifest'];
    }
    const c = record.manifest?.config.digest;
    if (c && !record.config && json.has(c)) record.config = JSON.parse(json.get(c)!.toString()) as ImageRecord['config'];
  };

  const outer: Visitor = {
    unsafe: (raw, reason) => visitor.problem(`cluster image entry ${raw}: ${reason}`),
    problem: (m) => visitor.problem(m),
    async entry(entry, body) {
      if (!body) return;
      const blob = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(entry.path);
      const hash = createHash('sha256');
      body.on('data', (c: Buffer) => hash.update(c));
      const check = (digest: string) => {
        const actual = hash.digest('hex');
        if (blob && actual !== blob[1]) visitor.problem(`cluster image blob ${digest}: content hashes to sha256:${actual}`);
      };
      const digest = blob ? `sha256:${blob[1]}` : entry.path;
      if (blob && layerOf()?.digest === digest) {
        await readLayer(body, layerOf()!.mediaType);
        check(digest);
        return;
      }
      if (entry.size <= 1 << 20) {
        const chunks: Buffer[] = [];
        body.on('data', (c: Buffer) => chunks.push(c));
        await new Promise((r) => body.once('end', r));
        json.set(digest, Buffer.concat(chunks));
        if (blob) check(digest);
        learn();
        return;
      }
      // A large blob before its manifest (not how we write archives, but others may): spool it.
      spool ??= fs.mkdtempSync(path.join(os.tmpdir(), 'asf-bundle-'));
      const target = path.join(spool, digest.slice(7));
      await new Promise<void>((resolve, reject) => body.pipe(fs.createWriteStream(target)).once('finish', resolve).once('error', reject));
      if (blob) check(digest);
      spooled.set(digest, target);
    },
  };
  try {
    await parseTar(readStream(file), outer, (raw) => raw.replace(/^\.\//, ''));
    learn();
    if (!json.has('oci-layout')) visitor.problem('cluster image: no oci-layout file (not an OCI archive)');
    if (!record.index) visitor.problem('cluster image: no index.json');
    else if (!record.manifest) visitor.problem('cluster image: the manifest index.json names is missing');
    else if (!record.config) visitor.problem('cluster image: the config its manifest names is missing');
    const layer = layerOf();
    if (record.manifest && record.manifest.layers.length !== 1) visitor.problem(`cluster image: ${record.manifest.layers.length} layers, expected 1`);
    if (layer && !layerRead) {
      const spooledLayer = spooled.get(layer.digest);
      if (spooledLayer) await readLayer(readStream(spooledLayer), layer.mediaType);
      else visitor.problem(`cluster image: layer ${layer.digest} is missing`);
    }
  } finally {
    if (spool) fs.rmSync(spool, { recursive: true, force: true });
  }
  return record;
}
