import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './stack.js';

export const fixtureSource = path.join(repoRoot, 'test', 'fixtures', 'c', 'fixture.c');
const includeDir = path.join(repoRoot, 'native', 'include');

/** capability.yaml for test/fixtures/c/fixture.c. */
export const fixtureYaml = (serviceId: string, config: Record<string, string> = {}) => `
serviceId: ${serviceId}
inputs:
  text: {dataType: text, encoding: utf8}
outputs:
  result: {dataType: text, encoding: utf8, format: json}
params:
  mode: {type: string}
licences: 4
timeoutMs: 10000
config: ${JSON.stringify({ greeting: 'hello', ...config })}
`;

/** Compiles a C source into <root>/<name>/libwrapper.so with the system compiler ($CC, else cc), beside a capability.yaml. */
export function buildCapability(root: string, name: string, source: string, yaml: string, defines: string[] = []): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  const cc = process.env['CC'] ?? 'cc';
  execFileSync(cc, ['-shared', '-fPIC', '-O1', `-I${includeDir}`, ...defines, '-o', path.join(dir, 'libwrapper.so'), source, '-lpthread']);
  fs.writeFileSync(path.join(dir, 'capability.yaml'), yaml);
  return dir;
}
