// Kubefile + entrypoint.sh (the sealos application image). entrypoint.sh runs for real (bash)
// against STUB helm and kubectl scripts put first on PATH: the stubs only record their arguments.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

/** A workdir laid out like a cpu bundle's cluster image root after `sealos run` (registry/ is not copied there). */
function imageRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-kubefile-'));
  fs.cpSync(path.join(repoRoot, 'charts', 'asf'), path.join(dir, 'charts', 'asf'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'images', 'shim'), path.join(dir, 'images', 'shim'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'entrypoint.sh'), path.join(dir, 'entrypoint.sh'));
  return dir;
}

/** STUB helm/kubectl: append one line per call (argv joined by tabs) to $STUB_LOG; exit with $STUB_<TOOL>_EXIT. */
function stubBin(dir: string, tools: string[]): string {
  const bin = path.join(dir, 'stub-bin');
  fs.mkdirSync(bin);
  for (const tool of tools) {
    const exitVar = `STUB_${tool.toUpperCase()}_EXIT`;
    fs.writeFileSync(
      path.join(bin, tool),
      `#!/usr/bin/env bash\n# STUB ${tool}: records its arguments, does nothing else.\n` +
        `(IFS=$'\\t'; echo "${tool}"$'\\t'"$*") >>"$STUB_LOG"\n` +
        // helm status / helm list answer as told (STUB_HELM_STATUS_EXIT, STUB_HELM_LIST), for the release lookup.
        `if [ "$1" = status ] && [ -n "\${STUB_${tool.toUpperCase()}_STATUS_EXIT:-}" ]; then exit "$STUB_${tool.toUpperCase()}_STATUS_EXIT"; fi\n` +
        `if [ "$1" = list ]; then printf '%b\\n' "\${STUB_${tool.toUpperCase()}_LIST:-}"; fi\n` +
        `exit "\${${exitVar}:-0}"\n`,
      { mode: 0o755 },
    );
  }
  return bin;
}

/** Runs `bash entrypoint.sh` as sealos does (from the workdir), with the Kubefile's ENV unless overridden. */
async function runEntrypoint(dir: string, bin: string, env: Record<string, string> = {}, kubefileEnv = true, bash = 'bash') {
  const log = path.join(dir, 'calls.log');
  const base: Record<string, string> = kubefileEnv ? kubefileEnvDefaults() : {};
  const r = await exec(bash, ['-c', `${bash} entrypoint.sh`], {
    cwd: dir,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, STUB_LOG: log, ...base, ...env },
  });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t')) : [];
  fs.rmSync(log, { force: true });
  return { ...r, calls };
}

function kubefile(): string {
  return fs.readFileSync(path.join(repoRoot, 'Kubefile'), 'utf8');
}

function kubefileEnvDefaults(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of kubefile().matchAll(/^ENV (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  return env;
}

const installArgs = (release: string, namespace: string, nodePort: string, extra: string[] = []) => [
  'helm', 'upgrade', '--install', release, 'charts/asf', '--namespace', namespace, '--create-namespace',
  '--set', `gateway.service.nodePort=${nodePort}`, ...extra,
];

describe('Kubefile + entrypoint.sh (entrypoint against STUB helm/kubectl)', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const fresh = () => {
    const dir = imageRoot();
    dirs.push(dir);
    return { dir, bin: stubBin(dir, ['helm', 'kubectl']) };
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("Kubefile: FROM scratch, application type, a cpu bundle root's entries copied (the builder writes each bundle's), CMD bash entrypoint.sh", () => {
    const text = kubefile();
    const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.equal(lines[0], 'FROM scratch');
    assert.match(text, /^LABEL sealos\.io\.type="application"$/m);
    const copies = lines.filter((l) => l.startsWith('COPY ')).map((l) => l.split(/\s+/).slice(1));
    const cpuRoot = ['Kubefile', 'MANIFEST.md', 'bundle.json', 'charts', 'checksums', 'entrypoint.sh', 'images', 'registry', 'sbom.spdx.json'];
    assert.deepEqual(copies, cpuRoot.map((e) => [e, e]));
    assert.equal(lines.at(-1), 'CMD ["bash entrypoint.sh"]');
    assert.deepEqual(Object.keys(kubefileEnvDefaults()).sort(), ['HELM_OPTS', 'NAMESPACE', 'NODE_PORT', 'RELEASE_NAME']);
    // Every ENV the Kubefile sets is one entrypoint.sh reads.
    const script = fs.readFileSync(path.join(repoRoot, 'entrypoint.sh'), 'utf8');
    assert.match(script, /^set -euo pipefail$/m);
    for (const key of Object.keys(kubefileEnvDefaults())) assert.match(script, new RegExp(`\\$\\{${key}:-`));
    const code = script.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    assert.doesNotMatch(code, /--wait|--atomic/, 'no blocking helm --wait (sealos: 300 s limit)');
  });

  // Installing with the Kubefile defaults, and a re-run that upgrades the same release, run for
  // real against a cluster in test/e2e/cluster.test.ts.
  it('with the defaults it upgrades an existing release of the chart of another name (sealos keeps no -e between runs)', async () => {
    const { dir, bin } = fresh();
    // No release "asf" in "asf" (status fails), and helm list shows one installed as -e RELEASE_NAME=ocr -e NAMESPACE=ai.
    const r = await runEntrypoint(dir, bin, {
      STUB_HELM_STATUS_EXIT: '1',
      STUB_HELM_LIST: 'NAME\tNAMESPACE\tREVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION\nocr\tai\t1\t2026-12-07 03:28:58 +0000 UTC\tdeployed\tasf-0.1.0\t0.1.0',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /upgrading the existing release ocr in ai/);
    assert.deepEqual(r.calls.find((c) => c[1] === 'upgrade'), installArgs('ocr', 'ai', '30889'));
  });

  it('with the defaults and no release anywhere it installs release asf in namespace asf', async () => {
    const { dir, bin } = fresh();
    const r = await runEntrypoint(dir, bin, { STUB_HELM_STATUS_EXIT: '1', STUB_HELM_LIST: 'NAME\tNAMESPACE\tREVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls.find((c) => c[1] === 'upgrade'), installArgs('asf', 'asf', '30889'));
  });

  it('runs under bash 4.2 (CentOS/RHEL 7 masters), with and without a values file and HELM_OPTS; no array expansion left that bash < 4.4 calls unbound', async function () {
    const code = fs.readFileSync(path.join(repoRoot, 'entrypoint.sh'), 'utf8').split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    assert.doesNotMatch(code, /\$\{\w+\[[@*]\]/, 'an array expansion: under set -u bash < 4.4 aborts on an empty one');
    const oldBash = process.env['ASF_OLD_BASH'] ?? '/opt/peers/bash-4.2/bin/bash';
    if (!fs.existsSync(oldBash)) {
      console.warn(`    skipped the bash 4.2 run: no ${oldBash} (build GNU bash 4.2 there, or set ASF_OLD_BASH)`);
      return;
    }
    const version = await exec(oldBash, ['--version']);
    assert.match(version.stdout, /version 4\.2\./);
    const { dir, bin } = fresh();
    const plain = await runEntrypoint(dir, bin, { HELM_OPTS: '' }, true, oldBash);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(plain.calls.find((c) => c[1] === 'upgrade'), installArgs('asf', 'asf', '30889'));
    fs.writeFileSync(path.join(dir, 'charts', 'asf.values.yaml'), 'gateway:\n  replicas: 2\n');
    const withValues = await runEntrypoint(dir, bin, { HELM_OPTS: '--set a=b' }, true, oldBash);
    assert.equal(withValues.code, 0, withValues.stderr);
    assert.deepEqual(withValues.calls.find((c) => c[1] === 'upgrade'), installArgs('asf', 'asf', '30889', ['--values', 'charts/asf.values.yaml', '--set', 'a=b']));
  });

  it('honours sealos run -e overrides: release, namespace, NodePort, extra helm flags, charts/asf.values.yaml', async () => {
    const { dir, bin } = fresh();
    fs.writeFileSync(path.join(dir, 'charts', 'asf.values.yaml'), 'gateway:\n  replicas: 2\n');
    const r = await runEntrypoint(dir, bin, {
      RELEASE_NAME: 'ocr',
      NAMESPACE: 'ai-serving',
      NODE_PORT: '31000',
      HELM_OPTS: '--set capabilities.mmocr.replicas=3 --set global.imageRegistry=sealos.hub:5000',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls[0], installArgs('ocr', 'ai-serving', '31000', [
      '--values', 'charts/asf.values.yaml',
      '--set', 'capabilities.mmocr.replicas=3', '--set', 'global.imageRegistry=sealos.hub:5000',
    ]));
    assert.match(r.stdout, /helm test ocr -n ai-serving/);
  });

  it('a gpu bundle (charts/nvidia-device-plugin present): installs the device plugin release after ours, in the same namespace', async () => {
    const { dir, bin } = fresh();
    fs.cpSync(path.join(repoRoot, 'charts', 'nvidia-device-plugin'), path.join(dir, 'charts', 'nvidia-device-plugin'), { recursive: true });
    const r = await runEntrypoint(dir, bin, { NAMESPACE: 'ai-serving' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls.slice(0, 2), [
      installArgs('asf', 'ai-serving', '30889'),
      ['helm', 'upgrade', '--install', 'nvidia-device-plugin', 'charts/nvidia-device-plugin', '--namespace', 'ai-serving', '--create-namespace'],
    ]);
  });

  it('stops with helm\'s failure (set -e) and says so when helm is missing', async () => {
    const { dir, bin } = fresh();
    const failed = await runEntrypoint(dir, bin, { STUB_HELM_EXIT: '3' });
    assert.equal(failed.code, 3);
    assert.deepEqual(failed.calls.at(-1)?.slice(0, 3), ['helm', 'upgrade', '--install'], 'nothing runs after the failed helm call');
    assert.doesNotMatch(failed.stdout, /release .* applied/);

    fs.rmSync(path.join(bin, 'helm'));
    const missing = await runEntrypoint(dir, bin);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /helm is not on PATH/);
    assert.deepEqual(missing.calls, []);
  });
});
