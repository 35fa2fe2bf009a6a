// What a bundle says about itself: bundle.json (for programs), MANIFEST.md (for people),
// sbom.spdx.json (SPDX 2.3 listing) and checksums (sha256 of every other file).
import fs from 'node:fs';
import path from 'node:path';
import { humanBytes } from '../progress.js';
import type { BundledImage } from './images.js';

export interface BundleFileEntry {
  name: string;
  path: string;
  sha256: string;
  size: number;
}

export interface BundleManifest {
  name: string;
  version: string;
  profile: string;
  created: string;
  platforms: string[];
  images: Omit<BundledImage, 'manifests'>[];
  charts: { name: string; version: string; path: string }[];
  resources: BundleFileEntry[];
  packages: BundleFileEntry[];
}

export const manifestFile = 'bundle.json';
export const checksumsFile = 'checksums';

export function readBundleManifest(text: string): BundleManifest {
  const m = JSON.parse(text) as Partial<BundleManifest>;
  // Lists a bundle of an earlier build may lack read as empty, not as a crash further on.
  return { ...m, platforms: m.platforms ?? [], images: m.images ?? [], charts: m.charts ?? [], resources: m.resources ?? [], packages: m.packages ?? [] } as BundleManifest;
}

export function writeManifests(root: string, manifest: BundleManifest): void {
  fs.writeFileSync(path.join(root, manifestFile), JSON.stringify(manifest, null, 2) + '\n');
  fs.writeFileSync(path.join(root, 'MANIFEST.md'), renderMarkdown(manifest));
  fs.writeFileSync(path.join(root, 'sbom.spdx.json'), JSON.stringify(spdx(manifest), null, 2) + '\n');
}

/** The table `asf bundle inspect` prints, and MANIFEST.md. */
export function renderMarkdown(m: BundleManifest): string {
  const blobs = new Set(m.images.flatMap((i) => i.blobs));
  const lines = [
    `# ${m.name} ${m.version} (profile ${m.profile})`,
    '',
    `Built ${m.created} for ${m.platforms.join(', ')}.`,
    '',
    `## Images (${m.images.length}; ${blobs.size} distinct blobs)`,
    '',
    '| image | digest | platform | size |',
    '|---|---|---|---|',
    ...m.images.map((i) => `| ${i.ref} | ${i.digest} | ${i.platform.replaceAll(',', ', ')} | ${humanBytes(i.size)} |`),
    '',
    `## Charts (${m.charts.length})`,
    '',
    '| chart | version | path |',
    '|---|---|---|',
    ...m.charts.map((c) => `| ${c.name} | ${c.version} | ${c.path} |`),
  ];
  for (const [title, files] of [['Resources', m.resources], ['Packages', m.packages]] as const) {
    lines.push('', `## ${title} (${files.length})`, '');
    if (files.length) lines.push('| file | sha256 | size |', '|---|---|---|', ...files.map((f) => `| ${f.path} | ${f.sha256} | ${humanBytes(f.size)} |`));
  }
  return lines.join('\n') + '\n';
}

function spdx(m: BundleManifest) {
  const id = (kind: string, name: string) => `SPDXRef-${kind}-${name.replace(/[^A-Za-z0-9.-]/g, '-')}`;
  const images = m.images.map((i) => ({
    SPDXID: id('Image', `${i.repository}-${i.tag}`),
    name: i.ref,
    versionInfo: i.tag,
    primaryPackagePurpose: 'CONTAINER',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    checksums: [{ algorithm: 'SHA256', checksumValue: i.digest.slice(7) }],
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:oci/${i.repository.split('/').pop()}@${encodeURIComponent(i.digest)}?repository_url=${encodeURIComponent(i.ref.slice(0, i.ref.lastIndexOf(':')))}` }],
  }));
  const charts = m.charts.map((c) => ({
    SPDXID: id('Chart', c.name),
    name: c.name,
    versionInfo: c.version,
    primaryPackagePurpose: 'APPLICATION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
  }));
  const files = [...m.resources, ...m.packages].map((f) => ({
    SPDXID: id('File', f.path),
    fileName: `./${f.path}`,
    checksums: [{ algorithm: 'SHA256', checksumValue: f.sha256 }],
  }));
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${m.name}-${m.version}-${m.profile}`,
    documentNamespace: `https://spdx.asf-kit.invalid/${m.name}-${m.version}-${m.profile}-${m.created}`,
    creationInfo: { created: m.created.replace(/\.\d+Z$/, 'Z'), creators: ['Tool: asf-kit bundle build'] },
    packages: [...images, ...charts],
    files,
    relationships: [...images, ...charts].map((p) => ({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: p.SPDXID })),
  };
}

/** `sha256sum -c` format, sorted by path. */
export function renderChecksums(hashes: Map<string, string>): string {
  return [...hashes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, hex]) => `${hex}  ${file}\n`)
    .join('');
}

export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}
