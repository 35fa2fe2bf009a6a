import { AsfError } from '../protocol/errors.js';
import { dataFieldName, type LoaderOutput } from '../protocol/messages.js';

/** Attributes typed as integers in the client protocol; all others are strings. */
const integerAttributes = new Set(['status', 'seq']);

/**
 * Renders a successful one-shot answer, or with `status` one result frame of a stream. Written by hand so that JSON outputs are embedded as
 * they came from the wrapper (checked, never re-serialised) and other bytes are base64'd once.
 */
export function renderSuccess(sid: string, output: LoaderOutput, status?: number): string {
  let payload = '';
  for (const pl of output.pl ?? []) {
    const meta = pl.meta;
    const name = meta?.name ?? '';
    const attrs = meta?.attribute ?? {};
    const field = dataFieldName[meta?.dataType ?? 0] ?? 'other';
    const data = Buffer.isBuffer(pl.data) ? pl.data : Buffer.from(pl.data ?? []);
    let item = `${JSON.stringify(field)}:${encodeData(data, attrs['format'])}`;
    for (const [key, value] of Object.entries(attrs)) {
      const typed = integerAttributes.has(key) && /^-?\d+$/.test(value) ? value : JSON.stringify(value);
      item += `,${JSON.stringify(key)}:${typed}`;
    }
    payload += `${payload ? ',' : ''}${JSON.stringify(name)}:{${item}}`;
  }
  const frame = status === undefined ? '' : `,"status":${status}`;
  return `{"header":{"code":0,"message":"success","sid":${JSON.stringify(sid)}${frame}},"payload":{${payload}}}`;
}

/** `format: json` outputs that parse are embedded as raw JSON; anything else is base64. */
function encodeData(data: Buffer, format: string | undefined): string {
  if (format === 'json') {
    const text = data.toString('utf8');
    try {
      JSON.parse(text);
      return text;
    } catch {
      // not JSON after all: fall through to base64
    }
  }
  return `"${data.toString('base64')}"`;
}

/** An error answer; a stream's error frame also has `status`. */
export function renderError(sid: string, code: number, message: string, extra: Record<string, unknown> = {}, status?: number): string {
  return JSON.stringify({ ...extra, header: { code, message, sid, status } });
}

/** A wrapper's own code after its text, as AIGES (and our loader) put it under the call's 109xx code. */
const wrapperCodeSuffix = /^([\s\S]*);code=(-?\d+)$/;

/**
 * A failed LoaderOutput as the client sees it. A wrapper failure reaches ASF clients with the
 * wrapper's own code and its wrapperError text, whichever loader (ours or AIGES's) ran it; it is
 * the server's fault (502) unless the capability lists that code among its `clientErrors` (400).
 */
export function loaderError(output: LoaderOutput, clientErrors: readonly number[] = []): AsfError {
  const err = output.err || 'loader error';
  const own = output.code! >= 10900 && output.code! <= 10999 ? wrapperCodeSuffix.exec(err) : null;
  const code = own ? Number(own[2]) : output.code!;
  return new AsfError(code, own ? own[1]! : err, clientErrors.includes(code) ? 400 : 502);
}
