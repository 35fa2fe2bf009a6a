// The OCI image layout our images live in, driven through umoci: read a tag's digest, unpack an
// image's root filesystem, stack layers on a base and set the config. No daemon anywhere.
import fs from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';

interface LayoutIndex {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

/** The manifest digest `tag` names in `layout`, or undefined when the layout has no such tag. */
export function tagDigest(layout: string, tag: string): string | undefined {
  const file = path.join(layout, 'index.json');
  if (!fs.existsSync(file)) return undefined;
  const index = JSON.parse(fs.readFileSync(file, 'utf8')) as LayoutIndex;
  return index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)?.digest;
}

/** The tag an image reference is stored under in a layout (umoci tags hold no '/' or ':'). */
export function layoutTag(ref: string): string {
  const colon = ref.lastIndexOf(':');
  const [name, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  return `${name.split('/').pop()}-${tag}`;
}

async function umoci(args: string[], what: string): Promise<void> {
  const r = await $({ quiet: true, nothrow: true })`umoci ${args}`;
  if (r.exitCode !== 0) throw new Error(`${what}: umoci ${args[0]} failed: ${r.stderr.trim()}`);
}

/** Every layer of the image, applied in order, into a new folder `rootfs`. */
export async function unpackRootfs(layout: string, tag: string, rootfs: string): Promise<void> {
  await umoci(['raw', 'unpack', '--image', `${layout}:${tag}`, rootfs], `unpacking ${tag}`);
}

export interface Layer {
  file: string;
  history: string;
}

export interface ImageConfig {
  cmd: string[];
  labels: Record<string, string>;
  created: Date;
}

/** Writes `tag` = the image `baseTag` + `layers` (in order) + `config`; returns its manifest digest. */
export async function stackImage(layout: string, baseTag: string, tag: string, layers: Layer[], config: ImageConfig): Promise<string> {
  const created = config.created.toISOString();
  for (const [i, layer] of layers.entries()) {
    const from = i === 0 ? ['--image', `${layout}:${baseTag}`, '--tag', tag] : ['--image', `${layout}:${tag}`];
    await umoci(['raw', 'add-layer', ...from, '--history.created', created, '--history.created_by', layer.history, layer.file], `adding a layer to ${tag}`);
  }
  const labels = Object.entries(config.labels).flatMap(([k, v]) => ['--config.label', `${k}=${v}`, '--manifest.annotation', `${k}=${v}`]);
  // --clear: umoci would append to the base's Cmd.
  await umoci(
    ['config', '--image', `${layout}:${tag}`, '--clear=config.cmd', '--created', created, '--history.created', created, '--history.created_by', 'asf build: command and labels', ...config.cmd.flatMap((c) => ['--config.cmd', c]), ...labels],
    `configuring ${tag}`,
  );
  await umoci(['gc', '--layout', layout], 'cleaning the layout');
  const digest = tagDigest(layout, tag);
  if (!digest) throw new Error(`${tag} is missing from ${layout} after the build`);
  return digest;
}
