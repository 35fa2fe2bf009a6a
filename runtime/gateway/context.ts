import type { FastifyRequest } from 'fastify';
import { newSid } from '../loader/loader.js';

/** What the gateway keeps per request: the sid it answers with, the service it resolved, and what metering counts. */
export interface RequestContext {
  sid: string;
  service: string;
  appId: string;
  /** Time a loader licence was held for it. */
  loaderSeconds: number;
  /** The body as received, kept only when signed requests are checked. */
  rawBody?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    asf: RequestContext | null;
  }
}

/** The request's context, made on first use: no onRequest hook to run on every request. */
export function requestContext(req: FastifyRequest): RequestContext {
  return (req.asf ??= { sid: newSid(), service: '', appId: '', loaderSeconds: 0 });
}
