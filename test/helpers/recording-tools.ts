// Stand-ins for what cannot run here (a Kubernetes cluster behind kubectl and helm, a nearly full
// disk), written as bash scripts that record their arguments, plus a PATH holding only the real
// tools install.sh needs: no Node.js, as on an air-gapped target.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './stack.js';

/** What the stand-ins answer; every field has a healthy default. */
export interface Scenario {
  /** kubectl cannot reach an API server. */
  noCluster?: boolean;
  kubeVersion?: string;
  /** "name arch gpu-present-label driver-label" per node. */
  nodes?: string[];
  nodeIp?: string;
  /** Free KiB df reports (real df when unset). */
  dfFreeKiB?: number;
  /** systemd runs on this "node" (install.sh then uses the systemctl stand-in). */
  systemd?: boolean;
  /** helm test (the post-install check) fails: a capability did not answer. */
  checkFails?: boolean;
}

export interface RecordingTools {
  /** PATH for install.sh: the stand-ins, then the real tools it needs. */
  path: string;
  dir: string;
  /** Environment the stand-ins read (where to record, what to answer). */
  env: Record<string, string>;
  scenario(s: Scenario): void;
  /** Recorded calls, one "tool arg arg..." line each, in order. */
  calls(): string[];
  clearCalls(): void;
  /** Forgets the recorded calls and the releases helm "installed". */
  reset(): void;
}

// The real tools the stand-ins and install.sh (a launcher of asf) run, and no more: nothing the
// bash installer needed (curl, awk, sha256sum …) is here, so an install that still did is caught.
const realTools = [
  'bash', 'sh', 'sed', 'grep', 'cat', 'cp', 'mv', 'rm', 'mkdir', 'dirname', 'sleep', 'nohup', 'kill', 'printf', 'echo', 'env', 'ls',
  'chmod', 'docker-registry', 'tar', 'gzip', 'ln', 'true', 'false', 'test', 'rmdir',
];

const kubectl = String.raw`#!/bin/bash
echo "kubectl $*" >>"$STANDIN_DIR/calls"
s="$STANDIN_DIR/scenario"
if [ -f "$s/no-cluster" ]; then echo "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?" >&2; exit 1; fi
case "$1 $2" in
  "version -o")
    printf '{"clientVersion":{"gitVersion":"v1.30.1"},\n"serverVersion":{"major":"1","gitVersion":"%s","platform":"linux/amd64"}}\n' "$(cat "$s/kube-version")" ;;
  "get nodes")
    case "$*" in
      *InternalIP*) cat "$s/node-ip" ;;
      *) cat "$s/nodes" ;;
    esac ;;
  # Namespaces: one file each, holding its asf.io/created-by label.
  "get namespace")
    [ -f "$s/namespaces/$3" ] || { echo "Error from server (NotFound): namespaces \"$3\" not found" >&2; exit 1; }
    [[ "$*" == *jsonpath* ]] && cat "$s/namespaces/$3" ;;
  "create namespace") mkdir -p "$s/namespaces"; : >"$s/namespaces/$3" ;;
  "label namespace") printf '%s' "\${4#*=}" >"$s/namespaces/$3" ;;
  "delete namespace") rm -f "$s/namespaces/$3" ;;
  # Pods of a namespace: none (nothing runs behind a stand-in).
  -n\ *) ;;
  *) echo "kubectl stand-in: no answer for: $*" >&2; exit 1 ;;
esac
`;

// Each release it "installed" is a file named after it holding the description it was given.
const helm = String.raw`#!/bin/bash
echo "helm $*" >>"$STANDIN_DIR/calls"
releases="$STANDIN_DIR/scenario/releases"
mkdir -p "$releases"
case "$1" in
  status)
    release="$releases/$2"
    [ -f "$release" ] || { echo "Error: release: not found" >&2; exit 1; }
    if [[ " $* " == *" -o json "* ]]; then printf '{"name":"%s","info":{"status":"deployed","description":"%s"}}\n' "$2" "$(cat "$release")"
    else printf 'NAME: %s\nSTATUS: deployed\n' "$2"; fi ;;
  upgrade)
    : >"$releases/$3"
    prev=""; for a in "$@"; do [ "$prev" = --description ] && printf '%s' "$a" >"$releases/$3"; prev="$a"; done
    echo "Release \"$3\" has been upgraded. Happy Helming!" ;;
  uninstall) rm -f "$releases/$2"; echo "release \"$2\" uninstalled" ;;
  # The check Pods' logs, as helm test --logs prints them.
  test)
    printf 'NAME: %s\nPOD LOGS: %s-mmocr-check\n' "$2" "$2"
    if [ -f "$STANDIN_DIR/scenario/check-fails" ]; then
      printf 'check mmocr: FAILED: HTTP 503, code 10200: no loader of mmocr is ready\ncheck failed: 1 of 1 capabilities did not answer\n'
      echo "Error: 1 error occurred: * pod $2-mmocr-check failed" >&2; exit 1
    fi
    printf 'Phase: Succeeded\ncheck mmocr: ok in 812 ms; boxes: 3 boxes: "ASF KIT"\ncheck ok: 1 capabilities answered\n' ;;
  # Rendering needs no cluster: the real helm does it.
  template) exec "$STANDIN_REAL_HELM" "$@" ;;
  *) echo "helm stand-in: no answer for: $*" >&2; exit 1 ;;
esac
`;

const df = String.raw`#!/bin/bash
echo "df $*" >>"$STANDIN_DIR/calls"
if [ -f "$STANDIN_DIR/scenario/df-free" ]; then
  echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
  echo "/dev/standin 1000000 999000 $(cat "$STANDIN_DIR/scenario/df-free") 99% /"
else exec "$STANDIN_REAL_DF" "$@"; fi
`;

// No systemd here: units "run" as background processes of the stand-in, one pid file each.
const systemctl = String.raw`#!/bin/bash
echo "systemctl $*" >>"$STANDIN_DIR/calls"
run="$STANDIN_DIR/systemd-units"; mkdir -p "$run"
unit=""; for a in "$@"; do [[ "$a" == --* ]] || unit="$a"; done
pidfile="$run/$unit.pid"; file="$ASF_SYSTEMD_UNIT_DIR/$unit"
alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
stop() {
  if alive; then pid="$(cat "$pidfile")"; kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; fi
  rm -f "$pidfile"
}
case "$1" in
  daemon-reload) ;;
  enable) : >"$run/$unit.enabled" ;;
  disable) rm -f "$run/$unit.enabled"; [[ " $* " != *" --now "* ]] || stop ;;
  start|restart)
    [ "$1" = start ] && alive && exit 0
    stop
    log="$(sed -n 's/^StandardOutput=append://p' "$file")"
    nohup $(sed -n 's/^ExecStart=//p' "$file") >>"$log" 2>&1 </dev/null &
    echo $! >"$pidfile" ;;
  stop) stop ;;
  is-active) alive ;;
  show) if alive; then cat "$pidfile"; else echo 0; fi ;;
  *) echo "systemctl stand-in: no answer for: $*" >&2; exit 1 ;;
esac
`;

export function recordingTools(): RecordingTools {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-standin-'));
  const standins = path.join(dir, 'standin-bin');
  const tools = path.join(dir, 'tools-bin');
  fs.mkdirSync(standins);
  fs.mkdirSync(tools);
  fs.mkdirSync(path.join(dir, 'scenario'));
  for (const [name, text] of Object.entries({ kubectl, helm, df, systemctl })) fs.writeFileSync(path.join(standins, name), text, { mode: 0o755 });
  for (const tool of realTools) {
    const found = execFileSync('bash', ['-c', `command -v ${tool} || true`]).toString().trim();
    if (found.startsWith('/')) fs.symlinkSync(found, path.join(tools, tool));
  }
  const realDf = execFileSync('bash', ['-c', 'command -v df']).toString().trim();
  const realHelm = execFileSync(path.join(repoRoot, 'scripts', 'tools', 'helm.sh'), ['--path']).toString().trim();
  const env = {
    STANDIN_DIR: dir,
    STANDIN_REAL_DF: realDf,
    STANDIN_REAL_HELM: realHelm,
    // install.sh asks these where systemd would run and keep units (never the machine's own).
    ASF_SYSTEMD_RUN_DIR: path.join(dir, 'scenario', 'systemd-run'),
    ASF_SYSTEMD_UNIT_DIR: path.join(dir, 'systemd-unit-files'),
  };
  const scenario = (s: Scenario) => {
    const file = (name: string, value: string | undefined) => {
      const p = path.join(dir, 'scenario', name);
      if (value === undefined) fs.rmSync(p, { force: true });
      else fs.writeFileSync(p, value);
    };
    file('no-cluster', s.noCluster ? '' : undefined);
    file('kube-version', s.kubeVersion ?? 'v1.29.2');
    file('nodes', (s.nodes ?? ['node-1 amd64  ']).join('\n') + '\n');
    file('node-ip', s.nodeIp ?? '10.0.0.5');
    file('df-free', s.dfFreeKiB === undefined ? undefined : String(s.dfFreeKiB));
    file('check-fails', s.checkFails ? '' : undefined);
    if (s.systemd) fs.mkdirSync(env.ASF_SYSTEMD_RUN_DIR, { recursive: true });
    else fs.rmSync(env.ASF_SYSTEMD_RUN_DIR, { recursive: true, force: true });
  };
  scenario({});
  return {
    path: `${standins}:${tools}`,
    dir,
    scenario,
    calls: () => {
      const file = path.join(dir, 'calls');
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    clearCalls: () => fs.rmSync(path.join(dir, 'calls'), { force: true }),
    reset: () => {
      fs.rmSync(path.join(dir, 'calls'), { force: true });
      fs.rmSync(path.join(dir, 'scenario', 'releases'), { recursive: true, force: true });
      fs.rmSync(path.join(dir, 'scenario', 'namespaces'), { recursive: true, force: true });
    },
    env,
  };
}
