import { status as GrpcStatus } from '@grpc/grpc-js';
import { reconnectGraceMs, type ReplicaPicker } from '../balancer/admission.js';
import type { Replica, Service } from '../discovery/registry.js';
import type { CallError, OnceAnswer } from '../protocol/client.js';
import { AsfError, ErrorCode } from '../protocol/errors.js';
import { loaderInput, loaderOutput } from '../protocol/codec.js';
import type { LoaderInput, LoaderOutput, ReqData } from '../protocol/messages.js';

export type CallOutcome = 'answered' | 'busy' | 'unreachable' | 'lost' | 'timeout';

const noReplicas: Set<Replica> = new Set();

/** One call on a replica: its answer, or 'busy' when the loader had no licence after all (10110). */
export type ReplicaCall<T> = (replica: Replica, remainingMs: number) => Promise<T | 'busy'>;

/**
 * Runs `call` on one of the service's replicas with a licence taken there: in the balancer's
 * `order`, waiting in the service's admission queue while every licence is taken (until the
 * deadline). A replica that answers 10110 (another gateway holds its licences) or cannot be
 * reached is left for another; the request keeps its turn. A request a loader had when it died is
 * tried on the others (one-shot inference is taken as safe to repeat) but never sent to that
 * loader again, so an input that crashes a wrapper cannot crash it in a loop. The licence stays
 * taken when this resolves: the caller gives it back (service.admission.release) when done.
 * One-shot requests and session starts both come through here.
 */
export async function onAReplica<T>(
  service: Service,
  pick: ReplicaPicker,
  deadline: number,
  call: ReplicaCall<T>,
  record: (replica: Replica, outcome: CallOutcome) => void = () => {},
): Promise<{ replica: Replica; value: T; seconds: number }> {
  const { admission } = service;
  const serviceId = service.schema.serviceId;
  // Made on the first loss only: most requests never need one.
  let lostOn: Set<Replica> = noReplicas;
  let again = false;
  let lastFailure = '';
  for (;;) {
    let replica: Replica;
    try {
      replica = await admission.acquire(pick, lostOn, deadline, serviceId, again);
    } catch (err) {
      // No loader left to try after a failure here: that failure is the answer (the request may
      // have crashed the only loader), not "no ready loader".
      if (lastFailure && err instanceof AsfError && err.httpStatus === 503) throw new AsfError(ErrorCode.ConnectionRead, lastFailure, 502);
      throw err;
    }
    again = false;
    let value: T | 'busy';
    const started = performance.now();
    try {
      value = await call(replica, Math.max(1, deadline - Date.now()));
    } catch (err) {
      const failure = err as CallError;
      if (failure.code === GrpcStatus.DEADLINE_EXCEEDED) {
        record(replica, 'timeout');
        admission.release(replica, undefined);
        throw new AsfError(ErrorCode.OnceTimeout, `no answer from loader ${replica.address} before the request's deadline`);
      }
      record(replica, failure.lost ? 'lost' : 'unreachable');
      if (failure.lost) {
        if (lostOn === noReplicas) lostOn = new Set();
        lostOn.add(replica);
        lastFailure = `loader ${replica.address} went away while running the request (it may have crashed on this input): ${failure.details}`;
        markDown(service, replica, `went away while running a request: ${failure.details}`);
      } else {
        lastFailure = `loader ${replica.address} is unreachable: ${failure.details}`;
        markDown(service, replica, `unreachable: ${failure.details}`);
      }
      continue;
    }
    if (value === 'busy') {
      record(replica, 'busy');
      replica.full();
      again = true;
      continue;
    }
    record(replica, 'answered');
    return { replica, value, seconds: (performance.now() - started) / 1000 };
  }
}

/**
 * Takes a replica out until its connection is back; the queue then moves on to it (a restarting
 * loader is waited for briefly when it was the only one).
 */
function markDown(service: Service, replica: Replica, error: string) {
  const wasUp = replica.state !== 'down';
  replica.markDown(error);
  if (!wasUp) return;
  replica.client.waitForReady(reconnectGraceMs).then(
    () => {
      replica.markReconnected();
      service.admission.wake();
    },
    () => {},
  );
}

/** A one-shot request on the capability's loaders (see onAReplica): the wrapper's output, and how long a licence was held for it. */
export async function dispatchOnce(
  service: Service,
  pick: ReplicaPicker,
  sid: string,
  input: LoaderInput,
  timeoutMs: number,
  record?: (replica: Replica, outcome: CallOutcome) => void,
): Promise<{ output: LoaderOutput; loaderSeconds: number }> {
  const { replica, value: answer, seconds } = await onAReplica<OnceAnswer>(
    service,
    pick,
    Date.now() + timeoutMs,
    async (replica, remainingMs) => {
      const { client } = replica;
      const answer = client.callOnce ? await client.callOnce(sid, input, remainingMs) : await inEnvelope(replica, sid, input, timeoutMs, remainingMs);
      return answer.busy ? 'busy' : answer;
    },
    record,
  );
  service.admission.release(replica, answer.idle, seconds);
  return { output: answer.output, loaderSeconds: seconds };
}

/** The request as AIGES loaders (and ours over gRPC) take it: LoaderInput encoded in an AIIn envelope. */
async function inEnvelope(replica: Replica, sid: string, input: LoaderInput, timeoutMs: number, remainingMs: number): Promise<OnceAnswer> {
  const req: ReqData = {
    op: 'AIIn',
    s: { h: sid },
    param: { SeqNo: '1', version: 'v2', waitTime: String(timeoutMs) },
    data: [{ data: loaderInput.encode(input) }],
  };
  const res = await replica.client.call(req, remainingMs);
  const idle = Number(res.param?.['idle']);
  if (res.code === ErrorCode.NoLicence) return { output: {}, busy: true, idle };
  // A useless answer is still an answer: the loader is not taken for unreachable.
  const unreadable = (why: string): OnceAnswer => ({ output: { code: ErrorCode.ConnectionRead, err: `loader ${replica.address} answered ${why}` }, busy: false, idle });
  const raw = res.data?.[0]?.data;
  if (!raw) return unreadable('without a payload');
  try {
    return { output: loaderOutput.decode(raw), busy: false, idle };
  } catch (err) {
    return unreadable(`with a payload that is not a LoaderOutput: ${(err as Error).message}`);
  }
}
