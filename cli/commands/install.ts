import { Command, Option } from 'commander';
import type { Action, GivenOptions } from '../../installer/install/settings.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const registryOptions = (command: Command) =>
  command
    .option('--registry <host:port>', 'the cluster registry the images are (to be) pushed to')
    .option('--registry-user <user>', 'basic-auth user for --registry (or env ASF_REGISTRY_USER)')
    .option('--registry-password <password>', 'basic-auth password for --registry (or env ASF_REGISTRY_PASSWORD, kept out of ps)')
    .option('--plain-http', 'talk to --registry over http')
    .option('--insecure', "do not verify --registry's TLS certificate");
const releaseOptions = (command: Command) =>
  command
    .option('--release <name>', 'helm release (default asf)')
    .option('--namespace <ns>', 'namespace (default asf)')
    .option('--state-dir <dir>', 'where the served registry keeps its data and config (default /var/lib/asf)');

/** The helm this package ships, for a bundle without one and a machine without one (npm installs only). */
async function packagedHelm(bundle: string | undefined): Promise<void> {
  const { helmBinary } = await import('../../installer/install/tools.js');
  if (helmBinary(bundle)) return;
  const { helmBinary: shipped } = await import('../../installer/bundle/charts.js');
  const helm = await shipped().catch(() => undefined);
  if (helm) process.env['ASF_HELM'] = helm;
}

/** Runs one install action in this process (installer/install/), with the options as given. */
export async function runInstallAction(action: Action, opts: GivenOptions & { extractTo?: string }): Promise<void> {
  const { runAction } = await import('../../installer/install/run.js');
  const { bundleFolder, enclosingBundle } = await import('../../installer/install/bundle.js');
  const { settingsFor } = await import('../../installer/install/settings.js');
  const code = await runAction(action, async () => {
    const bundle = opts.bundle ? await bundleFolder(opts.bundle, opts.extractTo, (line) => process.stdout.write(`${action}: ${line}\n`)) : enclosingBundle();
    await packagedHelm(bundle);
    return settingsFor(action, { ...opts, bundle });
  });
  if (code !== 0) process.exitCode = code;
}

/** asf install (upgrade) / uninstall / status / check of a cluster install from an offline bundle (installer/install/). */
export function registerInstallCommands(program: Command): void {
  registryOptions(
    releaseOptions(
      program
        .command('install')
        .alias('upgrade')
        .description('install or upgrade ASF kit on a Kubernetes cluster from an offline bundle: verify it, check the cluster, push or serve its images, helm upgrade --install, then the post-install check')
        .requiredOption('-b, --bundle <file|dir>', 'offline tarball (asf-offline-<version>.tar.gz) or an extracted bundle folder')
        .option('--extract-to <dir>', 'where a tarball is extracted (default: beside it, without .tar.gz)'),
    ),
  )
    .option('--jobs <n>', 'blobs pushed at once (default 4)')
    .option('--serve-registry [addr]', "no cluster registry: serve the bundle's images from this node (default 0.0.0.0:5000; under systemd as the enabled unit asf-registry.service)")
    .option('--advertise <host:port>', "address the other nodes reach the served registry at (default: this node's IP and the port)")
    .option('--apply-mirror', 'write the containerd mirror config on this node too')
    .addOption(new Option('--profile <profile>', "overrides bundle.json's profile").choices(['cpu', 'gpu']))
    .option('--node-port <port>', 'gateway NodePort (default 30889)')
    .option('--set <key=value>', 'extra helm value (repeatable)', collect)
    .option('--skip-preflight', 'do not check the cluster first (not recommended)')
    .option('--skip-verify', "do not check the bundle's files against its checksums")
    .option('--no-check', "end without the post-install check (each capability's sample request through the gateway)")
    .option('--check-timeout <seconds>', 'how long the check waits for the loaders to load their models (default 600)')
    .addHelpText(
      'after',
      '\nExamples:\n  asf install --bundle asf-offline-0.1.0.tar.gz --registry registry.local:5000 --registry-user ci --registry-password "$PW"\n  asf install --bundle asf-offline-0.1.0.tar.gz --serve-registry --apply-mirror --profile gpu\n  asf upgrade --bundle asf-offline-0.2.0.tar.gz --registry registry.local:5000   # pushes only the new blobs',
    )
    .action((opts) => runInstallAction('install', opts));

  registryOptions(
    releaseOptions(
      program
        .command('uninstall')
        .description("remove the helm release (and the NVIDIA device plugin's, when a gpu install added it); with --purge-registry also stop the served registry and delete its data")
        .option('-b, --bundle <file|dir>', 'the bundle installed from (optional: its helm is used)')
        .option('--purge-registry', 'also stop the served registry and delete its data and mirror config'),
    ),
  )
    .addHelpText('after', '\nExample:\n  asf uninstall --purge-registry')
    .action((opts) => runInstallAction('uninstall', opts));

  registryOptions(
    releaseOptions(
      program
        .command('status')
        .description(
          "show the helm releases (ours, and the NVIDIA device plugin's when a gpu install added it), the bundle's images present in the registry (by digest) and each capability's readiness at the gateway; exits 1 when an image is missing, a capability is not ready or the gateway cannot be reached",
        )
        .option('-b, --bundle <file|dir>', 'the bundle whose images to look for'),
    ),
  )
    .option('--node-port <port>', 'gateway NodePort (default 30889)')
    .option('--gateway <url>', 'the gateway to ask for readiness (default http://<first node>:<node-port>)')
    .option('--local', 'only the stacks asf up runs on this machine (listed first otherwise)')
    .addHelpText(
      'after',
      '\nExamples:\n  asf status --bundle /srv/asf-offline-0.1.0 --registry registry.local:5000\n  asf status --gateway http://127.0.0.1:8889   # e.g. through kubectl -n asf port-forward service/asf-gateway 8889\n  asf status --local',
    )
    .action(async (opts) => {
      const { healthy, localStatus, statusLines } = await import('../local-status.js');
      const local = await localStatus();
      for (const line of statusLines(local)) process.stdout.write(`status: ${line}\n`);
      if (!local.every(healthy)) process.exitCode = 1;
      if (opts.local) {
        if (local.length === 0) process.stdout.write('status: no local stack is running\n');
        return;
      }
      const before = process.exitCode;
      await runInstallAction('status', opts);
      process.exitCode = process.exitCode || before;
    });
}
