import fs from 'node:fs';
import yaml from 'js-yaml';
import type { ValidateFunction } from 'ajv';
import { AsfError, ErrorCode } from '../protocol/errors.js';

/**
 * A YAML settings file the gateway reads again whenever it changes (a mounted ConfigMap or Secret
 * edited in place takes effect within a couple of seconds, no restart). A file that no longer
 * reads keeps the settings in force, and says so in the log; one that does not read at start
 * stops the gateway, naming the file and what is wrong.
 */
export class WatchedFile<T> {
  value: T;
  private watching = false;

  constructor(
    private readonly file: string,
    private readonly what: string,
    private readonly validate: ValidateFunction,
    private readonly hint: string,
    private readonly log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
  ) {
    this.value = this.read();
  }

  /** Reads and checks the file; throws naming it and what is wrong. */
  read(): T {
    let doc: unknown;
    try {
      doc = yaml.load(fs.readFileSync(this.file, 'utf8')) ?? {};
    } catch (err) {
      throw new AsfError(ErrorCode.Internal, `${this.what} ${this.file}: ${(err as Error).message}`);
    }
    if (!this.validate(doc)) {
      const why = (this.validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new AsfError(ErrorCode.Internal, `${this.what} ${this.file}: ${why} (expected ${this.hint})`);
    }
    return doc as T;
  }

  watch(intervalMs = 1000) {
    if (this.watching) return;
    this.watching = true;
    fs.watchFile(this.file, { interval: intervalMs, persistent: false }, (now, before) => {
      if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
      try {
        this.value = this.read();
        this.log.info({ file: this.file }, `${this.what} reloaded`);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, `${this.what} not reloaded; the settings in force stay`);
      }
    });
  }

  stop() {
    if (this.watching) fs.unwatchFile(this.file);
    this.watching = false;
  }
}
