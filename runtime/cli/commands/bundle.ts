import type { Command } from 'commander';

/** asf bundle build / verify / inspect / extract (issue 7) */
export function registerBundleCommands(_program: Command): void {}
