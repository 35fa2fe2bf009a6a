// How every asf command ends badly: one `asf: ` prefix on stderr and conventional exit codes.
import type { Command } from 'commander';

export const exitCodes = { failure: 1, usage: 2 } as const;

/** The exit code of a process stopped by this signal, as shells report it (128 + its number). */
export const signalExitCode = (signal: 'SIGINT' | 'SIGTERM') => (signal === 'SIGINT' ? 130 : 143);

/** Commander's own errors (unknown option, bad value, missing argument) as usage errors. */
export function usageConventions(program: Command): void {
  program
    .configureOutput({ outputError: (text, write) => write(`asf: ${text.replace(/^error: /, '')}`) })
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : exitCodes.usage));
}

/** A command that threw: its message, never a stack trace. */
export function failed(err: Error): never {
  process.stderr.write(`asf: ${err.message}\n`);
  process.exit(exitCodes.failure);
}
