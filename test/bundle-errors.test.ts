import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asfStreams } from './helpers/asf-run.js';

/** Cuts a copy of `file` at half its length, as an interrupted copy would. */
function truncated(file: string, out: string): string {
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return out;
}

describe('asf bundle verify / inspect: errors that name the file and say what happened', function () {
  this.timeout(60_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-bundle-errors-'));
  const tarball = path.join(root, 'asf-offline-1.0.0.tar.gz');
  const plainTar = path.join(root, 'asf-1.0.0.oci.tar');
  before(() => {
    // bundle.json first, as builds write it, then a megabyte of incompressible bytes to cut into.
    const top = path.join(root, 'asf-offline-1.0.0');
    fs.mkdirSync(top);
    fs.writeFileSync(path.join(top, 'bundle.json'), '{}');
    fs.writeFileSync(path.join(top, 'blob'), crypto.randomBytes(1 << 20));
    const members = ['asf-offline-1.0.0/bundle.json', 'asf-offline-1.0.0/blob'];
    execFileSync('tar', ['czf', tarball, '-C', root, ...members]);
    execFileSync('tar', ['cf', plainTar, '-C', root, ...members]);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const ends = (file: string) => new RegExp(`^asf: ${file.replace(/[.]/g, '\\.')}: the file ends early \\(.+\\): a copy or download cut short\\? compare it with its \\.sha256 and copy it again\\n$`);

  for (const [kind, file] of [['an offline tarball (.tar.gz)', () => tarball], ['an uncompressed tar (.oci.tar)', () => plainTar]] as const) {
    it(`verify and inspect of ${kind} cut in half exit 1 naming the file and what it suggests`, async () => {
      const cut = truncated(file(), path.join(root, `cut-${path.basename(file())}`));
      for (const command of ['verify', 'inspect']) {
        const run = await asfStreams(['bundle', command, cut]);
        assert.equal(run.code, 1, `${command}: ${run.stdout}`);
        assert.match(run.stderr, ends(cut), command);
      }
    });
  }

  it('a missing file: its name and "no such file", not a raw ENOENT', async () => {
    const missing = path.join(root, 'nowhere.tar.gz');
    for (const command of ['verify', 'inspect']) {
      const run = await asfStreams(['bundle', command, missing]);
      assert.equal(run.code, 1);
      assert.equal(run.stderr, `asf: ${missing}: no such file or folder\n`, command);
    }
  });

  it('bytes that are not gzip after a gzip header: damaged, named', async () => {
    const damaged = path.join(root, 'damaged.tar.gz');
    const bytes = fs.readFileSync(tarball);
    bytes.fill(0x55, 20, 200);
    fs.writeFileSync(damaged, bytes);
    const run = await asfStreams(['bundle', 'verify', damaged]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^asf: ${damaged.replace(/[.]/g, '\\.')}: not valid gzip data \\(.+\\): the file is damaged\\n$`));
  });

  it('inspect of a bundle whose bundle.json lists nothing (an earlier build\'s): the table, empty, not a crash', async () => {
    const run = await asfStreams(['bundle', 'inspect', path.join(root, 'asf-offline-1.0.0')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Built .* for \.$/m);
    assert.match(run.stdout, /## Images \(0; 0 distinct blobs\)/);
  });
});
