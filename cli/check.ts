// asf check: sends each capability's sample request (its request.json) through a gateway and prints
// what came back, one readable line per capability. The post-install check runs it in the cluster
// (a helm test Pod per capability, from the capability's own image, which holds the sample), so
// the site needs no Node.js; it exits non-zero when one capability did not answer.
import fs from 'node:fs';
import path from 'node:path';
import { unreachable } from './unreachable.js';

export interface CheckOptions {
  /** The gateway's base URL. */
  url: string;
  /** Capability folders (holding request.json) or request files; the serviceId is the folder's name unless `service` says. */
  samples: string[];
  service?: string;
  timeoutMs: number;
  write?: (line: string) => void;
}

export class CheckError extends Error {}

interface Answer {
  header?: { code?: number; message?: string; sid?: string };
  // `format: json` outputs arrive as JSON values, the others base64-encoded.
  payload?: Record<string, { text?: unknown; encoding?: string; format?: string }>;
}

/** Checks every sample; returns how many failed (each failure is printed, not thrown). */
export async function runCheck(options: CheckOptions): Promise<number> {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  let failed = 0;
  for (const sample of options.samples) {
    const file = fs.existsSync(sample) && fs.statSync(sample).isDirectory() ? path.join(sample, 'request.json') : sample;
    const service = options.service ?? path.basename(path.dirname(path.resolve(file)));
    try {
      write(`check ${service}: ${await checkOne(options.url, service, file, options.timeoutMs)}`);
    } catch (err) {
      failed++;
      write(`check ${service}: FAILED: ${(err as Error).message}`);
    }
  }
  write(failed ? `check failed: ${failed} of ${options.samples.length} capabilities did not answer` : `check ok: ${options.samples.length} capabilities answered`);
  return failed;
}

async function checkOne(base: string, service: string, file: string, timeoutMs: number): Promise<string> {
  if (!fs.existsSync(file)) throw new CheckError(`no sample request: ${file} does not exist`);
  let body: string;
  try {
    body = fs.readFileSync(file, 'utf8');
    JSON.parse(body);
  } catch (err) {
    throw new CheckError(`sample request ${file}: ${(err as Error).message}`);
  }
  const url = `${base.replace(/\/$/, '')}/v1/private/${service}`;
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new CheckError(unreachable(url, err as Error, timeoutMs));
  }
  const ms = Math.round(performance.now() - started);
  const text = await res.text();
  let answer: Answer;
  try {
    answer = JSON.parse(text) as Answer;
  } catch {
    throw new CheckError(`HTTP ${res.status}, not an ASF answer: ${text.slice(0, 200)}`);
  }
  const code = answer.header?.code;
  if (res.status !== 200 || code !== 0) throw new CheckError(`HTTP ${res.status}, code ${code}: ${answer.header?.message ?? text.slice(0, 200)}`);
  const outputs = Object.entries(answer.payload ?? {}).map(([key, out]) => `${key}: ${describe(out)}`);
  return `ok in ${ms} ms; ${outputs.join('; ') || 'no outputs'}`;
}

/** One output, decoded: text as text; results with boxes (OCR, detection) as what they found. */
function describe(out: { text?: unknown }): string {
  let parsed = out.text;
  if (typeof out.text === 'string') {
    const data = Buffer.from(out.text, 'base64').toString('utf8');
    try {
      parsed = JSON.parse(data);
    } catch {
      return JSON.stringify(data.length > 200 ? `${data.slice(0, 200)}…` : data);
    }
  }
  const found = boxes(parsed);
  if (found) return found;
  const compact = JSON.stringify(parsed);
  return compact.length > 300 ? `${compact.slice(0, 300)}…` : compact;
}

/** The ASF box style (`[{filename, result: [{box, text | label, score…}]}]`) in a line. */
function boxes(value: unknown): string | undefined {
  if (!Array.isArray(value) || !value.every((v) => v && typeof v === 'object' && Array.isArray((v as { result?: unknown }).result))) return undefined;
  const items = (value as { result: Record<string, unknown>[] }[]).flatMap((v) => v.result);
  const named = items.map((b) => {
    if (typeof b['text'] === 'string') return JSON.stringify(b['text']);
    const score = typeof b['score'] === 'number' ? ` ${(b['score'] as number).toFixed(2)}` : '';
    return `${String(b['label'] ?? '?')}${score}`;
  });
  return `${items.length} boxes: ${named.join(', ')}`;
}
