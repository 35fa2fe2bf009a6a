import type { ToolRequest } from '../protocol/messages.js';
import type { Loader } from './loader.js';

/** The query a ToolBox request makes: ours name it ("health"); AIGES's tools send {"cmd":"health"}. */
function queryOf(request: ToolRequest): string {
  if (!request.query.startsWith('{')) return request.query;
  try {
    const { cmd } = JSON.parse(request.query) as { cmd?: unknown };
    return typeof cmd === 'string' ? cmd : request.query;
  } catch {
    return request.query;
  }
}

/** Our loader's ToolBox answers, whatever carries them (gRPC, a worker thread, a direct call): JSON. */
export function answerToolQuery(loader: Loader, request: ToolRequest): string {
  const query = queryOf(request);
  if (query === 'health') return JSON.stringify(loader.health());
  if (query === 'schema') return JSON.stringify(loader.schema);
  return `unknown query '${query}': try health or schema`;
}
