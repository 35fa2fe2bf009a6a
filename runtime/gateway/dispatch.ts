import { status as GrpcStatus } from '@grpc/grpc-js';
import { pickReplica } from '../balancer/least-loaded.js';
import type { Replica, Service, ServiceRegistry } from '../discovery/registry.js';
import type { CallError } from '../protocol/client.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { loaderInput, loaderOutput } from '../protocol/codec.js';
import type { LoaderInput, LoaderOutput, ReqData, ResData } from '../protocol/messages.js';

export type CallOutcome = 'answered' | 'busy' | 'unreachable' | 'lost' | 'timeout';

/** How long a request waits for a restarting loader when no other replica can take it. */
const reconnectGraceMs = 5000;

/**
 * Sends a one-shot request to the capability's loaders: least-loaded first, then on to another
 * replica when one has no licence (10110) or cannot be reached. A request a loader had when it
 * died is tried on the other replicas (one-shot inference is taken as safe to repeat) but never
 * sent to that loader again, so an input that crashes a wrapper cannot crash it in a loop. When
 * every replica was merely unreachable (say, restarting), the request waits briefly for one.
 */
export async function dispatchOnce(
  registry: ServiceRegistry,
  service: Service,
  sid: string,
  input: LoaderInput,
  timeoutMs: number,
  record: (replica: Replica, outcome: CallOutcome) => void = () => {},
): Promise<LoaderOutput> {
  const req: ReqData = {
    op: 'AIIn',
    s: { h: sid },
    param: { SeqNo: '1', version: 'v2', waitTime: String(timeoutMs) },
    data: [{ data: loaderInput.encode(input) }],
  };
  const deadline = Date.now() + timeoutMs;
  const tried = new Set<Replica>();
  const unreachable: Replica[] = [];
  let busy = 0;
  let lastError = '';
  let graceUsed = false;

  for (;;) {
    const replica = pickReplica(service.replicas, tried);
    if (!replica) {
      if (graceUsed || unreachable.length === 0) break;
      graceUsed = true;
      const back = await firstReconnected(unreachable, Math.min(reconnectGraceMs, deadline - Date.now()));
      if (!back) break;
      tried.delete(back);
      unreachable.splice(unreachable.indexOf(back), 1);
      back.state = 'ready';
      continue;
    }
    tried.add(replica);

    let res: ResData;
    try {
      res = await replica.client.call(req, Math.max(1, deadline - Date.now()));
    } catch (err) {
      const failure = err as CallError;
      if (failure.code === GrpcStatus.DEADLINE_EXCEEDED) {
        record(replica, 'timeout');
        throw new AsfError(ErrorCode.OnceTimeout, `no answer from loader ${replica.address} within ${timeoutMs} ms`);
      }
      record(replica, failure.lost ? 'lost' : 'unreachable');
      lastError = failure.lost
        ? `loader ${replica.address} went away while running the request (it may have crashed on this input): ${failure.details}`
        : `loader ${replica.address} is unreachable: ${failure.details}`;
      registry.markDown(replica, lastError);
      if (!failure.lost) unreachable.push(replica);
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
  if (lastError) throw new AsfError(ErrorCode.ConnectionRead, lastError);
  // Nothing could be tried: the capability exists but none of its loaders is ready.
  throw new AsfError(ErrorCode.ConnectionRead, `capability ${service.schema.serviceId} has no ready loader${notReadyReasons(service)}`, 503);
}

/** The first of these replicas whose connection comes back within the wait, if any. */
async function firstReconnected(replicas: Replica[], waitMs: number): Promise<Replica | undefined> {
  if (waitMs <= 0) return undefined;
  const attempts = replicas.map((replica) => replica.client.waitForReady(waitMs).then(() => replica));
  return Promise.any(attempts).catch(() => undefined);
}

/** Why the replicas are out, as their loaders reported it (an init error, say). */
function notReadyReasons(service: Service): string {
  const reasons = service.replicas.filter((r) => r.error).map((r) => `${r.address}: ${r.state}: ${r.error}`);
  return reasons.length ? `: ${reasons.join('; ')}` : '';
}
