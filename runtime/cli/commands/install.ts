import type { Command } from 'commander';

/** asf install / uninstall / status (installing from a bundle) */
export function registerInstallCommands(_program: Command): void {}
