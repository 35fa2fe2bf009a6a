import type { CapabilitySchema } from '../capability/types.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { clientDataFields as dataFields, dataTypeOf, SessState, type LoaderInput, type MetaDesc, type Payload, type StringMap } from '../protocol/messages.js';
import { describeError, validatorFor } from './schema.js';

/** The ASF client request body (docs/http-api.md). */
export interface AsfRequest {
  header?: Record<string, unknown>;
  parameter?: Record<string, Record<string, unknown> | undefined>;
  payload?: Record<string, Record<string, unknown>>;
}


/** A WebSocket frame: its place in the session decides what it must carry. */
export interface StreamFrame {
  /** The session's first frame carries app_id, parameters and expected outputs; later ones may carry only data. */
  first: boolean;
}

/**
 * Checks a one-shot request (or, with `frame`, one frame of a stream) against the capability and
 * turns it into the loader's input.
 */
export function toLoaderInput(body: unknown, schema: CapabilitySchema, sid: string, frame?: StreamFrame): LoaderInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AsfError(ErrorCode.SchemaMismatch, 'request body must be a JSON object with header, parameter and payload');
  }
  const request = body as AsfRequest;
  const appId = request.header?.['app_id'] ?? request.header?.['appid'];
  if ((!frame || frame.first) && (appId === undefined || appId === null || appId === '')) {
    throw new AsfError(ErrorCode.AppIdInvalid, 'appid cannot be empty');
  }
  const params = request.parameter?.[schema.serviceId];
  // Later frames of a session need not say again what it expects.
  const expect = frame && !frame.first ? [] : expectedOutputs(params, schema);
  const validate = validatorFor(schema, Boolean(frame));
  if (!validate(request)) {
    throw new AsfError(ErrorCode.SchemaMismatch, describeError(validate.errors![0]!));
  }
  const status = frame ? frameStatus(request.header?.['status'], frame.first) : '3';
  return {
    serviceId: schema.serviceId,
    serviceName: schema.serviceId,
    state: frame ? SessState.STREAM : SessState.ONCE,
    headers: headersOf(request.header ?? {}, sid, status),
    params: scalarParams(params),
    expect,
    pl: payloads(request.payload ?? {}, schema, status),
  };
}

/** header.status of a stream frame: 0 first, 1 continue, 2 last; absent means 0 on the first frame, else 1. */
function frameStatus(given: unknown, first: boolean): string {
  const status = given === undefined || given === null ? (first ? '0' : '1') : String(given);
  if (status !== '0' && status !== '1' && status !== '2') {
    throw new AsfError(ErrorCode.SchemaMismatch, `header.status of a stream frame must be 0, 1 or 2, got ${JSON.stringify(given)}`);
  }
  return status;
}

function headersOf(header: Record<string, unknown>, sid: string, status: string): StringMap {
  const out: StringMap = {};
  for (const [key, value] of Object.entries(header)) {
    if (value !== null && value !== undefined) out[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  // AIGES loaders read "appid"; ASF clients send "app_id".
  if (out['app_id'] !== undefined) out['appid'] ??= out['app_id'];
  out['sid'] = sid;
  out['status'] = status;
  return out;
}

function scalarParams(params: Record<string, unknown> | undefined): StringMap {
  const out: StringMap = {};
  if (!params) return out;
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'object' || value === null) out[key] = String(value);
  }
  return out;
}

/**
 * Object-valued parameters name outputs; only declared outputs may be asked for (10106). A client
 * that names none gets every declared output: loaders (AIGES's, and ours) answer only what is expected.
 */
function expectedOutputs(params: Record<string, unknown> | undefined, schema: CapabilitySchema): MetaDesc[] {
  const expect: MetaDesc[] = [];
  const declared = Object.keys(schema.outputs);
  for (const [name, value] of Object.entries(params ?? {})) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const decl = schema.outputs[name];
    if (!decl && declared.length) {
      throw new AsfError(ErrorCode.InvalidOutput, `output '${name}' is not declared by ${schema.serviceId} (declared: ${declared.join(', ')})`);
    }
    const attribute: StringMap = {};
    for (const key of ['encoding', 'compress', 'format'] as const) {
      const given = (value as Record<string, unknown>)[key];
      const fallback = decl?.[key];
      if (given !== undefined) attribute[key] = String(given);
      else if (fallback !== undefined) attribute[key] = fallback;
    }
    expect.push({ name, dataType: dataTypeOf(decl?.dataType ?? 'text'), attribute });
  }
  return expect.length ? expect : declaredOutputs(schema);
}

/** Every declared output with its declared attributes, made once per schema. */
const declaredCache = new WeakMap<CapabilitySchema, MetaDesc[]>();

function declaredOutputs(schema: CapabilitySchema): MetaDesc[] {
  let declared = declaredCache.get(schema);
  if (!declared) {
    declared = Object.entries(schema.outputs).map(([name, decl]) => {
      const attribute: StringMap = {};
      for (const key of ['encoding', 'compress', 'format'] as const) if (decl[key] !== undefined) attribute[key] = decl[key]!;
      return { name, dataType: dataTypeOf(decl.dataType), attribute };
    });
    declaredCache.set(schema, declared);
  }
  return declared;
}

/** Each payload's status defaults to the frame's (3 for one-shot requests). */
function payloads(payload: Record<string, Record<string, unknown>>, schema: CapabilitySchema, status: string): Payload[] {
  const out: Payload[] = [];
  for (const [name, item] of Object.entries(payload)) {
    const field = schema.inputs[name]?.dataType ?? dataFields.find((f) => f in item)!;
    const attribute: StringMap = { status, seq: '0' };
    for (const [key, value] of Object.entries(item)) {
      if (key !== field) attribute[key] = String(value);
    }
    out.push({
      meta: { name, dataType: dataTypeOf(field), attribute },
      data: decodeBase64(item[field] as string, `payload.${name}.${field}`),
    });
  }
  return out;
}

/**
 * Strict standard base64 in one pass: Node's decoder skips characters it does not know, so a
 * shorter result than the length predicts means the text was not base64.
 */
export function decodeBase64(text: string, where: string): Buffer {
  const fail = () => new AsfError(ErrorCode.SchemaMismatch, `${where} is not valid base64`);
  if (text.length % 4 !== 0) throw fail();
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== (text.length / 4) * 3 - padding) throw fail();
  return bytes;
}
