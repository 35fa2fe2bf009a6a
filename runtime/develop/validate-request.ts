import fs from 'node:fs';
import type { CapabilitySchema } from '../capability/types.js';
import { toLoaderInput } from '../gateway/request.js';
import { bodyText, parseBody } from '../gateway/json-body.js';
import { AsfError } from '../protocol/errors.js';

export type Verdict = { ok: true; inputs: string[] } | { ok: false; code: number; httpStatus: number; message: string };

/**
 * `asf validate`: runs a request file through the gateway's own checks (toLoaderInput), so the
 * verdict and message are the ones a POST to the running gateway would answer.
 */
export function validateRequestFile(file: string, schema: CapabilitySchema): Verdict {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const body = parseBody(bodyText(bytes));
    const input = toLoaderInput(body, schema, 'asf-validate');
    return { ok: true, inputs: (input.pl ?? []).map((p) => p.meta?.name ?? '') };
  } catch (err) {
    if (!(err instanceof AsfError)) throw err;
    return { ok: false, code: err.code, httpStatus: err.httpStatus, message: err.message };
  }
}
