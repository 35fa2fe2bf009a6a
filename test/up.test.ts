import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asfStreams } from './helpers/asf-run.js';
import { b64, post, repoRoot, runAsf, startStack, waitHealthy } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('asf up process supervision', function () {
  it('serves a Python capability on its own thread, a JS one on a worker thread (no gRPC hop either way), a C one from a loader process', async () => {
    const { buildCapability, fixtureSource, fixtureYaml } = await import('./helpers/c-capability.js');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-up-hosts-'));
    const cDir = buildCapability(root, 'up_c', fixtureSource, fixtureYaml('up_c'));
    const stack = await startStack(['--capability', echoDir, '--capability', path.join(repoRoot, 'test', 'fixtures', 'python', 'class_style'), '--capability', cDir]);
    try {
      const out = stack.output();
      assert.match(out, /loader +\S+examples\/echo +in a thread of this process\n/);
      assert.match(out, /loader +\S+class_style +in this process \(its Python workers are processes of their own\)/);
      assert.match(out, /loader +\S+up_c +127\.0\.0\.1:\d+ \(pid \d+\)/);
      const { status, json } = await post(`${stack.url}/v1/private/echo`, { header: { app_id: '1' }, payload: { text: { text: b64('in process') } } });
      assert.equal(status, 200, JSON.stringify(json));
    } finally {
      await stack.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('js.thread: false serves a JS capability on the gateway\'s own thread; a js setting that is not a boolean is refused naming the file', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-up-js-inline-'));
    const inline = path.join(root, 'inline');
    fs.cpSync(echoDir, inline, { recursive: true });
    const yamlFile = path.join(inline, 'capability.yaml');
    const original = fs.readFileSync(yamlFile, 'utf8');
    fs.writeFileSync(yamlFile, `${original}js:\n  thread: false\n`);
    const stack = await startStack(['--capability', inline]);
    try {
      assert.match(stack.output(), /loader +\S+inline +on the gateway's thread \(js\.thread: false\)\n/);
      assert.doesNotMatch(stack.output(), /in a thread of this process/);
      const { status, json } = await post(`${stack.url}/v1/private/echo`, { header: { app_id: '1' }, payload: { text: { text: b64('on one thread') } } });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.payload.result.text, b64('on one thread'));
    } finally {
      await stack.stop();
    }
    fs.writeFileSync(yamlFile, `${original}js:\n  thread: "no"\n`);
    const refused = await asfStreams(['schema', inline]);
    fs.rmSync(root, { recursive: true, force: true });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /inline\/capability\.yaml: js\.thread must be boolean/);
  });

  it('a JS wrapper that ends its loader thread fails that request alone; the thread starts again and the gateway never stops', async () => {
    const stack = await startStack(['--capability', path.join(repoRoot, 'test', 'fixtures', 'js', 'misbehave')]);
    try {
      const call = (text: string) => post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64(text) } } });
      const crashed = await call('exit');
      assert.equal(crashed.status, 502, crashed.text);
      assert.equal(crashed.json.header.code, 10200);
      assert.match(crashed.json.header.message, /went away while running the request/);
      await stack.waitFor(/its thread ended \(exit code 3\); starting it again/);
      const back = await call('fine');
      assert.equal(back.status, 200, back.text);
      assert.equal(stack.child.exitCode, null, 'asf up itself exited');
    } finally {
      await stack.stop();
    }
  });

  it('--isolate: every loader a process of its own; SIGTERM stops them all', async () => {
    const stack = await startStack(['--capability', echoDir, '--replicas', '2', '--isolate']);
    const pids = [...stack.output().matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 2);
    assert.match(stack.output(), new RegExp(`ready +POST ${stack.url}/v1/private/echo`));
    assert.ok(pids.every(alive));
    const code = await stack.stop('SIGTERM');
    assert.equal(code, 0);
    await until(() => pids.every((pid) => !alive(pid)), 'loader processes to exit');
  });

  it('restarts a loader process that dies, on the same port, and serves again', async () => {
    const stack = await startStack(['--capability', echoDir, '--isolate']);
    try {
      const pid = Number(stack.output().match(/\(pid (\d+)\)/)![1]);
      process.kill(pid, 'SIGKILL');
      await stack.waitFor(/loader \S+ \(port \d+\) died \(SIGKILL\); restarting/);
      // Sent while the loader is down: the gateway waits for it to come back instead of failing.
      const { status, json } = await post(`${stack.url}/v1/private/echo`, { header: { app_id: '1' }, payload: { text: { text: b64('back') } } });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(Buffer.from(json.payload.result.text, 'base64').toString(), 'back');
      await waitHealthy(stack.url);
    } finally {
      await stack.stop();
    }
  });

  it('--demo without the mmocr capability says the demo failed and exits non-zero', async () => {
    const proc = runAsf(['up', '--port', '0', '--demo', '--capability', echoDir]);
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(proc.output(), /demo failed: mmocr answered error 10404: not found/);
  });

  it('exits non-zero with a clear message for a folder that is not a capability', async () => {
    const proc = runAsf(['up', '--port', '0', '--capability', path.join(repoRoot, 'test')]);
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(proc.output(), /holds none of index\.js, index\.mjs, index\.ts, wrapper\.py, libwrapper\.so/);
  });
});
