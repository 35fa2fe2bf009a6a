// The install's actions, step by step as a user would run them by hand: each step says what it
// does, every step is safe to re-run after an interruption, and a failure names its cause.
import { bundleRefs, openBundle, verifyBundle } from './bundle.js';
import { fail, InstallError } from './errors.js';
import { applyMirror, certsDir, mirrorFiles, removeMirror, renderMirror } from './mirror.js';
import { nodeIp } from './node.js';
import { preflight } from './preflight.js';
import { pushBundleImages } from './push.js';
import { checkRelease, checkReleaseImages, ensureNamespace, installRelease, releaseValues, uninstallRelease } from './release.js';
import { ServedRegistry } from './served-registry.js';
import type { Action, Settings } from './settings.js';
import { installStatus } from './status.js';

export type Log = (line: string) => void;

async function install(settings: Settings, log: Log): Promise<void> {
  if (!settings.bundle) fail('say which bundle to install: --bundle DIR');
  const bundle = openBundle(settings.bundle);
  const profile = settings.profile ?? (bundle.manifest?.profile === 'gpu' ? 'gpu' : 'cpu');
  if (settings.registry && settings.serveAddr) fail('choose one of --registry (push to it) and --serve-registry (serve from this node)');
  if (!settings.registry && !settings.serveAddr) {
    fail('say where the images go: --registry HOST:PORT (push to your registry) or --serve-registry (serve them from this node)');
  }
  // The first node's address, asked of kubectl once: the served registry's default and the closing hint use it.
  let node: Promise<string | undefined> | undefined;
  const firstNode = () => (node ??= nodeIp());
  log(`bundle ${bundle.manifest?.name ?? ''} ${bundle.manifest?.version ?? ''} (${profile}) from ${bundle.root}`);
  if (settings.skipVerify) log('integrity check skipped (--skip-verify)');
  else await verifyBundle(bundle, log);
  const values = releaseValues(settings, bundle);
  try {
    if (settings.skipPreflight) log('preflight skipped (--skip-preflight)');
    else {
      await preflight(settings, bundle, profile, log);
      await checkReleaseImages(settings, bundle, values, log);
    }
    if (settings.registry) {
      await pushBundleImages(bundle.root, settings.registry, { jobs: settings.jobs, log });
    } else {
      const served = settings.serveAddr!;
      await new ServedRegistry(settings.stateDir, log).serve(bundle, served);
      const port = served.slice(served.lastIndexOf(':') + 1);
      let addr = settings.advertise ?? (await firstNode()) ?? '127.0.0.1';
      if (!addr.includes(':')) addr = `${addr}:${port}`;
      const files = mirrorFiles(bundleRefs(bundle), addr);
      log(`every node needs this containerd mirror config (config_path = "${certsDir()}" in containerd's CRI registry settings):`);
      process.stdout.write(`${renderMirror(files)}\n`);
      if (settings.applyMirror) applyMirror(files, log);
      else log('pass --apply-mirror to write it on this node');
    }
    await ensureNamespace(settings.namespace, log);
    await installRelease(settings, bundle, values, profile, log);
  } finally {
    values.dispose();
  }
  const ip = (await firstNode()) ?? '<node>';
  if (settings.postCheck) {
    if (!(await checkRelease(settings, log))) {
      fail(`installed, but the check failed (above): kubectl -n ${settings.namespace} get pods shows the loaders; re-run the check with: ${settings.checkCommand}`);
    }
  } else {
    log(`done. Loaders may take minutes to load their models; watch: kubectl -n ${settings.namespace} get pods -w; then check: ${settings.checkCommand}`);
  }
  process.stdout.write(`the API: curl http://${ip}:${settings.nodePort}/v1/private/<serviceId> -H 'content-type: application/json' -d @request.json\n`);
}

async function uninstall(settings: Settings, log: Log): Promise<void> {
  await uninstallRelease(settings, log);
  if (!settings.purgeRegistry) return;
  const served = new ServedRegistry(settings.stateDir, log);
  await served.stop();
  served.purge();
  removeMirror(log);
  if (settings.registry) log(`images pushed to ${settings.registry.address} stay there; delete them with that registry's own tools`);
}

/**
 * Runs one action (its settings made inside, so that bad options fail as its errors do) with its lines prefixed by its name (`install: …`); resolves to the exit code:
 * 0, or 1 after printing `<action>: error: <cause>` for a step that stopped it.
 */
export async function runAction(action: Action, settings: () => Settings | Promise<Settings>): Promise<number> {
  const log: Log = (line) => process.stdout.write(`${action}: ${line}\n`);
  try {
    const s = await settings();
    if (action === 'install') await install(s, log);
    else if (action === 'uninstall') await uninstall(s, log);
    else if (action === 'status') return (await installStatus(s, log)) === 0 ? 0 : 1;
    else return (await checkRelease(s, log)) ? 0 : 1;
    return 0;
  } catch (err) {
    if (!(err instanceof InstallError)) throw err;
    process.stderr.write(`${action}: error: ${err.message}\n`);
    return 1;
  }
}
