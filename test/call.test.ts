import assert from 'node:assert/strict';
import { freePort, runAsf } from './helpers/stack.js';

async function exitOf(args: string[]) {
  const proc = runAsf(args);
  const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
  return { code, output: proc.output() };
}

describe('asf call against nothing listening', () => {
  it('says it cannot reach the service, one-shot and streaming, and exits 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}/v1/private/echo`;
    const once = await exitOf(['call', url, '-i', 'text=hi']);
    assert.equal(once.code, 1);
    assert.match(once.output, /asf: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/private\/echo \(ECONNREFUSED\); is `asf up` running\?/);
    const streamed = await exitOf(['call', url, '--stream', '-i', 'text=hi']);
    assert.equal(streamed.code, 1);
    assert.match(streamed.output, /asf: cannot reach ws:\/\/127\.0\.0\.1:\d+\/v1\/private\/echo \(ECONNREFUSED\)/);
  });
});
