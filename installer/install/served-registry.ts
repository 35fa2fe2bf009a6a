// Serving the bundle's images from this node (no cluster registry): Debian's docker-registry,
// read-only, over a copy of registry/ in the state dir, so the extracted bundle may be deleted
// later. Under systemd it is an enabled unit (back after a reboot); elsewhere a detached process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstallBundle } from './bundle.js';
import { fail } from './errors.js';
import { onPath, tool } from './tools.js';

const unit = 'asf-registry.service';

/** The files of a served registry, all under the state dir. */
export class ServedRegistry {
  readonly log: string;
  readonly pidFile: string;
  readonly config: string;
  readonly data: string;
  readonly server: string;
  readonly unitFile: string;

  constructor(readonly stateDir: string, private readonly say: (line: string) => void) {
    this.log = path.join(stateDir, 'registry.log');
    this.pidFile = path.join(stateDir, 'registry.pid');
    this.config = path.join(stateDir, 'registry.yml');
    this.data = path.join(stateDir, 'registry');
    this.server = path.join(stateDir, 'registry-server');
    this.unitFile = path.join(process.env['ASF_SYSTEMD_UNIT_DIR'] ?? '/etc/systemd/system', unit);
  }

  /** systemd runs here (ASF_SYSTEMD_RUN_DIR lets tests say whether it does). */
  static systemd(): boolean {
    return fs.existsSync(process.env['ASF_SYSTEMD_RUN_DIR'] ?? '/run/systemd/system') && onPath('systemctl') !== undefined;
  }

  private nohupPid(): number | undefined {
    const pid = Number(fs.existsSync(this.pidFile) ? fs.readFileSync(this.pidFile, 'utf8').trim() : NaN);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  async running(): Promise<boolean> {
    if (ServedRegistry.systemd()) return (await tool('systemctl', ['is-active', '--quiet', unit])).ok;
    return this.nohupPid() !== undefined;
  }

  async pid(): Promise<string> {
    if (ServedRegistry.systemd()) return (await tool('systemctl', ['show', '-p', 'MainPID', '--value', unit])).stdout.trim();
    return String(this.nohupPid() ?? '');
  }

  /** The address it listens on, from its config (status asks it when no --registry is given). */
  servedAddr(): string | undefined {
    if (!fs.existsSync(this.config)) return undefined;
    return /^ {2}addr: (.+)$/m.exec(fs.readFileSync(this.config, 'utf8'))?.[1]?.trim();
  }

  /** A server started without systemd (here, or by an earlier install before systemd ran). */
  async stopNohup(): Promise<void> {
    const pid = this.nohupPid();
    if (pid === undefined) return;
    this.say(`stopping the served registry (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    // Its port must be free again before anything starts on it.
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await sleep(200);
    }
    fs.rmSync(this.pidFile, { force: true });
  }

  async stop(): Promise<void> {
    await this.stopNohup();
    if (!ServedRegistry.systemd() || !fs.existsSync(this.unitFile)) return;
    this.say(`stopping and disabling systemd unit ${unit}`);
    await tool('systemctl', ['disable', '--now', '--quiet', unit]);
    fs.rmSync(this.unitFile, { force: true });
    await tool('systemctl', ['daemon-reload']);
  }

  /** Removes everything it keeps in the state dir (the state dir too, when then empty). */
  purge(): void {
    this.say(`removing registry data ${this.data}`);
    for (const p of [this.data, this.config, this.pidFile, this.server, this.log]) fs.rmSync(p, { recursive: true, force: true });
    try {
      fs.rmdirSync(this.stateDir);
    } catch {
      // other files are there: not ours to remove
    }
  }

  /** Copies the bundle's registry tree in; only files not there yet (an upgrade adds its new blobs). */
  private copyData(bundle: InstallBundle): void {
    this.say(`copying images into ${this.data} (files already there are kept)`);
    let copied = 0;
    for (const entry of fs.readdirSync(bundle.registry, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile()) continue;
      const from = path.join(entry.parentPath, entry.name);
      const rel = path.relative(bundle.registry, from);
      const to = path.join(this.data, rel);
      if (!fs.existsSync(to)) {
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(from, `${to}.part`);
        fs.renameSync(`${to}.part`, to);
        copied++;
      } else if (rel.endsWith(`${path.sep}current${path.sep}link`) && !fs.readFileSync(from).equals(fs.readFileSync(to))) {
        fs.copyFileSync(from, to); // a tag moved to the new version
        copied++;
      }
    }
    this.say(`copied ${copied} new files`);
  }

  private configText(addr: string): string {
    return [
      '# Written by the ASF kit installer: serves the bundle\'s images read-only.',
      'version: 0.1',
      'log:',
      '  level: info',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${this.data}`,
      '  maintenance:',
      '    readonly:',
      '      enabled: true',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: ${addr}`,
      '',
    ].join('\n');
  }

  private async startUnit(addr: string): Promise<void> {
    fs.mkdirSync(path.dirname(this.unitFile), { recursive: true });
    const text = [
      `# Written by the ASF kit installer: serves the offline bundle's images read-only from ${this.data}.`,
      '[Unit]',
      'Description=ASF kit offline image registry (read-only)',
      'Wants=network-online.target',
      'After=network-online.target',
      '',
      '[Service]',
      `ExecStart=${this.server} serve ${this.config}`,
      'Restart=on-failure',
      'RestartSec=2',
      `StandardOutput=append:${this.log}`,
      `StandardError=append:${this.log}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    fs.writeFileSync(this.unitFile, text);
    await tool('systemctl', ['daemon-reload']);
    await tool('systemctl', ['enable', '--quiet', unit]);
    this.say(`starting systemd unit ${unit}: ${this.server} serving ${this.data} read-only on ${addr} (log: ${this.log})`);
    const r = await tool('systemctl', ['restart', unit]);
    if (!r.ok) fail(`systemctl restart ${unit} failed: ${r.stderr.trim()}; see ${this.log}`);
    this.say(`it is enabled, so it starts again at boot (systemctl status ${unit})`);
  }

  private startDetached(addr: string): void {
    this.say(`starting ${this.server} serving ${this.data} read-only on ${addr} (log: ${this.log})`);
    const out = fs.openSync(this.log, 'a');
    const child = spawn(this.server, ['serve', this.config], { detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.unref();
    fs.writeFileSync(this.pidFile, `${child.pid}\n`);
    this.say('note: no systemd here, so it is not restarted after a reboot; run this same command again then (it only starts what is missing)');
  }

  /** Serves `bundle`'s images on `addr`; starts or restarts only what is missing or changed. */
  async serve(bundle: InstallBundle, addr: string): Promise<void> {
    const own = path.join(bundle.root, 'bin', 'registry');
    const binary = fs.existsSync(own) ? own : (onPath('docker-registry') ?? onPath('registry'));
    if (!binary) fail(`no registry server: neither ${own} nor docker-registry on PATH`);
    fs.mkdirSync(this.stateDir, { recursive: true });
    this.copyData(bundle);
    // The server runs from the state dir, like its data: the extracted bundle may be deleted later.
    if (!fs.existsSync(this.server) || !fs.readFileSync(binary).equals(fs.readFileSync(this.server))) {
      fs.copyFileSync(binary, `${this.server}.part`);
      fs.chmodSync(`${this.server}.part`, 0o755);
      fs.renameSync(`${this.server}.part`, this.server);
    }
    const config = this.configText(addr);
    const running = await this.running();
    if (running && fs.existsSync(this.config) && fs.readFileSync(this.config, 'utf8') === config) {
      this.say(`registry already serving on ${addr} (pid ${await this.pid()})`);
    } else {
      if (running) this.say('restarting the registry with its new config');
      await this.stopNohup(); // systemd restarts its unit itself
      fs.writeFileSync(this.config, config);
      if (ServedRegistry.systemd()) await this.startUnit(addr);
      else this.startDetached(addr);
    }
    const local = localAddr(addr);
    for (let tries = 0; ; tries++) {
      const answered = await fetch(`http://${local}/v2/`).then((r) => r.status === 200, () => false);
      if (answered) break;
      if (!(await this.running())) fail(`the registry exited at start; see ${this.log}`);
      if (tries >= 300) fail(`the registry did not answer on ${local}; see ${this.log}`);
      await sleep(200);
    }
    this.say(`registry answers on http://${local}/v2/`);
  }
}

/** Where this node reaches a registry listening on `addr`: loopback for a wildcard address. */
export function localAddr(addr: string): string {
  const at = addr.lastIndexOf(':');
  const host = addr.slice(0, at);
  return `${host === '' || host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.slice(at + 1)}`;
}
