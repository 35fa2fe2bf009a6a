// The body of a loader thread (ThreadLoader): one capability's Loader on a worker thread of the
// gateway's process. Calls arrive as messages and leave as messages; nothing here knows gRPC.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { loadCapability } from '../capability/load.js';
import { createHost } from './hosts/index.js';
import { Loader } from './loader.js';
import type { ReqData, ResData } from '../protocol/messages.js';
import { answerToolQuery } from './toolbox.js';
import { asBuffers, sharedCounter, type LoaderThreadData, type ThreadReply, type ThreadRequest } from './thread-messages.js';

const port = parentPort!;
const { dir, pollMicros, counters, replies } = workerData as LoaderThreadData;
const spec = loadCapability(dir);
const loader = new Loader(spec, createHost(spec));
const started = loader.start();

// Counted after posting, for a gateway spinning for the answer (ThreadLoader).
const reply = (message: ThreadReply) => {
  replies.postMessage(message);
  Atomics.add(counters, sharedCounter.answered, 1);
};

/*
 * One call at a time, an idle thread busy-polls its port for the next call (pollMicros) before it
 * goes back to its event loop to sleep: waking a sleeping thread on an idle CPU costs more than a
 * light call. It polls only after a run of calls that came one at a time (the gateway had no
 * other call out to this thread when it sent each), so under concurrent load it never spins
 * beside a busy gateway; after a poll that found nothing, the next call is waited for asleep.
 * A wrapper's own timers wait up to pollMicros.
 */
const oneAtATimeBeforePolling = 4;
let inFlight = 0;
let oneAtATime = 0;
/** One poll at a time: calls that come and go before it runs must not queue more behind it. */
let pollQueued = false;

function begin() {
  oneAtATime = inFlight === 0 && Atomics.load(counters, sharedCounter.callsOut) <= 1 ? oneAtATime + 1 : 0;
  inFlight++;
}

function end(message: ThreadReply) {
  reply(message);
  if (--inFlight === 0 && pollMicros > 0 && oneAtATime >= oneAtATimeBeforePolling && !pollQueued) {
    pollQueued = true;
    setImmediate(pollForCall);
  }
}

function pollForCall() {
  pollQueued = false;
  if (inFlight > 0) return;
  const until = performance.now() + pollMicros / 1000;
  for (;;) {
    // The gateway counts a message after posting it: one counted before this read is on the port.
    const seen = Atomics.load(counters, sharedCounter.posted);
    const next = receiveMessageOnPort(port);
    if (next) return take(next.message as ThreadRequest);
    // Spin on the counter, not the port: taking the port's lock in a loop would hold up the gateway posting to it.
    while (Atomics.load(counters, sharedCounter.posted) === seen) {
      if (performance.now() >= until) {
        oneAtATime = oneAtATimeBeforePolling - 1;
        return;
      }
    }
  }
}

port.on('message', take);

function take(message: ThreadRequest) {
  switch (message.type) {
    case 'call':
      begin();
      loader.handle(asBuffers(message.req) as ReqData).then(
        (res: ResData) => end({ type: 'answer', id: message.id, res }),
        (err: Error) => end({ type: 'failed', id: message.id, message: err.message }),
      );
      return;
    case 'once':
      begin();
      loader.answerOnce(message.sid, asBuffers(message.input)).then(
        (answer) => end({ type: 'answer-once', id: message.id, answer }),
        (err: Error) => end({ type: 'failed', id: message.id, message: err.message }),
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
}
