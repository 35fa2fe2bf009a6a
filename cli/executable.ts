// Inside the single asf executable there is no Node.js beside it, no package folder, no native
// addon and no Python code: the commands that need them say so in one line instead of failing
// somewhere deep inside.
import type { Command } from 'commander';
import { inExecutable } from '../runtime/paths.js';

/**
 * Commands only the npm package runs: they serve capabilities (native addon, Python, the gateway's
 * files), build images and bundles (esbuild, umoci, images/) or read the package's templates and chart.
 * A name covers its subcommands.
 */
export const packageOnlyCommands = ['up', 'gateway', 'loader', 'build', 'bundle build', 'new', 'schema', 'validate', 'compose', 'config'];

/**
 * The modules only those commands import (on demand, paths under dist/). The executable's bundle
 * leaves them out, and with them the gateway, loader and image builder: a quarter of the code to
 * parse at every start (installer/exe/bundle.ts).
 */
export const packageOnlyModules = [
  'cli/up.js',
  'cli/detach.js',
  'cli/gateway.js',
  'cli/loader.js',
  'installer/image/build.js',
  'installer/bundle/build.js',
  'runtime/develop/scaffold.js',
  'runtime/develop/schema-docs.js',
  'runtime/develop/validate-request.js',
  'runtime/develop/compose.js',
  'runtime/develop/config-command.js',
  'runtime/develop/gateway-config.js',
];

const fullName = (command: Command): string => (command.parent?.parent ? `${fullName(command.parent)} ${command.name()}` : command.name());

/** Makes every package-only command refuse to run when this is the executable. */
export function refusePackageOnlyCommands(program: Command): void {
  if (!inExecutable) return;
  program.hook('preAction', (_program, action) => {
    const name = fullName(action);
    if (packageOnlyCommands.some((only) => name === only || name.startsWith(`${only} `))) {
      throw new Error(`${name} is not in this single-file asf: it needs the asf-kit npm package (Node.js 20 and the package's files); this one runs install, uninstall, status, check, demo, call, usage and bundle verify|inspect|extract`);
    }
  });
}
