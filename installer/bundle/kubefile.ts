// The Kubefile (sealos's Containerfile). Its ENV, LABEL and CMD become the cluster image's config
// as `sealos build` (buildah) would make them, so the Kubefile stays the one place they are
// written; and each bundle gets a Kubefile whose COPY lines are exactly its image layer's entries,
// so that `sealos build .` in a bundle root makes the image `asf bundle build` makes.
//
// Instructions, quoting, escapes and line continuations are parsed by dockerfile-ast; values are
// then expanded as buildah does: $VAR and ${VAR} (with :- and :+) from the ENV set before, nothing
// inside single quotes, backslash escapes outside them.
import fs from 'node:fs';
import { DockerfileParser, type Property } from 'dockerfile-ast';

export interface KubefileConfig {
  env: string[];
  labels: Record<string, string>;
  cmd: string[];
}

/** A shell word as buildah reads it: quotes removed, variables expanded from `vars`. */
export function expandWord(raw: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  const variable = (): string => {
    // at '$'
    if (raw[i + 1] === '{') {
      const end = raw.indexOf('}', i + 2);
      if (end < 0) throw new Error(`unterminated \${ in ${raw}`);
      const body = raw.slice(i + 2, end);
      i = end + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(body);
      if (!m) throw new Error(`unsupported variable \${${body}} in ${raw}`);
      const value = vars.get(m[1]!);
      if (m[2] === '-') return value ? value : expandWord(m[3]!, vars);
      if (m[2] === '+') return value ? expandWord(m[3]!, vars) : '';
      return value ?? '';
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(raw.slice(i + 1));
    if (!m) {
      i++;
      return '$';
    }
    i += 1 + m[0].length;
    return vars.get(m[0]) ?? '';
  };
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in ${raw}`);
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < raw.length && raw[i] !== '"') {
        if (raw[i] === '\\' && i + 1 < raw.length && '"\\$'.includes(raw[i + 1]!)) {
          out += raw[i + 1];
          i += 2;
        } else if (raw[i] === '$') out += variable();
        else out += raw[i++];
      }
      if (i >= raw.length) throw new Error(`unterminated " in ${raw}`);
      i++;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else if (c === '$') out += variable();
    else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The PATH buildah gives an image built FROM scratch that sets none. */
const scratchPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function parseKubefile(text: string): KubefileConfig {
  const config: KubefileConfig = { env: [], labels: {}, cmd: [] };
  const vars = new Map<string, string>();
  const document = DockerfileParser.parse(text);
  // The value as written, quotes and all; a line continuation (backslash, newline) joins the lines
  // and nothing else: buildah keeps the next line's leading blanks.
  const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((m) => m.index! + 1)];
  const offset = (pos: { line: number; character: number }) => lineStarts[pos.line]! + pos.character;
  const rawValue = (p: Property) => {
    const range = p.getValueRange();
    return range ? text.slice(offset(range.start), offset(range.end)).replace(/\\\r?\n/g, '') : '';
  };
  const setEnv = (name: string, value: string) => {
    vars.set(name, value);
    const at = config.env.findIndex((e) => e.startsWith(`${name}=`));
    if (at >= 0) config.env[at] = `${name}=${value}`; // a later ENV keeps the variable's place
    else config.env.push(`${name}=${value}`);
  };
  for (const instruction of document.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === 'FROM' && instruction.getArgumentsContent()?.trim() === 'scratch') setEnv('PATH', scratchPath.slice(5));
    if (keyword === 'CMD') {
      const args = instruction.getArgumentsContent() ?? '';
      config.cmd = args.trimStart().startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
    } else if (keyword === 'ENV' || keyword === 'LABEL') {
      for (const property of (instruction as unknown as { getProperties(): Property[] }).getProperties()) {
        const name = expandWord(property.getName(), vars);
        // The legacy `ENV KEY value words` form: the rest of the line, as it stands.
        const value = property.getAssignmentOperator() === null && keyword === 'ENV' ? (property.getValue() ?? '') : expandWord(rawValue(property), vars);
        if (keyword === 'LABEL') config.labels[name] = value;
        else setEnv(name, value);
      }
    }
  }
  return config;
}

export function readKubefile(file: string): KubefileConfig {
  return parseKubefile(fs.readFileSync(file, 'utf8'));
}

/**
 * The Kubefile for one bundle: the template's instructions with its COPY lines replaced by one per
 * top-level entry of the image's layer (in the template's place), so nothing is copied that the
 * image does not hold and nothing it holds is left out; and the bundle's own labels after the
 * template's, so that the image's whole config comes from this file.
 */
export function kubefileFor(template: string, entries: readonly string[], labels: Record<string, string> = {}): string {
  const lines = template.split('\n');
  const instructions = DockerfileParser.parse(template).getInstructions();
  const lineRange = (i: (typeof instructions)[number]) => [i.getRange().start.line, i.getRange().end.line] as const;
  const copies = instructions.filter((i) => i.getKeyword().toUpperCase() === 'COPY').map(lineRange);
  const lastLabel = instructions.filter((i) => i.getKeyword().toUpperCase() === 'LABEL').map(lineRange).at(-1)?.[1];
  const cmd = lines.findIndex((l) => /^\s*CMD\b/i.test(l));
  const copyAt = copies[0]?.[0] ?? (cmd >= 0 ? cmd : lines.length);
  const labelAt = lastLabel !== undefined ? lastLabel + 1 : 1;
  const drop = new Set(copies.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, k) => from + k)));
  const inserts = new Map<number, string[]>();
  const add = (at: number, added: string[]) => inserts.set(at, [...(inserts.get(at) ?? []), ...added]);
  if (Object.keys(labels).length) add(labelAt, [`LABEL ${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`]);
  add(copyAt, [...entries].sort().map((e) => `COPY ${e} ${e}`));
  const out: string[] = [];
  for (let n = 0; n <= lines.length; n++) {
    out.push(...(inserts.get(n) ?? []));
    if (n < lines.length && !drop.has(n)) out.push(lines[n]!);
  }
  return out.join('\n');
}
