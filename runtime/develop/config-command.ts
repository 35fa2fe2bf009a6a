import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadCapability } from '../capability/load.js';
import { ConfigError, getPath, integer, setPath, specOf, word, type KeySpec } from './config-keys.js';
import { valuesGet, valuesList, valuesSet } from './chart-values.js';
import { gatewayKeys, readGatewayConfig } from './gateway-config.js';

/** Which file `asf config` reads and writes: a capability's capability.yaml, a gateway config file, or Helm values for charts/asf. */
export type ConfigTarget = { kind: 'capability'; dir: string } | { kind: 'gateway'; file: string } | { kind: 'values'; file: string };

const id = /^[A-Za-z0-9_.-]+$/;

/** The capability.yaml settings an operator changes; inputs/outputs/params are the developer's, edited by hand. */
export const capabilityKeys: Record<string, KeySpec> = {
  serviceId: { describe: 'route /<version>/private/<serviceId>', parse: word(id, "letters, digits, '_', '.' or '-'") },
  version: { describe: 'route version', parse: word(id, "letters, digits, '_', '.' or '-'") },
  licences: { describe: 'concurrent requests per loader (10110 past it)', parse: integer(1) },
  timeoutMs: { describe: 'one-shot requests running longer fail with 10102, ms', parse: integer(1) },
  'python.workers': { describe: 'Python worker processes per loader', parse: integer(1) },
  'python.interpreter': { describe: 'Python interpreter of the workers', parse: word() },
  'config.<name>': { describe: 'a string handed to wrapperInit', parse: (text) => text },
};

const defaults: Record<string, unknown> = { version: 'v1', licences: 4, timeoutMs: 30000, 'python.workers': 1 };

interface Doc {
  file: string;
  doc: Record<string, unknown>;
  keys: Record<string, KeySpec>;
  what: string;
}

function open(target: Exclude<ConfigTarget, { kind: 'values' }>): Doc {
  if (target.kind === 'gateway') {
    return { file: target.file, doc: readGatewayConfig(target.file) as Record<string, unknown>, keys: gatewayKeys, what: 'gateway setting' };
  }
  loadCapability(target.dir); // fails clearly if the folder is no capability, or its file is broken
  const file = path.join(path.resolve(target.dir), 'capability.yaml');
  const doc = fs.existsSync(file) ? ((yaml.load(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>) : {};
  return { file, doc, keys: capabilityKeys, what: 'capability setting' };
}

/** `asf config get KEY`: the value as YAML would show it, or the default when unset. */
export function configGet(target: ConfigTarget, key: string): string {
  if (target.kind === 'values') return show(valuesGet(target.file, key));
  const { doc, keys, what } = open(target);
  specOf(keys, key, what, 'config');
  const value = getPath(doc, key) ?? defaults[key];
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** `asf config set KEY VALUE` (or unset with `undefined`): checked, written, and read back the way `asf up` reads it. */
export function configSet(target: ConfigTarget, key: string, text: string | undefined): string {
  if (target.kind === 'values') {
    const doc = valuesSet(target.file, key, text);
    const before = fs.existsSync(target.file) ? fs.readFileSync(target.file, 'utf8') : undefined;
    fs.writeFileSync(target.file, leadingComments(before) + yaml.dump(doc, { lineWidth: 120 }));
    return target.file;
  }
  const { file, doc, keys, what } = open(target);
  const spec = specOf(keys, key, what, 'config');
  let value: unknown;
  try {
    value = text === undefined ? undefined : spec.parse(text);
  } catch (err) {
    throw new ConfigError(`${key} ${(err as Error).message}`);
  }
  setPath(doc, key, value);
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  fs.writeFileSync(file, leadingComments(before) + yaml.dump(doc, { flowLevel: 2, lineWidth: 120 }));
  // Read back as the loader or `asf up` would; put the old file back if that fails.
  try {
    if (target.kind === 'capability') loadCapability(target.dir);
    else readGatewayConfig(file);
  } catch (err) {
    if (before === undefined) fs.rmSync(file);
    else fs.writeFileSync(file, before);
    throw err;
  }
  return file;
}

/** `asf config list`: every known key with its value (or default), one per line. */
export function configList(target: ConfigTarget): string[] {
  if (target.kind === 'values') return [`# ${target.file} over the chart's defaults`, ...valuesList(target.file)];
  const { file, doc, keys } = open(target);
  const lines = [`# ${file}`];
  for (const [key, spec] of Object.entries(keys)) {
    if (key === 'config.<name>') {
      const config = (doc['config'] ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(config)) lines.push(`config.${name} = ${String(value)}`);
      lines.push(`# config.<name>: ${spec.describe}`);
      continue;
    }
    const set = getPath(doc, key);
    const value = set ?? defaults[key];
    const shown = value === undefined ? '(unset)' : Array.isArray(value) ? value.join(',') : String(value);
    lines.push(`${key} = ${shown}${set === undefined && value !== undefined ? ' (default)' : ''}   # ${spec.describe}`);
  }
  return lines;
}

const show = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** The comment block at the top of a file, kept when the file is rewritten. */
function leadingComments(text: string | undefined): string {
  if (!text) return '';
  const lines = text.split('\n');
  const end = lines.findIndex((line) => !line.startsWith('#'));
  return end > 0 ? `${lines.slice(0, end).join('\n')}\n` : '';
}
