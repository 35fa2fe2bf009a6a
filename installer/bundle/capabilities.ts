// Capability folders in a bundle (bundle.yaml `capabilities:`, `asf bundle build --capability`):
// each is built into an image with asf build, carried like our own images, and enabled in the
// chart's values (image by digest, folder, sample request), so that install.sh and sealos serve
// it with no values written by hand.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { merge } from '../../runtime/develop/chart-values.js';
import { buildCapabilityImage, type BuiltImage } from '../image/build.js';
import { BundleSpecError, recipeLayout, splitReference, type PlannedCapability, type PlannedImage } from './spec.js';

/** What the chart's loaders are named after: a DNS label (charts/asf/values.schema.json). */
const chartKey = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;

export interface BundledCapabilities {
  images: PlannedImage[];
  /** Helm values of our chart enabling each capability (`capabilities.<serviceId>`). */
  values: Record<string, unknown>;
  built: BuiltImage[];
}

export async function buildCapabilities(capabilities: PlannedCapability[], chartDir: string | undefined, say: (line: string) => void): Promise<BundledCapabilities> {
  if (!capabilities.length) return { images: [], values: {}, built: [] };
  if (!chartDir) throw new BundleSpecError('capabilities need our chart (charts/asf) in the bundle: it is what serves them');
  const defaults = yaml.load(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as { capabilities?: Record<string, unknown> };
  // Names the chart already gives to something else: its gateway, and the capabilities it defines.
  const reserved = new Map([['gateway', 'the gateway'], ...Object.keys(defaults.capabilities ?? {}).map((k) => [k, `the chart's own ${k} capability`] as [string, string])]);

  const built: BuiltImage[] = [];
  const dirOf = new Map<string, string>();
  const values: Record<string, unknown> = {};
  for (const capability of capabilities) {
    say(`capability ${capability.dir}: asf build`);
    const image = await buildCapabilityImage({ dir: capability.dir, ref: capability.ref, gpu: capability.gpu, layout: recipeLayout(), say: (line) => say(`  ${line}`) });
    const id = image.serviceId;
    if (dirOf.has(id)) throw new BundleSpecError(`capabilities: ${dirOf.get(id)} and ${capability.dir} both have serviceId '${id}'; a bundle serves each serviceId once`);
    if (reserved.has(id)) throw new BundleSpecError(`capabilities: ${capability.dir} has serviceId '${id}', the name of ${reserved.get(id)}; rename it (serviceId in its capability.yaml)`);
    if (!chartKey.test(id)) throw new BundleSpecError(`capabilities: ${capability.dir} has serviceId '${id}', which cannot name its Kubernetes objects (lower-case letters, digits and '-', at most 32); set another serviceId in its capability.yaml`);
    built.push(image);
    dirOf.set(id, capability.dir);
    const { host, repository, tag } = splitReference(image.ref);
    values[id] = merge({
      enabled: true,
      image: { registry: host ?? '', repository, tag },
      path: image.path,
      // The folder as built into the image is the config (no ConfigMap over it).
      config: {},
      ...(fs.existsSync(path.join(capability.dir, 'request.json')) ? { sample: 'request.json' } : {}),
    }, capability.values ?? {});
  }
  const images: PlannedImage[] = built.map((b) => {
    const { repository, tag } = splitReference(b.ref);
    return { ref: b.ref, repository, tag, source: { kind: 'oci', layout: b.layout, tag: b.tag } };
  });
  return { images, values: { capabilities: values }, built };
}
