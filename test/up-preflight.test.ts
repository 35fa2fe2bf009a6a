import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { asf } from './helpers/asf-run.js';
import { freePort, repoRoot } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');

/** Asserts that `asf up ARGS` exits with `code`, printing `message` on one asf: line and no stack banner. */
async function refused(args: string[], code: number, message: RegExp) {
  const out = await asf(['up', ...args]);
  assert.equal(out.code, code, out.output);
  assert.match(out.output, message);
  assert.doesNotMatch(out.output, /embedded stack|loader +\//, 'nothing started');
  return out.output;
}

describe('asf up: what it refuses before starting anything', function () {
  this.timeout(60_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-preflight-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('the same folder twice: use --replicas', async () => {
    await refused(['--port', '0', '-c', echoDir, '-c', `${echoDir}/`], 1, /^asf: capability .*examples\/echo is given more than once; for more loaders of it use --replicas N$/m);
  });

  it('two folders with the same serviceId', async () => {
    const copy = path.join(root, 'other');
    fs.cpSync(echoDir, copy, { recursive: true });
    await refused(['--port', '0', '-c', echoDir, '-c', copy], 1, /^asf: .*examples\/echo and .*other are both serviceId 'echo': give one of them another serviceId/m);
  });

  it('a port out of range is a usage error (exit 2)', async () => {
    await refused(['--port', '70000', '-c', echoDir], 2, /port must be an integer from 0 to 65535, got '70000'/);
  });

  it('a port in use, named with what to do, before any loader starts', async () => {
    const port = await freePort();
    const taken = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    try {
      const output = await refused(['--port', String(port), '-c', echoDir], 1, new RegExp(`^asf: port ${port} on 127\\.0\\.0\\.1 is in use \\(another asf up\\?\\): pick another with --port$`, 'm'));
      assert.doesNotMatch(output, /EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  it('a listen address that is not this machine’s', async () => {
    await refused(['--port', '0', '--host', '192.0.2.1', '-c', echoDir], 1, /^asf: cannot listen on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this machine \(--host\)$/m);
  });

  it('exits 1 when no capability could start, with the setup hint of a folder that has a setup.sh', async () => {
    const dir = path.join(root, 'needs-setup');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'index.js'), 'export const wrapperInit = () => 5;\nexport const wrapperOnceExec = () => ({ list: [] });\n');
    fs.writeFileSync(path.join(dir, 'setup.sh'), '#!/bin/sh\n');
    const out = await asf(['up', '--port', '0', '-c', dir]);
    assert.equal(out.code, 1, out.output);
    assert.match(out.output, /^failed +needs-setup: wrapperInit returned 5/m);
    assert.match(out.output, new RegExp(`^asf: no capability could start; run ${dir}/setup\\.sh \\(it prepares that capability's environment\\)$`, 'm'));
  });
});
