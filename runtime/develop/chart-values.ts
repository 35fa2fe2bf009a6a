import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import yaml from 'js-yaml';
import { packageRoot } from '../paths.js';
import { ConfigError, getPath, nearest, setPath } from './config-keys.js';

/** The Helm chart whose values `asf config --values` edits, with its defaults and values.schema.json. */
export const chartDir = path.join(packageRoot, 'charts', 'asf');

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(doc: unknown) {
  validator ??= new Ajv({ strict: false, allErrors: true, verbose: true }).compile(JSON.parse(fs.readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')));
  return validator(doc) ? [] : (validator.errors ?? []);
}

type Tree = Record<string, unknown>;
const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of a values file over the chart's defaults: maps merge, anything else replaces. */
export function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isMap(value) && isMap(out[key]) ? merge(out[key] as Tree, value) : value;
  return out;
}

function load(file: string): Tree {
  if (!fs.existsSync(file)) return {};
  try {
    const doc = yaml.load(fs.readFileSync(file, 'utf8')) ?? {};
    if (!isMap(doc)) throw new Error('expected a map of values');
    return doc;
  } catch (err) {
    throw new ConfigError(`${file}: not a values file: ${(err as Error).message}`);
  }
}

const chartDefaults = () => load(path.join(chartDir, 'values.yaml'));

/** What the chart would render with: its defaults, then the file. */
export const mergedValues = (file: string) => merge(chartDefaults(), load(file));

/** The chart's schema in the words of `asf config`: the dotted key and what is wrong with it. */
function describe(error: ErrorObject): string {
  const where = error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params['additionalProperty']);
    const known = Object.keys((error.parentSchema as { properties?: Tree } | undefined)?.properties ?? {});
    const near = nearest(known, key);
    return `unknown chart value key '${where ? `${where}.` : ''}${key}'.${near ? ` Did you mean '${where ? `${where}.` : ''}${near}'?` : ''}${known.length ? ` Keys there: ${known.join(', ')}` : ''}`;
  }
  return `${where || '(top level)'} ${error.message}${error.keyword === 'enum' ? `: ${(error.params['allowedValues'] as unknown[]).join(', ')}` : ''}`;
}

/** Fails with the chart schema's complaints about the values a file gives. */
export function checkValues(file: string, doc = load(file)): void {
  const errors = validate(merge(chartDefaults(), doc));
  // One line per place: `anyOf`/`oneOf` wrappers repeat what their branches said.
  const lines = [...new Set(errors.filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword)).map(describe))];
  if (lines.length) throw new ConfigError(`${file}: ${lines.join('; ')} (charts/asf/values.schema.json)`);
}

/** A value typed on the command line, read as YAML (so 2 is a number, true a boolean, [a, b] a list). */
function parse(text: string): unknown {
  try {
    return yaml.load(text);
  } catch {
    return text;
  }
}

export function valuesGet(file: string, key: string): unknown {
  const value = getPath(mergedValues(file), key);
  if (value === undefined) checkValues(file, withKey(load(file), key, null));
  return value;
}

/** Checks the values file with a key set (or unset) against the chart's schema; returns the value to write. */
export function valuesSet(file: string, key: string, text: string | undefined): unknown {
  const value = text === undefined ? undefined : parse(text);
  checkValues(file, withKey(load(file), key, value));
  return value;
}

function withKey(doc: Tree, key: string, value: unknown): Tree {
  const copy = structuredClone(doc);
  setPath(copy, key, value);
  return copy;
}

/** Every leaf of the merged values as `key = value`. */
export function valuesList(file: string): string[] {
  const own = load(file);
  const lines: string[] = [];
  const walk = (tree: Tree, prefix: string) => {
    for (const [key, value] of Object.entries(tree)) {
      const at = prefix ? `${prefix}.${key}` : key;
      if (isMap(value) && Object.keys(value).length) walk(value, at);
      else lines.push(`${at} = ${JSON.stringify(value)}${getPath(own, at) === undefined ? ' (chart default)' : ''}`);
    }
  };
  walk(mergedValues(file), '');
  return lines;
}
