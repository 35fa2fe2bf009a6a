import type { MessagePort } from 'node:worker_threads';
import type { OnceAnswer } from '../protocol/client.js';
import type { LoaderInput, LoaderOutput, ReqData, ResData, ToolRequest } from '../protocol/messages.js';

/** What a loader thread starts with. */
export interface LoaderThreadData {
  dir: string;
  /** How long the thread, idle, polls for its next call before it sleeps, in µs (0: never). */
  pollMicros: number;
  /** Counters the two threads share (`sharedCounter` indexes them). */
  counters: Int32Array;
  /** Where the thread posts its replies: a port of its own, which the gateway can also read synchronously. */
  replies: MessagePort;
}

/**
 * Where a loader thread's shared counters are: calls the gateway has out to it as of the last one
 * it sent, messages posted to it so far (it spins on that, not on its port, when it polls), and
 * replies it has posted so far (the gateway spins on that for the answer to a lone call).
 */
export const sharedCounter = { callsOut: 0, posted: 1, answered: 2, count: 3 } as const;

/** From the gateway's thread to a loader thread. */
export type ThreadRequest =
  | { type: 'call'; id: number; req: ReqData }
  | { type: 'once'; id: number; sid: string; input: LoaderInput }
  | { type: 'query'; id: number; request: ToolRequest }
  | { type: 'stop' };

/** From a loader thread back. */
export type ThreadReply =
  | { type: 'answer'; id: number; res: ResData }
  | { type: 'answer-once'; id: number; answer: OnceAnswer }
  | { type: 'failed'; id: number; message: string }
  | { type: 'answer-query'; id: number; body: string }
  | { type: 'stopped' };

/**
 * A message's byte fields as Buffers again: a structured clone turns a Buffer into a plain
 * Uint8Array (same bytes, no copy here), and the protobuf codecs and renderers read Buffers.
 */
export function asBuffers<T extends ReqData | ResData | LoaderInput | LoaderOutput>(message: T): T {
  const fields = 'pl' in message ? message.pl : 'data' in message ? message.data : undefined;
  for (const item of fields ?? []) {
    const data = item.data;
    if (data && !Buffer.isBuffer(data)) item.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  return message;
}
