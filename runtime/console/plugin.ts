import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import type { ServiceRegistry } from '../discovery/registry.js';
import { packageRoot } from '../paths.js';
import { capabilityViews } from './capabilities.js';
import { Glance } from './glance.js';

/** The page's files, shipped in the package beside the compiled code (as runtime/python is). */
export const consoleAssetsDir = path.join(packageRoot, 'runtime', 'console', 'assets');

/**
 * Only our own origin, for everything: the console must work on an air-gapped site, and a page that
 * can reach nowhere else cannot leak what it is shown. Uploaded images are shown from blob: URLs.
 */
export const consolePolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** Reads every asset once, at start: a fixed set of names, so no request can name a path outside it. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const type = contentTypes[path.extname(name)];
    if (type) assets.set(name, { type, body: fs.readFileSync(path.join(dir, name)) });
  }
  if (!assets.has('index.html')) throw new Error(`console assets are incomplete: no index.html in ${dir}`);
  return assets;
}

export interface ConsoleOptions {
  registry: ServiceRegistry;
  /** The gateway's own metrics, for the figures at a glance. */
  metrics: Registry;
  version: string;
  assetsDir?: string;
}

/** The browser console: `/` and `/console/<file>` from the package, and the capability list and figures it shows. */
export async function consolePlugin(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const assets = loadAssets(options.assetsDir ?? consoleAssetsDir);
  const send = (reply: FastifyReply, name: string) => {
    const asset = assets.get(name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send(`no console file ${name}\n`);
    return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
  };

  // Encapsulated in this plugin: the API routes keep their own headers.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', consolePolicy);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });

  app.get('/', (_req, reply) => send(reply, 'index.html'));
  app.get('/console', (_req, reply) => reply.redirect('/console/'));
  app.get('/console/', (_req, reply) => send(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/console/:file', (req, reply) => send(reply, req.params.file));
  app.get('/console/api/capabilities', async () => ({ version: options.version, capabilities: capabilityViews(options.registry) }));

  const glance = new Glance(options.metrics);
  glance.start();
  app.addHook('onClose', async () => glance.stop());
  app.get('/console/api/glance', () => glance.view());
}
