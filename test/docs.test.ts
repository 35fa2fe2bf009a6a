import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { capabilityFileSchema } from '../runtime/capability/load.js';
import { ErrorCode } from '../runtime/protocol/errors.js';
import { repoRoot } from './helpers/stack.js';

const docs = path.join(repoRoot, 'docs');
const read = (file: string) => fs.readFileSync(file, 'utf8');
const section = (text: string, heading: string) => text.split(/^## /m).find((part) => part.startsWith(`${heading}\n`)) ?? '';
const tableRows = (text: string) => text.split('\n').filter((line) => line.startsWith('| '));

/** Every file below dir, skipping links (environments, caches) and folders of built or fetched things. */
function filesBelow(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isSymbolicLink() || entry.name.startsWith('.') || ['node_modules', 'build', '__pycache__'].includes(entry.name)) return [];
    return entry.isDirectory() ? filesBelow(file) : [file];
  });
}
const sourceTree = ['runtime', 'native', 'installer', 'images', 'charts', 'scripts', 'examples', 'bin', 'offline-bundle']
  .flatMap((dir) => filesBelow(path.join(repoRoot, dir)))
  .filter((file) => /\.(ts|js|py|proto|h|c|cc|sh|md|yaml|tpl|txt)$/.test(file));

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
const anchor = (heading: string) => heading.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');

describe('docs/: the reference the code points to', () => {
  it('lists every error code the gateway and loader can send, and no other, in the error table', () => {
    const documented = tableRows(section(read(path.join(docs, 'http-api.md')), 'Error codes'))
      .map((row) => row.match(/^\| (\d{5}) \|/)?.[1])
      .filter((code): code is string => code !== undefined)
      .map(Number);
    assert.deepEqual([...documented].sort(), Object.values(ErrorCode).sort());
  });

  it('documents every key capability.yaml accepts', () => {
    const rows = tableRows(read(path.join(docs, 'capability.md'))).join('\n');
    const keys = Object.entries(capabilityFileSchema.properties).flatMap(([key, schema]) => {
      const nested = (schema as { properties?: object }).properties;
      return nested ? Object.keys(nested).map((child) => `${key}.${child}`) : [key];
    });
    assert.ok(keys.length > 10, 'the schema was read');
    assert.deepEqual(keys.filter((key) => !rows.includes(`| \`${key}\` |`)), []);
  });

  it('code points to docs/ pages that exist, never to spec/ files the repository does not have', () => {
    const dangling: string[] = [];
    for (const file of sourceTree) {
      const where = path.relative(repoRoot, file);
      for (const [ref] of read(file).matchAll(/(?<![\w/.-])(?:shared\/)?spec\/[\w-]+\.md/g)) dangling.push(`${where}: ${ref}`);
      for (const [ref] of read(file).matchAll(/(?<![\w.-])docs\/[\w-]+\.md/g)) {
        if (!fs.existsSync(path.join(repoRoot, ref))) dangling.push(`${where}: ${ref}`);
      }
    }
    assert.ok(sourceTree.length > 100, 'the tree was read');
    assert.deepEqual(dangling, []);
  });

  it("every link of docs/ and the README's links into it lead to a file and heading that exist", () => {
    const pages = [...fs.readdirSync(docs).map((name) => path.join(docs, name)), path.join(repoRoot, 'README.md')];
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [file, hash] = target!.split('#');
        const linked = file ? path.resolve(path.dirname(page), file) : page;
        const headings = fs.existsSync(linked) && linked.endsWith('.md') ? [...read(linked).matchAll(/^#+ (.+)$/gm)].map(([, h]) => anchor(h!)) : [];
        if (!fs.existsSync(linked) || (hash && !headings.includes(hash))) broken.push(`${path.relative(repoRoot, page)}: ${target}`);
      }
    }
    assert.deepEqual(broken, []);
    assert.match(read(path.join(repoRoot, 'README.md')), /\]\(docs\/README\.md\)/);
  });
});
