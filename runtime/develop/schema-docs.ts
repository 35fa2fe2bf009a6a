import { loadCapability } from '../capability/load.js';
import { pickSchema, schemaConflicts } from '../capability/schema-sources.js';
import type { CapabilitySchema } from '../capability/types.js';
import { openApiDocument } from '../gateway/openapi.js';
import { requestSchema } from '../gateway/schema.js';
import { kitVersion } from '../version.js';
import { wrapperDeclarations } from './wrapper-declarations.js';

export const schemaFormats = ['all', 'request', 'response', 'openapi', 'asf'] as const;
export type SchemaFormat = (typeof schemaFormats)[number];

/**
 * The schema the gateway validates against once the folder is served: capability.yaml (or the
 * folder name) and, for a Python wrapper, what wrapper.py declares, combined as the loader does.
 */
export function folderSchema(dir: string, warn: (line: string) => void = () => {}): CapabilitySchema {
  const spec = loadCapability(dir);
  if (spec.host !== 'python') return pickSchema(spec);
  const declared = wrapperDeclarations(spec);
  for (const line of schemaConflicts(spec, declared)) warn(`${dir}: ${line}`);
  return pickSchema(spec, declared);
}

/** The OpenAPI document the gateway serves at /openapi.json when this capability is its only one. */
export function openApiFor(schema: CapabilitySchema): Record<string, unknown> {
  return openApiDocument([schema], kitVersion);
}

/** The 200 answer's JSON Schema, as the OpenAPI document states it. */
export function responseSchema(schema: CapabilitySchema): Record<string, unknown> {
  const paths = openApiFor(schema)['paths'] as Record<string, any>;
  const operation = paths[routeOf(schema)].post;
  return operation.responses['200'].content['application/json'].schema;
}

export const routeOf = (schema: CapabilitySchema) => `/${schema.version}/private/${schema.serviceId}`;

/**
 * ASF's own schema document (what an ASF gateway loads per service): `meta` names the service and
 * its route, `schemainput` and `schemaoutput` are the request and response JSON Schemas.
 */
export function asfSchemaDocument(schema: CapabilitySchema): Record<string, unknown> {
  return {
    meta: {
      serviceId: schema.serviceId,
      version: schema.version,
      service: [schema.serviceId],
      route: routeOf(schema),
      sub: 'ase',
      call_type: 0,
    },
    schemainput: requestSchema(schema),
    schemaoutput: responseSchema(schema),
  };
}

/** What `asf schema DIR --format F` prints. */
export function schemaDocument(schema: CapabilitySchema, format: SchemaFormat): unknown {
  switch (format) {
    case 'request':
      return requestSchema(schema);
    case 'response':
      return responseSchema(schema);
    case 'openapi':
      return openApiFor(schema);
    case 'asf':
      return asfSchemaDocument(schema);
    case 'all':
      return { request: requestSchema(schema), response: responseSchema(schema), openapi: openApiFor(schema), asf: asfSchemaDocument(schema) };
  }
}
