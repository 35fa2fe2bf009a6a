// The CLI and everything it imports as one CommonJS file: the only kind of main script a Node 20
// single-executable application runs, and its require() finds nothing but Node's built-ins.
import * as esbuild from 'esbuild';

/** What import.meta.url stands for in the bundle: the file it runs from (the executable itself). */
const importMetaUrl = '__asfImportMetaUrl';

/** Bundles `entry` (compiled ES modules) into `outfile`; returns the warnings esbuild gave. */
export async function bundleCli(entry: string, outfile: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The native addon is a compiled .node file loaded by path, and esbuild and postject build the
    // executable itself: commands that need them are refused inside it (cli/executable.ts).
    external: ['*.node', 'esbuild', 'postject'],
    // import.meta does not exist in CommonJS; the few modules that use it get a real file URL.
    banner: { js: `const ${importMetaUrl} = require('node:url').pathToFileURL(__filename).href;` },
    define: { 'import.meta.url': importMetaUrl },
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
}
