import type { CapabilitySchema } from '../capability/types.js';
import { dataFieldName } from '../protocol/messages.js';
import { requestSchema } from './schema.js';

const errorBody = {
  type: 'object',
  properties: {
    header: {
      type: 'object',
      properties: { code: { type: 'integer' }, message: { type: 'string' }, sid: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
};

/** OpenAPI 3.1 document of every capability the gateway currently serves. */
export function openApiDocument(schemas: CapabilitySchema[], version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const schema of schemas) {
    const outputs: Record<string, unknown> = {};
    for (const [name, decl] of Object.entries(schema.outputs)) {
      const field = dataFieldName.includes(decl.dataType) ? decl.dataType : 'other';
      outputs[name] = {
        type: 'object',
        properties: {
          [field]: { description: 'raw JSON when format is json and the data parses, else base64' },
          encoding: { type: 'string' },
          compress: { type: 'string' },
          format: { type: 'string' },
          status: { type: 'integer' },
          seq: { type: 'integer' },
        },
      };
    }
    paths[`/${schema.version}/private/${schema.serviceId}`] = {
      post: {
        operationId: `call_${schema.serviceId}`,
        summary: `Call the ${schema.serviceId} capability (one-shot; WebSocket upgrade on the same path streams)`,
        requestBody: { required: true, content: { 'application/json': { schema: requestSchema(schema) } } },
        responses: {
          '200': {
            description: 'success',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { header: errorBody.properties.header, payload: { type: 'object', properties: outputs } } },
              },
            },
          },
          '400': { description: 'request error', content: { 'application/json': { schema: errorBody } } },
          '404': { description: 'unknown service', content: { 'application/json': { schema: errorBody } } },
          '413': { description: 'body too large', content: { 'application/json': { schema: errorBody } } },
          '502': { description: 'loader or wrapper error', content: { 'application/json': { schema: errorBody } } },
        },
      },
    };
  }
  return { openapi: '3.1.0', info: { title: 'ASF kit gateway', version }, paths };
}
