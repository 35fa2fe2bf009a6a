import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadCapability } from '../capability/load.js';
import type { CapabilitySpec } from '../capability/types.js';
import { packageRoot } from '../paths.js';
import { capabilitiesOf, readGatewayConfig, type GatewayConfig } from './gateway-config.js';

/** Where capability folders sit inside the containers. */
const mountRoot = '/opt/asf/capabilities';
const loaderPort = 5090;
const gatewayPort = 8889;
/** The images' user (images/build.sh): bind-mounted folders must be readable by it. */
const containerUser = { uid: 10001, gid: 10001 };
/** Where the gateway finds the quotas and signing files mounted from the host. */
const gatewayFiles = { quotas: '/etc/asf/quotas.yaml', signing: '/etc/asf/signing.yaml' };

/** The images we ship, by name (images/images.yaml). */
export function shippedImages(): Record<string, string> {
  const doc = yaml.load(fs.readFileSync(path.join(packageRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] };
  return Object.fromEntries(doc.images.map(({ name, ref }) => [name, ref]));
}

export interface ComposeOptions {
  capabilities: string[];
  /**
   * Folder the compose file is written to: host paths are written relative to it, so the file
   * and the folders can move together. Without one (printed to stdout, saved who knows where)
   * they are absolute.
   */
  outDir?: string;
  gateway?: GatewayConfig;
  /** Folder the gateway config's relative paths (quotas, signing) are relative to. */
  gatewayConfigDir?: string;
  /** Loaders on NVIDIA GPUs: the CUDA runtime image and one GPU reserved per loader. */
  gpu?: boolean;
  /** Environment of every loader, KEY=VALUE. */
  env?: string[];
}

export interface ComposeStack {
  doc: Record<string, unknown>;
  /** What the user should know about the file (printed on stderr). */
  warnings: string[];
}

/** Memory limits from the Helm chart's defaults, so that both deployments agree. */
interface ChartLimits {
  gateway?: string;
  loader?: string;
  capabilities: Record<string, string | undefined>;
}

/**
 * `asf compose`: the stack as a Compose application — the gateway on port 8889 and one loader
 * service per capability (loader-<name>), hardened and health-checked as the Helm chart's Pods are.
 * A capability that has its own image (mmocr) uses it; any other folder is mounted read-only
 * into the runtime image.
 */
export function composeStack(options: ComposeOptions): ComposeStack {
  const images = shippedImages();
  const limits = chartLimits();
  const warnings: string[] = [];
  const g = options.gateway ?? {};
  const hostPath = (p: string) => (options.outDir ? relativeSource(options.outDir, p) : path.resolve(p));
  const services: Record<string, Record<string, unknown>> = {};
  for (const dir of options.capabilities) {
    const spec = loadCapability(dir);
    const name = loaderServiceName(spec.serviceId);
    if (services[name]) throw new Error(`two capabilities are both called ${spec.serviceId}: give one another serviceId (asf config set -c DIR serviceId NEW)`);
    const shipped = path.basename(spec.dir);
    const own = images[shipped] && path.resolve(spec.dir) === path.join(packageRoot, 'examples', shipped);
    const inside = own ? `${mountRoot}/${shipped}` : `${mountRoot}/${serviceName(spec.serviceId)}`;
    if (!own) {
      const unreadable = unreadableBy(containerUser, spec.dir);
      if (unreadable) {
        throw new Error(
          `capability folder ${spec.dir}: ${unreadable} is not readable by the containers' user (uid ${containerUser.uid}); make the folder readable, e.g. chmod -R a+rX ${spec.dir}`,
        );
      }
      const venv = hostVenv(spec);
      if (venv) warnings.push(venvWarning(spec, venv));
    }
    const memory = limits.capabilities[shipped] ?? limits.loader;
    services[name] = {
      image: own ? images[shipped] : images[options.gpu ? 'runtime-cuda' : 'runtime'],
      // --exit-on-failure: a capability that cannot start stops its container (shown as exited,
      // `up --wait` fails at once) instead of running unhealthy for its whole start period.
      command: ['loader', '--capability', inside, '--port', String(loaderPort), '--drain-ms', '2000', '--exit-on-failure'],
      ...(own ? {} : { volumes: [{ type: 'bind', source: hostPath(spec.dir), target: inside, read_only: true }] }),
      environment: environment(options.env ?? []),
      // Model loading may take long (the chart's startupSeconds): failures in this time do not count.
      healthcheck: { test: ['CMD', '/usr/local/bin/node', '-e', loaderProbe], ...probeTiming, start_period: '300s' },
      deploy: {
        ...(g.replicas ? { replicas: g.replicas } : {}),
        resources: {
          ...(memory ? { limits: { memory } } : {}),
          ...(options.gpu && !own ? { reservations: { devices: [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }] } } : {}),
        },
      },
      ...hardening,
    };
  }
  const loaders = Object.keys(services);
  const { flags, volumes, environment: gatewayEnv } = gatewayArguments(g, options.gatewayConfigDir ?? '.', hostPath);
  const published = g.port ?? gatewayPort;
  services['gateway'] = {
    image: images['runtime'],
    command: ['gateway', ...loaders.flatMap((l) => ['--loader', `${l}:${loaderPort}`]), ...flags],
    ...(Object.keys(gatewayEnv).length ? { environment: gatewayEnv } : {}),
    ...(volumes.length ? { volumes } : {}),
    // Published on the config's host only (127.0.0.1 keeps it local); inside, it listens on every interface.
    ports: [g.host ? `${g.host}:${published}:${gatewayPort}` : `${published}:${gatewayPort}`],
    depends_on: Object.fromEntries(loaders.map((l) => [l, { condition: 'service_healthy' }])),
    // Ready = the gateway serves (/readyz), as the chart's readiness probe; its capabilities' loaders have checks of their own.
    healthcheck: { test: ['CMD', '/usr/local/bin/node', '-e', gatewayProbe], ...probeTiming, start_period: '30s' },
    ...(limits.gateway ? { deploy: { resources: { limits: { memory: limits.gateway } } } } : {}),
    ...hardening,
  };
  return { doc: { services }, warnings };
}

/** What every container gets, as the chart's securityContext: no capabilities, no privilege gain, a read-only root, rotated logs. */
const hardening = {
  read_only: true,
  // HOME points into the writable tmpfs (onnxruntime and friends write caches there).
  tmpfs: ['/tmp'],
  cap_drop: ['ALL'],
  security_opt: ['no-new-privileges:true'],
  logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
  restart: 'unless-stopped',
};

const probeTiming = { interval: '3s', timeout: '3s', retries: 3 };

// The standard gRPC health check (grpc.health.v1.Health/Check with an empty request), as the
// chart's readiness probe: SERVING (field 1 = 1, bytes 08 01) once the wrapper has loaded.
const loaderProbe = [
  "const g = require('/opt/asf/node_modules/@grpc/grpc-js');",
  `new g.Client('127.0.0.1:${loaderPort}', g.credentials.createInsecure()).makeUnaryRequest('/grpc.health.v1.Health/Check', (b) => b, (b) => b, Buffer.alloc(0),`,
  '  { deadline: Date.now() + 2500 }, (err, res) => process.exit(!err && res[1] === 1 ? 0 : 1));',
].join('\n');

const gatewayProbe = `fetch('http://127.0.0.1:${gatewayPort}/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;

/** The gateway's command-line flags, environment and mounts for its config. App ids go in the environment: a command line shows in `ps`. */
function gatewayArguments(g: GatewayConfig, configDir: string, hostPath: (p: string) => string) {
  const flags: string[] = ['--port', String(gatewayPort), '--host', '0.0.0.0'];
  if (g.bodyLimit) flags.push('--body-limit', String(g.bodyLimit));
  if (g.timeoutMs) flags.push('--timeout', String(g.timeoutMs));
  if (g.queueDepth !== undefined) flags.push('--queue-depth', String(g.queueDepth));
  if (g.sessionTimeoutMs) flags.push('--session-timeout', String(g.sessionTimeoutMs));
  if (g.readTimeoutMs) flags.push('--read-timeout', String(g.readTimeoutMs));
  if (g.logLevel) flags.push('--log-level', g.logLevel);
  const environment: Record<string, string> = { HOME: '/tmp' };
  if (g.appIds?.length) environment['ASF_APP_IDS'] = g.appIds.map(String).join(',');
  const volumes: Record<string, unknown>[] = [];
  for (const key of ['quotas', 'signing'] as const) {
    const file = g[key];
    if (!file) continue;
    volumes.push({ type: 'bind', source: hostPath(path.resolve(configDir, file)), target: gatewayFiles[key], read_only: true });
    flags.push(`--${key}`, gatewayFiles[key]);
  }
  return { flags, volumes, environment };
}

function environment(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = { HOME: '/tmp' };
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--env ${pair}: write KEY=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/** Compose service names: lower case letters, digits, '_', '-' and '.' (serviceIds may hold capitals). */
function serviceName(serviceId: string): string {
  return serviceId.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
}

/** Loader services carry a prefix so that no capability name (`gateway`, say) can take the gateway's. */
export function loaderServiceName(serviceId: string): string {
  return `loader-${serviceName(serviceId)}`;
}

function relativeSource(from: string, dir: string): string {
  const rel = path.relative(path.resolve(from), path.resolve(dir));
  return rel.startsWith('..') || path.isAbsolute(rel) ? rel : `./${rel || '.'}`;
}

/** The first file or folder under `dir` (itself included) the user cannot read (or, for a folder, list); undefined when all can be. */
export function unreadableBy(user: { uid: number; gid: number }, dir: string): string | undefined {
  const check = (file: string): string | undefined => {
    const stat = fs.lstatSync(file);
    if (stat.isSymbolicLink()) return undefined;
    const bits = stat.uid === user.uid ? stat.mode >> 6 : stat.gid === user.gid ? stat.mode >> 3 : stat.mode;
    const need = stat.isDirectory() ? 0o5 : 0o4;
    if ((bits & need) !== need) return file;
    if (!stat.isDirectory()) return undefined;
    for (const entry of fs.readdirSync(file)) {
      const found = check(path.join(file, entry));
      if (found) return found;
    }
    return undefined;
  };
  return check(path.resolve(dir));
}

/** A Python capability's own virtualenv (the loader would pick it), which cannot work in the container. */
function hostVenv(spec: CapabilitySpec): string | undefined {
  if (spec.host !== 'python' || spec.python?.interpreter) return undefined;
  return ['.venv', 'venv'].map((v) => path.join(spec.dir, v)).find((v) => fs.existsSync(path.join(v, 'bin')));
}

function venvWarning(spec: CapabilitySpec, venv: string): string {
  return (
    `${venv} is a virtualenv of this machine: its python links to this machine's interpreter, so in the container the loader runs ` +
    `the image's python3 without the packages installed there (${spec.serviceId} fails with ModuleNotFoundError if it needs them). ` +
    `Build the capability's image with its packages (asf build ${spec.dir}, from its requirements.txt), make it this service's image ` +
    `and drop the service's volume; or build a virtualenv inside the runtime image and name its interpreter in capability.yaml (python.interpreter)`
  );
}

/** The chart's memory limits (charts/asf/values.yaml): gateway, loader default, per shipped capability. */
function chartLimits(): ChartLimits {
  type Resources = { resources?: { limits?: { memory?: string } } };
  const values = yaml.load(fs.readFileSync(path.join(packageRoot, 'charts', 'asf', 'values.yaml'), 'utf8')) as {
    gateway?: Resources;
    loaderDefaults?: Resources;
    capabilities?: Record<string, Resources>;
  };
  const memory = (r?: Resources) => dockerBytes(r?.resources?.limits?.memory);
  return {
    gateway: memory(values.gateway),
    loader: memory(values.loaderDefaults),
    capabilities: Object.fromEntries(Object.entries(values.capabilities ?? {}).map(([name, c]) => [name, memory(c)])),
  };
}

/** A Kubernetes quantity (512Mi, 1Gi) as Compose writes sizes (512m, 1g: the same binary units). */
function dockerBytes(quantity: string | undefined): string | undefined {
  if (quantity === undefined) return undefined;
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity));
  if (!match) throw new Error(`charts/asf/values.yaml: memory limit ${quantity} is not a whole number of bytes, Ki, Mi or Gi`);
  return `${match[1]}${{ Ki: 'k', Mi: 'm', Gi: 'g' }[match[2] as 'Ki' | 'Mi' | 'Gi'] ?? ''}`;
}

export function composeYaml(doc: Record<string, unknown>): string {
  return `# The ASF kit stack for docker compose (asf compose): gateway on port 8889, one loader service (loader-<name>) per capability.\n${yaml.dump(doc, { lineWidth: 160, noRefs: true })}`;
}

/** `asf compose`: the file on stdout or at `output`, warnings on stderr. */
export function writeCompose(options: { capabilities?: string[]; gatewayFile?: string; output?: string; gpu?: boolean; env?: string[] }): void {
  const gateway = options.gatewayFile ? readGatewayConfig(options.gatewayFile, true) : {};
  const capabilities = options.capabilities ?? (options.gatewayFile ? capabilitiesOf(gateway, options.gatewayFile) : undefined) ?? [path.join(packageRoot, 'examples', 'mmocr')];
  const { doc, warnings } = composeStack({
    capabilities,
    outDir: options.output ? path.dirname(path.resolve(options.output)) : undefined,
    gateway,
    gatewayConfigDir: options.gatewayFile ? path.dirname(path.resolve(options.gatewayFile)) : undefined,
    gpu: options.gpu,
    env: options.env,
  });
  for (const warning of warnings) process.stderr.write(`asf: warning: ${warning}\n`);
  const text = composeYaml(doc);
  if (!options.output) return void process.stdout.write(text);
  fs.writeFileSync(options.output, text);
  process.stdout.write(`wrote ${options.output}: gateway + ${capabilities.length} loader service(s); start it with: docker compose -f ${options.output} up -d --wait\n`);
}
