// The AIGES loader's health, as its xsf framework serves it on /utils.ToolBox/cmdserver: the query
// is JSON naming the command, with a JSON header saying the method; the answer is plain text.
import type { ToolRequest } from './messages.js';

export const aigesHealthQuery: ToolRequest = { query: '{"cmd":"health"}', headers: '{"method":"GET"}' };

/**
 * Reads the answer: "health staus:" (sic) then one "<check>\tcheck: <error>" line per registered
 * check, "<nil>" for one that passed; "report error" when its last load report failed. Undefined
 * when the text is neither (not an AIGES health answer).
 */
export function parseAigesHealth(text: string): { ok: boolean; error?: string } | undefined {
  if (text === 'report error') return { ok: false, error: 'AIGES health: report error (its load report failed)' };
  const [first, ...checks] = text.split('\n');
  if (!/^health stat?us:$/.test(first!.trim())) return undefined;
  const failed = checks.filter((line) => line.trim() && !/\tcheck: <nil>$/.test(line));
  return failed.length ? { ok: false, error: `AIGES health: ${failed.map((line) => line.trim().replace(/\t/, ' ')).join('; ')}` } : { ok: true };
}
