import { status as GrpcStatus } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { LoaderConnection, OnceAnswer } from '../protocol/client.js';
import type { LoaderInput, ReqData, ResData, ToolRequest } from '../protocol/messages.js';
import { asBuffers, sharedCounter, type LoaderThreadData, type ThreadReply, type ThreadRequest } from './thread-messages.js';

interface Pending {
  resolve(value: ResData | OnceAnswer | string): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Answers the gateway spins for, one call at a time, come within this many µs (unless pollMicros is shorter). */
const answerSpinMicrosDefault = 200;
/** Quick answers in a row before the gateway spins for the next. */
const quickBeforeSpinning = 4;

const failure = (code: GrpcStatus, details: string, lost = false) => Object.assign(new Error(details), { code, details, lost });

/**
 * A capability's loader on a worker thread of the gateway's process (asf up, JS capabilities): it
 * runs on its own core beside the gateway, as a loader process would, but a call is a message
 * between threads instead of a gRPC round trip through the kernel. A wrapper that throws outside a
 * call or exits ends the thread, not the gateway: its calls fail (as lost) and the thread starts
 * again, as asf up restarts a loader process.
 *
 * One call at a time, the thread polls for its next call (loader-thread.ts), and the gateway, for
 * a light wrapper's answer: when its event loop had slept since the last answer (nothing else to
 * do) and the last few answers came within answerSpinMicros, it spins on a shared counter for the
 * answer and takes it from the reply port at once, rather than sleeping until the thread wakes it
 * (on a VM, a wake-up costs about as much as a light call). An answer that does not come in time
 * is waited for asleep, and so are the next few.
 */
export class ThreadLoader implements LoaderConnection {
  private worker: Worker;
  /** The thread's replies: a port of its own, so that the gateway can also take them synchronously. */
  private replies!: MessagePort;
  /** Answers in a row that came within answerSpinMicros of a call sent alone. */
  private quickInARow = 0;
  /** When the call now alone in flight was sent (performance.now()); NaN while calls overlap. */
  private sentAloneAt = NaN;
  /** The event loop's idle time when the last answer was taken (ms). */
  private idleAtAnswer = 0;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  /** Read by the thread when it polls for its next call (sharedCounter). */
  private readonly counters = new Int32Array(new SharedArrayBuffer(sharedCounter.count * Int32Array.BYTES_PER_ELEMENT));
  private stopped = false;
  private onStopped?: () => void;
  /** Restarts in a row, for the wait before the next (a thread that dies at once is not started in a loop). */
  private restarts = 0;
  private startedAt = Date.now();
  /** Between a thread's end and the next one's start: calls wait here, and go to the new thread. */
  private backlog: ThreadRequest[] | undefined;
  private readonly whenRunning = new Set<() => void>();

  constructor(
    readonly dir: string,
    private readonly say: (line: string) => void,
    /** How long the thread, idle, polls for its next call before it sleeps, in µs (0: never). */
    private readonly pollMicros: number,
    /** How long the gateway spins for the answer to a lone call, in µs (0: never). */
    private readonly answerSpinMicros = Math.min(pollMicros, answerSpinMicrosDefault),
  ) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const { port1: replies, port2 } = new MessageChannel();
    this.replies = replies;
    const worker = new Worker(new URL('./loader-thread.js', import.meta.url), {
      workerData: { dir: this.dir, pollMicros: this.pollMicros, counters: this.counters, replies: port2 } satisfies LoaderThreadData,
      transferList: [port2],
    });
    for (const message of this.backlog ?? []) this.post(worker, message);
    this.backlog = undefined;
    for (const resolve of this.whenRunning) resolve();
    this.whenRunning.clear();
    replies.on('message', (message: ThreadReply) => this.onReply(message));
    worker.on('error', (err) => this.failAll(`its thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      // Answers the thread sent before it ended are answers, not lost calls.
      this.takeReplies(replies);
      replies.close();
      this.failAll(`its thread ended (exit code ${code})`);
      if (this.stopped) return this.onStopped?.();
      this.backlog = [];
      this.restarts = Date.now() - this.startedAt > 10_000 ? 1 : this.restarts + 1;
      const waitMs = Math.min(5000, 100 * 2 ** this.restarts);
      this.say(`loader   ${this.dir}: its thread ended (exit code ${code}); starting it again in ${waitMs} ms`);
      setTimeout(() => {
        if (this.stopped) return;
        this.startedAt = Date.now();
        this.worker = this.spawn();
      }, waitMs).unref();
    });
    return worker;
  }

  private onReply(message: ThreadReply) {
    if (message.type === 'stopped') return this.onStopped?.();
    const waiting = this.pending.get(message.id);
    if (!waiting) return; // answered after its deadline
    this.pending.delete(message.id);
    clearTimeout(waiting.timer);
    // Only answers to lone calls can start a run of quick ones; the spin reads idleAtAnswer only after such a run.
    if (performance.now() - this.sentAloneAt <= this.answerSpinMicros / 1000) {
      this.quickInARow++;
      this.idleAtAnswer = performance.eventLoopUtilization().idle;
    } else this.quickInARow = 0;
    if (message.type === 'answer') waiting.resolve(asBuffers(message.res));
    else if (message.type === 'answer-once') waiting.resolve({ ...message.answer, output: asBuffers(message.answer.output) });
    else if (message.type === 'answer-query') waiting.resolve(message.body);
    else waiting.reject(failure(GrpcStatus.INTERNAL, message.message));
  }

  private takeReplies(port: MessagePort) {
    for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) this.onReply(next.message as ThreadReply);
  }

  /** Every call in flight fails as lost: the thread may have died of one of them. */
  private failAll(why: string) {
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.reject(failure(GrpcStatus.UNAVAILABLE, why, true));
    }
  }

  private send<T extends ResData | OnceAnswer | string>(message: ThreadRequest & { id: number }, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.id);
        reject(failure(GrpcStatus.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(message.id, { resolve: resolve as (value: ResData | OnceAnswer | string) => void, reject, timer });
      Atomics.store(this.counters, sharedCounter.callsOut, this.pending.size);
      if (this.backlog) {
        this.backlog.push(message);
        return;
      }
      // The thread counts an answer after posting it: one counted after this read is on the port.
      const answered = Atomics.load(this.counters, sharedCounter.answered);
      this.post(this.worker, message);
      if (this.pending.size > 1) {
        this.sentAloneAt = NaN;
        return;
      }
      this.sentAloneAt = performance.now();
      this.spinForAnswer(answered);
    });
  }

  private spinForAnswer(answered: number) {
    if (this.answerSpinMicros === 0 || this.quickInARow < quickBeforeSpinning) return;
    // Only when the gateway had nothing else to do: its event loop slept since the last answer.
    if (performance.eventLoopUtilization().idle === this.idleAtAnswer) return;
    const until = this.sentAloneAt + this.answerSpinMicros / 1000;
    while (Atomics.load(this.counters, sharedCounter.answered) === answered) {
      if (performance.now() >= until) return;
    }
    this.takeReplies(this.replies);
  }

  private post(worker: Worker, message: ThreadRequest) {
    worker.postMessage(message);
    Atomics.add(this.counters, sharedCounter.posted, 1);
  }

  call(req: ReqData, timeoutMs: number): Promise<ResData> {
    return this.send<ResData>({ type: 'call', id: ++this.nextId, req }, timeoutMs);
  }

  callOnce(sid: string, input: LoaderInput, timeoutMs: number): Promise<OnceAnswer> {
    return this.send<OnceAnswer>({ type: 'once', id: ++this.nextId, sid, input }, timeoutMs);
  }

  query(request: ToolRequest, timeoutMs = 2000): Promise<string> {
    return this.send<string>({ type: 'query', id: ++this.nextId, request }, timeoutMs);
  }

  /** Resolves once a thread runs (at once, unless one is being started again after it ended). */
  waitForReady(timeoutMs: number): Promise<void> {
    if (!this.backlog) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.whenRunning.delete(done);
        reject(failure(GrpcStatus.UNAVAILABLE, 'its thread is not running yet'));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.whenRunning.add(done);
    });
  }

  close() {}

  /** wrapperFini and the thread's end (cut short after 10 s). */
  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => void this.worker.terminate().then(done, done), 10_000);
      this.onStopped = done;
      this.worker.postMessage({ type: 'stop' } satisfies ThreadRequest);
    });
  }
}
