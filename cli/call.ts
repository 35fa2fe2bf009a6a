import fs from 'node:fs';
import WebSocket from 'ws';
import { resolveServiceId } from '../runtime/gateway/route.js';
import { signUrl } from '../runtime/gateway/signing.js';
import { formatBench, runBench } from '../runtime/develop/bench.js';
import { dataFieldName } from '../runtime/protocol/messages.js';
import { unreachable } from './unreachable.js';

export interface CallOptions {
  url: string;
  /** `key=@file` (the file's bytes) or `key=text`. */
  input: string[];
  /** `name=value` functional parameters. */
  param: string[];
  /** Expected outputs, `key` or `key:format` (parameter.<serviceId>.<key>). */
  output?: string[];
  /** Print each output's decoded data (`key: text`) instead of the JSON answer. */
  decode?: boolean;
  /** Send this many one-shot requests and print a latency report instead of the answers. */
  bench?: number;
  /** With bench: requests in flight at once. */
  concurrency?: number;
  /** JSON field that carries every input's bytes: text, audio, image or video. */
  dataType: string;
  appId: string;
  stream: boolean;
  /** Stream: most bytes of each input per frame. */
  chunkBytes: number;
  timeoutMs: number;
  /** Sign every request with this api key and secret (query parameters host, date, authorization). */
  apiKey?: string;
  apiSecret?: string;
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
  const expected = Object.fromEntries((options.output ?? []).map(expectedOutput));
  const parameter = { [serviceId]: { ...Object.fromEntries(options.param.map((p) => splitPair(p, '--param'))), ...expected } };
  const header = { app_id: options.appId, uid: 'asf-cli' };
  const sign = (method: string) => (options.apiKey && options.apiSecret ? signUrl(options.url, options.apiKey, options.apiSecret, method) : options.url);

  if (options.bench !== undefined) {
    if (options.stream) throw new CallError('--bench sends one-shot requests: drop --stream');
    // Signed, each request carries a request_id of its own: the same signed body twice is a replay.
    let n = 0;
    const body = () => oneShotBody(options.apiKey ? { ...header, request_id: `bench-${process.pid}-${++n}` } : header, parameter, inputs, options.dataType);
    const fixed = body();
    const report = await runBench(options.bench, options.concurrency ?? 1, () => post(sign('POST'), options.apiKey ? body() : fixed, options.timeoutMs).then(({ code }) => code));
    for (const line of formatBench(report)) write(line);
    return report.outcomes.get('code 0') === report.requests ? 0 : 1;
  }

  if (!options.stream) {
    const { ok, text } = await post(sign('POST'), oneShotBody(header, parameter, inputs, options.dataType), options.timeoutMs);
    if (options.decode) decoded(text).forEach((line) => write(line));
    else write(text);
    return ok ? 0 : 1;
  }

  const frames = streamFrames(inputs, options.chunkBytes, options.dataType);
  frames[0] = { ...frames[0], header: { ...header, status: 0 }, parameter };
  const show = options.decode ? (text: string) => decoded(text).forEach((line) => write(line)) : write;
  // The WebSocket handshake is a GET: that is the request line a session's signature covers.
  return stream(sign('GET').replace(/^http/, 'ws'), frames, options.timeoutMs, show);
}

function oneShotBody(header: Record<string, unknown>, parameter: Record<string, unknown>, inputs: { key: string; data: Buffer }[], dataType: string): string {
  const payload = Object.fromEntries(inputs.map(({ key, data }) => [key, { status: 3, [dataType]: data.toString('base64') }]));
  return JSON.stringify({ header: { ...header, status: 3 }, parameter, payload });
}

/** POSTs one request; resolves with the answer's text and ASF code, rejects with a CallError when nothing answers. */
async function post(url: string, body: string, timeoutMs: number): Promise<{ ok: boolean; text: string; code: number }> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let code = res.ok ? 0 : res.status;
    try {
      code = (JSON.parse(text) as { header?: { code?: number } }).header?.code ?? code;
    } catch {
      // not JSON: the HTTP status stands for the code
    }
    return { ok: res.ok, text, code };
  } catch (err) {
    throw new CallError(unreachable(url, err as Error, timeoutMs));
  }
}

/** `--output key[:format]`: an expected output, with the format the wrapper should answer in. */
function expectedOutput(spec: string): [string, Record<string, string>] {
  const [key, format] = spec.split(':', 2) as [string, string | undefined];
  if (!key) throw new CallError(`--output ${spec}: expected key or key:format, e.g. result:json`);
  return [key, format ? { format } : {}];
}

/** One `key: value` line per output of an answer: its data decoded (JSON outputs as JSON), or the error. */
function decoded(text: string): string[] {
  let answer: { header?: { code?: number; message?: string; status?: number }; payload?: Record<string, Record<string, unknown>> };
  try {
    answer = JSON.parse(text);
  } catch {
    return [text];
  }
  if (answer.header?.code) return [`error ${answer.header.code}: ${answer.header.message ?? ''}`];
  return Object.entries(answer.payload ?? {}).map(([key, item]) => {
    const field = dataFieldName.find((f) => f in item);
    const data = field ? item[field] : undefined;
    if (typeof data !== 'string') return `${key}: ${JSON.stringify(data)}`;
    const bytes = Buffer.from(data, 'base64');
    const utf8 = bytes.toString('utf8');
    return `${key}: ${field === 'text' && !utf8.includes('\uFFFD') ? utf8 : `<${bytes.length} bytes>`}`;
  });
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
