import type { CapabilitySchema, CapabilitySpec } from './types.js';

/**
 * A capability's schema may come from two places: capability.yaml and, for a Python wrapper, its
 * own serviceId/version/requestCls/responseCls. capability.yaml wins, field by field; the folder
 * name is the last resort for the serviceId.
 */
export function pickSchema(spec: CapabilitySpec, declared: Partial<CapabilitySchema> = {}): CapabilitySchema {
  return {
    serviceId: spec.declared.serviceId ? spec.serviceId : (declared.serviceId ?? spec.serviceId),
    version: spec.declared.version ? spec.version : (declared.version ?? spec.version),
    inputs: spec.declared.inputs ? spec.inputs : (declared.inputs ?? {}),
    outputs: spec.declared.outputs ? spec.outputs : (declared.outputs ?? {}),
    params: Object.keys(spec.params).length ? spec.params : (declared.params ?? {}),
    // Serving settings for the gateway (capability.yaml only).
    ...(spec.balance ? { balance: spec.balance } : {}),
    ...(spec.queue ? { queue: spec.queue } : {}),
    ...(spec.clientErrors ? { clientErrors: spec.clientErrors } : {}),
  };
}

/**
 * Where capability.yaml and the wrapper both state a part of the schema and disagree, one line
 * each: the wrapper's side is silently ignored otherwise (a field added to requestCls that never
 * reaches the gateway).
 */
export function schemaConflicts(spec: CapabilitySpec, declared: Partial<CapabilitySchema>): string[] {
  const lines: string[] = [];
  const differ = (part: string, yamlSide: string | undefined, wrapperSide: string | undefined) => {
    if (yamlSide === undefined || wrapperSide === undefined || yamlSide === wrapperSide) return;
    lines.push(`capability.yaml ${part} ${yamlSide} but wrapper.py declares ${wrapperSide}; capability.yaml wins (state it in one place only)`);
  };
  const keys = (fields: Record<string, unknown> | undefined) => (fields && Object.keys(fields).length ? `{${Object.keys(fields).sort().join(', ')}}` : undefined);
  differ('sets serviceId', spec.declared.serviceId ? spec.serviceId : undefined, declared.serviceId);
  differ('sets version', spec.declared.version ? spec.version : undefined, declared.version);
  differ('declares inputs', spec.declared.inputs ? (keys(spec.inputs) ?? '{}') : undefined, keys(declared.inputs));
  differ('declares outputs', spec.declared.outputs ? (keys(spec.outputs) ?? '{}') : undefined, keys(declared.outputs));
  differ('declares params', keys(spec.params), keys(declared.params));
  return lines;
}
