// WebSocket streaming through the whole stack: client → gateway → gRPC → loader → JS wrapper and back.
import path from 'node:path';
import WebSocket from 'ws';
import { repoRoot, startStack } from '../test/helpers/stack.js';

const framesPerSession = 10;
const frameText = Buffer.from('a streaming frame of some forty bytes....').toString('base64');

interface Totals {
  frames: number;
  sessions: number;
  errors: number;
  latenciesMs: number[];
}

/**
 * `concurrency` clients each run sessions back to back until time is up: a frame is sent once the
 * previous one's result is back, so per-frame latency is one round trip through the stack.
 */
async function drive(url: string, concurrency: number, seconds: number): Promise<Totals> {
  const totals: Totals = { frames: 0, sessions: 0, errors: 0, latenciesMs: [] };
  const until = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < until) await session(url, totals).catch(() => totals.errors++);
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return totals;
}

function session(url: string, totals: Totals): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let sent = 0;
    let sentAt = 0;
    const send = () => {
      const status = sent === 0 ? 0 : sent === framesPerSession - 1 ? 2 : 1;
      const header = status === 0 ? { app_id: 'bench', status } : { status };
      sentAt = performance.now();
      ws.send(JSON.stringify({ header, payload: { text: { status, text: frameText } } }));
      sent++;
    };
    ws.on('open', send);
    ws.on('message', (data: Buffer) => {
      const { header } = JSON.parse(data.toString('utf8')) as { header: { code: number; status: number } };
      if (header.code) return reject(new Error(`code ${header.code}`));
      totals.latenciesMs.push(performance.now() - sentAt);
      totals.frames++;
      if (header.status === 2) {
        totals.sessions++;
        ws.close();
      } else send();
    });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

/** The bench section: frames/s and per-frame latency at 1 and at 50 concurrent sessions, loader in process and in a process of its own. */
export async function streamingSection(seconds: number, concurrencies = [1, 50]): Promise<void> {
  const rows: string[] = [];
  for (const [how, args] of [
    ['asf up: WebSocket → gateway → loader on a worker thread → wrapperWrite + wrapperRead', []],
    ['asf up --isolate: WebSocket → gateway → gRPC (AIIn per frame) → loader process → wrapper', ['--isolate']],
  ] as const) {
    const stack = await startStack(['--capability', path.join(repoRoot, 'bench', 'fixtures', 'stream-echo-js'), '--log-level', 'error', ...args]);
    const url = `${stack.url.replace(/^http/, 'ws')}/v1/private/stream_echo`;
    try {
      for (const concurrency of concurrencies) {
        await drive(url, concurrency, Math.min(2, seconds)); // warm-up
        const totals = await drive(url, concurrency, seconds);
        const sorted = totals.latenciesMs.sort((a, b) => a - b);
        rows.push(
          `| ${how} | ${concurrency} | ${(totals.frames / seconds).toFixed(0)} | ${(totals.sessions / seconds).toFixed(0)} | ` +
            `${percentile(sorted, 50).toFixed(2)} | ${percentile(sorted, 99).toFixed(2)} | ${totals.errors} |`,
        );
      }
    } finally {
      await stack.stop();
    }
  }
  console.log(`\n## Streaming: WebSocket sessions of ${framesPerSession} frames, trivial JS wrapper\n`);
  console.log('| path | sessions at once | frames/s | sessions/s | per-frame p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log('\nEach client sends its next frame when the previous result is back: latency is one full round trip per frame.');
}
