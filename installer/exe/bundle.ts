// The CLI and everything it imports as one CommonJS file: the only kind of main script a Node 20
// single-executable application runs, and its require() finds nothing but Node's built-ins.
import path from 'node:path';
import * as esbuild from 'esbuild';
import { packageOnlyModules } from '../../cli/executable.js';

/**
 * Modules the bundle leaves out, each replaced by one that throws as a missing module does:
 * - what the commands the executable refuses (cli/executable.ts) import on demand, after the refusal;
 * - ws's optional native accelerators, which it tries inside a try/catch: left as require() calls
 *   they would fail just the same, but only after Node printed a warning that the executable's
 *   require() loads built-in modules only.
 */
function leaveOut(dist: string): esbuild.Plugin {
  const files = new Set(packageOnlyModules.map((rel) => path.join(dist, rel)));
  return {
    name: 'leave-out',
    setup(build) {
      build.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'left-out' }));
      build.onResolve({ filter: /\.js$/ }, (args) =>
        args.kind === 'dynamic-import' && files.has(path.resolve(args.resolveDir, args.path)) ? { path: args.path, namespace: 'left-out' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not in the asf executable`)}), { code: 'MODULE_NOT_FOUND' });`,
      }));
    },
  };
}

/** What import.meta.url stands for in the bundle: the file it runs from (the executable itself). */
const importMetaUrl = '__asfImportMetaUrl';

/**
 * Bundles <dist>/cli/main.js (compiled ES modules) into `outfile`; returns the warnings esbuild
 * gave. The file names esbuild writes into the bundle are relative to `root`, so the bytes do not
 * depend on the folder the build runs from.
 */
export async function bundleCli(dist: string, outfile: string, root: string): Promise<string[]> {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [path.join(dist, 'cli', 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // import.meta does not exist in CommonJS; the few modules that use it get a real file URL.
    banner: { js: `const ${importMetaUrl} = require('node:url').pathToFileURL(__filename).href;` },
    define: { 'import.meta.url': importMetaUrl },
    legalComments: 'none',
    // Less text to parse at every start (--version: 128 → 117 ms); names are kept, so are messages.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'silent',
    plugins: [leaveOut(dist)],
  });
  return result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
}
