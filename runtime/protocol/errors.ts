/** The 10xxx error space shared by gateway and loader (docs/http-api.md). */
export const ErrorCode = {
  InvalidOperation: 10003,
  UnknownSession: 10008,
  InvalidData: 10009,
  SessionReleased: 10101,
  OnceTimeout: 10102,
  InvalidOutput: 10106,
  InvalidParam: 10107,
  DataMissing: 10109,
  NoLicence: 10110,
  Timeout: 10114,
  InvalidJson: 10160,
  DecodeError: 10161,
  SchemaMismatch: 10163,
  ConnectionRead: 10200,
  SessionEnded: 10202,
  AppIdInvalid: 10313,
  /** A LoaderInput that does not decode (AIGES's code for it). */
  PbUnmarshal: 10401,
  /** Ours: a signature missing, malformed, or not matching (HTTP 401). */
  SignatureInvalid: 10317,
  /** Ours: a signed request too far from the gateway's clock, or replayed (HTTP 403). */
  SignatureRefused: 10318,
  /** Ours: an app id past its quota (HTTP 429 with Retry-After). */
  QuotaExceeded: 10429,
  NotFound: 10404,
  WrapperInit: 10901,
  WrapperFini: 10902,
  WrapperLoad: 10903,
  WrapperUnload: 10904,
  WrapperCreate: 10905,
  WrapperDestroy: 10906,
  WrapperWrite: 10907,
  WrapperRead: 10908,
  WrapperExec: 10909,
  WrapperExecAsync: 10910,
  NoFinalResult: 12000,
  /** Not in the ASF table: a gateway fault that is nobody's input (HTTP 500). */
  Internal: 10500,
} as const;

/** An error that carries its ASF code to the client; `httpStatus` applies to one-shot HTTP answers. */
export class AsfError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = defaultHttpStatus(code),
  ) {
    super(message);
    this.name = 'AsfError';
  }
}

/** Request errors are 400, anything from a loader or wrapper is 502 (docs/http-api.md). */
export function defaultHttpStatus(code: number): number {
  if (code === ErrorCode.NotFound) return 404;
  if (code === ErrorCode.NoLicence || code === ErrorCode.ConnectionRead || code === ErrorCode.OnceTimeout) return 502;
  if (code >= 10900 && code <= 10999) return 502;
  if (code >= 10000 && code < 10900) return 400;
  return 502;
}
