import type { ReqData, ResData, ToolRequest } from '../protocol/messages.js';

/** From the gateway's thread to a loader thread. */
export type ThreadRequest = { type: 'call'; id: number; req: ReqData } | { type: 'query'; id: number; request: ToolRequest } | { type: 'stop' };

/** From a loader thread back. */
export type ThreadReply =
  | { type: 'answer'; id: number; res: ResData }
  | { type: 'failed'; id: number; message: string }
  | { type: 'answer-query'; id: number; body: string }
  | { type: 'stopped' };

/**
 * A message's byte fields as Buffers again: a structured clone turns a Buffer into a plain
 * Uint8Array (same bytes, no copy here), and the protobuf codecs read Buffers.
 */
export function asBuffers<T extends ReqData | ResData>(message: T): T {
  for (const meta of message.data ?? []) {
    if (!Buffer.isBuffer(meta.data)) meta.data = Buffer.from(meta.data.buffer, meta.data.byteOffset, meta.data.byteLength);
  }
  return message;
}
