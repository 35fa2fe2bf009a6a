// installer/gpu/install-driver.sh with stand-in packages (no GPU here): a tiny .deb built with
// dpkg-deb, installed through a recording stand-in dpkg, and a .run installer that records its args.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeChecksums } from './helpers/bundle-fixture.js';
import { repoRoot } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

const script = path.join(repoRoot, 'installer', 'gpu', 'install-driver.sh');

// Stand-ins for the system package database and the cluster: they record calls into $REC.
const standins: Record<string, string> = {
  dpkg: `#!/bin/bash
echo "dpkg $*" >>"$REC/calls"
[ "$1" = -i ] || exit 1
shift
for deb in "$@"; do echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)" >>"$REC/installed"; done
`,
  'dpkg-query': `#!/bin/bash
pkg="\${@: -1}"
line="$(grep "^$pkg " "$REC/installed" 2>/dev/null | tail -1)"
[ -n "$line" ] || exit 1
printf '%s' "\${line#* }"
`,
  kubectl: `#!/bin/bash
echo "kubectl $*" >>"$REC/calls"
`,
};

describe('install-driver.sh (GPU packages per node, stand-in packages and dpkg)', function () {
  this.timeout(120_000);
  let work: string;
  let bundle: string;
  let rec: string;
  let env: Record<string, string>;
  const calls = () => (fs.existsSync(path.join(rec, 'calls')) ? fs.readFileSync(path.join(rec, 'calls'), 'utf8').split('\n').filter(Boolean) : []);

  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-driver-'));
    bundle = path.join(work, 'bundle');
    rec = path.join(work, 'rec');
    const bin = path.join(work, 'bin');
    fs.mkdirSync(rec);
    fs.mkdirSync(bin);
    for (const [name, text] of Object.entries(standins)) fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
    // A stand-in toolkit .deb, built for real.
    const deb = path.join(work, 'deb');
    fs.mkdirSync(path.join(deb, 'DEBIAN'), { recursive: true });
    fs.writeFileSync(path.join(deb, 'DEBIAN', 'control'), 'Package: asf-standin-toolkit\nVersion: 1.17.0-1\nArchitecture: all\nMaintainer: test <t@example.invalid>\nDescription: stand-in\n');
    fs.mkdirSync(path.join(bundle, 'packages', 'toolkit'), { recursive: true });
    const built = await exec('dpkg-deb', ['--build', '--root-owner-group', deb, path.join(bundle, 'packages', 'toolkit', 'asf-standin-toolkit_1.17.0-1_all.deb')]);
    assert.equal(built.code, 0, built.stderr);
    // A stand-in driver .run installer.
    fs.mkdirSync(path.join(bundle, 'packages', 'driver'), { recursive: true });
    fs.writeFileSync(path.join(bundle, 'packages', 'driver', 'NVIDIA-Linux-x86_64-550.54.run'), '#!/bin/sh\necho "driver.run $*" >>"$REC/calls"\n', { mode: 0o755 });
    writeChecksums(bundle);
    env = { PATH: `${bin}:${process.env.PATH}`, REC: rec, ASF_DRIVER_STATE_DIR: path.join(work, 'state') };
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('installs the .deb with dpkg -i and the .run with --silent, labels the node, and a re-run installs nothing', async () => {
    const r = await exec('bash', [script, '--bundle', bundle, '--node', 'gpu-1'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 packages match their checksums/);
    assert.deepEqual(calls(), [
      `dpkg -i ${bundle}/packages/toolkit/asf-standin-toolkit_1.17.0-1_all.deb`,
      'driver.run --silent',
      'kubectl label node gpu-1 asf.io/gpu-driver=installed --overwrite',
    ]);
    fs.rmSync(path.join(rec, 'calls'));
    const again = await exec('bash', [script, '--bundle', bundle], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(calls(), []);
    assert.match(again.stdout, /asf-standin-toolkit 1\.17\.0-1 already installed/);
    assert.match(again.stdout, /packages\/driver\/NVIDIA-Linux-x86_64-550\.54\.run already installed/);
  });

  it('a package that does not match its checksum: exit 1 naming it, nothing installed', async () => {
    fs.appendFileSync(path.join(bundle, 'packages', 'driver', 'NVIDIA-Linux-x86_64-550.54.run'), '# changed\n');
    const r = await exec('bash', [script, '--bundle', bundle], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /packages\/driver\/NVIDIA-Linux-x86_64-550\.54\.run does not match its sha256 in checksums; copy the bundle again/);
    assert.deepEqual(calls(), []);
  });

  it('a package missing from checksums is refused; a bundle without packages/ says to build the gpu profile', async () => {
    fs.writeFileSync(path.join(bundle, 'packages', 'driver', 'extra.run'), '#!/bin/sh\n');
    const r = await exec('bash', [script, '--bundle', bundle], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /packages\/driver\/extra\.run is not listed in .*checksums; refusing to install an unchecked package/);
    assert.deepEqual(calls(), []);

    const empty = await exec('bash', [script, '--bundle', work], { env });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no packages\/ in .*: this bundle carries no GPU packages \(build it with --profile gpu\)/);
  });
});
