// The Kubefile's ENV, LABEL and CMD become the cluster image's config, as sealos build would make
// them, so the Kubefile stays the one place they are written.
import fs from 'node:fs';

export interface KubefileConfig {
  env: string[];
  labels: Record<string, string>;
  cmd: string[];
}

const unquote = (v: string) => (/^".*"$/.test(v) ? (JSON.parse(v) as string) : v);

export function readKubefile(file: string): KubefileConfig {
  const config: KubefileConfig = { env: [], labels: {}, cmd: [] };
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    const m = /^(ENV|LABEL|CMD)\s+(.+)$/i.exec(line);
    if (!m) continue;
    const [, instruction, rest] = m as unknown as [string, string, string];
    if (instruction.toUpperCase() === 'CMD') {
      config.cmd = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : ['/bin/sh', '-c', rest];
      continue;
    }
    // KEY=VALUE pairs (values may be double-quoted); `ENV KEY VALUE` is the legacy one-pair form.
    const pairs = rest.includes('=') ? [...rest.matchAll(/([\w.\-/]+)=("(?:[^"\\]|\\.)*"|\S*)/g)].map((p) => [p[1]!, unquote(p[2]!)] as const) : [[rest.split(/\s+/)[0]!, rest.split(/\s+/).slice(1).join(' ')] as const];
    for (const [key, value] of pairs) {
      if (instruction.toUpperCase() === 'ENV') config.env.push(`${key}=${value}`);
      else config.labels[key] = value;
    }
  }
  return config;
}
