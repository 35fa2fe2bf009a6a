import fs from 'node:fs';
import path from 'node:path';
import { defaults, loadCapability } from '../capability/load.js';
import { ConfigError, getPath, integer, specOf, word, type KeySpec } from './config-keys.js';
import { valuesGet, valuesList, valuesSet } from './chart-values.js';
import { gatewayConfigDefaults, gatewayKeys, readGatewayConfig } from './gateway-config.js';
import { YamlFile } from './yaml-edit.js';
import { defaultPollMicros } from '../loader/poll-micros.js';

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
  'python.pollMicros': { describe: 'how long an idle Python worker polls for its next call before it sleeps, µs (0: never)', parse: integer(0) },
  'js.pollMicros': { describe: 'how long an idle JS loader thread polls for its next call before it sleeps, µs (0: never)', parse: integer(0) },
  'config.<name>': { describe: 'a string handed to wrapperInit', parse: (text) => text },
};

/** What applies when capability.yaml leaves a key out (the loader's own defaults). */
const capabilityDefaults: Record<string, unknown> = { version: defaults.version, licences: defaults.licences, timeoutMs: defaults.timeoutMs, 'python.workers': 1, 'python.pollMicros': defaultPollMicros, 'js.pollMicros': defaultPollMicros };

interface Doc {
  yaml: YamlFile;
  doc: Record<string, unknown>;
  keys: Record<string, KeySpec>;
  defaults: Record<string, unknown>;
  what: string;
}

const configError = (message: string) => new ConfigError(message);

function open(target: Exclude<ConfigTarget, { kind: 'values' }>): Doc {
  if (target.kind === 'gateway') {
    readGatewayConfig(target.file); // checks what the file holds already
    const file = YamlFile.open(target.file, configError);
    return { yaml: file, doc: file.values(), keys: gatewayKeys, defaults: gatewayConfigDefaults, what: 'gateway setting' };
  }
  loadCapability(target.dir); // fails clearly if the folder is no capability, or its file is broken
  const file = YamlFile.open(path.join(path.resolve(target.dir), 'capability.yaml'), configError);
  return { yaml: file, doc: file.values(), keys: capabilityKeys, defaults: capabilityDefaults, what: 'capability setting' };
}

/** `asf config get KEY`: the value as YAML would show it, or the default when unset. */
export function configGet(target: ConfigTarget, key: string): string {
  if (target.kind === 'values') return show(valuesGet(target.file, key));
  const { doc, keys, defaults, what } = open(target);
  specOf(keys, key, what, 'config');
  const value = getPath(doc, key) ?? defaults[key];
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** `asf config set KEY VALUE` (or unset with `undefined`): checked, written, and read back the way `asf up` reads it. */
export function configSet(target: ConfigTarget, key: string, text: string | undefined): string {
  if (target.kind === 'values') {
    const value = valuesSet(target.file, key, text);
    const file = YamlFile.open(target.file, configError);
    file.set(key, value);
    file.write();
    return target.file;
  }
  const { yaml: file, keys, what } = open(target);
  const spec = specOf(keys, key, what, 'config');
  let value: unknown;
  try {
    value = text === undefined ? undefined : spec.parse(text);
  } catch (err) {
    throw new ConfigError(`${key} ${(err as Error).message}`);
  }
  file.set(key, value);
  const before = fs.existsSync(file.file) ? fs.readFileSync(file.file, 'utf8') : undefined;
  file.write();
  // Read back as the loader or `asf up` would; put the old file back if that fails.
  try {
    if (target.kind === 'capability') loadCapability(target.dir);
    else readGatewayConfig(file.file);
  } catch (err) {
    if (before === undefined) fs.rmSync(file.file);
    else fs.writeFileSync(file.file, before);
    throw err;
  }
  return file.file;
}

/** `asf config list`: every known key with its value (or default), one per line. */
export function configList(target: ConfigTarget): string[] {
  if (target.kind === 'values') return [`# ${target.file} over the chart's defaults`, ...valuesList(target.file)];
  const { yaml: file, doc, keys, defaults } = open(target);
  const lines = [`# ${file.file}`];
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
