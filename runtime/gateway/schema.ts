import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { CapabilitySchema, FieldDecl } from '../capability/types.js';
import { clientDataFields as dataFields } from '../protocol/messages.js';

const scalar = { type: ['string', 'number', 'boolean'] };

/** The expected-output descriptor a client puts under parameter.<serviceId>.<output>. */
const outputDescriptor = {
  type: 'object',
  properties: { encoding: { type: 'string' }, compress: { type: 'string' }, format: { type: 'string' }, data_type: { type: 'string' } },
};

const only = (value: string) => ({ type: 'string', enum: [value] });

/**
 * What a client may ask of one output: the `compress` and `encoding` the capability declares,
 * since nothing between wrapper and client converts data (an answer claiming `compress: gzip`
 * would otherwise carry bytes that are not gzip). Undeclared, `compress` can only be `raw` and
 * `encoding` is the wrapper's to honour. `format` is free: the gateway itself embeds `json`.
 */
function outputAttributes(decl: FieldDecl): Record<string, unknown> {
  return { compress: only(decl.compress ?? 'raw'), ...(decl.encoding ? { encoding: only(decl.encoding) } : {}) };
}

/**
 * JSON Schema of a one-shot request to this capability (also published in /openapi.json). A stream
 * frame (`frame`) may carry any subset of the inputs, or none.
 */
export function requestSchema(schema: CapabilitySchema, frame = false): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const requiredParams: string[] = [];
  // `required: true` inside a parameter's fragment (as the Python SDK's ParamField has it) is ours,
  // not JSON Schema's: it moves to parameter.<serviceId>'s own required list.
  for (const [name, fragment] of Object.entries(schema.params)) {
    const { required, ...rest } = fragment;
    params[name] = rest;
    if (required === true) requiredParams.push(name);
  }
  for (const [name, decl] of Object.entries(schema.outputs)) {
    params[name] = { ...outputDescriptor, properties: { ...outputDescriptor.properties, ...outputAttributes(decl) } };
  }
  const serviceParams = { type: 'object', properties: params, required: requiredParams, additionalProperties: { anyOf: [scalar, outputDescriptor] } };

  const inputs: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(schema.inputs)) {
    inputs[name] = {
      type: 'object',
      // Its bytes reach the wrapper as sent: compressed only if the capability says it takes that.
      properties: { [decl.dataType]: { type: 'string', contentEncoding: 'base64' }, status: { type: ['integer', 'string'] }, compress: only(decl.compress ?? 'raw') },
      required: [decl.dataType],
      additionalProperties: scalar,
    };
  }
  const required = Object.entries(schema.inputs)
    .filter(([, decl]) => !frame && decl.required !== false)
    .map(([name]) => name);
  const anyInput = { type: 'object', additionalProperties: scalar, anyOf: dataFields.map((f) => ({ required: [f] })) };

  return {
    type: 'object',
    required: requiredParams.length ? ['header', 'parameter'] : ['header'],
    properties: {
      header: {
        type: 'object',
        properties: { app_id: { type: 'string' }, appid: { type: 'string' }, status: { type: ['integer', 'string'] }, request_id: { type: ['string', 'null'] } },
      },
      parameter: {
        type: 'object',
        properties: { [schema.serviceId]: serviceParams },
        required: requiredParams.length ? [schema.serviceId] : [],
      },
      payload: {
        type: 'object',
        properties: inputs,
        required,
        additionalProperties: Object.keys(inputs).length ? false : anyInput,
      },
    },
  };
}

// coerceTypes: ASF passes scalar parameters to wrappers as strings, so `"gpu_id": 0` is as good as `"0"`.
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: true });
const compiled = { once: new WeakMap<CapabilitySchema, ValidateFunction>(), frame: new WeakMap<CapabilitySchema, ValidateFunction>() };

/** A compiled validator per capability schema (and kind: one-shot or stream frame), reused until the schema object changes. */
export function validatorFor(schema: CapabilitySchema, frame = false): ValidateFunction {
  const cache = frame ? compiled.frame : compiled.once;
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(requestSchema(schema, frame));
    cache.set(schema, validate);
  }
  return validate;
}

/** "payload.data must have required property 'image'" rather than ajv's JSON-pointer form. */
export function describeError(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : 'request';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where} has unknown field '${String(params['additionalProperty'])}'`;
    case 'enum':
      return `${where} must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}
