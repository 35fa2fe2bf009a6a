import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asfStreams } from './helpers/asf-run.js';
import { b64, freePort, post, repoRoot, runAsf } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const echo = (url: string, service = 'echo') => post(`${url}/v1/private/${service}`, { header: { app_id: '1' }, parameter: { [service]: { mode: 'upper' } }, payload: { text: { text: b64('hi') } } });

describe('the local lifecycle: asf up -d, ps, logs, status, down; up --watch', function () {
  this.timeout(90_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-lifecycle-'));
  // Each test run keeps its stacks' state apart from the user's (and from other runs).
  const env = { ASF_STATE_HOME: path.join(root, 'state') };
  const run = (...args: string[]) => asfStreams(args, env);
  /** `asf up -d ARGS`, which must start; its output is the failure message when it does not. */
  const upDetached = async (...args: string[]) => {
    const r = await run('up', '-d', ...args);
    assert.equal(r.code, 0, `asf up -d ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  };
  after(async () => {
    await run('down', '--all');
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('asf up -d returns once the stack is ready, and ps, logs, status and down find it from another shell', async () => {
    const port = await freePort();
    const started = await run('up', '-d', '-c', echoDir, '--port', String(port), '--log-level', 'info');
    assert.equal(started.code, 0, started.stderr);
    const [, pid] = started.stdout.match(/^started in the background: pid (\d+), http:\/\/127\.0\.0\.1:\d+ \(1 capability ready\)$/m) ?? [];
    assert.ok(pid, started.stdout);
    const url = `http://127.0.0.1:${port}`;
    assert.equal((await echo(url)).json.payload.result.text, b64('HI'), 'it serves after the command returned');
    const stacks = path.join(env.ASF_STATE_HOME, 'stacks');
    assert.deepEqual(fs.readdirSync(stacks).sort(), [`${pid}.json`, `${pid}.log`]);
    const state = JSON.parse(fs.readFileSync(path.join(stacks, `${pid}.json`), 'utf8'));
    assert.deepEqual([state.pid, state.url, state.capabilities, state.settled], [Number(pid), url, [echoDir], { ready: 1, failed: 0 }]);

    const ps = await run('ps');
    assert.equal(ps.code, 0);
    assert.match(ps.stdout, new RegExp(`^${port} +${pid} +${url} +echo +ready$`, 'm'));
    const json = JSON.parse((await run('ps', '--json')).stdout);
    assert.deepEqual(json.map((s: { pid: number; capabilities: unknown }) => [s.pid, s.capabilities]), [[Number(pid), [{ name: 'echo', state: 'ready' }]]]);

    await post(`${url}/v1/private/echo`, { header: { app_id: '1' }, payload: {} });
    const logs = await run('logs');
    assert.match(logs.stdout, /^ready +POST .*\/v1\/private\/echo$/m);
    assert.match(logs.stdout, /^info +request failed {2}sid=\S+ service=echo code=10163/m);
    const filtered = await run('logs', 'echo');
    assert.ok(filtered.stdout.split('\n').filter(Boolean).every((line) => line.includes('echo')), filtered.stdout);

    const status = await run('status', '--local');
    assert.equal(status.code, 0, status.stdout);
    assert.equal(status.stdout, `status: local stack ${url} (pid ${pid}): capability echo: ready\n`);

    const down = await run('down');
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout, `stopped ${url} (pid ${pid})\n`);
    assert.equal(alive(Number(pid)), false, 'the stack process is gone');
    assert.equal((await run('ps')).stdout, 'no local stack is running (start one with asf up -d)\n');
    assert.deepEqual(fs.readdirSync(stacks), [], 'no state or log left');
  });

  it('-d bundled with other short flags (asf up -dc DIR) starts one background stack, not a chain of them', async () => {
    const port = await freePort();
    const started = await run('up', '-dc', echoDir, '--port', String(port));
    assert.equal(started.code, 0, started.stdout + started.stderr);
    assert.match(started.stdout, /^started in the background: pid \d+/);
    const listed = (await run('ps', '--json')).stdout;
    assert.equal((JSON.parse(listed) as unknown[]).length, 1, listed);
    assert.equal((await run('down', '--port', String(port))).code, 0);
  });

  it('asf logs -f follows the output until the stack stops', async () => {
    const port = await freePort();
    await upDetached('-c', echoDir, '--port', String(port), '--log-level', 'info');
    const follow = runAsf(['logs', '-f'], env);
    const exited = new Promise((resolve) => follow.child.once('exit', resolve));
    try {
      await follow.waitFor(/^ready /m);
      await post(`http://127.0.0.1:${port}/v1/private/echo`, { header: { app_id: '1' }, payload: {} });
      await follow.waitFor(/request failed/);
      assert.equal((await run('down')).code, 0);
      assert.equal(await exited, 0);
      assert.match(follow.output(), /SIGTERM: stopping/);
    } finally {
      await follow.stop();
    }
  });

  it('a stack killed outright is dropped from ps, and down then finds nothing to stop', async () => {
    const port = await freePort();
    const started = await run('up', '-d', '-c', echoDir, '--port', String(port));
    const pid = Number(started.stdout.match(/pid (\d+)/)?.[1]);
    assert.ok(pid, started.stdout);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await run('ps')).stdout, 'no local stack is running (start one with asf up -d)\n');
    assert.equal(fs.existsSync(path.join(env.ASF_STATE_HOME, 'stacks', `${pid}.json`)), false, 'its state file is removed');
    assert.equal((await run('down')).stdout, 'no local stack is running\n');
  });

  it('asf up -d of a stack that cannot start exits 1 with its output; down, logs and status say when there is nothing', async () => {
    const failed = await run('up', '-d', '-c', path.join(repoRoot, 'test'), '--port', '0');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /holds none of index\.js/);
    assert.match(failed.stderr, /^asf: the stack did not start \(its output above is also in .*\.log\)$/m);
    assert.equal((await run('down')).stdout, 'no local stack is running\n');
    const logs = await run('logs');
    assert.deepEqual([logs.code, logs.stderr], [1, 'asf: no local stack is running (start one with asf up -d)\n']);
    assert.equal((await run('status', '--local')).stdout, 'status: no local stack is running\n');
    const unknown = await run('down', '--port', '1');
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'asf: no local stack on port 1\n']);
  });

  it('ps and status --local report a capability that failed (exit 1), and two stacks need --port', async () => {
    const bad = path.join(root, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'index.js'), 'export const wrapperInit = () => 3;\nexport const wrapperOnceExec = () => ({ list: [] });\n');
    const [p1, p2] = [await freePort(), await freePort()];
    await upDetached('-c', echoDir, '-c', bad, '--port', String(p1));
    await upDetached('-c', echoDir, '--port', String(p2));
    assert.match((await run('ps')).stdout, new RegExp(`^${p1} .* bad +failed: wrapperInit returned 3`, 'm'));
    const status = await run('status', '--local');
    assert.equal(status.code, 1);
    assert.match(status.stdout, /capability bad: not ready \(failed: wrapperInit returned 3/);
    const which = await run('down');
    assert.deepEqual([which.code, which.stderr], [1, `asf: 2 local stacks are running (ports ${p1}, ${p2}): say which with --port\n`]);
    assert.equal((await run('down', '--port', String(p2))).code, 0);
    assert.equal((await run('down', '--all')).code, 0);
    assert.equal((await run('ps')).stdout, 'no local stack is running (start one with asf up -d)\n');
  });

  it('asf up --watch restarts a capability whose files change; the others keep serving throughout', async () => {
    const dir = path.join(root, 'live');
    fs.cpSync(echoDir, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'capability.yaml'), fs.readFileSync(path.join(dir, 'capability.yaml'), 'utf8').replace('serviceId: echo', 'serviceId: live'));
    const other = path.join(root, 'steady');
    fs.cpSync(echoDir, other, { recursive: true });
    fs.writeFileSync(path.join(other, 'capability.yaml'), fs.readFileSync(path.join(other, 'capability.yaml'), 'utf8').replace('serviceId: echo', 'serviceId: steady'));
    const port = await freePort();
    const up = runAsf(['up', '--watch', '-c', dir, '-c', other, '--port', String(port)], env);
    try {
      await up.waitFor(/ready +POST .*live(.|\n)*ready +POST .*steady|ready +POST .*steady(.|\n)*ready +POST .*live/);
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await echo(url, 'live')).json.payload.result.text, b64('HI'));
      const index = path.join(dir, 'index.js');
      fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace('.toUpperCase()', ".toUpperCase() + '!'"));
      await up.waitFor(/^reload +\S+live: index\.js changed; restarting its loader$/m);
      // Until the new loader answers, live may be briefly unavailable; steady never is.
      let answer = '';
      while (answer !== b64('HI!')) {
        assert.equal((await echo(url, 'steady')).status, 200);
        answer = (await echo(url, 'live')).json?.payload?.result?.text ?? '';
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await up.stop();
    }
  });
});
