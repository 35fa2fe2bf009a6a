import type { FastifyRequest } from 'fastify';
import { newSid } from '../loader/loader.js';

/** What the gateway keeps per request: the sid it answers with and the service it resolved. */
export interface RequestContext {
  sid: string;
  service: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    asf: RequestContext | null;
  }
}

/** The request's context, made on first use: no onRequest hook to run on every request. */
export function requestContext(req: FastifyRequest): RequestContext {
  return (req.asf ??= { sid: newSid(), service: '' });
}
