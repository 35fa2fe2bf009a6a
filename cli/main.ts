import path from 'node:path';
import { Argument, Command, Option } from 'commander';
import { packageRoot } from '../runtime/paths.js';
import { kitVersion as version } from '../runtime/version.js';
import { optimiseHotCodeSooner } from '../runtime/v8-tiering.js';
import { gatewayDefaults, streamDefaults, upDefaults } from '../runtime/gateway/defaults.js';
import { registerBuildCommand } from './commands/build.js';
import { registerBundleCommands } from './commands/bundle.js';
import { registerDevelopCommands } from './commands/develop.js';
import { registerInstallCommands } from './commands/install.js';
import { registerLocalCommands } from './commands/local.js';
import { failed, signalExitCode, usageConventions } from './exits.js';
import { refusePackageOnlyCommands } from './executable.js';
import { detachedEnv } from './local-stacks.js';
import { collect, integer, logFormatOption, onlyWith, port } from './options.js';

/** The capability `asf up` serves when none is named. */
export const defaultCapability = path.join(packageRoot, 'examples', 'mmocr');

const noConsole = () => new Option('--no-console', 'do not serve the browser console at / (then 404)');
const logLevel = () => new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']);

const sessionTimeout = () =>
  new Option('--session-timeout <ms>', 'longest a WebSocket session may last').argParser(integer('session-timeout', 1)).default(streamDefaults.sessionTimeoutMs);
const quotasOption = () => new Option('--quotas <file>', 'per-app quotas, YAML: default: {concurrent, perMinute}, apps: {<app id>: {...}} (read again when it changes)');
const signingOption = () => new Option('--signing <file>', "signed requests, YAML: keys: {<api key>: <api secret>}, services: ['*'], skewSeconds: 300 (read again when it changes)");
const queueDepth = () =>
  new Option('--queue-depth <n>', 'requests that may wait for a licence, per service, when every licence is taken (past it: 429)')
    .argParser(integer('queue-depth', 0))
    .default(gatewayDefaults.queueDepth);
const readTimeout = () =>
  new Option('--read-timeout <ms>', "longest wait for a WebSocket client's next frame, or for a final result").argParser(integer('read-timeout', 1)).default(streamDefaults.readTimeoutMs);

// `asf call ... | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command()
  .name('asf')
  .description('ASF kit: serve AIGES-style capabilities behind the ASF HTTP API, and ship them offline')
  .version(version);
// Before any subcommand is defined, so that they inherit it: usage errors exit 2, as is the
// convention, with the same prefix as every other asf error.
usageConventions(program);

program
  .command('up')
  .description('run the embedded stack on this machine: the gateway and a loader per capability (see --isolate)')
  .option('-c, --capability <dir>', 'capability folder (repeatable; default: the demo capability)', collect)
  .option('-p, --port <port>', 'gateway HTTP port', port, upDefaults.port)
  .option('--host <host>', 'gateway listen address', upDefaults.host)
  .option('--replicas <n>', 'loaders per capability', integer('replicas', 1), upDefaults.replicas)
  .option('--body-limit <bytes>', 'largest request body', integer('body-limit', 1), gatewayDefaults.bodyLimit)
  .option('--timeout <ms>', 'one-shot request timeout at the gateway', integer('timeout', 1), gatewayDefaults.timeoutMs)
  .addOption(queueDepth())
  .addOption(sessionTimeout())
  .addOption(readTimeout())
  .option('--app-id <id>', 'only let in this app id (repeatable)', collect)
  .addOption(quotasOption())
  .addOption(signingOption())
  .option('--demo', 'once ready, call the mmocr demo capability and print what it read')
  .option('-d, --detach', 'run in the background, output in a log file (asf ps, asf logs, asf down)')
  .option('--watch', "restart a capability's loader when a file in its folder changes (every loader then runs in a process of its own)")
  .option('--isolate', 'run every loader as a process of its own, as in a cluster (by default a Python capability is served on this process\'s thread, a JS one on a thread of its own, a C one from a loader process)')
  .option('--config <file>', 'gateway config file (written by asf config -g FILE); options given here win over it')
  .addOption(noConsole())
  .addOption(logLevel().default(upDefaults.logLevel))
  .addOption(logFormatOption('text'))
  .addHelpText('after', '\nExamples:\n  asf up --demo\n  asf up --capability ./my-cap --port 9000\n  asf up -c ./ocr -c ./echo --replicas 2\n  asf up -d -c ./echo && asf ps && asf down\n  asf up --watch -c ./my-cap\n  asf up --config asf-gateway.yaml')
  .action(async (given, command: Command) => {
    // The background stack is this same command line, -d and all (also inside -dc ...): it must not detach again.
    if (given.detach && process.env[detachedEnv] !== '1') return (await import('./detach.js')).detachUp(process.argv.slice(3));
    optimiseHotCodeSooner();
    const { runUp } = await import('./up.js');
    const { withGatewayConfig } = await import('../runtime/develop/gateway-config.js');
    const opts = given.config ? withGatewayConfig(given, given.config, (o) => command.getOptionValueSource(o) === 'cli') : given;
    await runUp({
      capability: opts.capability ?? [defaultCapability],
      host: opts.host,
      port: opts.port,
      replicas: opts.replicas,
      bodyLimit: opts.bodyLimit,
      timeoutMs: opts.timeout,
      queueDepth: opts.queueDepth,
      sessionTimeoutMs: opts.sessionTimeout,
      readTimeoutMs: opts.readTimeout,
      appId: opts.appId,
      quotas: opts.quotas,
      signing: opts.signing,
      logLevel: opts.logLevel,
      logFormat: opts.logFormat,
      version,
      demo: opts.demo,
      isolate: opts.isolate,
      watch: opts.watch,
      console: opts.console,
    });
  });

program
  .command('gateway')
  .description('run the HTTP gateway in front of running loaders')
  .option('-l, --loader <[name=]host:port>', 'loader gRPC address (repeatable; replicas of one capability are balanced; a host name stands for every address it resolves to); name= gives the service it serves, for loaders that cannot say (AIGES\'s)', collect)
  .option('-c, --capability <dir>', 'capability folder or capability.yaml (repeatable): the schema and licences of the loaders named after its serviceId', collect)
  .option('--resolve-interval <ms>', 'look loader names up again this often (and at once when one of their loaders is unreachable)', integer('resolve-interval', 1), gatewayDefaults.resolveIntervalMs)
  .addOption(new Option('--discovery <kind>', 'how loaders are found: the --loader list, or the EndpointSlices of capability Services').choices(['static', 'kubernetes']).default('static'))
  .option('--namespace <ns>', "kubernetes discovery: namespace to watch (default: the Pod's own)")
  .option('--selector <labels>', 'kubernetes discovery: EndpointSlice label selector', 'app.kubernetes.io/component=loader')
  .option('-p, --port <port>', 'HTTP port', port, 8889)
  .option('--host <host>', 'listen address', '0.0.0.0')
  .option('--body-limit <bytes>', 'largest request body', integer('body-limit', 1), gatewayDefaults.bodyLimit)
  .option('--timeout <ms>', 'one-shot request timeout', integer('timeout', 1), gatewayDefaults.timeoutMs)
  .addOption(queueDepth())
  .addOption(sessionTimeout())
  .addOption(readTimeout())
  .addOption(
    new Option('--app-id <id>', 'only let in this app id (repeatable; $ASF_APP_IDS, comma-separated, keeps them out of ps)')
      .env('ASF_APP_IDS')
      .argParser((value: string, previous: string[] = []) => [...previous, ...value.split(',').filter(Boolean)]),
  )
  .addOption(quotasOption())
  .addOption(signingOption())
  .addOption(noConsole())
  .addOption(logLevel().default('info'))
  .addOption(logFormatOption('json'))
  .addHelpText('after', '\nExamples:\n  asf gateway --loader 10.0.0.5:5090 --loader 10.0.0.6:5090\n  asf gateway --loader mmocr=10.0.0.7:5090 --capability ./mmocr     # an AIGES loader\n  asf gateway --discovery kubernetes --selector app.kubernetes.io/component=loader')
  .action(async (opts, command: Command) => {
    const kubernetes = opts.discovery === 'kubernetes';
    onlyWith(command, '--namespace', kubernetes, 'with --discovery kubernetes');
    onlyWith(command, '--selector', kubernetes, 'with --discovery kubernetes');
    onlyWith(command, '--loader', !kubernetes, 'without --discovery kubernetes (the loaders are found in the cluster)');
    onlyWith(command, '--capability', !kubernetes, 'without --discovery kubernetes (the loaders there say their schema)');
    optimiseHotCodeSooner();
    const { startGateway } = await import('./gateway.js');
    const gateway = await startGateway({ ...opts, loaderSchemas: opts.capability, timeoutMs: opts.timeout, sessionTimeoutMs: opts.sessionTimeout, readTimeoutMs: opts.readTimeout, resolveIntervalMs: opts.resolveInterval, version });
    process.stdout.write(`gateway listening on ${gateway.url}\n`);
    const stop = (code: number) => void gateway.close().then(() => process.exit(code));
    process.on('SIGINT', () => stop(signalExitCode('SIGINT')));
    process.on('SIGTERM', () => stop(0));
  });

program
  .command('loader')
  .description('host one capability behind the AIGES-compatible gRPC envelope')
  .requiredOption('-c, --capability <dir>', 'capability folder')
  .option('-p, --port <port>', 'gRPC port (0 picks a free one)', port, 5090)
  .option('--host <host>', 'listen address', '0.0.0.0')
  .option('--max-message-bytes <bytes>', 'gRPC message size limit each way', integer('max-message-bytes', 1))
  .option('--drain-ms <ms>', "on SIGTERM, keep serving this long while reporting 'stopping' (in a Pod: until the gateways have let it go)", integer('drain-ms', 0), 0)
  .option('--exit-on-failure', 'exit (status 1) when the capability fails to start, instead of serving its error on health checks (docker compose: the container shows as exited)')
  .addOption(logLevel().default('info'))
  .addOption(logFormatOption('json'))
  .addHelpText('after', '\nExample:\n  asf loader --capability ./examples/echo --port 5090')
  .action(async (opts) => {
    optimiseHotCodeSooner();
    const { runLoader } = await import('./loader.js');
    await runLoader(opts);
  });

program
  .command('demo')
  .description('call a demo capability on a running stack and print its answer (mmocr: the text boxes it read)')
  .addArgument(new Argument('<name>', 'demo to run').choices(['mmocr']))
  .option('--gateway <url>', 'gateway address, or the full service URL', 'http://127.0.0.1:8889')
  // The name charts, bundles and images already out there put in their hints and helm test hook.
  .addOption(new Option('-u, --url <url>').hideHelp())
  .option('--image <file>', 'image to send (default: the shipped examples/mmocr/sample.jpg)')
  .option('--timeout <ms>', 'give up after this long', integer('timeout', 1), 30_000)
  .option('--app-id <id>', 'header.app_id to send', '123456')
  .option('--json', 'print the response body as received')
  .addHelpText('after', '\nExamples:\n  asf demo mmocr\n  asf demo mmocr --gateway http://10.0.0.5:30889 --image ./receipt.jpg')
  .action(async (name: 'mmocr', opts) => {
    const { runDemo, demoSummary } = await import('./demo.js');
    const results = await runDemo(name, {
      url: opts.url ?? opts.gateway,
      image: opts.image,
      timeoutMs: opts.timeout,
      appId: opts.appId,
      json: opts.json,
    });
    if (!opts.json) process.stdout.write(`${demoSummary(results)}\n`);
  });

program
  .command('usage')
  .description('per-app metering from a running gateway: requests, errors, bytes in and out, loader time, by app id and service')
  .option('--gateway <url>', 'the gateway', 'http://127.0.0.1:8889')
  .option('--json', 'print the rows as JSON')
  .addHelpText('after', '\nExamples:\n  asf usage\n  asf usage --gateway http://10.0.0.5:30889 --json')
  .action(async (opts) => {
    const { fetchUsage, formatUsage } = await import('./usage.js');
    const rows = await fetchUsage(opts.gateway);
    process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatUsage(rows));
  });

program
  .command('check')
  .description(
    "send each capability's sample request (request.json) through a gateway and print the answers; with no sample, the post-install check of a cluster install (helm test: each capability's sample from a Pod of its own image); exits 1 when one does not answer",
  )
  .argument('[sample...]', 'capability folders holding request.json, or request files (the serviceId is the folder name)')
  .option('--gateway <url>', 'the gateway', 'http://127.0.0.1:8889')
  // The name capability images built before --gateway put in their helm test Pods' arguments.
  .addOption(new Option('--url <url>').hideHelp())
  .option('--service <id>', 'serviceId to send to, when it is not the folder name (one sample)')
  .option('--timeout <ms>', 'give up on a request after this long', integer('timeout', 1), 60_000)
  .option('-b, --bundle <dir>', 'no sample: the bundle installed from (its helm is used)')
  .option('--release <name>', 'no sample: the helm release to check (default asf)')
  .option('--namespace <ns>', 'no sample: its namespace (default asf)')
  .option('--check-timeout <seconds>', 'no sample: how long to wait for the loaders to load their models (default 600)')
  .addHelpText(
    'after',
    '\nExamples:\n  asf check examples/echo\n  asf check --gateway http://10.0.0.5:30889 /opt/asf/capabilities/mmocr\n  asf check --release asf --namespace asf   # after asf install, again',
  )
  .action(async (samples: string[], opts: { gateway: string; url?: string; service?: string; timeout: number; bundle?: string; release?: string; namespace?: string; checkTimeout?: string }, command: Command) => {
    if (samples.length === 0) {
      const { runInstallAction } = await import('./commands/install.js');
      return runInstallAction('check', opts);
    }
    const { runCheck } = await import('./check.js');
    onlyWith(command, '--service', samples.length === 1, 'with one sample');
    const failed = await runCheck({ url: opts.url ?? opts.gateway, samples, service: opts.service, timeoutMs: opts.timeout });
    if (failed) process.exitCode = 1;
  });

// Command groups that live in their own files (one domain each).
registerDevelopCommands(program);
registerBuildCommand(program);
registerBundleCommands(program);
registerInstallCommands(program);
registerLocalCommands(program);
refusePackageOnlyCommands(program);

program.parseAsync().catch(failed);
