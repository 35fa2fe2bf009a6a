// A Docker engine of the test's own: Debian's dockerd started by hand in a private mount namespace
// with a tmpfs over /run/containerd (dockerd 20.10 would otherwise attach to any containerd socket
// there, such as the Kubernetes harness's), its own data root, exec root and socket, and no
// iptables rules (Compose networks, service DNS and published ports work through docker-proxy).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exec, type Result } from './tools.js';

export interface DockerEngine {
  /** unix:///… for DOCKER_HOST and skopeo's --dest-daemon-host. */
  host: string;
  /** Environment for docker/compose clients: this engine, a config folder of its own. */
  env: NodeJS.ProcessEnv;
  docker(args: string[]): Promise<Result>;
  /** Everything dockerd logged (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts dockerd with everything under `dir`; resolves once it answers. */
export async function startDockerEngine(dir: string): Promise<DockerEngine> {
  const socket = path.join(dir, 'docker.sock');
  const logFile = path.join(dir, 'dockerd.log');
  fs.mkdirSync(path.join(dir, 'config'), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const script = 'mkdir -p /run/containerd && mount -t tmpfs -o mode=0711 asf-test-containerd /run/containerd && exec "$@"';
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      'dockerd',
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'dockerd.pid'),
      '-H',
      `unix://${socket}`,
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
      '--log-level=warn',
    ],
    { stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = `unix://${socket}`;
  const env = { DOCKER_HOST: host, DOCKER_CONFIG: path.join(dir, 'config') };
  const docker = (args: string[]) => exec('docker', args, { env });
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const engine: DockerEngine = {
    host,
    env,
    docker,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000))]);
      if (stopped) return;
      // Its own containerd first (a child it would have stopped), then dockerd.
      const containerdPid = path.join(dir, 'exec', 'containerd', 'containerd.pid');
      if (fs.existsSync(containerdPid)) process.kill(Number(fs.readFileSync(containerdPid, 'utf8')), 'SIGKILL');
      child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}):\n${log().slice(-3000)}`);
    if (fs.existsSync(socket) && (await docker(['version', '--format', '{{.Server.Version}}'])).code === 0) return engine;
    if (Date.now() > deadline) {
      await engine.stop();
      throw new Error(`dockerd did not answer on ${socket}:\n${log().slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
