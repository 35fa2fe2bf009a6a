// bundle.yaml → a plan: what one profile of the bundle holds, every source resolved to a path or a
// registry reference. Nothing is fetched or built here; the later steps follow the plan.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import { packageRoot } from '../../runtime/paths.js';

const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const profiles = { type: 'array', items: { type: 'string' }, minItems: 1 };
const fileSource = {
  type: 'object',
  additionalProperties: false,
  required: ['sha256'],
  properties: { path: { type: 'string' }, url: { type: 'string', pattern: '^https?://' }, name: { type: 'string' }, sha256 },
  oneOf: [{ required: ['path'] }, { required: ['url'] }],
};
const fileGroup = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'files'],
  properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' }, profiles, files: { type: 'array', items: fileSource, minItems: 1 } },
};

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version', 'profiles', 'images', 'charts'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
    version: { type: 'string', pattern: '^[0-9A-Za-z][0-9A-Za-z._+-]*$' },
    defaultProfile: { type: 'string' },
    profiles: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { description: { type: 'string' }, values: { type: 'object' } },
      },
    },
    platforms: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$' }, minItems: 1 },
    images: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          build: { type: 'string' },
          ref: { type: 'string' },
          digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
          oci: { type: 'string' },
          insecure: { type: 'boolean' },
          profiles,
        },
        oneOf: [{ required: ['build'] }, { required: ['ref'] }],
      },
    },
    charts: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string' }, profiles } },
    },
    resources: { type: 'array', items: fileGroup },
    packages: { type: 'array', items: fileGroup },
    capabilities: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: { path: { type: 'string' }, ref: { type: 'string' }, gpu: { type: 'boolean' }, values: { type: 'object' }, profiles },
      },
    },
  },
} as const;

export interface ImageSpec {
  build?: string;
  ref?: string;
  digest?: string;
  oci?: string;
  insecure?: boolean;
  profiles?: string[];
}
interface FileSpec {
  path?: string;
  url?: string;
  name?: string;
  sha256: string;
}
interface FileGroupSpec {
  name: string;
  profiles?: string[];
  files: FileSpec[];
}
export interface BundleSpec {
  name: string;
  version: string;
  defaultProfile?: string;
  profiles: Record<string, { description?: string; values?: Record<string, unknown> }>;
  platforms?: string[];
  images: ImageSpec[];
  charts: { path: string; profiles?: string[] }[];
  resources?: FileGroupSpec[];
  packages?: FileGroupSpec[];
  capabilities?: { path: string; ref?: string; gpu?: boolean; values?: Record<string, unknown>; profiles?: string[] }[];
}

/** A capability folder the bundle builds (asf build) and serves. */
export interface PlannedCapability {
  dir: string;
  /** Image reference (default: asf build's, asf.local/capabilities/<serviceId>:<version>). */
  ref?: string;
  gpu?: boolean;
  /** Helm values over the generated `capabilities.<serviceId>` entry (resources, replicas, ...). */
  values?: Record<string, unknown>;
}

/** Where an image comes from: an OCI layout on disk (our own builds) or a registry. */
export type ImageSource =
  | { kind: 'oci'; layout: string; tag: string; recipe?: string }
  | { kind: 'registry'; reference: string; insecure: boolean };

export interface PlannedImage {
  /** The reference pods use, e.g. ghcr.io/asf-kit/asf-runtime:0.1.0. */
  ref: string;
  /** The reference without its registry host, as stored under registry/ (asf-kit/asf-runtime). */
  repository: string;
  tag: string;
  /** Pinned digest from bundle.yaml, if any (the build fails when the source does not match). */
  digest?: string;
  source: ImageSource;
}

export interface PlannedFile {
  /** Path inside the bundle root, e.g. resources/mmocr-models/det.onnx. */
  target: string;
  source: { path: string } | { url: string };
  sha256: string;
}

export interface Plan {
  name: string;
  version: string;
  profile: string;
  platforms: string[];
  images: PlannedImage[];
  charts: { name: string; version: string; dir: string }[];
  /** Helm values the profile sets (written to charts/<chart>.values.yaml for our chart). */
  values?: Record<string, unknown>;
  files: PlannedFile[];
  capabilities: PlannedCapability[];
  /** The folder bundle.yaml lives in (relative paths in it are resolved from there). */
  base: string;
}

export class BundleSpecError extends Error {}

/** Reads and checks bundle.yaml; messages name the key that is wrong. */
export function readSpec(file: string): BundleSpec {
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BundleSpecError(`${file}: ${(err as Error).message}`);
  }
  const validate = new Ajv({ allErrors: true }).compile<BundleSpec>(schema);
  if (!validate(doc)) {
    const problems = (validate.errors ?? []).map((e) => {
      const where = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
      const extra = e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : '';
      return `  ${where}: ${e.message}${extra}`;
    });
    throw new BundleSpecError(`${file} is not a valid bundle definition:\n${problems.join('\n')}`);
  }
  return doc;
}

/** The registry-less name of a reference: host dropped when the first part looks like one. */
export function splitReference(ref: string): { repository: string; tag: string; host?: string } {
  const at = ref.indexOf('@');
  const named = at >= 0 ? ref.slice(0, at) : ref;
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const name = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : 'latest';
  const [first, ...rest] = name.split('/');
  const isHost = rest.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost');
  const path = isHost ? rest.join('/') : name;
  // Docker Hub's short names live under library/ in a registry.
  const repository = path.includes('/') ? path : `library/${path}`;
  return { repository, tag, host: isHost ? first : undefined };
}

interface RecipeImage {
  name: string;
  ref: string;
  recipe: string;
}

function recipes(): RecipeImage[] {
  const file = path.join(packageRoot, 'images', 'images.yaml');
  return (yaml.load(fs.readFileSync(file, 'utf8')) as { images: RecipeImage[] }).images;
}

/** Where images/build.sh leaves its images (one OCI layout, tag = <repository basename>-<tag>). */
export function recipeLayout(): string {
  return path.join(process.env.ASF_IMAGES ?? path.join(packageRoot, '.cache', 'images'), 'oci');
}

function expand(value: string): string {
  return value.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new BundleSpecError(`bundle.yaml uses \${${name}}, which is not set in the environment`);
    return v;
  });
}

/** A path from bundle.yaml: ${VAR} expanded, relative to `base`, `*` matching within one segment. */
function resolvePath(base: string, value: string): string {
  const full = path.resolve(base, expand(value));
  if (!full.includes('*')) return full;
  let matches = ['/'];
  for (const segment of full.split('/').filter(Boolean)) {
    if (!segment.includes('*')) {
      matches = matches.map((m) => path.join(m, segment));
      continue;
    }
    const pattern = new RegExp(`^${segment.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
    matches = matches.flatMap((m) => (fs.existsSync(m) ? fs.readdirSync(m).filter((n) => pattern.test(n)).map((n) => path.join(m, n)) : []));
  }
  if (matches.length > 1) throw new BundleSpecError(`${value} matches ${matches.length} files (${matches.join(', ')}); make it match one`);
  return matches[0] ?? full;
}

/** The plan for one profile: items without `profiles` are in every profile. */
export function plan(spec: BundleSpec, specFile: string, options: { profile?: string; platforms?: string[]; capabilities?: string[] } = {}): Plan {
  const base = path.dirname(path.resolve(specFile));
  const profile = options.profile ?? spec.defaultProfile ?? Object.keys(spec.profiles)[0]!;
  if (!spec.profiles[profile]) {
    throw new BundleSpecError(`profile '${profile}' is not defined in ${specFile} (defined: ${Object.keys(spec.profiles).join(', ')})`);
  }
  const wanted = (item: { profiles?: string[] }) => {
    for (const p of item.profiles ?? []) {
      if (!spec.profiles[p]) throw new BundleSpecError(`${specFile}: unknown profile '${p}' (defined: ${Object.keys(spec.profiles).join(', ')})`);
    }
    return !item.profiles || item.profiles.includes(profile);
  };

  const images: PlannedImage[] = spec.images.filter(wanted).map((image) => {
    if (image.build) {
      const recipe = recipes().find((r) => r.name === image.build);
      if (!recipe) throw new BundleSpecError(`${specFile}: images: no recipe '${image.build}' in images/images.yaml`);
      const { repository, tag } = splitReference(recipe.ref);
      return { ref: recipe.ref, repository, tag, source: { kind: 'oci', layout: recipeLayout(), tag: `${repository.split('/').pop()}-${tag}`, recipe: recipe.name } };
    }
    const ref = image.ref!;
    const { repository, tag } = splitReference(ref);
    const inRef = /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1];
    if (inRef && image.digest && inRef !== image.digest) throw new BundleSpecError(`${specFile}: images: ${ref} carries a digest other than its digest: ${image.digest}`);
    const digest = image.digest ?? inRef;
    // Pinned: pulled by digest alone (skopeo refuses name:tag@digest); the tag names it in registry/.
    const name = ref.split('@')[0]!.replace(/:[^:/]+$/, '');
    const source: ImageSource = image.oci
      ? { kind: 'oci', ...ociSource(resolvePath(base, image.oci)) }
      : { kind: 'registry', reference: digest ? `${name}@${digest}` : ref, insecure: Boolean(image.insecure) };
    return { ref, repository, tag, digest, source };
  });

  const seen = new Map<string, string>();
  for (const image of images) {
    const key = `${image.repository}:${image.tag}`;
    const other = seen.get(key);
    // registry/ drops the host, so two registries' same-named images would overwrite each other.
    if (other) throw new BundleSpecError(`${other} and ${image.ref} would both be stored as ${key} in registry/; rename one`);
    seen.set(key, image.ref);
  }

  const charts = spec.charts.filter(wanted).map((chart) => {
    const dir = resolvePath(base, chart.path);
    const file = path.join(dir, 'Chart.yaml');
    if (!fs.existsSync(file)) throw new BundleSpecError(`${specFile}: charts: ${file} not found`);
    const meta = yaml.load(fs.readFileSync(file, 'utf8')) as { name: string; version: string };
    return { name: meta.name, version: meta.version, dir };
  });

  const files: PlannedFile[] = [];
  for (const [kind, groups] of [['resources', spec.resources ?? []], ['packages', spec.packages ?? []]] as const) {
    for (const group of groups.filter(wanted)) {
      for (const file of group.files) {
        const from: PlannedFile['source'] = file.path ? { path: resolvePath(base, file.path) } : { url: expand(file.url!) };
        const name = file.name ?? path.basename('path' in from ? from.path : new URL(from.url).pathname);
        files.push({ target: `${kind}/${group.name}/${name}`, source: from, sha256: file.sha256 });
      }
    }
  }

  const capabilities: PlannedCapability[] = [
    ...(spec.capabilities ?? []).filter(wanted).map(({ path: dir, profiles: _, ...rest }) => ({ dir: resolvePath(base, dir), ...rest })),
    // --capability DIR: relative to where the command runs, like any path on a command line.
    ...(options.capabilities ?? []).map((dir) => ({ dir: path.resolve(dir) })),
  ];
  for (const c of capabilities) {
    if (!fs.existsSync(c.dir) || !fs.statSync(c.dir).isDirectory()) throw new BundleSpecError(`capabilities: ${c.dir} is not a folder`);
  }

  return {
    name: spec.name,
    version: spec.version,
    profile,
    platforms: options.platforms?.length ? options.platforms : (spec.platforms ?? ['linux/amd64']),
    images,
    charts,
    values: spec.profiles[profile]!.values,
    files,
    capabilities,
    base,
  };
}

/** `oci: DIR:TAG` in bundle.yaml: an OCI image layout on disk and the tag to take from it. */
function ociSource(value: string): { layout: string; tag: string } {
  const colon = value.lastIndexOf(':');
  if (colon <= 0) throw new BundleSpecError(`oci source '${value}' must be LAYOUT_DIR:TAG`);
  return { layout: value.slice(0, colon), tag: value.slice(colon + 1) };
}
