// Per-app quotas: how many requests an app id may have in flight, and how many it may start per
// minute, from a YAML file that is read again when it changes (no restart: a mounted ConfigMap
// or Secret, edited in place, takes effect within a couple of seconds).
//
//   default: {concurrent: 8, perMinute: 600}      # every app id not named below (0 or absent: no limit)
//   apps:
//     app-1: {concurrent: 2, perMinute: 60}
import { Ajv } from 'ajv';
import { OverloadError } from '../balancer/admission.js';
import { ErrorCode } from '../protocol/errors.js';
import { WatchedFile } from './watched-file.js';

export interface QuotaLimits {
  concurrent?: number;
  perMinute?: number;
}

export interface QuotaFile {
  default?: QuotaLimits;
  apps?: Record<string, QuotaLimits>;
}

const limits = {
  type: 'object',
  properties: { concurrent: { type: 'integer', minimum: 0 }, perMinute: { type: 'integer', minimum: 0 } },
  additionalProperties: false,
};
const validate = new Ajv({ allErrors: true }).compile({
  type: 'object',
  properties: { default: limits, apps: { type: 'object', additionalProperties: limits } },
  additionalProperties: false,
});

/** A request past its app's quota: 429 with Retry-After, ASF code 10429 (ours; ASF had none). */
export class QuotaError extends OverloadError {
  override readonly code: number = ErrorCode.QuotaExceeded;
}

interface AppState {
  inFlight: number;
  /** Requests started in the current minute and the one before it (a sliding window by weight). */
  minute: number;
  current: number;
  previous: number;
}

export class Quotas {
  private readonly source: WatchedFile<QuotaFile>;
  private readonly apps = new Map<string, AppState>();

  constructor(file: string, log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }) {
    this.source = new WatchedFile<QuotaFile>(file, 'quota file', validate, 'default: {concurrent, perMinute} and apps: {<app id>: {concurrent, perMinute}}', log);
  }

  /** Reads the file again whenever it changes. */
  watch(intervalMs = 1000) {
    this.source.watch(intervalMs);
  }

  stop() {
    this.source.stop();
  }

  /**
   * Counts a request of `appId` in, or refuses it (QuotaError) when its app is at its limit; the
   * returned function counts it out when it is done.
   */
  enter(appId: string): () => void {
    const config = this.source.value;
    const limit = config.apps?.[appId] ?? config.default ?? {};
    if (!limit.concurrent && !limit.perMinute) return () => {};
    let state = this.apps.get(appId);
    if (!state) this.apps.set(appId, (state = { inFlight: 0, minute: 0, current: 0, previous: 0 }));
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    if (minute !== state.minute) {
      state.previous = minute === state.minute + 1 ? state.current : 0;
      state.current = 0;
      state.minute = minute;
    }
    if (limit.concurrent && state.inFlight >= limit.concurrent) {
      throw new QuotaError(`app ${appId} has ${state.inFlight} requests in flight, its quota (concurrent: ${limit.concurrent})`, 1);
    }
    if (limit.perMinute) {
      const intoMinute = (now % 60_000) / 60_000;
      const started = state.current + state.previous * (1 - intoMinute);
      if (started >= limit.perMinute) {
        throw new QuotaError(`app ${appId} started ${Math.round(started)} requests in the last minute, its quota (perMinute: ${limit.perMinute})`, Math.max(1, Math.ceil(60 - intoMinute * 60)));
      }
    }
    state.inFlight++;
    state.current++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      state.inFlight--;
    };
  }
}
