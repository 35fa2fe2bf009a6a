import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadCapability } from '../capability/load.js';
import { packageRoot } from '../paths.js';
import type { GatewayConfig } from './gateway-config.js';

/** Where capability folders sit inside the containers. */
const mountRoot = '/opt/asf/capabilities';
const loaderPort = 5090;
const gatewayPort = 8889;

/** The images we ship, by name (images/images.yaml). */
export function shippedImages(): Record<string, string> {
  const doc = yaml.load(fs.readFileSync(path.join(packageRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] };
  return Object.fromEntries(doc.images.map(({ name, ref }) => [name, ref]));
}

export interface ComposeOptions {
  capabilities: string[];
  /** Folder the compose file is written to: bind mounts are relative to it. */
  outDir: string;
  gateway?: GatewayConfig;
}

/**
 * `asf compose`: the stack as a Compose application — the gateway on port 8889 and one loader
 * service per capability. A capability that has its own image (mmocr) uses it; any other folder
 * is mounted read-only into the runtime image.
 */
export function composeDocument(options: ComposeOptions): Record<string, unknown> {
  const images = shippedImages();
  const services: Record<string, unknown> = {};
  const loaders: string[] = [];
  for (const dir of options.capabilities) {
    const spec = loadCapability(dir);
    const name = serviceName(spec.serviceId);
    if (services[name]) throw new Error(`two capabilities are both called ${spec.serviceId}: give one another serviceId (asf config set -c DIR serviceId NEW)`);
    const own = images[path.basename(spec.dir)] && path.resolve(spec.dir) === path.join(packageRoot, 'examples', path.basename(spec.dir));
    const inside = `${mountRoot}/${name}`;
    services[name] = {
      image: own ? images[path.basename(spec.dir)] : images['runtime'],
      command: ['loader', '--capability', own ? `${mountRoot}/${path.basename(spec.dir)}` : inside, '--port', String(loaderPort)],
      ...(own ? {} : { volumes: [{ type: 'bind', source: relativeSource(options.outDir, spec.dir), target: inside, read_only: true }] }),
      restart: 'unless-stopped',
    };
    loaders.push(`${name}:${loaderPort}`);
  }
  const g = options.gateway ?? {};
  const flags: string[] = ['--port', String(gatewayPort), '--host', '0.0.0.0'];
  if (g.bodyLimit) flags.push('--body-limit', String(g.bodyLimit));
  if (g.timeoutMs) flags.push('--timeout', String(g.timeoutMs));
  if (g.sessionTimeoutMs) flags.push('--session-timeout', String(g.sessionTimeoutMs));
  if (g.readTimeoutMs) flags.push('--read-timeout', String(g.readTimeoutMs));
  if (g.logLevel) flags.push('--log-level', g.logLevel);
  for (const appId of g.appIds ?? []) flags.push('--app-id', String(appId));
  const hostPort = g.port ?? gatewayPort;
  services['gateway'] = {
    image: images['runtime'],
    command: ['gateway', ...loaders.flatMap((l) => ['--loader', l]), ...flags],
    ports: [`${hostPort}:${gatewayPort}`],
    depends_on: Object.keys(services),
    healthcheck: {
      test: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${gatewayPort}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
      interval: '10s',
      timeout: '5s',
      retries: 30,
    },
    restart: 'unless-stopped',
  };
  return { services };
}

/** Compose service names: lower case letters, digits, '_', '-' and '.' (serviceIds may hold capitals). */
function serviceName(serviceId: string): string {
  return serviceId.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
}

function relativeSource(from: string, dir: string): string {
  const rel = path.relative(path.resolve(from), path.resolve(dir));
  return rel.startsWith('..') || path.isAbsolute(rel) ? rel : `./${rel || '.'}`;
}

export function composeYaml(doc: Record<string, unknown>): string {
  return `# The ASF kit stack for docker compose (asf compose): gateway on port 8889, one loader per capability.\n${yaml.dump(doc, { lineWidth: 160, noRefs: true })}`;
}
