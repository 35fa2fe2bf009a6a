import { Writable } from 'node:stream';

export type LogFormat = 'text' | 'json';

const levelNames: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** pino's bookkeeping, which a person at a console does not need on every line. */
const hidden = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'role', 'reqId']);

/** One pino JSON record as a line for a person: level, message, then the fields as key=value. */
export function consoleLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json);
  } catch {
    return json;
  }
  const fields = Object.entries(record)
    .filter(([key]) => !hidden.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? (/\s/.test(value) ? JSON.stringify(value) : value) : key === 'err' ? ((value as { message?: string })?.message ?? JSON.stringify(value)) : JSON.stringify(value)}`);
  const level = levelNames[record['level'] as number] ?? String(record['level']);
  return `${level.padEnd(8)} ${String(record['msg'] ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}`;
}

/** A pino destination that writes each record as a consoleLine (`--log-format text`). */
export function consoleLog(out: NodeJS.WritableStream = process.stdout): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = chunk.toString().split('\n').filter(Boolean);
      out.write(lines.map((line) => `${consoleLine(line)}\n`).join(''));
      done();
    },
  });
}
