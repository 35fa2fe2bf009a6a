// Debian's docker-registry (distribution 2.x) serving a registry/ folder on loopback: how the
// bundle builder fills registry/ (the registry writes its own layout) and how tests read it back.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from '../../runtime/free-port.js';

export interface RunningRegistry {
  /** host:port, for docker:// references. */
  host: string;
  url: string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  readonly?: boolean;
  /** htpasswd file (bcrypt) to require basic auth. */
  htpasswd?: string;
  port?: number;
  binary?: string;
  /** PEM files: serve https instead of http. */
  tls?: { certificate: string; key: string };
}

/** Starts the registry over `root` (the folder that holds docker/registry/v2) and waits for /v2/. */
export async function serveRegistry(root: string, options: ServeOptions = {}): Promise<RunningRegistry> {
  const binary = options.binary ?? 'docker-registry';
  const port = options.port ?? (await freePort());
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-registry-'));
  const config = path.join(dir, 'config.yml');
  const lines = [
    'version: 0.1',
    'log: {level: error, accesslog: {disabled: true}}',
    'storage:',
    `  filesystem: {rootdirectory: ${JSON.stringify(path.resolve(root))}}`,
    '  delete: {enabled: false}',
    `  maintenance: {uploadpurging: {enabled: false}, readonly: {enabled: ${options.readonly ? 'true' : 'false'}}}`,
    `http: {addr: "127.0.0.1:${port}"${options.tls ? `, tls: {certificate: ${JSON.stringify(path.resolve(options.tls.certificate))}, key: ${JSON.stringify(path.resolve(options.tls.key))}}` : ''}}`,
  ];
  if (options.htpasswd) lines.push(`auth: {htpasswd: {realm: asf, path: ${JSON.stringify(path.resolve(options.htpasswd))}}}`);
  fs.writeFileSync(config, lines.join('\n') + '\n');

  const child: ChildProcess = spawn(binary, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  // Our own loopback server: whoever signed its certificate, it is the one we just started.
  const probe = new Agent({ connect: { rejectUnauthorized: false } });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 50, undefined))]);
      if (failed) {
        await stop();
        throw new Error(`cannot start ${binary} (${failed.message}); install it with: apt-get install docker-registry`);
      }
      if (child.exitCode !== null) {
        await stop();
        throw new Error(`${binary} exited at start:\n${stderr}`);
      }
      try {
        const res = await request(`${url}/v2/`, { dispatcher: probe });
        await res.body.dump();
        if (res.statusCode === 200 || res.statusCode === 401) return { host: `127.0.0.1:${port}`, url, stop };
      } catch {
        // not listening yet
      }
    }
  } finally {
    await probe.close();
  }
  await stop();
  throw new Error(`${binary} did not answer on ${url} within 10 s:\n${stderr}`);
}
