// The in-process peer of the bridge benchmark: NativeHost (the loader's C host) hosting a capability
// in this process, driven by once() calls as the loader makes them, `inFlight` at a time.
// Usage: node dist/bench/native-driver.js CAPABILITY_DIR CALLS IN_FLIGHT ROUNDS
// Prints one JSON line: {"calls", "inFlight", "usPerCall", "cpuUsPerCall", "jsCpuUsPerCall"}, one figure per
// round: wall-clock, CPU time of the whole process (every thread) and of the JS thread alone (Linux), which
// other work on the machine disturbs less. A warm-up round runs first.
import fs from 'node:fs';
import { loadCapability } from '../runtime/capability/load.js';
import type { DataItem, OnceRequest } from '../runtime/loader/host.js';
import { NativeHost } from '../runtime/loader/hosts/native.js';
import { RequestSignal } from '../runtime/loader/request-signal.js';
import { benchText } from './native.js';

const [dir, callsArg, inFlightArg, roundsArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: native-driver CAPABILITY_DIR CALLS IN_FLIGHT ROUNDS');
const calls = Number(callsArg ?? 20_000);
const inFlight = Number(inFlightArg ?? 1);
const rounds = Number(roundsArg ?? 5);

const spec = loadCapability(dir);
const host = new NativeHost(spec);
await host.start(spec.config);

const data = Buffer.from(benchText);
const signal = new RequestSignal();
let sequence = 0;
// What the loader hands the host for a gateway request (loader.ts once()).
function request(): OnceRequest {
  const input: DataItem = { key: 'text', data, type: 0, status: 3, attrs: { status: '3', seq: '0', encoding: 'utf8' } };
  return { sid: `bench-${++sequence}`, params: {}, inputs: [input], expect: ['result'], signal };
}

/** ns this thread has run (Linux: /proc/thread-self/schedstat), or NaN elsewhere. */
function threadNs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

async function round(count: number): Promise<{ wall: number; cpu: number; jsCpu: number }> {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await host.once(request());
    }
  };
  const begin = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const js = threadNs();
  await Promise.all(Array.from({ length: inFlight }, lane));
  const jsCpu = (threadNs() - js) / 1000 / count;
  const { user, system } = process.cpuUsage(cpu);
  return { wall: Number(process.hrtime.bigint() - begin) / 1000 / count, cpu: (user + system) / count, jsCpu };
}

const [answer] = await host.once(request());
if (answer?.key !== 'result' || !answer.data.equals(data)) throw new Error(`unexpected answer from ${spec.entry}: ${JSON.stringify(answer)}`);
await round(Math.ceil(calls / 4));
const usPerCall: number[] = [];
const cpuUsPerCall: number[] = [];
const jsCpuUsPerCall: number[] = [];
for (let i = 0; i < rounds; i++) {
  const { wall, cpu, jsCpu } = await round(calls);
  usPerCall.push(wall);
  cpuUsPerCall.push(cpu);
  jsCpuUsPerCall.push(jsCpu);
}
await host.stop();
console.log(JSON.stringify({ calls, inFlight, usPerCall, cpuUsPerCall, jsCpuUsPerCall }));
