import { loadServiceSchema } from '../runtime/capability/load.js';
import { splitAddress } from '../runtime/discovery/resolve.js';
import type { StaticLoader } from '../runtime/discovery/static.js';

/**
 * The gateway's --loader list, each `[NAME=]HOST:PORT`. NAME is the service the loader serves, for
 * loaders that cannot say (AIGES's); a --capability folder (or capability.yaml) whose serviceId is
 * NAME gives its schema and licences.
 */
export function staticLoaders(loaders: string[], capabilities: string[] = []): StaticLoader[] {
  const schemas = new Map<string, ReturnType<typeof loadServiceSchema> & { from: string }>();
  for (const from of capabilities) {
    const found = loadServiceSchema(from);
    schemas.set(found.schema.serviceId, { ...found, from });
  }
  const named = new Set<string>();
  const list = loaders.map((arg): StaticLoader => {
    const at = arg.indexOf('=');
    const address = arg.slice(at + 1);
    splitAddress(address); // a clear error for an address without a port
    if (at < 0) return { address };
    const serviceId = arg.slice(0, at);
    if (!/^[\w.-]+$/.test(serviceId)) throw new Error(`--loader ${arg}: '${serviceId}' is not a service id (letters, digits, '_', '.', '-')`);
    named.add(serviceId);
    const declared = schemas.get(serviceId);
    return { address, given: { serviceId, schema: declared?.schema, licences: declared?.licences } };
  });
  for (const [serviceId, { from }] of schemas) {
    if (!named.has(serviceId)) throw new Error(`--capability ${from} is service '${serviceId}', but no loader is named so: give --loader ${serviceId}=HOST:PORT`);
  }
  return list;
}
