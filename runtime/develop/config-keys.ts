/** One setting `asf config` knows: how to parse a value typed on the command line and check it. */
export interface KeySpec {
  /** Shown by `asf config list` and in errors. */
  describe: string;
  parse(text: string): unknown;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => (text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got '${text}'`);
  return n;
};
export const word = (pattern = /^.+$/s, what = 'a non-empty string') => (text: string) => {
  if (!pattern.test(text)) throw new ConfigError(`must be ${what}, got '${text}'`);
  return text;
};
export const oneOf = (choices: string[]) => (text: string) => {
  if (!choices.includes(text)) throw new ConfigError(`must be one of ${choices.join(', ')}, got '${text}'`);
  return text;
};
/** A comma-separated list; empty text is the empty list. */
export const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/** Finds a key's spec, or fails naming the keys there are and the nearest one. */
export function specOf(keys: Record<string, KeySpec>, key: string, what: string, wildcard?: string): KeySpec {
  const spec = keys[key] ?? (wildcard && key.startsWith(`${wildcard}.`) && key.length > wildcard.length + 1 ? keys[`${wildcard}.<name>`] : undefined);
  if (spec) return spec;
  const known = Object.keys(keys);
  const near = nearest(known, key);
  const hint = near ? ` Did you mean '${near}'?` : '';
  throw new ConfigError(`unknown ${what} key '${key}'.${hint} Known keys: ${known.join(', ')} (asf config list shows them with their values)`);
}

/** The known key closest to a mistyped one, if it is close enough to be what was meant. */
export function nearest(known: string[], key: string): string | undefined {
  const near = known.map((k) => [k, distance(k.toLowerCase(), key.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
  return near && near[1] <= 3 ? near[0] : undefined;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** Reads a dotted key out of a nested object. */
export function getPath(doc: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((at, part) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), doc);
}

/** Sets (or with `undefined` removes) a dotted key, creating the objects on the way. */
export function setPath(doc: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let at = doc;
  for (const part of parts.slice(0, -1)) {
    if (typeof at[part] !== 'object' || at[part] === null) at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (value === undefined) delete at[last];
  else at[last] = value;
}
