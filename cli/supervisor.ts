import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LogFormat } from './console-log.js';
import type { LoaderMessage } from './loader.js';

const cliMain = fileURLToPath(new URL('./main.js', import.meta.url));

export interface LoaderProcessOptions {
  capability: string;
  host: string;
  logLevel: string;
  logFormat: LogFormat;
  /** Called with each line worth showing a person (starts, crashes, restarts). */
  say(line: string): void;
}

/**
 * One `asf loader` child of `asf up`, restarted on the same port when it dies, so a crashing
 * wrapper costs its in-flight requests and nothing else.
 */
export class LoaderProcess {
  port = 0;
  private child?: ChildProcess;
  private stopped = false;
  private reloading = false;
  private restarts = 0;

  constructor(readonly options: LoaderProcessOptions) {}

  get pid() {
    return this.child?.pid;
  }

  /** Resolves once the loader's gRPC port is open (its wrapper may still be initialising). */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const { capability, host, logLevel, logFormat } = this.options;
      const args = ['loader', '--capability', capability, '--host', host, '--port', String(this.port), '--log-level', logLevel, '--log-format', logFormat];
      const child = fork(cliMain, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.child = child;
      let listening = false;
      child.on('message', (message: LoaderMessage) => {
        if (message.type !== 'listening') return;
        listening = true;
        this.port = message.port;
        resolve(message.port);
      });
      child.on('exit', (code, signal) => {
        this.child = undefined;
        if (!listening) return reject(new Error(`loader for ${capability} exited before listening (${signal ?? `code ${code}`})`));
        if (this.stopped || this.reloading) return;
        this.restarts++;
        const delay = Math.min(5000, 200 * 2 ** Math.min(this.restarts, 5));
        this.options.say(`loader ${capability} (port ${this.port}) died (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
        setTimeout(() => void this.start().catch((err: Error) => this.options.say(err.message)), delay).unref();
      });
    });
  }

  /** Starts it again on the same port, at once (its files changed): not a crash, so no back-off. */
  async reload(): Promise<void> {
    const child = this.child;
    this.reloading = true;
    if (child) await new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'));
    this.reloading = false;
    if (!this.stopped) await this.start();
  }

  stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
