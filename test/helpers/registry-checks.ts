// What the push tests read back from a target registry: the uploads and mounts in its access log,
// an image by digest through skopeo, and a proxy in front of it that holds or fails chosen requests.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BuiltImage, Fixture, Registry } from './bundle-fixture.js';
import { exec, type Result } from './tools.js';

/** Blob uploads the registry completed (PUT of an upload session), from its access log. */
export const blobPuts = (requests: string[]) => requests.filter((r) => /^PUT \/v2\/.+\/blobs\/uploads\/.+ 201$/.test(r));
export const uploadsAndPuts = (requests: string[]) => requests.filter((r) => /^(POST|PUT|PATCH) /.test(r));
/** Cross-repository mounts the registry granted (a shared blob sent once, then mounted). */
export const mounts = (requests: string[]) => requests.filter((r) => /^POST \/v2\/.+\/blobs\/uploads\/\?mount=sha256:[0-9a-f]+&from=\S+ 201$/.test(r));
/** Blobs a bundle holds, each counted once however many images share it. */
export const uniqueBlobs = (f: Fixture) => new Set(f.images.flatMap((image) => image.blobs)).size;
/** Blobs shared with an image listed earlier (the ones mounted rather than sent). */
export const sharedBlobs = (f: Fixture) => f.images.reduce((n, image) => n + new Set(image.blobs).size, 0) - uniqueBlobs(f);

export async function skopeoInspect(registry: Pick<Registry, 'addr'>, repository: string, digest: string, creds?: string): Promise<Result> {
  return exec('skopeo', ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `docker://${registry.addr}/${repository}@${digest}`]);
}

/**
 * A multi-platform image (OCI index) arrived whole: the index as it was, each platform pullable
 * through it, and every platform manifest put before the index that lists it.
 */
export async function assertIndexPushed(registry: Registry, image: BuiltImage): Promise<void> {
  const ref = `docker://${registry.addr}/${image.repository}@${image.digest}`;
  const index = JSON.parse((await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', ref])).stdout) as { mediaType: string; manifests: { digest: string }[] };
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  for (const arch of ['amd64', 'arm64']) {
    const i = await exec('skopeo', ['inspect', '--tls-verify=false', '--override-arch', arch, ref]);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(JSON.parse(i.stdout).Architecture, arch);
  }
  const puts = registry.requests().filter((line) => /^PUT \/v2\/.+\/manifests\/.+ 201$/.test(line));
  const at = (digest: string) => puts.findIndex((line) => line.includes(`/manifests/${digest} `));
  for (const child of index.manifests) assert.ok(at(child.digest) >= 0 && at(child.digest) < at(image.digest), puts.join('\n'));
}

/** What the proxy does with a request: pass it on, never answer it, or answer it 500 itself. */
export type Fault = 'pass' | 'hold' | 'fail';

export interface FaultyProxy {
  addr: string;
  /** Settles when the first request is held. */
  held: Promise<void>;
  /** "METHOD URL" of every request that reached the proxy. */
  seen: string[];
  close(): Promise<void>;
}

/** A pass-through HTTP proxy in front of a registry that holds or fails the requests `fault` picks. */
export async function faultyProxy(upstream: string, fault: (req: http.IncomingMessage) => Fault): Promise<FaultyProxy> {
  const [host, port] = upstream.split(':') as [string, string];
  const seen: string[] = [];
  let onHeld!: () => void;
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const verdict = fault(req);
    if (verdict === 'hold') return onHeld(); // never answered
    if (verdict === 'fail') {
      req.resume();
      return res.writeHead(500).end();
    }
    const forward = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    // The registry going away mid-request (as a test may make it) ends the client's request too.
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    addr: `127.0.0.1:${own}`,
    held,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy that never answers the Nth blob upload. */
export function holdingProxy(upstream: string, holdAt: number): Promise<FaultyProxy> {
  let uploads = 0;
  return faultyProxy(upstream, (req) => (req.method === 'PUT' && req.url!.includes('/blobs/uploads/') && ++uploads === holdAt ? 'hold' : 'pass'));
}
