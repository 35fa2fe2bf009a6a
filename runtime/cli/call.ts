import fs from 'node:fs';
import WebSocket from 'ws';
import { resolveServiceId } from '../gateway/route.js';
import { unreachable } from './unreachable.js';

export interface CallOptions {
  url: string;
  /** `key=@file` (the file's bytes) or `key=text`. */
  input: string[];
  /** `name=value` functional parameters. */
  param: string[];
  /** JSON field that carries every input's bytes: text, audio, image or video. */
  dataType: string;
  appId: string;
  stream: boolean;
  /** Stream: most bytes of each input per frame. */
  chunkBytes: number;
  timeoutMs: number;
  /** Where answers go, one JSON line each (stdout unless a test captures it). */
  write?: (line: string) => void;
}

/** A failure the user can act on; the CLI prints its message and exits non-zero. */
export class CallError extends Error {
  override name = 'CallError';
}

/**
 * `asf call`: one request to a capability, or with --stream a WebSocket session whose inputs are
 * cut into frames (status 0, 1, ..., 2). Prints each answer as one JSON line; resolves with the
 * number of error answers.
 */
export async function runCall(options: CallOptions): Promise<number> {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    throw new CallError(`${options.url} is not a URL: expected e.g. http://127.0.0.1:8889/v1/private/<serviceId>`);
  }
  const serviceId = resolveServiceId(target.pathname + target.search);
  if (!serviceId) throw new CallError(`${options.url} names no service: expected e.g. http://host:8889/v1/private/<serviceId>`);
  const inputs = options.input.map(readInput);
  const parameter = { [serviceId]: Object.fromEntries(options.param.map((p) => splitPair(p, '--param'))) };
  const header = { app_id: options.appId, uid: 'asf-cli' };

  if (!options.stream) {
    const payload = Object.fromEntries(inputs.map(({ key, data }) => [key, { status: 3, [options.dataType]: data.toString('base64') }]));
    let res: Response;
    let text: string;
    try {
      res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ header: { ...header, status: 3 }, parameter, payload }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new CallError(unreachable(options.url, err as Error, options.timeoutMs));
    }
    write(text);
    return res.ok ? 0 : 1;
  }

  const frames = streamFrames(inputs, options.chunkBytes, options.dataType);
  frames[0] = { ...frames[0], header: { ...header, status: 0 }, parameter };
  return stream(options.url.replace(/^http/, 'ws'), frames, options.timeoutMs, write);
}

/** Cuts each input into chunks: frame i carries chunk i of every input that has one. */
function streamFrames(inputs: { key: string; data: Buffer }[], chunkBytes: number, dataType: string): Record<string, unknown>[] {
  const chunked = inputs.map(({ key, data }) => ({ key, chunks: cut(data, chunkBytes, dataType === 'text') }));
  const count = Math.max(1, ...chunked.map(({ chunks }) => chunks.length));
  // A single chunk still needs a first frame before the last one: the first opens the session.
  const total = count === 1 ? 2 : count;
  const offset = total - count;
  return Array.from({ length: total }, (_, i) => {
    const status = i === 0 ? 0 : i === total - 1 ? 2 : 1;
    const payload: Record<string, unknown> = {};
    for (const { key, chunks } of chunked) {
      const chunk = chunks[i - offset];
      if (chunk) payload[key] = { status, seq: i - offset, [dataType]: chunk.toString('base64') };
    }
    return { header: { status }, ...(Object.keys(payload).length ? { payload } : {}) };
  });
}

/** Chunks of at most `size` bytes; text is cut after whitespace where it can be, so words stay whole. */
function cut(data: Buffer, size: number, text: boolean): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < data.length; ) {
    let end = Math.min(start + size, data.length);
    if (text && end < data.length) {
      for (let i = end; i > start; i--) {
        if (data[i - 1] === 0x20 || data[i - 1] === 0x0a) {
          end = i;
          break;
        }
      }
    }
    chunks.push(data.subarray(start, end));
    start = end;
  }
  return chunks;
}

function stream(url: string, frames: Record<string, unknown>[], timeoutMs: number, write: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let errors = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new CallError(`no end of the session within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('open', () => {
      for (const frame of frames) ws.send(JSON.stringify(frame));
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      write(text);
      if ((JSON.parse(text) as { header?: { code?: number } }).header?.code) errors++;
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(new CallError(unreachable(url, err, timeoutMs)));
    });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve(errors);
    });
  });
}

function readInput(spec: string): { key: string; data: Buffer } {
  const [key, value] = splitPair(spec, '--input');
  if (!value.startsWith('@')) return { key, data: Buffer.from(value, 'utf8') };
  try {
    return { key, data: fs.readFileSync(value.slice(1)) };
  } catch (err) {
    throw new CallError(`cannot read ${value.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function splitPair(spec: string, flag: string): [string, string] {
  const at = spec.indexOf('=');
  if (at <= 0) throw new CallError(`${flag} ${spec}: expected name=value`);
  return [spec.slice(0, at), spec.slice(at + 1)];
}
