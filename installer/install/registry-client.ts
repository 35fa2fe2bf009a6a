// The distribution v2 HTTP API as the install speaks it to a site's registry: one origin (https,
// or http with plainHttp), basic auth in a header, and a few retries while nothing answers or the
// registry answers 5xx, as `curl --retry 3 --retry-connrefused` did for install.sh; through the
// proxy http_proxy/https_proxy name unless no_proxy lists the registry, as curl does.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';

export interface RegistryTarget {
  /** HOST or HOST:PORT. */
  address: string;
  plainHttp?: boolean;
  /** Do not verify the registry's TLS certificate. */
  insecure?: boolean;
  user?: string;
  password?: string;
}

export interface Reply {
  status: number;
  /** A response header's value (first one when repeated), or undefined. */
  header(name: string): string | undefined;
}

// TLS verification failures: something answered, with a certificate this machine does not trust.
const untrustedCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** Nothing answered (after the retries): refused, reset, timed out, or TLS failed. */
export class NoAnswer extends Error {
  override name = 'NoAnswer';
  /** The registry's certificate is not trusted: --insecure (or trusting its CA) helps, not --plain-http. */
  readonly untrustedCertificate: boolean;
  constructor(reason: string, code: string) {
    super(reason);
    this.untrustedCertificate = untrustedCodes.has(code);
  }
}

/** Failures worth another try: the registry may be restarting or briefly overloaded. */
const transientCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
/** Waits before the retries: three of them. */
const retryDelaysMs = [500, 1000, 2000];
const idempotent = new Set<Dispatcher.HttpMethod>(['GET', 'HEAD', 'PUT']);

/**
 * The CAs a TLS registry is checked against: Node's own, plus the machine's bundle where a site
 * adds its private CA (curl trusted it; Node alone would not), or SSL_CERT_FILE when set.
 */
function trustedCAs(): string[] {
  const bundles = process.env['SSL_CERT_FILE'] ? [process.env['SSL_CERT_FILE']] : ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
  const system = bundles.filter((file) => fs.existsSync(file)).map((file) => fs.readFileSync(file, 'utf8'));
  return [...tls.rootCertificates, ...system];
}

export class RegistryClient {
  /** scheme://address */
  readonly origin: string;
  private readonly agent: EnvHttpProxyAgent;
  private readonly authorization?: string;

  constructor(readonly target: RegistryTarget) {
    this.origin = `${target.plainHttp ? 'http' : 'https'}://${target.address}`;
    const verify = { rejectUnauthorized: !target.insecure, ...(target.plainHttp || target.insecure ? {} : { ca: trustedCAs() }) };
    this.agent = new EnvHttpProxyAgent({
      connect: { timeout: 10_000, ...verify },
      // Through a proxy, the registry's own TLS (inside the tunnel) is checked the same way.
      requestTls: verify,
      // A registry answers a blob PUT once the whole blob is in, which for a multi-GB layer
      // outlasts any fixed wait (curl had none); a stalled body still times out.
      headersTimeout: 0,
    });
    // In a header, never on a command line or in a log; any bytes (quotes, colons, unicode) pass.
    if (target.user !== undefined) this.authorization = `Basic ${Buffer.from(`${target.user}:${target.password ?? ''}`, 'utf8').toString('base64')}`;
  }

  /** The URL of `path` under /v2/ ('' for the API root). */
  url(path: string): string {
    return `${this.origin}/v2/${path}`;
  }

  /**
   * Sends a request and reads the (small) answer. `body` makes a fresh body for each attempt, so
   * a blob streamed from disk can be sent again. Throws NoAnswer when nothing answered.
   */
  async send(method: Dispatcher.HttpMethod, url: string, options: { headers?: Record<string, string>; body?: () => Readable | Buffer } = {}): Promise<Reply> {
    const headers = { ...options.headers, ...(this.authorization ? { authorization: this.authorization } : {}) };
    for (let attempt = 0; ; attempt++) {
      const last = attempt === retryDelaysMs.length;
      const body = options.body?.();
      // A body that fails to read (a damaged bundle) is our failure, not the registry's.
      let bodyError: Error | undefined;
      if (body instanceof Readable) body.on('error', (err) => (bodyError ??= err));
      try {
        const res = await request(url, { method, headers, body, dispatcher: this.agent });
        await res.body.dump();
        if (res.statusCode >= 500 && idempotent.has(method) && !last) {
          await sleep(retryDelaysMs[attempt]);
          continue;
        }
        return {
          status: res.statusCode,
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value[0] : value;
          },
        };
      } catch (err) {
        // A write error of the connection (reset mid-body) surfaces on the body too: a transient failure.
        if (bodyError && !transientCodes.has((bodyError as NodeJS.ErrnoException).code ?? '')) throw bodyError;
        const failure = err as Error & { code?: string; cause?: Error & { code?: string } };
        // undici wraps some socket errors; the code that says what happened may be on the cause.
        const code = failure.code ?? failure.cause?.code ?? (bodyError as NodeJS.ErrnoException | undefined)?.code ?? '';
        if (last || !transientCodes.has(code)) throw new NoAnswer(failure.message, code);
        await sleep(retryDelaysMs[attempt]);
      }
    }
  }

  /** HTTP status of a request without a body, 0 when nothing answered. */
  async status(method: Dispatcher.HttpMethod, url: string, headers?: Record<string, string>): Promise<number> {
    try {
      return (await this.send(method, url, { headers })).status;
    } catch (err) {
      if (err instanceof NoAnswer) return 0;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
