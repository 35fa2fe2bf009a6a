// Images in an OCI layout, checked the way a runtime would use them: config read with skopeo,
// root filesystem unpacked with umoci, the entrypoint run under chroot as the image's user.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { exec } from './tools.js';

export interface ImageConfig {
  Entrypoint: string[];
  Cmd?: string[];
  User: string;
  Env: string[];
  WorkingDir: string;
  Labels?: Record<string, string>;
}

export class OciImages {
  private readonly procs: ChildProcess[] = [];
  private chrootBin = 'chroot';

  constructor(readonly layout: string) {}

  /** Fails naming the Debian packages when a tool is missing. */
  async checkTools(): Promise<void> {
    for (const tool of ['umoci', 'skopeo', 'chroot']) {
      const found = await exec('sh', ['-c', `command -v ${tool}`]);
      assert.equal(found.code, 0, `${tool} not found: apt-get install umoci skopeo`);
      if (tool === 'chroot') this.chrootBin = found.stdout.trim();
    }
  }

  async config(tag: string): Promise<ImageConfig> {
    const r = await exec('skopeo', ['inspect', '--config', `oci:${this.layout}:${tag}`]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { config: ImageConfig }).config;
  }

  async inspect(tag: string): Promise<{ Digest: string; Layers: string[]; Labels: Record<string, string>; Env: string[] }> {
    const r = await exec('skopeo', ['inspect', `oci:${this.layout}:${tag}`]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  /** umoci unpack into `bundle`; returns the root filesystem's path. */
  async unpack(tag: string, bundle: string): Promise<string> {
    const r = await exec('umoci', ['unpack', '--image', `${this.layout}:${tag}`, bundle]);
    assert.equal(r.code, 0, r.stderr);
    return `${bundle}/rootfs`;
  }

  /** A command inside `rootfs` (as `user` when given), to completion. */
  chroot(rootfs: string, args: string[], user?: string) {
    return exec(this.chrootBin, [...(user ? [`--userspec=${user}`] : []), rootfs, ...args]);
  }

  /**
   * Runs an unpacked image the way a container runtime would, minus the namespaces: its entrypoint
   * (+ `args`, else its Cmd) as its user, with its environment, inside its rootfs. Resolves once
   * the process prints "capability ready".
   */
  async run(rootfs: string, tag: string, args?: string[]) {
    const config = await this.config(tag);
    const env = Object.fromEntries(config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const child = spawn(this.chrootBin, [`--userspec=${config.User}`, rootfs, 'sh', '-c', `cd "$0" && exec "$@"`, config.WorkingDir, ...config.Entrypoint, ...(args ?? config.Cmd ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, HOME: config.WorkingDir },
    });
    this.procs.push(child);
    let output = '';
    child.on('error', (err) => (output += `spawn failed: ${err.message}`));
    child.stdout!.on('data', (c: Buffer) => (output += c));
    child.stderr!.on('data', (c: Buffer) => (output += c));
    const deadline = Date.now() + 120_000;
    while (!/capability ready/.test(output)) {
      assert.ok(child.exitCode === null && !output.startsWith('spawn failed'), `${tag} in chroot exited:\n${output}`);
      assert.ok(Date.now() < deadline, `${tag} in chroot not ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { child, output: () => output };
  }

  stopAll(): void {
    for (const p of this.procs) p.kill('SIGKILL');
  }
}
