import WebSocket from 'ws';
import { b64 } from './stack.js';

/** A real WebSocket client of one stream session, with the server's frames parsed in arrival order. */
export class WsSession {
  readonly frames: any[] = [];
  /** Resolves with the close code once the server (or we) closed the connection. */
  readonly closed: Promise<number>;
  private taken = 0;
  private wake?: () => void;
  private isClosed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString('utf8')));
      this.wake?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number) => {
        this.isClosed = true;
        this.wake?.();
        resolve(code);
      }),
    );
  }

  static open(url: string): Promise<WsSession> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsSession(ws)));
      ws.once('error', reject);
    });
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame not yet taken; undefined if the connection closed first. */
  async next(): Promise<any> {
    while (this.taken >= this.frames.length && !this.isClosed) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.frames[this.taken++];
  }

  /** Every frame up to the close. */
  async rest(): Promise<any[]> {
    await this.closed;
    return this.frames.slice(this.taken);
  }
}

/** A stream frame with one text input: the first one carries app_id and parameters. */
export function textFrame(serviceId: string, text: string, status: 0 | 1 | 2, extra: Record<string, unknown> = {}) {
  const header = status === 0 ? { app_id: '123456', uid: 'u1', status } : { status };
  const parameter = status === 0 ? { parameter: { [serviceId]: extra } } : {};
  return { header, ...parameter, payload: { text: { encoding: 'utf8', status, text: b64(text) } } };
}

/** The text of a frame's output (plain format: base64 on the wire). */
export const textOf = (frame: any, key: string) => Buffer.from(frame.payload[key].text, 'base64').toString('utf8');
