import fs from 'node:fs';
import path from 'node:path';
import { loadCapability } from '../capability/load.js';
import type { CapabilitySchema } from '../capability/types.js';
import { openApiDocument } from '../gateway/openapi.js';
import { requestSchema } from '../gateway/schema.js';
import { packageRoot } from '../paths.js';

export const schemaFormats = ['all', 'request', 'response', 'openapi', 'asf'] as const;
export type SchemaFormat = (typeof schemaFormats)[number];

const { version: kitVersion } = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };

/** The schema a capability folder states (capability.yaml, aiges.toml, folder name): what the gateway would validate against. */
export function folderSchema(dir: string, warn: (line: string) => void = () => {}): CapabilitySchema {
  const { serviceId, version, inputs, outputs, params, host, declared } = loadCapability(dir);
  // A Python wrapper's requestCls/responseCls are read by its worker at serve time, not here.
  if (host === 'python' && !(declared.inputs && declared.outputs)) {
    warn(`${dir}: capability.yaml declares no ${declared.inputs ? 'outputs' : 'inputs'}; the wrapper's own declarations apply once served (see GET /openapi.json on asf up)`);
  }
  return { serviceId, version, inputs, outputs, params };
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
