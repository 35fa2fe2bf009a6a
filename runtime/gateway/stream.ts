import websocket from '@fastify/websocket';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { bySid } from '../balancer/strategies.js';
import type { Replica, Service, ServiceRegistry } from '../discovery/registry.js';
import { loaderInput, loaderOutput } from '../protocol/codec.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { RespStatus, type LoaderInput, type ReqData, type ResData } from '../protocol/messages.js';
import { requestContext } from './context.js';
import { onAReplica } from './dispatch.js';
import { appIdOf, type Metering } from './metering.js';
import type { Quotas } from './quotas.js';
import type { Signatures } from './signing.js';
import type { GatewayMetrics } from './metrics.js';
import { toLoaderInput } from './request.js';
import { loaderError, renderError, renderSuccess } from './response.js';
import { resolveServiceId } from './route.js';

export interface StreamOptions {
  /** Longest a session may last, first frame to last result. */
  sessionTimeoutMs: number;
  /** Longest wait for the client's next frame, and, once it has sent its last, for the next result. */
  readTimeoutMs: number;
  /** Longest a single loader call may take. */
  callTimeoutMs: number;
  /** Largest frame accepted, in bytes. */
  maxFrameBytes: number;
}

/** How long one AIOut call waits at the loader for results, once the client has sent its last frame. */
const pollWaitMs = 1000;

/** WebSocket sessions on the same routes as one-shot POSTs (docs/http-api.md). */
/** Who may open sessions: signatures (when the service requires one) and per-app quotas. */
export interface StreamGuards {
  quotas?: Quotas;
  signatures?: Signatures;
}

export function registerStreams(app: FastifyInstance, registry: ServiceRegistry, metrics: GatewayMetrics, metering: Metering, guards: StreamGuards, options: StreamOptions): void {
  void app.register(async (scope) => {
    // Inside this scope only: the plugin's onRequest/onResponse hooks would otherwise run on every
    // one-shot POST too (JS echo at 32 connections: +7% req/s, gateway 55.9 -> 52.4 µs per request).
    await scope.register(websocket, { options: { maxPayload: options.maxFrameBytes } });
    scope.route({
      method: 'GET',
      url: '/*',
      handler: (req, reply) => {
        const serviceId = resolveServiceId(req.url);
        if (!serviceId || !registry.get(serviceId)) {
          return reply.code(404).type('application/json').send(renderError(requestContext(req).sid, ErrorCode.NotFound, 'not found', { message: 'not found' }));
        }
        const message = 'GET on a service route is for WebSocket sessions only: send one-shot requests with POST';
        return reply.code(405).type('application/json').send(renderError(requestContext(req).sid, ErrorCode.InvalidOperation, message));
      },
      wsHandler: (socket, req) => {
        const serviceId = resolveServiceId(req.url);
        const service = serviceId ? registry.get(serviceId) : undefined;
        const session = new StreamSession(socket, requestContext(req).sid, options, req.log, metrics, metering, guards.quotas, service);
        if (!service) return session.fail(new AsfError(ErrorCode.NotFound, 'not found'));
        try {
          // The handshake is the request a WebGate client signs (GET on the service's path).
          guards.signatures?.check(service.schema.serviceId, 'GET', req.url);
        } catch (err) {
          return session.fail(err as Error);
        }
        socket.on('message', (data: Buffer) => session.received(data.toString('utf8')));
        socket.on('close', () => session.clientGone());
      },
    });
  });
}

/**
 * One client session: frames go to the loader one at a time, in arrival order, as AIIn with
 * sync_id 1, 2, ...; the session is pinned to the replica that created it. Results are sent as
 * they come back; after the client's last frame (status 2) AIOut polls until the final result.
 */
class StreamSession {
  private replica?: Replica;
  /** Free licences in the loader's latest answer. */
  private lastIdle?: number;
  /** What metering counts for the session. */
  private appId = '';
  private inBytes = 0;
  private outBytes = 0;
  private licensedSince = 0;
  private leaveQuota?: () => void;
  /** The loader still has the session open (so leaving early needs an AIExcp). */
  private loaderOpen = false;
  private syncId = 0;
  /** Frames received and not yet handled: while there are some, the client is not the one we wait for. */
  private pending = 0;
  /** The client has sent its last frame (status 2). */
  private lastReceived = false;
  private done = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly sessionTimer: NodeJS.Timeout;
  private readTimer?: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly sid: string,
    private readonly options: StreamOptions,
    private readonly log: FastifyBaseLogger,
    private readonly metrics: GatewayMetrics,
    private readonly metering: Metering,
    private readonly quotas: Quotas | undefined,
    private readonly service?: Service,
  ) {
    metrics.sessionOpened(this.serviceId);
    this.sessionTimer = setTimeout(
      () => this.fail(new AsfError(ErrorCode.Timeout, `session timed out: longer than ${options.sessionTimeoutMs} ms`)),
      options.sessionTimeoutMs,
    );
    this.waitForClient();
  }

  received(text: string) {
    if (this.done) return;
    clearTimeout(this.readTimer);
    this.pending++;
    this.chain = this.chain
      .then(() => this.frame(text))
      .catch((err: Error) => this.fail(err))
      .finally(() => {
        if (--this.pending === 0 && !this.lastReceived && !this.done) this.waitForClient();
      });
  }

  /** The client closed or vanished: the loader session is aborted, which frees its licence. */
  clientGone() {
    if (this.done) return;
    this.log.debug({ sid: this.sid }, 'stream client went away');
    this.finish('client_gone');
  }

  /** An error frame, then close. */
  fail(err: Error) {
    if (this.done) return;
    const asf = err instanceof AsfError ? err : new AsfError(ErrorCode.Internal, `internal error: ${err.message}`);
    if (!(err instanceof AsfError)) this.log.error({ err, sid: this.sid }, 'unexpected stream error');
    else this.log.warn({ sid: this.sid, code: asf.code, message: asf.message }, 'stream failed');
    this.send(renderError(this.sid, asf.code, asf.message, {}, RespStatus.END));
    this.finish(String(asf.code));
  }

  /** `outcome` is what /metrics counts: 0 for a final result, the error code, or client_gone. */
  private finish(outcome: string) {
    this.done = true;
    this.metrics.sessionEnded(this.serviceId, outcome);
    this.leaveQuota?.();
    const loaderSeconds = this.licensedSince ? (performance.now() - this.licensedSince) / 1000 : 0;
    this.metering.record({ appId: this.appId, service: this.serviceId, code: outcome, inBytes: this.inBytes, outBytes: this.outBytes, loaderSeconds });
    clearTimeout(this.sessionTimer);
    clearTimeout(this.readTimer);
    this.socket.close(1000);
    // After the frame in progress, so a session being created is aborted too.
    this.chain = this.chain.then(() => this.abort());
  }

  /** The read timeout runs while the session waits for the client's next frame. */
  private waitForClient() {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(
      () => this.fail(new AsfError(ErrorCode.Timeout, `no frame from the client within ${this.options.readTimeoutMs} ms`)),
      this.options.readTimeoutMs,
    );
  }

  private async frame(text: string) {
    if (this.done) return;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new AsfError(ErrorCode.InvalidJson, `frame is not valid JSON: ${(err as Error).message}`);
    }
    const first = !this.replica;
    this.inBytes += Buffer.byteLength(text);
    if (first) {
      this.appId = appIdOf(body);
      // A session counts as one request in flight of its app for as long as it lasts.
      this.leaveQuota = this.quotas?.enter(this.appId);
    }
    const input = toLoaderInput(body, this.service!.schema, this.sid, { first });
    const data = input.pl ?? [];
    if (first) {
      await this.create({ ...input, pl: [] });
      if (data.length === 0) this.send(renderSuccess(this.sid, {}, RespStatus.BEGIN));
    }
    if (data.length > 0) await this.write({ sync_id: ++this.syncId, pl: data });
    if (input.headers?.['status'] === '2' && !this.done) {
      this.lastReceived = true;
      await this.awaitFinal();
    }
  }

  /**
   * SeqNo=1 on the sid's replicas in consistent-hash order, as a one-shot request would go (licence
   * taken, waiting in the service's queue while every licence is taken): the first replica that
   * takes it keeps the session, and its licence until the session ends.
   */
  private async create(input: LoaderInput) {
    const service = this.service!;
    const req: ReqData = { op: 'AIIn', s: { h: this.sid }, param: { SeqNo: '1', version: 'v2' }, data: [{ data: loaderInput.encode(input) }] };
    const { replica, value: res } = await onAReplica<ResData>(
      service,
      bySid(this.sid),
      Date.now() + this.options.callTimeoutMs,
      async (replica) => {
        const res = await replica.client.call(req, this.options.callTimeoutMs);
        return res.code === ErrorCode.NoLicence ? 'busy' : res;
      },
      (replica, outcome) => this.metrics.call(service.schema.serviceId, replica.address, outcome),
    );
    this.replica = replica;
    this.licensedSince = performance.now();
    this.loaderOpen = true;
    this.observe(res);
    this.forward(res);
  }

  /** After the client's last frame: AIOut until the final result, or 12000 when none comes within the read timeout. */
  private async awaitFinal() {
    let deadline = Date.now() + this.options.readTimeoutMs;
    while (!this.done) {
      const waitMs = Math.max(1, Math.min(pollWaitMs, deadline - Date.now()));
      if (this.forward(await this.poll(waitMs))) deadline = Date.now() + this.options.readTimeoutMs;
      if (!this.done && Date.now() >= deadline) {
        throw new AsfError(ErrorCode.NoFinalResult, `the client sent its last frame but no final result came within ${this.options.readTimeoutMs} ms`);
      }
    }
  }

  /** An AIIn frame on the pinned replica; its results are sent on. */
  private async write(input: LoaderInput) {
    const res = await this.request(this.replica!, { op: 'AIIn', s: { h: this.sid }, param: { version: 'v2' }, data: [{ data: loaderInput.encode(input) }] });
    this.forward(res);
  }

  private poll(waitMs: number): Promise<ResData> {
    return this.request(this.replica!, { op: 'AIOut', s: { h: this.sid }, param: { version: 'v2', waitTime: String(waitMs) } });
  }

  private async request(replica: Replica, req: ReqData): Promise<ResData> {
    let res: ResData;
    try {
      res = await replica.client.call(req, this.options.callTimeoutMs);
    } catch (err) {
      throw new AsfError(ErrorCode.ConnectionRead, `loader ${replica.address}: ${(err as Error).message}`);
    }
    this.observe(res);
    return res;
  }

  /** The loader's count of free licences in its answer (a session ending elsewhere may free one). */
  private observe(res: ResData) {
    const idle = Number(res.param?.['idle']);
    if (!this.replica || !Number.isFinite(idle)) return;
    this.lastIdle = idle;
    this.replica.observe(idle);
    this.service!.admission.wake();
  }

  /** Sends the results in a loader answer, in order; true if there were any. An error or the final result ends the session. */
  private forward(res: ResData): boolean {
    let any = false;
    for (const meta of res.data ?? []) {
      if (this.done) break;
      const output = loaderOutput.decode(meta.data);
      if (output.code) {
        this.loaderOpen = false;
        throw loaderError(output);
      }
      const final = output.status === RespStatus.END || output.status === RespStatus.ONCE;
      if (output.pl?.length) {
        this.send(renderSuccess(this.sid, output, final ? RespStatus.END : (output.status ?? RespStatus.CONTINUE)));
        any = true;
      }
      if (final) {
        this.loaderOpen = false;
        this.finish('0');
      }
    }
    return any;
  }

  private get serviceId(): string {
    return this.service?.schema.serviceId ?? 'unknown';
  }

  private send(frame: string) {
    if (this.done) return;
    this.outBytes += Buffer.byteLength(frame);
    this.socket.send(frame);
  }

  /**
   * AIExcp for a session the loader still has open (failures only matter to the log: the loader's
   * idle timeout is the backstop); then the session's licence goes back to the service's queue.
   */
  private async abort() {
    if (this.loaderOpen && this.replica) {
      this.loaderOpen = false;
      try {
        await this.request(this.replica, { op: 'AIExcp', s: { h: this.sid }, param: { version: 'v2' } });
      } catch (err) {
        this.log.warn({ sid: this.sid, err: (err as Error).message }, 'AIExcp failed');
      }
    }
    // The loader's last answer (the final result, or the AIExcp's) counts the licence it freed.
    if (this.replica) this.service!.admission.release(this.replica, this.lastIdle);
    this.replica = undefined;
  }
}
