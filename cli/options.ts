// Option parsers and help helpers shared by every asf command group.
import { type Command, InvalidArgumentError, Option } from 'commander';

/** A repeatable option's values, in the order given. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** An integer option within [min, max]; commander reports the message as a usage error. */
export function integer(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string) => {
    const n = Number(value);
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${range}, got '${value}'`);
    return n;
  };
}

/** A TCP port; 0 lets the system pick a free one. */
export const port = integer('port', 0, 65535);

/** How log records are written: for a person (one line each) or for a log collector (JSON). */
export const logFormatOption = (defaultFormat: 'text' | 'json') =>
  new Option('--log-format <format>', 'log records as one readable line each, or as JSON').choices(['text', 'json']).default(defaultFormat);

/** The "Examples:" block at the end of a command's --help. */
export const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;

/**
 * A usage error (exit 2) for an option typed on the command line that means nothing here, e.g.
 * `--concurrency` without `--bench`: silently ignoring it would hide the mistake.
 */
export function onlyWith(command: Command, flag: `--${string}`, applies: boolean, what: string): void {
  const key = flag.slice(2).replace(/-(.)/g, (_, c: string) => c.toUpperCase());
  if (!applies && command.getOptionValueSource(key) === 'cli') command.error(`${flag} only applies ${what}`, { exitCode: 2 });
}
