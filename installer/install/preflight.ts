// Checks the cluster before anything changes: reachable, new enough, nodes of the bundle's
// architectures, GPU nodes with drivers for a gpu install, disk for a served registry.
import fs from 'node:fs';
import path from 'node:path';
import { bundleArchitectures, type InstallBundle } from './bundle.js';
import { fail } from './errors.js';
import type { Settings } from './settings.js';
import { helmBinary, kubectl, lastLine, onPath, tool } from './tools.js';

const minKubeMinor = 25;

interface Node {
  name: string;
  arch: string;
  gpu: boolean;
  driver: string;
}

// One line per node, fields in a fixed order: kubectl renders them, nothing parses JSON by hand.
const nodesJsonpath =
  '{range .items[*]}{.metadata.name}{" "}{.status.nodeInfo.architecture}{" "}{.metadata.labels.nvidia\\.com/gpu\\.present}{" "}{.metadata.labels.asf\\.io/gpu-driver}{"\\n"}{end}';

async function clusterVersion(): Promise<string> {
  const r = await kubectl('version', '-o', 'json');
  if (!r.ok) fail(`cannot reach the cluster with kubectl (${lastLine(r.stderr || r.stdout)}); check KUBECONFIG and that the API server is up`);
  let version: { serverVersion?: { gitVersion?: string } } = {};
  try {
    version = JSON.parse(r.stdout) as typeof version;
  } catch {
    // no server part: said below
  }
  const git = version.serverVersion?.gitVersion;
  if (!git) fail('kubectl could not tell the server version; is the cluster reachable?');
  return git;
}

async function nodes(): Promise<Node[]> {
  const r = await kubectl('get', 'nodes', '-o', `jsonpath=${nodesJsonpath}`);
  if (!r.ok) fail('kubectl get nodes failed; may your user list nodes?');
  const list = r.stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [name = '', arch = '', gpu = '', driver = ''] = line.split(' ');
      return { name, arch, gpu: gpu === 'true', driver };
    });
  if (list.length === 0) fail('the cluster has no nodes');
  return list;
}

/** KiB the bundle's registry/ takes on disk (what serving it copies). */
function diskKiB(dir: string): number {
  let kib = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) kib += Math.ceil(fs.statSync(path.join(entry.parentPath, entry.name)).size / 4096) * 4;
  }
  return kib;
}

async function freeKiB(dir: string): Promise<{ parent: string; free?: number }> {
  let parent = dir;
  while (!fs.existsSync(parent)) parent = path.dirname(parent);
  const r = await tool('df', ['-Pk', parent]);
  const free = Number(r.stdout.split('\n')[1]?.trim().split(/\s+/)[3]);
  return { parent, free: Number.isFinite(free) ? free : undefined };
}

export async function preflight(settings: Settings, bundle: InstallBundle, profile: 'cpu' | 'gpu', log: (line: string) => void): Promise<void> {
  log('preflight: checking the cluster before changing anything');
  if (!onPath('kubectl')) fail('kubectl is not on PATH; install it and point it at the cluster (KUBECONFIG)');
  if (!helmBinary(bundle.root)) fail(`helm not found (neither ${bundle.root}/bin/helm nor on PATH)`);
  const git = await clusterVersion();
  const minor = /^v1\.([0-9]+)/.exec(git)?.[1];
  if (minor === undefined || Number(minor) < minKubeMinor) fail(`Kubernetes ${git} is too old: the chart needs v1.${minKubeMinor} or newer`);
  log(`preflight: cluster reachable, Kubernetes ${git} (>= v1.${minKubeMinor})`);

  const found = await nodes();
  const archs = bundleArchitectures(bundle);
  if (archs.length > 0) {
    const bad = found.filter((n) => !archs.includes(n.arch)).map((n) => `${n.name}(${n.arch})`);
    if (bad.length > 0) fail(`node architecture not in the bundle: ${bad.join(' ')}; this bundle carries images for: ${archs.join(' ')}`);
    log(`preflight: ${found.length} nodes, all ${archs.join(' ')}`);
  }

  if (profile === 'gpu') {
    const gpuNodes = found.filter((n) => n.gpu);
    if (gpuNodes.length === 0) {
      fail('GPU profile, but no node is labelled nvidia.com/gpu.present=true; label the GPU nodes (kubectl label node NAME nvidia.com/gpu.present=true)');
    }
    const missing = gpuNodes.filter((n) => !n.driver).map((n) => n.name);
    if (missing.length > 0) {
      fail(
        `GPU driver missing on: ${missing.join(' ')}; on each, run the bundle's install-driver.sh --node NAME (it installs packages/ and labels the node asf.io/gpu-driver=<version>), or label a node whose driver is already there`,
      );
    }
    log(`preflight: GPU nodes with a driver: ${gpuNodes.map((n) => n.name).join(' ')}`);
  }

  if (settings.serveAddr) {
    const need = diskKiB(bundle.registry);
    const { parent, free } = await freeKiB(settings.stateDir);
    if (free === undefined || free < need) {
      fail(`not enough disk for the registry in ${settings.stateDir}: need ${need} KiB, ${parent} has ${free ?? '?'} KiB free; free space or pass --state-dir`);
    }
    log(`preflight: disk for the registry: need ${need} KiB, ${free} KiB free in ${parent}`);
  }
}
