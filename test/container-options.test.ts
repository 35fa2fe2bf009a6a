// What the compose file asks of the runtime, with real processes: a loader that stops when its
// capability cannot start, app ids from the environment (not the command line, which `ps` shows),
// and the error a loader gives for a capability folder its user cannot read.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { b64, freePort, post, repoRoot, runAsf, runProcess, waitHealthy, type RunningProcess } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');

describe('runtime options the compose file uses', function () {
  this.timeout(60_000);
  const procs: RunningProcess[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  });

  it('asf loader --exit-on-failure exits with status 1 when the wrapper fails to load (a container shows as exited)', async () => {
    const loader = runAsf(['loader', '--capability', path.join(repoRoot, 'test', 'fixtures', 'python', 'init_fails'), '--host', '127.0.0.1', '--port', '0', '--exit-on-failure']);
    procs.push(loader);
    const code = await new Promise((resolve) => loader.child.once('exit', resolve));
    assert.equal(code, 1, loader.output());
    assert.match(loader.output(), /capability failed to start/);
  });

  it('without it, such a loader keeps running and reports its error on health checks (as in a Kubernetes Pod)', async () => {
    const loader = runAsf(['loader', '--capability', path.join(repoRoot, 'test', 'fixtures', 'python', 'init_fails'), '--host', '127.0.0.1', '--port', '0']);
    procs.push(loader);
    await loader.waitFor(/capability failed to start/);
    assert.equal(loader.child.exitCode, null);
  });

  it('asf gateway takes its app ids from $ASF_APP_IDS (comma-separated): others are refused', async () => {
    const loaderPort = await freePort();
    const loader = runAsf(['loader', '--capability', echoDir, '--host', '127.0.0.1', '--port', String(loaderPort)]);
    procs.push(loader);
    await loader.waitFor(/capability ready/);
    const port = await freePort();
    const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(port), '--loader', `127.0.0.1:${loaderPort}`], { ASF_APP_IDS: 'app-a,app-b' });
    procs.push(gateway);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url);
    const call = (appId: string) => post(`${url}/v1/private/echo`, { header: { app_id: appId }, payload: { text: { text: b64('hi') } } });
    assert.equal((await call('app-a')).status, 200);
    assert.equal((await call('app-b')).status, 200);
    const refused = await call('app-c');
    assert.equal(refused.status, 400);
    assert.equal(refused.json.header.code, 10313);
    assert.match(refused.json.header.message, /appid 'app-c' is not allowed/);
  });

  it('a capability folder its user cannot read is named as such, not as one missing its wrapper', async function () {
    if (process.getuid?.() !== 0) this.skip(); // running as another user needs root
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-unreadable-'));
    try {
      fs.chmodSync(parent, 0o755);
      const dir = path.join(parent, 'echo');
      fs.cpSync(echoDir, dir, { recursive: true });
      fs.chmodSync(dir, 0o700);
      const loader = runProcess('setpriv', ['--reuid', '10001', '--regid', '10001', '--clear-groups', process.execPath, path.join(repoRoot, 'bin', 'asf.js'), 'loader', '--capability', dir, '--port', '0']);
      procs.push(loader);
      const code = await new Promise((resolve) => loader.child.once('exit', resolve));
      assert.equal(code, 1, loader.output());
      assert.match(loader.output(), /capability folder .*echo is not readable by this user \(uid 10001\): EACCES/);
      assert.doesNotMatch(loader.output(), /holds none of/);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
