import { Command, Option } from 'commander';

const collect = (value: string, previous: string[] = []) => [...previous, value];

// Each CLI option maps onto the install.sh flag of the same name; install.sh checks the values,
// so the CLI and the tarball's script give the same answers.
const flags: Record<string, { flag: string; kind: 'value' | 'switch' | 'list' | 'optional' | 'negated' }> = {
  registry: { flag: '--registry', kind: 'value' },
  registryUser: { flag: '--registry-user', kind: 'value' },
  plainHttp: { flag: '--plain-http', kind: 'switch' },
  insecure: { flag: '--insecure', kind: 'switch' },
  jobs: { flag: '--jobs', kind: 'value' },
  serveRegistry: { flag: '--serve-registry', kind: 'optional' },
  advertise: { flag: '--advertise', kind: 'value' },
  applyMirror: { flag: '--apply-mirror', kind: 'switch' },
  release: { flag: '--release', kind: 'value' },
  namespace: { flag: '--namespace', kind: 'value' },
  profile: { flag: '--profile', kind: 'value' },
  nodePort: { flag: '--node-port', kind: 'value' },
  set: { flag: '--set', kind: 'list' },
  stateDir: { flag: '--state-dir', kind: 'value' },
  skipPreflight: { flag: '--skip-preflight', kind: 'switch' },
  check: { flag: '--no-check', kind: 'negated' },
  checkTimeout: { flag: '--check-timeout', kind: 'value' },
  purgeRegistry: { flag: '--purge-registry', kind: 'switch' },
  gateway: { flag: '--gateway', kind: 'value' },
};

function scriptArgs(opts: Record<string, unknown>): string[] {
  const args: string[] = [];
  for (const [key, { flag, kind }] of Object.entries(flags)) {
    const value = opts[key];
    // commander's --no-x sets x to false (true by default): only the false goes to install.sh.
    if (kind === 'negated') {
      if (value === false) args.push(flag);
      continue;
    }
    if (value === undefined || value === false) continue;
    if (kind === 'switch' || (kind === 'optional' && value === true)) args.push(flag);
    else if (kind === 'list') for (const item of value as string[]) args.push(flag, item);
    else args.push(flag, String(value));
  }
  return args;
}

const registryOptions = (command: Command) =>
  command
    .option('--registry <host:port>', 'the cluster registry the images are (to be) pushed to')
    .option('--registry-user <user>', 'basic-auth user for --registry')
    .option('--registry-password <password>', 'basic-auth password for --registry (or env ASF_REGISTRY_PASSWORD)')
    .option('--plain-http', 'talk to --registry over http')
    .option('--insecure', "do not verify --registry's TLS certificate");
const releaseOptions = (command: Command) =>
  command
    .option('--release <name>', 'helm release (default asf)')
    .option('--namespace <ns>', 'namespace (default asf)')
    .option('--state-dir <dir>', 'where the served registry keeps its data and config (default /var/lib/asf)');

async function run(action: string, opts: Record<string, unknown> & { bundle?: string; extractTo?: string }): Promise<void> {
  const { bundleRoot, fallbackHelm, installerFor, runInstaller } = await import('../run-installer.js');
  const say = (line: string) => process.stdout.write(`${action}: ${line}\n`);
  const root = opts.bundle ? await bundleRoot(opts.bundle, opts.extractTo, say) : undefined;
  // The password goes through the environment: a command line is visible to every user (ps).
  const env: Record<string, string> = opts.registryPassword ? { ASF_REGISTRY_PASSWORD: String(opts.registryPassword) } : {};
  const helm = await fallbackHelm(root);
  if (helm) env['ASF_HELM'] = helm;
  const code = await runInstaller(installerFor(root), [action, ...(root ? ['--bundle', root] : []), ...scriptArgs(opts)], env);
  if (code !== 0) process.exitCode = code;
}

/** asf install / uninstall / status (installing from a bundle); every step is installer/install.sh's. */
export function registerInstallCommands(program: Command): void {
  registryOptions(
    releaseOptions(
      program
        .command('install')
        .description("install or upgrade ASF kit on a Kubernetes cluster from an offline bundle (runs the bundle's install.sh)")
        .requiredOption('-b, --bundle <file|dir>', 'offline tarball (asf-offline-<version>.tar.gz) or an extracted bundle folder')
        .option('--extract-to <dir>', 'where a tarball is extracted (default: beside it, without .tar.gz)'),
    ),
  )
    .option('--jobs <n>', 'blobs pushed at once (default 4)')
    .option('--serve-registry [addr]', "no cluster registry: serve the bundle's images from this node (default 0.0.0.0:5000)")
    .option('--advertise <host:port>', 'address the other nodes reach the served registry at')
    .option('--apply-mirror', 'write the containerd mirror config on this node too')
    .addOption(new Option('--profile <profile>', "overrides bundle.json's profile").choices(['cpu', 'gpu']))
    .option('--node-port <port>', 'gateway NodePort (default 30889)')
    .option('--set <key=value>', 'extra helm value (repeatable)', collect)
    .option('--skip-preflight', 'do not check the cluster first')
    .option('--no-check', "end without the post-install check (each capability's sample request through the gateway)")
    .option('--check-timeout <seconds>', 'how long the check waits for the loaders to load their models (default 600)')
    .addHelpText(
      'after',
      '\nExamples:\n  asf install --bundle asf-offline-0.1.0.tar.gz --registry registry.local:5000 --registry-user ci --registry-password "$PW"\n  asf install --bundle asf-offline-0.1.0.tar.gz --serve-registry --apply-mirror',
    )
    .action((opts) => run('install', opts));

  registryOptions(
    releaseOptions(
      program
        .command('uninstall')
        .description("remove the helm release (and the NVIDIA device plugin's, when a gpu install added it); with --purge-registry also stop the served registry and delete its data")
        .option('-b, --bundle <file|dir>', 'the bundle installed from (optional)')
        .option('--purge-registry', 'also stop the served registry and delete its data'),
    ),
  )
    .addHelpText('after', '\nExample:\n  asf uninstall --purge-registry')
    .action((opts) => run('uninstall', opts));

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
      await run('status', opts);
    });
}
