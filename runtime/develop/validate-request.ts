import fs from 'node:fs';
import type { CapabilitySchema } from '../capability/types.js';
import { toLoaderInput } from '../gateway/request.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';

export type Verdict = { ok: true; inputs: string[] } | { ok: false; code: number; httpStatus: number; message: string };

/**
 * `asf validate`: runs a request file through the gateway's own checks (toLoaderInput), so the
 * verdict and message are the ones a POST to the running gateway would answer.
 */
export function validateRequestFile(file: string, schema: CapabilitySchema): Verdict {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    if (text === '') throw new AsfError(ErrorCode.InvalidJson, 'body is empty: expected a JSON object');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new AsfError(ErrorCode.InvalidJson, `body is not valid JSON: ${(err as Error).message}`);
    }
    const input = toLoaderInput(body, schema, 'asf-validate');
    return { ok: true, inputs: (input.pl ?? []).map((p) => p.meta?.name ?? '') };
  } catch (err) {
    if (!(err instanceof AsfError)) throw err;
    return { ok: false, code: err.code, httpStatus: err.httpStatus, message: err.message };
  }
}
