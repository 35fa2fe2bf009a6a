import type { CapabilitySchema } from '../capability/types.js';
import { ErrorCode } from '../protocol/errors.js';
import { dataTypeOf, RespStatus, type LoaderOutput, type MetaDesc, type Payload } from '../protocol/messages.js';
import { WrapperError, type DataItem, type DataStatus } from './host.js';

/** Conversions between the envelope's payloads and the items wrappers see, shared by one-shot and session calls. */

/** A failed call, as AIGES answers it: the error inside LoaderOutput, which ends the request or session. */
export function failure(code: number, err: string): LoaderOutput {
  return { code, err, status: RespStatus.END };
}

/** A wrapper's failure as AIGES reports it: the call's code, the wrapper's own code after its text. */
export function wrapperFailure(err: WrapperError): LoaderOutput {
  return failure(err.code, err.wrapperCode === undefined ? err.message : `${err.message};code=${err.wrapperCode}`);
}

/**
 * The outputs a request expects, by name. AIGES answers only what is asked for, so an empty
 * `expect` is refused (10106) when the capability declares outputs; a capability that declares
 * none takes whatever its wrapper returns.
 */
export function expectedOutputs(expect: MetaDesc[] | undefined, schema: CapabilitySchema): ReadonlyMap<string, MetaDesc> {
  const out = new Map<string, MetaDesc>();
  for (const desc of expect ?? []) out.set(desc.name, desc);
  const declared = Object.keys(schema.outputs);
  if (out.size === 0 && declared.length > 0) {
    throw new WrapperError(ErrorCode.InvalidOutput, `the request expects no output (LoaderInput.expect is empty): name at least one of ${declared.join(', ')}`);
  }
  return out;
}

export function toItem(pl: Payload): DataItem {
  const attrs = pl.meta?.attribute ?? {};
  const data = pl.data ?? Buffer.alloc(0);
  return {
    key: pl.meta?.name ?? '',
    data: Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    type: pl.meta?.dataType ?? 0,
    status: Number(attrs['status'] ?? 3) as DataStatus,
    attrs,
  };
}

/**
 * Checks wrapper outputs against the expected ones (10106) and attaches their attributes.
 * `seqs` holds a session's per-key counters (attribute `seq`); one-shot outputs are all seq 0.
 */
export function toPayloads(items: DataItem[], expect: ReadonlyMap<string, MetaDesc>, schema: CapabilitySchema, seqs?: Map<string, number>): Payload[] {
  const seen = new Set<string>();
  return items.map((item) => {
    const desc = expect.get(item.key);
    if (!desc && expect.size > 0) {
      const names = [...expect.keys()].join(', ');
      throw new WrapperError(ErrorCode.InvalidOutput, `wrapper returned output '${item.key}', which is not among the expected outputs (${names})`);
    }
    if (seen.has(item.key)) {
      throw new WrapperError(ErrorCode.InvalidOutput, `wrapper returned output '${item.key}' twice`);
    }
    seen.add(item.key);
    const seq = seqs?.get(item.key) ?? 0;
    seqs?.set(item.key, seq + 1);
    const attribute = { ...desc?.attribute, seq: String(seq), status: String(item.status) };
    const declared = schema.outputs[item.key];
    const dataType = declared ? dataTypeOf(declared.dataType) : item.type;
    return { meta: { name: item.key, dataType, attribute }, data: item.data };
  });
}
