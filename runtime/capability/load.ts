import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { parse as parseToml } from 'smol-toml';
import { Ajv } from 'ajv';
import { clientDataFields } from '../protocol/messages.js';
import type { CapabilitySchema, CapabilitySpec, HostKind } from './types.js';

/** Files that make a folder a capability, in the order they are looked for. */
const entries: [string, HostKind][] = [
  ['index.js', 'js'],
  ['index.mjs', 'js'],
  ['index.ts', 'js'],
  ['wrapper.py', 'python'],
  ['libwrapper.so', 'c'],
];

const fieldSchema = {
  type: 'object',
  properties: {
    dataType: { enum: clientDataFields },
    encoding: { type: 'string' },
    compress: { type: 'string' },
    format: { type: 'string' },
    required: { type: 'boolean' },
    description: { type: 'string' },
  },
  required: ['dataType'],
  additionalProperties: false,
};

export const capabilityFileSchema = {
  type: 'object',
  properties: {
    serviceId: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
    version: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
    inputs: { type: 'object', additionalProperties: fieldSchema },
    outputs: { type: 'object', additionalProperties: fieldSchema },
    params: { type: 'object', additionalProperties: { type: 'object' } },
    licences: { type: 'integer', minimum: 1 },
    config: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    timeoutMs: { type: 'integer', minimum: 1 },
    python: {
      type: 'object',
      properties: { interpreter: { type: 'string', minLength: 1 }, workers: { type: 'integer', minimum: 1 }, pollMicros: { type: 'integer', minimum: 0, maximum: 100000 } },
      additionalProperties: false,
    },
    // Where asf up runs a JS wrapper: on a worker thread of its own (true, the default) or on the
    // gateway's thread (false: no hand-off between threads, for wrappers that never compute long);
    // and how long that thread polls for its next call when idle.
    js: {
      type: 'object',
      properties: { thread: { type: 'boolean' }, pollMicros: { type: 'integer', minimum: 0, maximum: 100000 } },
      additionalProperties: false,
    },
    balance: {
      type: 'object',
      properties: {
        strategy: { enum: ['least-loaded', 'round-robin', 'hash'] },
        key: { type: 'string', pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' },
      },
      required: ['strategy'],
      additionalProperties: false,
      if: { properties: { strategy: { const: 'hash' } } },
      then: { required: ['key'] },
    },
    clientErrors: { type: 'array', items: { type: 'integer', minimum: 1 }, uniqueItems: true },
    queue: {
      type: 'object',
      properties: { depth: { type: 'integer', minimum: 0 } },
      additionalProperties: false,
    },
    // Model and data files of the folder, each with its digest: `asf build` checks them and puts
    // them in a layer of their own (they change less often than code).
    resources: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string', minLength: 1 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
        required: ['path', 'sha256'],
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

const validateFile = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(capabilityFileSchema);

type CapabilityFile = Partial<Omit<CapabilitySpec, 'dir' | 'host' | 'entry' | 'config' | 'declared'>> & {
  config?: Record<string, string | number | boolean>;
};

export class CapabilityError extends Error {
  override name = 'CapabilityError';
}

export const defaults = { version: 'v1', licences: 4, timeoutMs: 30_000 };

/** Reads a capability folder: its code, `capability.yaml` and/or AIGES `aiges.toml`. */
export function loadCapability(dirArg: string): CapabilitySpec {
  const dir = path.resolve(dirArg);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new CapabilityError(`capability folder ${dir} does not exist`);
  }
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
  } catch (err) {
    // Otherwise every file in it looks missing ("holds none of …"), hiding the real problem.
    throw new CapabilityError(`capability folder ${dir} is not readable by this user (uid ${process.getuid?.()}): ${(err as Error).message}`);
  }
  const found = entries.find(([file]) => fs.existsSync(path.join(dir, file)));
  if (!found) {
    const names = entries.map(([file]) => file).join(', ');
    throw new CapabilityError(`capability folder ${dir} holds none of ${names}`);
  }
  const [file, host] = found;

  const toml = readAigesToml(dir);
  const yamlFile = readCapabilityYaml(path.join(dir, 'capability.yaml'));
  const config = { ...toml.config, ...stringMap(yamlFile.config ?? {}) };

  return {
    dir,
    host,
    entry: path.join(dir, file),
    ...schemaOf(yamlFile, dir),
    licences: yamlFile.licences ?? toml.licences ?? defaults.licences,
    config,
    timeoutMs: yamlFile.timeoutMs ?? defaults.timeoutMs,
    python: yamlFile.python,
    ...(yamlFile.js ? { js: yamlFile.js } : {}),
    resources: yamlFile.resources ?? [],
    ...(yamlFile.clientErrors ? { clientErrors: yamlFile.clientErrors } : {}),
    declared: {
      serviceId: yamlFile.serviceId !== undefined,
      version: yamlFile.version !== undefined,
      inputs: yamlFile.inputs !== undefined,
      outputs: yamlFile.outputs !== undefined,
    },
  };
}

/**
 * The schema and licence count a capability folder (or its capability.yaml alone) states, for a
 * gateway in front of a loader that cannot say them (AIGES's). No code is needed: it runs elsewhere.
 */
export function loadServiceSchema(pathArg: string): { schema: CapabilitySchema; licences: number } {
  const where = path.resolve(pathArg);
  if (!fs.existsSync(where)) throw new CapabilityError(`capability ${where} does not exist`);
  const folder = fs.statSync(where).isDirectory();
  const file = folder ? path.join(where, 'capability.yaml') : where;
  const dir = folder ? where : path.dirname(where);
  if (!fs.existsSync(file)) throw new CapabilityError(`capability folder ${where} has no capability.yaml to give the schema of the loader`);
  const yamlFile = readCapabilityYaml(file);
  return { schema: schemaOf(yamlFile, dir), licences: yamlFile.licences ?? (folder ? readAigesToml(dir).licences : undefined) ?? defaults.licences };
}

/** What capability.yaml states of the schema, with the defaults (the service id: the folder's name). */
function schemaOf(yamlFile: CapabilityFile, dir: string): CapabilitySchema {
  return {
    serviceId: yamlFile.serviceId ?? path.basename(dir),
    version: yamlFile.version ?? defaults.version,
    inputs: yamlFile.inputs ?? {},
    outputs: yamlFile.outputs ?? {},
    params: yamlFile.params ?? {},
    ...(yamlFile.balance ? { balance: yamlFile.balance } : {}),
    ...(yamlFile.queue ? { queue: yamlFile.queue } : {}),
  };
}

function readCapabilityYaml(file: string): CapabilityFile {
  if (!fs.existsSync(file)) return {};
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new CapabilityError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (!validateFile(doc)) {
    const problems = (validateFile.errors ?? []).map((e) => {
      const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
      const extra = e.keyword === 'additionalProperties' ? ` '${String(e.params['additionalProperty'])}'` : '';
      return `${where} ${e.message}${extra}`;
    });
    throw new CapabilityError(`${file}: ${problems.join('; ')}`);
  }
  return doc as CapabilityFile;
}

/** AIGES's own config file: `[wrapper]` is the init config, `[fc] max` the licence count. */
function readAigesToml(dir: string): { config: Record<string, string>; licences?: number } {
  const file = path.join(dir, 'aiges.toml');
  if (!fs.existsSync(file)) return { config: {} };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CapabilityError(`${file}: not valid TOML: ${(err as Error).message}`);
  }
  const wrapper = (doc['wrapper'] ?? {}) as Record<string, unknown>;
  const max = (doc['fc'] as Record<string, unknown> | undefined)?.['max'];
  const licences = max === undefined ? undefined : Number(max);
  if (licences !== undefined && !(Number.isInteger(licences) && licences > 0)) {
    throw new CapabilityError(`${file}: [fc] max must be a positive integer, got ${String(max)}`);
  }
  return { config: stringMap(wrapper), licences };
}

function stringMap(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}

