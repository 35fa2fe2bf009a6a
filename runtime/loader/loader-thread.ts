// The body of a loader thread (ThreadLoader): one capability's Loader on a worker thread of the
// gateway's process. Calls arrive as messages and leave as messages; nothing here knows gRPC.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCapability } from '../capability/load.js';
import { createHost } from './hosts/index.js';
import { Loader } from './loader.js';
import type { ReqData, ResData } from '../protocol/messages.js';
import { answerToolQuery } from './toolbox.js';
import { asBuffers, type ThreadReply, type ThreadRequest } from './thread-messages.js';

const port = parentPort!;
const spec = loadCapability((workerData as { dir: string }).dir);
const loader = new Loader(spec, createHost(spec));
const started = loader.start();

const reply = (message: ThreadReply) => port.postMessage(message);

port.on('message', (message: ThreadRequest) => {
  switch (message.type) {
    case 'call':
      loader.handle(asBuffers(message.req) as ReqData).then(
        (res: ResData) => reply({ type: 'answer', id: message.id, res }),
        (err: Error) => reply({ type: 'failed', id: message.id, message: err.message }),
      );
      return;
    case 'once':
      loader.answerOnce(message.sid, asBuffers(message.input)).then(
        (answer) => reply({ type: 'answer-once', id: message.id, answer }),
        (err: Error) => reply({ type: 'failed', id: message.id, message: err.message }),
      );
      return;
    case 'query':
      reply({ type: 'answer-query', id: message.id, body: answerToolQuery(loader, message.request) });
      return;
    case 'stop':
      void started
        .then(() => loader.stop())
        .catch(() => undefined)
        .then(() => {
          reply({ type: 'stopped' });
          port.close();
        });
      return;
  }
});
