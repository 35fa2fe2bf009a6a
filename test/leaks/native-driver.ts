// Exercises every path of the C bridge in one process, for test/leaks/valgrind.ts to watch:
// init, sync and async one-shot calls (answers, plugin errors, abandoned calls), sessions in both
// modes, resources, fini. Usage: node dist/test/leaks/native-driver.js [rounds]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCapability } from '../../runtime/capability/load.js';
import type { DataItem } from '../../runtime/loader/host.js';
import { NativeHost } from '../../runtime/loader/hosts/native.js';
import { RequestSignal } from '../../runtime/loader/request-signal.js';
import { buildCapability, fixtureSource, fixtureYaml } from '../helpers/c-capability.js';

const rounds = Number(process.argv[2] ?? 50);
const text = (value: string, status: 0 | 1 | 2 | 3 = 3): DataItem => ({
  key: 'text',
  data: Buffer.from(value),
  type: 0,
  status,
  attrs: { encoding: 'utf8', status: String(status) },
});
const live = () => new RequestSignal();
let calls = 0;

async function expectFailure(promise: Promise<unknown>) {
  await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    () => undefined,
  );
}

async function exercise(host: NativeHost, asyncMode: boolean, round: number) {
  const sid = (what: string) => `${asyncMode ? 'a' : 's'}-${what}-${round}`;
  const once = (what: string, input: string, signal = live()) =>
    host.once({ sid: sid(what), params: { mode: 'x' }, inputs: [text(input)], expect: ['result'], signal });
  // 100 000 bytes: an answer big enough to be handed to JS without a second copy.
  await Promise.all([once('echo1', 'hello'), once('echo2', 'x'.repeat(10_000)), once('big', 'x'.repeat(100_000)), once('undeclared', 'undeclared')]);
  await expectFailure(once('error', 'error'));
  calls += 5;

  const onResult = asyncMode ? () => undefined : undefined;
  const session = await host.createSession(sid('session'), { mode: 'x' }, { onResult });
  await host.writeSession(session, [text('one ', 1)]);
  if (!asyncMode) await host.readSession(session);
  await host.writeSession(session, [text('two', 2)]);
  if (!asyncMode) await host.readSession(session);
  await host.sessionDebugInfo(session);
  await host.destroySession(session);
  await expectFailure(host.writeSession(session, [text('late')]));

  await host.loadResource(round, Buffer.from('resource'));
  await expectFailure(host.createSession(sid('nores'), {}, { psrIds: [round + 100_000], onResult }));
  await host.unloadResource(round);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-native-leaks-'));
  try {
    for (const asyncMode of [false, true]) {
      const dir = buildCapability(tmp, asyncMode ? 'async' : 'sync', fixtureSource, fixtureYaml('fixture', { asyncMode: String(asyncMode) }));
      const spec = loadCapability(dir);
      const host = new NativeHost(spec);
      await host.start(spec.config);
      for (let round = 0; round < rounds; round++) await exercise(host, asyncMode, round);
      if (asyncMode) {
        // Abandoned while the plugin's thread sleeps; its late callbacks must be dropped cleanly.
        const signal = new RequestSignal();
        const pending = host.once({ sid: 'abandoned', params: {}, inputs: [text('sleep')], expect: ['result'], signal });
        signal.abort();
        await expectFailure(pending);
        await new Promise((resolve) => setTimeout(resolve, 800));
      }
      await host.stop();
    }
    console.log(`native driver: ${calls} one-shot calls and ${rounds * 2} sessions done`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
