import fs from 'node:fs';
import path from 'node:path';
import { readPackageFile } from '../runtime/paths.js';
import { unreachable } from './unreachable.js';

/** The demo capabilities `asf demo` knows how to call. */
export const demoNames = ['mmocr'] as const;
export type DemoName = (typeof demoNames)[number];

/** The image the demo sends unless told otherwise, as a path from the package root. */
export const shippedSample = 'examples/mmocr/sample.jpg';

export const demoDefaults = {
  url: 'http://127.0.0.1:8889',
  timeoutMs: 30_000,
  appId: '123456',
};

export interface DemoOptions {
  url: string;
  /** Image file to send; the shipped sample (read from the package, or the executable) when absent. */
  image?: string;
  timeoutMs: number;
  appId: string;
  /** Print the response body as received instead of the table. */
  json?: boolean;
  /** Where the report goes (stdout unless a test captures it). */
  write?: (text: string) => void;
}

/** One text region of the mmocr output. */
export interface OcrBox {
  box: number[];
  box_score: number;
  text: string;
  text_score: number;
}

export interface OcrImageResult {
  filename: string;
  result: OcrBox[];
}

/** The closing line of a demo that read something: what `asf up --demo`, `asf demo` and `helm test` show. */
export function demoSummary(results: OcrImageResult[]): string {
  const texts = results.flatMap((r) => r.result.map((b) => b.text));
  return `demo ok: mmocr read ${texts.length} text boxes: ${texts.map((t) => JSON.stringify(t)).join(', ')}`;
}

/** A failure the user can act on; the CLI prints its message and exits non-zero. */
export class DemoError extends Error {
  override name = 'DemoError';
}

/** `asf demo mmocr`: sends the sample (or --image) to a running stack and prints what it read. */
export async function runDemo(name: DemoName, options: DemoOptions): Promise<OcrImageResult[]> {
  if (name !== 'mmocr') throw new DemoError(`unknown demo '${String(name)}' (known: ${demoNames.join(', ')})`);
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const endpoint = mmocrEndpoint(options.url);

  const imageName = options.image ?? shippedSample;
  let image: Buffer;
  try {
    image = options.image ? fs.readFileSync(options.image) : readPackageFile(shippedSample);
  } catch (err) {
    throw new DemoError(`cannot read image ${imageName}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  const body = mmocrRequest(image, options.appId, imageEncoding(imageName, image));
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw new DemoError(unreachable(endpoint, err as Error, options.timeoutMs));
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new DemoError(unreachable(endpoint, err as Error, options.timeoutMs));
  }
  const elapsedMs = performance.now() - started;

  let answer: MmocrResponse;
  try {
    answer = JSON.parse(text) as MmocrResponse;
  } catch {
    throw new DemoError(`${endpoint} answered HTTP ${res.status} with a body that is not JSON: ${clip(text)}`);
  }
  const header = answer?.header;
  if (!header || typeof header.code !== 'number') {
    // Not an ASF gateway at all (a plain 404 from something else, a proxy page, ...).
    throw new DemoError(`${endpoint} answered HTTP ${res.status} without an ASF header: ${clip(text)}`);
  }
  if (header.code !== 0) {
    const sid = header.sid ? ` (sid ${header.sid})` : '';
    throw new DemoError(`mmocr answered error ${header.code}: ${header.message ?? '(no message)'}${sid} [HTTP ${res.status}]`);
  }
  const results = parseBoxes(answer.payload?.boxes?.text);

  if (options.json) {
    write(`${text}\n`);
  } else {
    write(formatReport(endpoint, imageName, results, elapsedMs, header.sid));
  }
  return results;
}

interface MmocrResponse {
  header?: { code?: number; message?: string; sid?: string };
  payload?: { boxes?: { text?: unknown } };
}

/** The request body of the ASF mmocr demo (docs/http-api.md, "The mmocr demo"). */
export function mmocrRequest(image: Buffer, appId: string, encoding = 'jpg') {
  return {
    header: { app_id: appId, status: 3 },
    parameter: {
      mmocr: {
        category: 'ch_en_public_cloud',
        application_mode: 'common',
        gpu_id: '0',
        gpu_type: 'cpu',
        boxes: { encoding: 'utf8', compress: 'raw', format: 'json' },
      },
    },
    payload: { data: { encoding, status: 3, image: image.toString('base64') } },
  };
}

/** Accepts a bare gateway address or the full service URL. */
export function mmocrEndpoint(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new DemoError(`--gateway '${raw}' is not a URL (example: http://127.0.0.1:8889)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DemoError(`--gateway '${raw}' must be http:// or https://`);
  }
  const base = url.pathname.replace(/\/+$/, '');
  url.pathname = base.endsWith('/mmocr') ? base : `${base}/v1/private/mmocr`;
  return url.toString();
}

function imageEncoding(file: string, data: Buffer): string {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (data[0] === 0x42 && data[1] === 0x4d) return 'bmp';
  const ext = path.extname(file).slice(1).toLowerCase();
  return ext === 'png' || ext === 'bmp' ? ext : 'jpg';
}

/** The `boxes` output: raw JSON when the gateway embedded it, base64 of JSON otherwise. */
export function parseBoxes(value: unknown): OcrImageResult[] {
  let data = value;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    } catch {
      throw new DemoError(`payload.boxes.text is neither JSON nor base64 of JSON: ${clip(data as string)}`);
    }
  }
  if (!Array.isArray(data)) {
    throw new DemoError(`payload.boxes.text should be a JSON array (one element per image), got ${clip(JSON.stringify(data) ?? 'nothing')}`);
  }
  return data.map((item, i) => {
    const entry = item as Partial<OcrImageResult>;
    if (!entry || !Array.isArray(entry.result)) throw new DemoError(`payload.boxes.text[${i}] has no result list`);
    for (const [j, box] of entry.result.entries()) {
      const ok =
        Array.isArray(box?.box) &&
        box.box.length === 8 &&
        box.box.every((v) => Number.isInteger(v)) &&
        typeof box.text === 'string' &&
        typeof box.box_score === 'number' &&
        typeof box.text_score === 'number';
      if (!ok) throw new DemoError(`payload.boxes.text[${i}].result[${j}] is not {box: 8 integers, box_score, text, text_score}: ${clip(JSON.stringify(box))}`);
    }
    return { filename: String(entry.filename ?? i), result: entry.result };
  });
}

/** A fixed-width table, text last so that wide (CJK) characters cannot break the columns. */
export function formatReport(endpoint: string, image: string, results: OcrImageResult[], elapsedMs: number, sid?: string): string {
  const lines: string[] = [];
  const count = results.reduce((n, r) => n + r.result.length, 0);
  lines.push(`mmocr  ${endpoint}`);
  lines.push(`image  ${image}`);
  lines.push(`${count} text box${count === 1 ? '' : 'es'} in ${Math.round(elapsedMs)} ms${sid ? `  (sid ${sid})` : ''}`);
  for (const result of results) {
    if (results.length > 1) lines.push(`\nimage ${result.filename}`);
    if (!result.result.length) {
      lines.push('  (no text found)');
      continue;
    }
    const boxes = result.result.map((b) => [0, 2, 4, 6].map((k) => `${b.box[k]},${b.box[k + 1]}`).join(' '));
    const boxWidth = Math.max('box (x,y clockwise from top-left)'.length, ...boxes.map((b) => b.length));
    const num = String(result.result.length).length + 1;
    lines.push(`${'#'.padStart(num)}  ${'box (x,y clockwise from top-left)'.padEnd(boxWidth)}  box_score  text_score  text`);
    result.result.forEach((b, i) => {
      lines.push(
        `${String(i + 1).padStart(num)}  ${boxes[i]!.padEnd(boxWidth)}  ${b.box_score.toFixed(3).padStart(9)}  ${b.text_score.toFixed(3).padStart(10)}  ${printable(b.text)}`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

/** Keeps control characters from a model's output out of the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function clip(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat || '(empty)';
}
