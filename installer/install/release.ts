// Our helm release (and the NVIDIA device plugin's beside it on gpu installs): the values an
// install gives, the check that every image it would run is in the bundle, an upgrade that adds
// no revision when nothing changed, the post-install check (helm test) and removal.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageLines } from '../bundle/charts.js';
import { manifestFile } from '../bundle/manifest.js';
import { hasRevision, tagDigest } from '../registry/layout.js';
import { bundleRefs, devicePluginChart, releaseChart, type InstallBundle } from './bundle.js';
import { fail } from './errors.js';
import type { Settings } from './settings.js';
import { helmBinary, kubectl, lastLine, tool, toolShown } from './tools.js';

export const devicePluginRelease = 'nvidia-device-plugin';
const createdByLabel = 'asf.io/created-by';

/** helm arguments after the chart; the same for the image check and the install. */
export interface ReleaseValues {
  args: string[];
  /** Removes the private values file holding pull credentials, if one was written. */
  dispose(): void;
}

export function releaseValues(settings: Settings, bundle: InstallBundle): ReleaseValues {
  const chart = releaseChart(bundle);
  const args = ['--namespace', settings.namespace, '--create-namespace', '--set', `gateway.service.nodePort=${settings.nodePort}`];
  if (settings.registry) args.push('--set', `global.imageRegistry=${settings.registry.address}`);
  // The profile's values (GPU scheduling for the gpu profile) come with the bundle.
  if (fs.existsSync(`${chart}.values.yaml`)) args.push('--values', `${chart}.values.yaml`);
  // Pods pull from a registry with credentials through a pull secret the chart creates from them;
  // they reach helm in a private values file, never on a command line (visible in ps).
  let secretDir: string | undefined;
  if (settings.registry?.user) {
    secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-install-'));
    const file = path.join(secretDir, 'pull-secret.yaml');
    const auth = Buffer.from(`${settings.registry.user}:${settings.registry.password ?? ''}`).toString('base64');
    fs.writeFileSync(file, `global:\n  imageRegistryAuth: "${auth}"\n`, { mode: 0o600 });
    args.push('--values', file);
  }
  for (const set of settings.sets) args.push('--set', set);
  return { args, dispose: () => secretDir && fs.rmSync(secretDir, { recursive: true, force: true }) };
}

function requireHelm(bundle: string | undefined, consequence = ''): string {
  const helm = helmBinary(bundle);
  if (!helm) fail(`helm not found (neither ${bundle ?? '<bundle>'}/bin/helm nor on PATH)${consequence}`);
  return helm;
}

/**
 * Every image the release would run must be in the bundle: an air-gapped node cannot pull anything
 * else, and finding out from a Pod stuck in ImagePullBackOff is too late. Rendering with the
 * install's own values also fails bad values here, before anything changes.
 */
export async function checkReleaseImages(settings: Settings, bundle: InstallBundle, values: ReleaseValues, log: (line: string) => void): Promise<void> {
  const helm = requireHelm(bundle.root);
  const r = await tool(helm, ['template', settings.release, releaseChart(bundle), ...values.args]);
  if (!r.ok) fail(`the chart does not render with these values; nothing was changed:\n${(r.stderr + r.stdout).trim()}`);
  const missing = [...new Set(imageLines(r.stdout))].sort().filter((ref) => !inBundle(bundle, ref));
  if (missing.length > 0) {
    fail(
      `the release would run images that are not in this bundle: ${missing.join(' ')}\n` +
        `  an air-gapped cluster cannot pull them; this bundle has: ${bundleRefs(bundle).join(' ')}\n` +
        '  fix the --set values, or add the images to bundle.yaml and build the bundle again. Nothing was changed.',
    );
  }
  log('preflight: every image the release runs is in the bundle');
}

/** Whether the bundle's registry holds `ref` (its registry host, if any, ignored). */
function inBundle(bundle: InstallBundle, ref: string): boolean {
  const [first, ...rest] = ref.split('/');
  const name = rest.length > 0 && (/[.:]/.test(first!) || first === 'localhost') ? rest.join('/') : ref;
  const at = name.indexOf('@');
  if (at >= 0) {
    const repo = name.slice(0, at).replace(/:[^/]*$/, ''); // name:tag@digest: the digest decides
    return hasRevision(bundle.registry, repo, name.slice(at + 1));
  }
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') && tagDigest(bundle.registry, name.slice(0, colon), name.slice(colon + 1)) !== undefined;
}

/** A fingerprint of what an upgrade would apply: the chart's files, the values (by content), the args and bundle.json. */
function fingerprint(chart: string, args: string[], bundle: InstallBundle): string {
  const hash = createHash('sha256');
  const files = fs.readdirSync(chart, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  for (const rel of files.map((e) => path.relative(chart, path.join(e.parentPath, e.name))).sort()) {
    hash.update(`${rel}\0`).update(fs.readFileSync(path.join(chart, rel)));
  }
  // A values file counts by its content, not its path (the pull credentials' is new each run).
  args.forEach((arg, i) => hash.update(args[i - 1] === '--values' ? fs.readFileSync(arg) : `${arg}\0`));
  const manifest = path.join(bundle.root, manifestFile);
  if (fs.existsSync(manifest)) hash.update(fs.readFileSync(manifest));
  return hash.digest('hex').slice(0, 16);
}

/** helm upgrade --install, unless the release already has this chart with these settings (no new revision then). */
async function helmApply(settings: Settings, bundle: InstallBundle, release: string, chart: string, args: string[], log: (line: string) => void): Promise<boolean> {
  const helm = requireHelm(bundle.root);
  const mark = `asf-install ${fingerprint(chart, args, bundle)}`;
  const status = await tool(helm, ['status', release, '--namespace', settings.namespace, '-o', 'json']);
  let description = '';
  try {
    description = status.ok ? ((JSON.parse(status.stdout) as { info?: { description?: string } }).info?.description ?? '') : '';
  } catch {
    // an answer we cannot read: upgrade
  }
  if (description.includes(mark)) {
    log(`helm: release ${release} already has this chart and these settings; nothing to change`);
    return true;
  }
  log(`helm upgrade --install ${release} ${chart} ${args.join(' ')}`);
  return (await toolShown(helm, ['upgrade', '--install', release, chart, ...args, '--description', mark])) === 0;
}

export async function installRelease(settings: Settings, bundle: InstallBundle, values: ReleaseValues, profile: 'cpu' | 'gpu', log: (line: string) => void): Promise<void> {
  const chart = releaseChart(bundle);
  if (!fs.existsSync(path.join(chart, 'Chart.yaml'))) fail(`${chart}/Chart.yaml not found; is --bundle the bundle root?`);
  if (!(await helmApply(settings, bundle, settings.release, chart, values.args, log))) fail('helm upgrade failed (above); fix the cause and re-run the same command');
  if (profile !== 'gpu') return;
  // Without the NVIDIA device plugin no node advertises nvidia.com/gpu and GPU loaders stay
  // Pending; gpu bundles carry our chart for it, run on the nodes install-driver.sh labelled.
  const plugin = path.join(bundle.root, devicePluginChart);
  if (!fs.existsSync(path.join(plugin, 'Chart.yaml'))) {
    log(`no ${devicePluginChart} in this bundle; GPU loaders need a device plugin already running on the cluster`);
    return;
  }
  const args = ['--namespace', settings.namespace, '--create-namespace'];
  if (settings.registry) args.push('--set', `global.imageRegistry=${settings.registry.address}`);
  if (!(await helmApply(settings, bundle, devicePluginRelease, plugin, args, log))) {
    fail('installing the NVIDIA device plugin failed (above); fix the cause and re-run the same command');
  }
}

/**
 * The namespace is created here, not by helm, with a label saying an install made it: uninstall
 * removes such a namespace once nothing else is left in it, and no other.
 */
export async function ensureNamespace(namespace: string, log: (line: string) => void): Promise<void> {
  if ((await kubectl('get', 'namespace', namespace)).ok) return;
  log(`creating namespace ${namespace}`);
  const created = await kubectl('create', 'namespace', namespace);
  if (!created.ok) fail(`cannot create namespace ${namespace}: ${created.stderr.trim()}`);
  await kubectl('label', 'namespace', namespace, `${createdByLabel}=install`);
}

async function removeNamespaceIfOurs(namespace: string, log: (line: string) => void): Promise<void> {
  const label = await kubectl('get', 'namespace', namespace, '-o', `jsonpath={.metadata.labels.${createdByLabel.replaceAll('.', '\\.')}}`);
  if (!label.ok || label.stdout.trim() !== 'install') return;
  const kinds = 'pods,services,deployments,statefulsets,daemonsets,jobs,configmaps,secrets,persistentvolumeclaims';
  const left = (await kubectl('-n', namespace, 'get', kinds, '-o', 'name')).stdout
    .split('\n')
    .filter((line) => line && line !== 'configmap/kube-root-ca.crt');
  if (left.length > 0) {
    log(`namespace ${namespace} kept: it still holds ${left.length} objects that are not ours (${left.slice(0, 3).join(' ')})`);
    return;
  }
  log(`deleting namespace ${namespace} (an install created it; nothing else is in it)`);
  const deleted = await kubectl('delete', 'namespace', namespace, '--wait=true', '--timeout=120s');
  if (!deleted.ok) log(`namespace ${namespace} is still terminating; kubectl get namespace ${namespace} shows when it is gone`);
}

/** helm status's answer for a release: its STATUS line, 'not installed', or why it could not be asked. */
export async function releaseState(helm: string, release: string, namespace: string): Promise<{ deployed: boolean; state: string }> {
  const r = await tool(helm, ['status', release, '--namespace', namespace]);
  if (r.ok) return { deployed: true, state: /^STATUS: (.*)$/m.exec(r.stdout)?.[1] ?? 'unknown' };
  if (r.stderr.includes('release: not found')) return { deployed: false, state: 'not installed' };
  return { deployed: false, state: `NOT CHECKED: helm status failed: ${lastLine(r.stderr)}` };
}

export async function uninstallRelease(settings: Settings, log: (line: string) => void): Promise<void> {
  const helm = requireHelm(settings.bundle, '; nothing was removed');
  // Ours, and the device plugin a gpu install put beside it.
  for (const name of [settings.release, devicePluginRelease]) {
    if ((await releaseState(helm, name, settings.namespace)).deployed) {
      log(`helm uninstall ${name} --namespace ${settings.namespace}`);
      await toolShown(helm, ['uninstall', name, '--namespace', settings.namespace, '--wait', '--timeout', '5m']);
    } else if (name === settings.release) {
      log(`release ${settings.release} is not installed in ${settings.namespace}; nothing to remove`);
    }
  }
  // helm leaves hook resources (the helm test Pods) behind, and its --wait covers the Deployments,
  // not their Pods, which take their grace period to go.
  const instance = `app.kubernetes.io/instance=${settings.release}`;
  await kubectl('-n', settings.namespace, 'delete', 'pods', '-l', `${instance},app.kubernetes.io/component=test`, '--ignore-not-found', '--wait=true');
  if ((await kubectl('-n', settings.namespace, 'get', 'pods', '-l', instance, '-o', 'name')).stdout.trim()) {
    log("waiting for the release's Pods to stop");
    const gone = await kubectl('-n', settings.namespace, 'wait', '--for=delete', 'pods', '-l', instance, '--timeout=180s');
    if (!gone.ok) log(`some Pods of ${settings.release} are still terminating: kubectl -n ${settings.namespace} get pods`);
  }
  await removeNamespaceIfOurs(settings.namespace, log);
}

/**
 * The post-install check: once every Deployment of the release has rolled out, helm test runs a
 * Pod per capability that sends its sample request through the gateway Service; their logs are
 * the answers. Resolves false (after saying why) when a capability did not answer.
 */
export async function checkRelease(settings: Settings, log: (line: string) => void): Promise<boolean> {
  const helm = requireHelm(settings.bundle);
  if (!(await releaseState(helm, settings.release, settings.namespace)).deployed) fail(`release ${settings.release} is not installed in namespace ${settings.namespace}`);
  const timeout = settings.checkTimeoutSeconds;
  log(`check: waiting up to ${timeout}s for the loaders to load their models`);
  const instance = `app.kubernetes.io/instance=${settings.release}`;
  const deployments = (await kubectl('-n', settings.namespace, 'get', 'deployments', '-l', instance, '-o', 'name')).stdout.split('\n').filter(Boolean);
  for (const deployment of deployments) {
    if (!(await kubectl('-n', settings.namespace, 'rollout', 'status', deployment, `--timeout=${timeout}s`)).ok) {
      log(`check: ${deployment} did not become ready within ${timeout}s`);
      process.stderr.write((await kubectl('-n', settings.namespace, 'get', 'pods', '-l', instance)).stdout);
      return false;
    }
  }
  log(`check: sending each capability's sample request through the gateway (helm test ${settings.release})`);
  const r = await tool(helm, ['test', settings.release, '--namespace', settings.namespace, '--logs', '--timeout', `${timeout}s`]);
  const output = `${r.stdout}${r.stderr}`.split('\n');
  const answers = output.filter((line) => line.startsWith('check '));
  if (r.ok) {
    if (answers.length > 0) process.stdout.write(`${answers.join('\n')}\n`);
    else log('check: no capability has a sample request to send');
    return true;
  }
  const said = output.filter((line) => /^check |Error|FAILED/.test(line));
  process.stderr.write(`${(said.length > 0 ? said : output).join('\n')}\n`);
  return false;
}
