import type { Command } from 'commander';

/** asf new / schema / validate / config / compose (capability developers) */
export function registerDevelopCommands(_program: Command): void {}
