import { AsfError, ErrorCode } from '../protocol/errors.js';

// fatal: bytes that are not UTF-8 are an error, not U+FFFD quietly put in their place.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A request body's text, read the same way by the gateway and by `asf validate` (10160 when it is not UTF-8 or empty). */
export function bodyText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new AsfError(ErrorCode.InvalidJson, 'body is empty: expected a JSON object');
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AsfError(ErrorCode.InvalidJson, 'body is not valid UTF-8');
  }
}

/** The parsed body (plain JSON.parse: bodies are never merged into other objects, so prototype keys are harmless). */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AsfError(ErrorCode.InvalidJson, `body is not valid JSON: ${(err as Error).message}`);
  }
}
