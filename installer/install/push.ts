// The install's push: every image of an extracted bundle into the site's registry over the
// distribution v2 API. Blobs first (each sent once, then mounted into the other repositories that
// share it), then manifests, indexes after the manifests they list, then tags. Whatever the
// registry already has is skipped, so a re-run after an interruption sends only what is missing.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline, Transform } from 'node:stream';
import { humanBytes, progress, type Progress } from '../progress.js';
import { blobPath, isIndex, manifestMediaType, repositories, repositoryLayers, repositoryManifests, repositoryTags, type Manifest } from '../registry/layout.js';
import { fail, InstallError } from './errors.js';
import { NoAnswer, RegistryClient, type RegistryTarget } from './registry-client.js';

export type { RegistryTarget } from './registry-client.js';

export interface PushReport {
  /** Blobs sent (their bytes in bytesSent). */
  blobsPushed: number;
  /** Blobs the registry already had. */
  blobsSkipped: number;
  /** Blobs the registry linked from another repository of the bundle: no bytes sent. */
  blobsMounted: number;
  bytesSent: number;
  /** Manifests and indexes put by digest (those the registry had are not counted). */
  manifests: number;
  /** Tags set or moved. */
  tags: number;
  /** Repositories of the bundle, all of them in the registry now. */
  images: number;
}

// Every manifest type the bundle may hold: without this Accept, a registry answers a HEAD for an
// OCI manifest with a converted one's digest, or 404.
const manifestAccept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(',');

function unreachable(client: RegistryClient, err: NoAnswer): string {
  if (err.untrustedCertificate) {
    return `registry ${client.target.address} has a TLS certificate this machine does not trust (${err.message}): add --insecure to skip the check, or trust its CA here`;
  }
  return `cannot reach registry at ${client.url('')} (is the address right? add --plain-http for an http registry)`;
}

async function expectReachable(client: RegistryClient): Promise<void> {
  const { address, user } = client.target;
  let status: number;
  try {
    status = (await client.send('GET', client.url(''))).status;
  } catch (err) {
    if (err instanceof NoAnswer) fail(unreachable(client, err));
    throw err;
  }
  if (status === 200) return;
  if (status === 401) {
    fail(
      user !== undefined
        ? `registry ${address} rejected user '${user}' (401): check --registry-user/--registry-password`
        : `registry ${address} needs credentials (401): give --registry-user and --registry-password`,
    );
  }
  fail(`registry ${address} answered HTTP ${status} on /v2/; is it a distribution v2 registry?`);
}

/** Throws InstallError with the same messages as install.sh's check_registry_reachable. */
export async function checkRegistryReachable(target: RegistryTarget): Promise<void> {
  const client = new RegistryClient(target);
  try {
    await expectReachable(client);
  } finally {
    await client.close();
  }
}

/**
 * For `status`: the HTTP status of HEAD /v2/<repository>/manifests/<digest> of each image (0 when
 * nothing answered), all asked through one client.
 */
export async function manifestStatuses(target: RegistryTarget, images: { repository: string; digest: string }[]): Promise<number[]> {
  const client = new RegistryClient(target);
  try {
    const statuses: number[] = [];
    for (const { repository, digest } of images) statuses.push(await client.status('HEAD', client.url(`${repository}/manifests/${digest}`), { accept: manifestAccept }));
    return statuses;
  } finally {
    await client.close();
  }
}

/** One blob of the bundle and the repositories that link it, the first of which it is sent to. */
interface SharedBlob {
  digest: string;
  repositories: string[];
}

function sharedBlobs(root: string, repos: string[]): SharedBlob[] {
  const byDigest = new Map<string, SharedBlob>();
  for (const repository of repos) {
    for (const digest of repositoryLayers(root, repository)) {
      const blob = byDigest.get(digest) ?? { digest, repositories: [] };
      blob.repositories.push(repository);
      byDigest.set(digest, blob);
    }
  }
  return [...byDigest.values()];
}

/** Refuses an incomplete bundle before anything is sent. */
function expectInBundle(root: string, repository: string, digest: string): void {
  const file = blobPath(root, digest);
  if (!fs.existsSync(file)) fail(`blob ${digest} of ${repository} is missing from the bundle (${file}); the bundle is incomplete`);
}

/** Runs `work` on each item, at most `jobs` at once. */
async function eachAtMost<T>(jobs: number, items: T[], work: (item: T) => Promise<void>): Promise<void> {
  const queue = items.values();
  const worker = async () => {
    for (const item of queue) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
}

/** A pass-through stream that moves the progress bar by the bytes going by. */
function counting(bar: Progress): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bar.tick(chunk.length);
      done(null, chunk);
    },
  });
}

class Pusher {
  readonly report: PushReport = { blobsPushed: 0, blobsSkipped: 0, blobsMounted: 0, bytesSent: 0, manifests: 0, tags: 0, images: 0 };

  constructor(
    private readonly client: RegistryClient,
    private readonly root: string,
    private readonly log: (line: string) => void,
    private readonly bar: Progress,
  ) {}

  private get address(): string {
    return this.client.target.address;
  }

  /** Sends one blob unless the registry has it; with `from` (a repository holding it) asks for a mount first. */
  async blob(repository: string, digest: string, from?: string): Promise<void> {
    const file = blobPath(this.root, digest);
    const head = await this.client.send('HEAD', this.client.url(`${repository}/blobs/${digest}`));
    if (head.status === 200) {
      this.report.blobsSkipped++;
      if (!from) this.bar.tick(fs.statSync(file).size);
      return;
    }
    if (head.status === 401) fail(`registry ${this.address} refused ${repository} (401): give --registry-user and --registry-password`);
    // Digests and repository names are safe in a query as they are.
    const start = this.client.url(`${repository}/blobs/uploads/`) + (from ? `?mount=${digest}&from=${from}` : '');
    const upload = await this.client.send('POST', start);
    if (from && upload.status === 201) {
      this.report.blobsMounted++;
      this.log(`mounted blob ${repository}@${digest} from ${from}`);
      return;
    }
    const location = upload.header('location');
    if (!location) fail(`registry ${this.address} did not start an upload for ${repository} (POST ${start}); check the address and credentials`);
    // Location may be relative to the registry or absolute, and may carry a query already.
    const target = new URL(location, this.client.origin).href;
    const put = `${target}${target.includes('?') ? '&' : '?'}digest=${digest}`;
    const size = fs.statSync(file).size;
    // One PUT of the whole blob, streamed from disk: a layer may be larger than memory.
    const done = await this.client.send('PUT', put, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      // pipeline, not pipe: a read error must end the body (and so the request), not stall it.
      body: () => pipeline(fs.createReadStream(file), counting(this.bar), () => {}),
    });
    if (done.status !== 201) fail(`pushing blob ${digest} to ${repository} failed (HTTP ${done.status})`);
    this.report.blobsPushed++;
    this.report.bytesSent += size;
    this.log(`pushed blob ${repository}@${digest} (${size} bytes)`);
  }

  /** Sends a blob to the first repository linking it, then mounts it into the others; false (logged) when a step failed. */
  async shared(blob: SharedBlob): Promise<boolean> {
    const [first, ...others] = blob.repositories as [string, ...string[]];
    const steps: [string, string | undefined][] = [[first, undefined], ...others.map((r): [string, string] => [r, first])];
    for (const [repository, from] of steps) {
      try {
        await this.blob(repository, blob.digest, from);
      } catch (err) {
        // The registry's answer, no answer, or the bundle's file failing to read: the others go on.
        if (err instanceof InstallError) this.log(`error: ${err.message}`);
        else if (err instanceof NoAnswer) this.log(`error: pushing blob ${blob.digest} to ${repository} failed (no answer: ${err.message})`);
        else if ((err as NodeJS.ErrnoException).code) this.log(`error: pushing blob ${blob.digest} to ${repository} failed (${(err as Error).message})`);
        else throw err;
        return false;
      }
    }
    return true;
  }

  /** Puts a manifest by digest or tag unless the registry already has it there. */
  async manifest(repository: string, digest: string, reference: string, manifest: Manifest, body: Buffer): Promise<void> {
    const url = this.client.url(`${repository}/manifests/${reference}`);
    const failed = (why: string) => fail(`pushing manifest ${repository}:${reference} (${digest}) failed (${why})`);
    try {
      const head = await this.client.send('HEAD', url, { headers: { accept: manifestAccept } });
      if (head.status === 200 && head.header('docker-content-digest') === digest) return;
      const put = await this.client.send('PUT', url, { headers: { 'content-type': manifestMediaType(manifest) }, body: () => body });
      if (put.status !== 201) failed(`HTTP ${put.status}`);
    } catch (err) {
      if (err instanceof NoAnswer) failed(`no answer: ${err.message}`);
      throw err;
    }
    if (reference === digest) {
      this.report.manifests++;
      this.log(`pushed manifest ${repository}@${digest}`);
    } else {
      this.report.tags++;
      this.log(`tagged ${repository}:${reference} (${digest})`);
    }
  }

  /** A repository's manifests, plain ones before the indexes listing them, then its tags. */
  async manifests(repository: string): Promise<void> {
    const read = (digest: string) => {
      const body = fs.readFileSync(blobPath(this.root, digest));
      return { digest, body, manifest: JSON.parse(body.toString('utf8')) as Manifest };
    };
    const all = repositoryManifests(this.root, repository).map(read);
    const ordered = [...all.filter((m) => !isIndex(m.manifest)), ...all.filter((m) => isIndex(m.manifest))];
    for (const m of ordered) await this.manifest(repository, m.digest, m.digest, m.manifest, m.body);
    for (const { tag, digest } of repositoryTags(this.root, repository)) {
      const m = read(digest);
      await this.manifest(repository, digest, tag, m.manifest, m.body);
    }
  }
}

/**
 * Pushes every image of the bundle at `bundleRoot` (the folder holding registry/): blobs (at most
 * `jobs` at once; a blob several repositories share is sent once then mounted into the others),
 * then plain manifests before the indexes listing them, then tags. Skips what the registry
 * already has.
 */
export async function pushBundleImages(bundleRoot: string, target: RegistryTarget, options: { jobs: number; log: (line: string) => void }): Promise<PushReport> {
  if (!Number.isInteger(options.jobs) || options.jobs < 1) fail(`--jobs must be a positive integer, got '${options.jobs}'`);
  const root = path.join(bundleRoot, 'registry');
  const repos = repositories(root).sort();
  if (repos.length === 0) fail(`no images under ${root}/; is --bundle the bundle root?`);
  const blobs = sharedBlobs(root, repos);
  for (const blob of blobs) for (const repository of blob.repositories) expectInBundle(root, repository, blob.digest);
  for (const repository of repos) {
    const manifests = [...repositoryManifests(root, repository), ...repositoryTags(root, repository).map((t) => t.digest)];
    for (const digest of manifests) expectInBundle(root, repository, digest);
  }

  const client = new RegistryClient(target);
  try {
    await expectReachable(client);
    const links = blobs.reduce((n, blob) => n + blob.repositories.length, 0);
    options.log(`pushing ${links} blobs of ${repos.length} images to ${target.address} (${options.jobs} at once; blobs it has are skipped)`);
    const total = blobs.reduce((n, blob) => n + fs.statSync(blobPath(root, blob.digest)).size, 0);
    const bar = progress('push', total, 'bytes');
    const pusher = new Pusher(client, root, options.log, bar);
    let failed = false;
    await eachAtMost(options.jobs, blobs, async (blob) => {
      if (!(await pusher.shared(blob))) failed = true;
    });
    bar.done(`${humanBytes(pusher.report.bytesSent)} sent`);
    if (failed) fail('some blobs failed to push (see above); re-run the same command to resume');
    for (const repository of repos) await pusher.manifests(repository);
    pusher.report.images = repos.length;
    options.log(`all ${repos.length} images are in ${target.address}`);
    return pusher.report;
  } finally {
    await client.close();
  }
}
