import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { CapabilitySchema } from '../capability/types.js';
import type { ServiceRegistry } from '../discovery/registry.js';
import { requestContext } from './context.js';
import { OverloadError } from '../balancer/admission.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { dispatchOnce } from './dispatch.js';
import { createMetrics } from './metrics.js';
import { appIdOf, createMetering } from './metering.js';
import { Quotas } from './quotas.js';
import { Signatures } from './signing.js';
import type { LoaderOutput } from '../protocol/messages.js';
import { openApiDocument } from './openapi.js';
import { bodyText, parseBody } from './json-body.js';
import { toLoaderInput } from './request.js';
import { loaderError, renderError, renderSuccess } from './response.js';
import { resolveServiceId } from './route.js';
import { gatewayDefaults, streamDefaults } from './defaults.js';
import { registerStreams } from './stream.js';
import { consolePlugin } from '../console/plugin.js';

export interface GatewayOptions {
  registry: ServiceRegistry;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** Time a one-shot request may take end to end. */
  timeoutMs?: number;
  /** When set, only these app ids are let in (10313 otherwise). */
  appIds?: string[];
  /** Per-app quotas (a YAML file, read again when it changes). */
  quotasFile?: string;
  /** Keys for signed requests and the services that require them (a YAML file, read again when it changes). */
  signingFile?: string;
  logLevel?: string;
  /** Where log records go (default: stdout, one JSON line each). */
  logStream?: NodeJS.WritableStream;
  version?: string;
  /** WebSocket sessions: longest life, and longest wait for a client frame or a final result. */
  sessionTimeoutMs?: number;
  readTimeoutMs?: number;
  /** Serve the browser console at / and /console/ (default true). */
  console?: boolean;
}

/** The HTTP front: ASF routes, validation, auth, errors, health, metrics and OpenAPI. */
export function buildGateway(options: GatewayOptions): FastifyInstance {
  const { registry } = options;
  const bodyLimit = options.bodyLimit ?? gatewayDefaults.bodyLimit;
  const timeoutMs = options.timeoutMs ?? gatewayDefaults.timeoutMs;
  const appIds = options.appIds?.length ? new Set(options.appIds) : undefined;
  const metrics = createMetrics(registry);
  const metering = createMetering(metrics.register, { allowed: appIds });
  registry.onWait = (service, seconds, outcome) => metrics.queueWait(service, seconds, outcome);

  const app = Fastify({
    logger: { level: options.logLevel ?? 'info', ...(options.logStream ? { stream: options.logStream } : {}) },
    // One logger for all requests (our lines carry the sid): no child logger built per request.
    childLoggerFactory: (logger) => logger,
    bodyLimit,
    // Per-request lines are ours (observe below): one line per failure, successes at debug.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.decorateRequest('asf', null);
  const quotas = options.quotasFile ? new Quotas(options.quotasFile, app.log) : undefined;
  const signatures = options.signingFile ? new Signatures(options.signingFile, app.log) : undefined;
  quotas?.watch();
  signatures?.watch();
  app.addHook('onClose', async () => {
    quotas?.stop();
    signatures?.stop();
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, bytes, done) => {
    try {
      const text = bodyText(bytes as Buffer);
      // Kept (a reference, not a copy) for telling a replayed signed request from a new one.
      if (signatures) requestContext(req).rawBody = text;
      done(null, parseBody(text));
    } catch (err) {
      done(err as AsfError, undefined);
    }
  });
  app.addContentTypeParser('*', (_req, _payload, done) =>
    done(new AsfError(ErrorCode.InvalidJson, 'content-type must be application/json'), undefined),
  );

  app.setErrorHandler((err: Error & { code?: unknown; statusCode?: number }, req, reply) => {
    const asf = toAsfError(err, bodyLimit);
    if (asf.httpStatus >= 500 && !(err instanceof AsfError)) req.log.error({ err, sid: requestContext(req).sid }, 'unexpected error');
    return sendError(reply, req, asf);
  });

  // Capabilities: 200 only when every one has a ready loader (503 naming what is not, and why).
  app.get('/healthz', async (_req, reply) => {
    const { ready, services, pending } = registry.health();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', services, pending });
  });

  // The gateway itself (Kubernetes readinessProbe): it serves, and answers for capabilities that are
  // not ready with a 503 of its own; keeping it out of its Service would turn that into a refused connection.
  app.get('/readyz', async () => ({ status: 'ready' }));

  // Liveness (Kubernetes livenessProbe): 200 while the process serves HTTP, whatever the loaders do.
  app.get('/livez', async () => ({ status: 'alive' }));

  app.get('/metrics', async (_req, reply) => {
    return reply.type(metrics.register.contentType).send(await metrics.register.metrics());
  });

  if (options.console !== false) app.register(consolePlugin, { registry, metrics: metrics.register, version: options.version ?? '0.0.0' });

  app.get('/openapi.json', async () => openApiDocument(registry.all().map((s) => s.schema), options.version ?? '0.0.0'));

  registerStreams(app, registry, metrics, metering, { quotas, signatures }, {
    sessionTimeoutMs: options.sessionTimeoutMs ?? streamDefaults.sessionTimeoutMs,
    readTimeoutMs: options.readTimeoutMs ?? streamDefaults.readTimeoutMs,
    callTimeoutMs: timeoutMs,
    maxFrameBytes: bodyLimit,
  });

  app.post('/*', async (req, reply) => {
    const context = requestContext(req);
    const { sid } = context;
    const serviceId = resolveServiceId(req.url);
    const service = serviceId ? registry.get(serviceId) : undefined;
    if (!service) {
      const why = serviceId ? registry.whyNotReady(serviceId) : undefined;
      if (why !== undefined) throw new AsfError(ErrorCode.ConnectionRead, `capability ${serviceId} has no ready loader: ${why}`, 503);
      return sendError(reply, req, new AsfError(ErrorCode.NotFound, 'not found'), { message: 'not found' });
    }
    context.service = service.schema.serviceId;
    signatures?.check(service.schema.serviceId, 'POST', req.url, context.rawBody);
    context.appId = appIdOf(req.body);
    if (appIds) checkAppId(context.appId, appIds);
    const input = toLoaderInput(req.body, service.schema, sid);
    const leave = quotas?.enter(context.appId);
    try {
      const { output, loaderSeconds } = await dispatchOnce(service, service.balancer.picker(req.body), sid, input, timeoutMs, (replica, outcome) =>
        metrics.call(service.schema.serviceId, replica.address, outcome),
      );
      context.loaderSeconds = loaderSeconds;
      return answer(req, reply, output, service.schema);
    } finally {
      leave?.();
    }
  });

  function answer(req: FastifyRequest, reply: FastifyReply, output: LoaderOutput, schema: CapabilitySchema) {
    const { sid } = requestContext(req);
    if (output.code) throw loaderError(output, schema.clientErrors);
    const body = renderSuccess(sid, output);
    reply.type('application/json').send(body);
    observe(req, reply, 0, body);
    return reply;
  }

  // Called once the answer is written: one request at a time, the client need not wait for the
  // bookkeeping. Fastify times every request from routing on (reply.elapsedTime).
  function observe(req: FastifyRequest, reply: FastifyReply, code: number, body: string) {
    const { sid, service, appId, loaderSeconds } = requestContext(req);
    const ms = reply.elapsedTime;
    metrics.observe(service || 'unknown', code, ms / 1000);
    metering.record({ appId, service, code, inBytes: Number(req.headers['content-length'] ?? 0), outBytes: Buffer.byteLength(body), loaderSeconds });
    // A client's mistake (4xx) is news for the client, not a warning for whoever runs the gateway.
    if (code) req.log[reply.statusCode >= 500 ? 'warn' : 'info']({ sid, service, code, ms }, 'request failed');
    else req.log.debug({ sid, service, ms }, 'request done');
  }

  function sendError(reply: FastifyReply, req: FastifyRequest, err: AsfError, extra?: Record<string, unknown>) {
    const { sid } = requestContext(req);
    // Overloaded: when to come back, for HTTP clients and load balancers.
    if (err instanceof OverloadError) reply.header('retry-after', String(err.retryAfterSeconds));
    const body = renderError(sid, err.code, err.message, extra);
    reply.code(err.httpStatus).type('application/json').send(body);
    observe(req, reply, err.code, body);
    req.log.debug({ sid, code: err.code, message: err.message }, 'error answer');
    return reply;
  }

  return app;
}

function checkAppId(appId: string, appIds: Set<string>) {
  if (appId !== '' && !appIds.has(appId)) {
    throw new AsfError(ErrorCode.AppIdInvalid, `appid '${appId}' is not allowed`);
  }
}

/** Maps fastify's own errors (body limit, parsing) to ASF codes with clear messages. */
function toAsfError(err: Error & { code?: unknown; statusCode?: number }, bodyLimit: number): AsfError {
  if (err instanceof AsfError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AsfError(ErrorCode.SchemaMismatch, `request body is larger than the limit of ${bodyLimit} bytes`, 413);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AsfError(ErrorCode.InvalidJson, 'content-type must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AsfError(ErrorCode.InvalidJson, 'body is empty: expected a JSON object');
    default:
      if (err.statusCode && err.statusCode < 500) return new AsfError(ErrorCode.InvalidData, err.message, err.statusCode);
      return new AsfError(ErrorCode.Internal, `internal error: ${err.message}`, 500);
  }
}
