import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { packageRoot } from '../../paths.js';
import { encodeFrame, FrameReader, type Frame } from './python-frames.js';

/** The worker program: a folder with __main__.py, run by the capability's interpreter. */
export const workerProgram = path.join(packageRoot, 'runtime', 'python', 'asf_worker');

/** A worker went away; `how` says why ("code 1", "signal SIGKILL", or why it could not start). */
export class WorkerExit extends Error {
  constructor(
    readonly how: string,
    /** The interpreter could not be run at all. */
    readonly spawnFailed = false,
    /**
     * False for a call still queued behind the one the worker was running: the worker runs calls
     * strictly one after another, so that call never reached the wrapper and may be sent again.
     */
    readonly started = true,
  ) {
    super(`python worker exited (${how})`);
    this.name = 'WorkerExit';
  }
}

/** One call sent to the worker and not yet answered. */
interface Waiting {
  resolve(frame: Frame): void;
  reject(err: WorkerExit): void;
  /** Told when the worker starts on this call (every call before it has been answered). */
  onStart?: () => void;
}

export interface WorkerOptions {
  interpreter: string;
  /** How long the worker busy-polls for its next call once idle, in µs (0: it sleeps at once). */
  pollMicros: number;
  /** The capability folder: the worker's cwd, where `import wrapper` looks. */
  dir: string;
}

/**
 * One Python process running asf_worker. Calls are answered in order over its stdin/stdout, one
 * at a time; several may be sent ahead so that the next one is in the pipe when the worker
 * finishes. Its stderr (the wrapper's prints and tracebacks) goes to the loader's stderr.
 */
export class PythonWorker {
  /** Settles once the process is gone and every pending call has been rejected. */
  readonly closed: Promise<WorkerExit>;
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  /** Frames the worker sends of its own accord: results a wrapper pushed with callback(Response, sid). */
  onEvent?: (frame: Frame) => void;
  private readonly reader = new FrameReader();
  private readonly waiting: Waiting[] = [];
  private exit?: WorkerExit;
  private killedFor?: string;
  private onClosed!: (exit: WorkerExit) => void;

  constructor(options: WorkerOptions) {
    this.closed = new Promise((resolve) => (this.onClosed = resolve));
    this.child = spawn(options.interpreter, [workerProgram], {
      cwd: options.dir,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ASF_WORKER_POLL_MICROS: String(options.pollMicros) },
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        if (frame.header['event'] !== undefined) {
          this.onEvent?.(frame);
          continue;
        }
        const call = this.waiting.shift();
        if (!call) {
          this.kill('it answered a request it was not sent');
          return;
        }
        call.resolve(frame);
        this.waiting[0]?.onStart?.();
      }
    });
    // EPIPE after the worker died: its close event reports that.
    this.child.stdin.on('error', () => {});
    this.child.on('error', (err) => this.finish(new WorkerExit(err.message, true)));
    this.child.on('close', (code, signal) => {
      const how = signal ? `signal ${signal}` : `code ${code}`;
      this.finish(new WorkerExit(this.killedFor ? `${how}: ${this.killedFor}` : how));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exit;
  }

  /** Calls sent and not yet answered. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Sends one request frame; resolves with the worker's answer, rejects with WorkerExit. */
  call(header: Record<string, unknown>, blobs: Buffer[] = [], onStart?: () => void): Promise<Frame> {
    if (this.exit) return Promise.reject(this.exit);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, onStart });
      if (this.waiting.length === 1) onStart?.();
      const stdin = this.child.stdin;
      stdin.cork();
      for (const piece of encodeFrame(header, blobs)) stdin.write(piece);
      stdin.uncork();
    });
  }

  /** SIGKILL; `reason` goes into the exit description. */
  kill(reason?: string): void {
    if (this.exit) return;
    this.killedFor ??= reason;
    this.child.kill('SIGKILL');
  }

  private finish(exit: WorkerExit) {
    if (this.exit) return;
    this.exit = exit;
    const notStarted = new WorkerExit(exit.how, exit.spawnFailed, false);
    this.waiting.splice(0).forEach((call, i) => call.reject(i === 0 ? exit : notStarted));
    this.onClosed(exit);
  }
}
