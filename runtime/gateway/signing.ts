// Signed requests as iFLYTEK's WebGate clients send them: query parameters `host`, `date` and
// `authorization`, the last carrying an HMAC-SHA256 of "host: …\ndate: …\n<METHOD> <path> HTTP/1.1"
// under the api key's secret (docs/http-api.md, "Request signing"). The gateway checks them for the
// services its signing file names; `asf call --api-key --api-secret` signs.
//
//   keys: {my-api-key: my-api-secret}     # api_key -> api_secret
//   services: ['*']                       # which services require a signature ('*': all; default)
//   skewSeconds: 300                      # how far `date` may be from the gateway's clock
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Ajv } from 'ajv';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { WatchedFile } from './watched-file.js';

export interface SigningFile {
  keys: Record<string, string>;
  services?: string[];
  skewSeconds?: number;
}

const validate = new Ajv({ allErrors: true }).compile({
  type: 'object',
  properties: {
    keys: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, minProperties: 1 },
    services: { type: 'array', items: { type: 'string', minLength: 1 } },
    skewSeconds: { type: 'integer', minimum: 1 },
  },
  required: ['keys'],
  additionalProperties: false,
});

/** The text an api secret signs for one request. */
export function signText(host: string, date: string, method: string, path: string): string {
  return `host: ${host}\ndate: ${date}\n${method} ${path} HTTP/1.1`;
}

const hmac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('base64');

/** A URL with the signature query parameters added, as a WebGate client makes it. */
export function signUrl(raw: string, apiKey: string, apiSecret: string, method = 'POST', now = new Date()): string {
  const url = new URL(raw);
  const date = now.toUTCString();
  const signature = hmac(apiSecret, signText(url.host, date, method, url.pathname));
  const authorization = Buffer.from(`api_key="${apiKey}", algorithm="hmac-sha256", headers="host date request-line", signature="${signature}"`).toString('base64');
  url.searchParams.set('host', url.host);
  url.searchParams.set('date', date);
  url.searchParams.set('authorization', authorization);
  return url.toString();
}

const unauthorized = (message: string) => new AsfError(ErrorCode.SignatureInvalid, message, 401);
const forbidden = (message: string) => new AsfError(ErrorCode.SignatureRefused, message, 403);

export class Signatures {
  private readonly source: WatchedFile<SigningFile>;
  /** Signatures seen inside the skew window, with when they may be forgotten: a replay is refused. */
  private readonly seen = new Map<string, number>();

  constructor(file: string, log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }) {
    this.source = new WatchedFile<SigningFile>(file, 'signing file', validate, 'keys: {<api key>: <api secret>}, services: [...], skewSeconds: N', log);
  }

  /** Reads the file again when it changes (keys rotated in a mounted Secret). */
  watch(intervalMs = 1000) {
    this.source.watch(intervalMs);
  }

  stop() {
    this.source.stop();
  }

  requires(serviceId: string): boolean {
    const services = this.source.value.services ?? ['*'];
    return services.includes('*') || services.includes(serviceId);
  }

  /**
   * Checks the signature of a request for `serviceId` (when it needs one); throws 401 or 403.
   * `body` tells a replay (the same signed request again) from another request signed in the same
   * second (dates have whole seconds): the signature is refused a second time with the same body.
   */
  check(serviceId: string, method: string, rawUrl: string, body = '', now = Date.now()) {
    if (!this.requires(serviceId)) return;
    const url = new URL(rawUrl, 'http://gateway');
    const host = url.searchParams.get('host');
    const date = url.searchParams.get('date');
    const authorization = url.searchParams.get('authorization');
    if (!host || !date || !authorization) {
      throw unauthorized(`${serviceId} requires a signed request: query parameters host, date and authorization (HMAC-SHA256 of "host: …\\ndate: …\\n${method} <path> HTTP/1.1" under your api secret)`);
    }
    const fields = Object.fromEntries([...Buffer.from(authorization, 'base64').toString('utf8').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const { api_key: apiKey, algorithm, headers, signature } = fields;
    if (!apiKey || !signature) throw unauthorized('authorization is not base64 of api_key="…", algorithm="hmac-sha256", headers="host date request-line", signature="…"');
    if (algorithm !== 'hmac-sha256') throw unauthorized(`algorithm "${algorithm ?? ''}" is not supported: use hmac-sha256`);
    if (headers !== 'host date request-line') throw unauthorized(`headers "${headers ?? ''}": the signature must cover "host date request-line"`);
    const secret = this.source.value.keys[apiKey];
    if (secret === undefined) throw unauthorized(`api_key "${apiKey}" is not known`);
    const skewMs = (this.source.value.skewSeconds ?? 300) * 1000;
    const sent = Date.parse(date);
    if (!Number.isFinite(sent)) throw unauthorized(`date "${date}" is not an RFC 1123 date (e.g. ${new Date(now).toUTCString()})`);
    if (Math.abs(now - sent) > skewMs) {
      throw forbidden(`date "${date}" is ${Math.round(Math.abs(now - sent) / 1000)} s from the gateway's clock (allowed: ${skewMs / 1000} s); sign the request again`);
    }
    const expected = Buffer.from(hmac(secret, signText(host, date, method, url.pathname)));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw unauthorized(`signature does not match: sign "host: ${host}\\ndate: ${date}\\n${method} ${url.pathname} HTTP/1.1" with the secret of api_key "${apiKey}"`);
    }
    this.forget(now);
    const key = body ? `${signature} ${createHash('sha256').update(body).digest('base64')}` : signature;
    if (this.seen.has(key)) throw forbidden('this signed request was sent already (a replay): sign each request afresh');
    this.seen.set(key, sent + skewMs);
  }

  private forget(now: number) {
    for (const [signature, until] of this.seen) {
      if (until >= now) break; // kept in insertion order, which is nearly date order
      this.seen.delete(signature);
    }
  }
}
