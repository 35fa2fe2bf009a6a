import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { packageRoot } from '../paths.js';

export const languages = ['python', 'c', 'js'] as const;
export type Language = (typeof languages)[number];

/** Template folders live beside the sources (not compiled), so dist/ and images find them at package root. */
export const templatesDir = path.join(packageRoot, 'runtime', 'develop', 'templates');
const nativeHeader = path.join(packageRoot, 'native', 'include', 'aiges_wrapper.h');

export class ScaffoldError extends Error {
  override name = 'ScaffoldError';
}

export interface ScaffoldOptions {
  name: string;
  lang: Language;
  /** Folder to create (default: ./<name>). */
  dir?: string;
  /** Where progress lines go. */
  say?: (line: string) => void;
}

/**
 * `asf new`: a capability folder that `asf up --capability` serves at once — wrapper,
 * capability.yaml, request.json and test.sh; for C also the Makefile, the ABI header and the
 * library built from them.
 */
export function scaffold(options: ScaffoldOptions): string {
  const say = options.say ?? (() => {});
  checkName(options.name);
  if (options.lang === 'c' && !fs.existsSync(nativeHeader)) {
    throw new ScaffoldError(`${nativeHeader} is missing from this installation: run asf new --lang c from an ASF kit checkout`);
  }
  const dir = path.resolve(options.dir ?? options.name);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new ScaffoldError(`${dir} already exists and is not empty: pick another --dir or remove it`);
  }
  say(`creating ${options.lang} capability ${options.name}:`);
  fs.mkdirSync(dir, { recursive: true });
  const written = [
    ...copyTemplate(path.join(templatesDir, 'common'), dir, options.name),
    ...copyTemplate(path.join(templatesDir, options.lang), dir, options.name),
  ];
  fs.chmodSync(path.join(dir, 'test.sh'), 0o755);
  if (options.lang === 'c') {
    fs.mkdirSync(path.join(dir, 'include'));
    fs.copyFileSync(nativeHeader, path.join(dir, 'include', 'aiges_wrapper.h'));
    written.push('include/aiges_wrapper.h');
    build(dir);
    written.push('libwrapper.so');
  }
  for (const file of written.sort()) say(`  ${path.join(path.relative(process.cwd(), dir) || '.', file)}`);
  return dir;
}

/**
 * A name is a serviceId, a route segment, a YAML value and a folder: a letter first (no '123',
 * '1e3' or '.'), then letters, digits, '_' or '-', and not a word YAML reads as something else.
 */
function checkName(name: string): void {
  const route = '(it becomes the serviceId and the route /v1/private/<name>)';
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
    throw new ScaffoldError(`capability name '${name}' must start with a letter and hold only letters, digits, '_' and '-' ${route}`);
  }
  const read = yaml.load(name);
  if (read !== name) throw new ScaffoldError(`capability name '${name}' reads as ${JSON.stringify(read)} in YAML, not as a name: pick another ${route}`);
}

/** Copies every file of a template folder, putting the capability's name in place of {{name}}. */
function copyTemplate(from: string, to: string, name: string): string[] {
  const files = fs.readdirSync(from);
  for (const file of files) {
    const text = fs.readFileSync(path.join(from, file), 'utf8');
    fs.writeFileSync(path.join(to, file), text.replaceAll('{{name}}', name));
  }
  return files;
}

function build(dir: string): void {
  try {
    execFileSync('make', ['-s', '-C', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const { stderr, message } = err as { stderr?: Buffer; message: string };
    const why = stderr?.length ? stderr.toString().trim() : message;
    throw new ScaffoldError(`could not build ${dir}/libwrapper.so (${why}); install make and a C compiler, then run make -C ${dir}`);
  }
}
