import { status as GrpcStatus } from '@grpc/grpc-js';
import { pickReplica } from '../balancer/least-loaded.js';
import type { Replica, Service, ServiceRegistry } from '../discovery/registry.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { loaderInput, loaderOutput } from '../protocol/codec.js';
import type { LoaderInput, LoaderOutput, ResData } from '../protocol/messages.js';

export type CallOutcome = 'answered' | 'busy' | 'unreachable' | 'timeout';

/**
 * Sends a one-shot request to the capability's loaders: least-loaded first, and on to another
 * replica when one has no licence (10110) or cannot be reached. A one-shot inference is taken as
 * safe to repeat, so a request cut off by a dying loader is retried too.
 */
export async function dispatchOnce(
  registry: ServiceRegistry,
  service: Service,
  sid: string,
  input: LoaderInput,
  timeoutMs: number,
  record: (replica: Replica, outcome: CallOutcome) => void = () => {},
): Promise<LoaderOutput> {
  const req = {
    op: 'AIIn',
    s: { h: sid },
    param: { SeqNo: '1', version: 'v2', waitTime: String(timeoutMs) },
    data: [{ data: loaderInput.encode(input) }],
  };
  const tried = new Set<Replica>();
  let busy = 0;
  let lastError = '';
  for (;;) {
    const replica = pickReplica(service.replicas, tried);
    if (!replica) break;
    tried.add(replica);
    let res: ResData;
    try {
      res = await replica.client.call(req, timeoutMs);
    } catch (err) {
      const grpcErr = err as { code?: number; details?: string; message: string };
      record(replica, grpcErr.code === GrpcStatus.DEADLINE_EXCEEDED ? 'timeout' : 'unreachable');
      if (grpcErr.code === GrpcStatus.DEADLINE_EXCEEDED) {
        throw new AsfError(ErrorCode.OnceTimeout, `no answer from loader ${replica.address} within ${timeoutMs} ms`);
      }
      lastError = `loader ${replica.address}: ${grpcErr.details ?? grpcErr.message}`;
      registry.markDown(replica, lastError);
      continue;
    }
    const idle = Number(res.param?.['idle']);
    if (Number.isFinite(idle)) replica.idle = idle;
    record(replica, res.code === ErrorCode.NoLicence ? 'busy' : 'answered');
    if (res.code === ErrorCode.NoLicence) {
      busy++;
      continue;
    }
    const raw = res.data?.[0]?.data;
    if (!raw) throw new AsfError(ErrorCode.ConnectionRead, `loader ${replica.address} answered without a payload`);
    return loaderOutput.decode(raw);
  }
  if (busy > 0) {
    throw new AsfError(ErrorCode.NoLicence, `no free licence: all loaders of ${service.schema.serviceId} are busy (${busy} tried)`);
  }
  throw new AsfError(
    ErrorCode.ConnectionRead,
    `no ready loader for ${service.schema.serviceId}${lastError ? ` (last error: ${lastError})` : ''}`,
  );
}
