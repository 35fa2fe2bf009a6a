// The extracted bundle an install reads: bundle.json (what it holds), checksums (is it whole), and
// registry/ (its images, read through installer/registry/layout.ts).
import fs from 'node:fs';
import path from 'node:path';
import { sha256File } from '../bundle/files.js';
import { checksumsFile, manifestFile, parseChecksums, readBundleManifest, type BundleManifest } from '../bundle/manifest.js';
import { inExecutable } from '../../runtime/paths.js';
import { v2 } from '../registry/layout.js';
import { fail } from './errors.js';

export const devicePluginChart = 'charts/nvidia-device-plugin';

export interface InstallBundle {
  root: string;
  /** registry/: the folder holding docker/registry/v2. */
  registry: string;
  manifest?: BundleManifest;
}

/**
 * The bundle this executable came in (it runs as <bundle>/bin/asf), for commands given no --bundle:
 * `bin/asf status` then checks that bundle's images, with that bundle's helm.
 */
export function enclosingBundle(): string | undefined {
  if (!inExecutable) return undefined;
  const root = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(root, 'registry', v2)) ? root : undefined;
}

/** The bundle at `root`, refused unless it holds images (a wrong --bundle fails here, named). */
export function openBundle(root: string): InstallBundle {
  const registry = path.join(root, 'registry');
  if (!fs.existsSync(path.join(registry, v2))) fail(`${root} is not a bundle root (no registry/docker/registry/v2); pass --bundle DIR`);
  const file = path.join(root, manifestFile);
  return { root, registry, manifest: fs.existsSync(file) ? readBundleManifest(fs.readFileSync(file, 'utf8')) : undefined };
}

/** Every image reference the bundle carries (bundle.json), sorted. */
export const bundleRefs = (b: InstallBundle) => [...new Set((b.manifest?.images ?? []).map((i) => i.ref))].sort();

/** The architectures its images are built for (amd64, arm64 …). */
export function bundleArchitectures(b: InstallBundle): string[] {
  const platforms = (b.manifest?.images ?? []).flatMap((i) => i.platform.split(',')).filter(Boolean);
  return [...new Set(platforms.map((p) => p.replace(/^linux\//, '').split('/')[0]!))].sort();
}

/** Our chart: the first bundle.json lists that is not a third party's (the device plugin); charts/asf without bundle.json. */
export function releaseChart(b: InstallBundle): string {
  const own = (b.manifest?.charts ?? []).find((c) => /^charts\/[^/]+$/.test(c.path) && c.path !== devicePluginChart);
  return path.join(b.root, own?.path ?? 'charts/asf');
}

/**
 * Every file against the bundle's checksums, so that a damaged copy fails here and not as a digest
 * error halfway through a push. Reports every bad file, as `sha256sum -c` would.
 */
export async function verifyBundle(b: InstallBundle, log: (line: string) => void): Promise<void> {
  const list = path.join(b.root, checksumsFile);
  if (!fs.existsSync(list)) {
    log(`no checksums file in ${b.root}; skipping the integrity check`);
    return;
  }
  const expected = parseChecksums(fs.readFileSync(list, 'utf8'));
  log(`verifying ${expected.size} files against ${list}`);
  const failed: string[] = [];
  for (const [file, hex] of expected) {
    try {
      if ((await sha256File(path.join(b.root, file))) !== hex) failed.push(`${file}: FAILED`);
    } catch {
      failed.push(`${file}: FAILED open or read`);
    }
  }
  if (failed.length > 0) fail(`the bundle is damaged or incomplete; copy it again (or pass --skip-verify):\n${failed.join('\n')}`);
}

/**
 * A bundle root to install from: a folder as is; an artefact (.tar.gz, .oci.tar) is extracted
 * safely beside itself once (a folder left by an earlier run is reused: extraction is all or nothing).
 */
export async function bundleFolder(bundle: string, extractTo: string | undefined, log: (line: string) => void): Promise<string> {
  if (!fs.existsSync(bundle)) fail(`bundle ${bundle} not found; give the offline tarball (asf-offline-<version>.tar.gz) or its extracted folder`);
  if (fs.statSync(bundle).isDirectory()) return path.resolve(bundle);
  const base = bundle.replace(/\.(tar\.gz|tgz|oci\.tar|tar)$/, '');
  const target = path.resolve(extractTo ?? (base === bundle ? `${bundle}.d` : base));
  if (fs.existsSync(target)) {
    log(`using ${target}, extracted earlier (remove it to extract again)`);
    return target;
  }
  log(`extracting ${bundle} into ${target}`);
  const { extractArtefact } = await import('../bundle/extract.js');
  return extractArtefact(bundle, target);
}
