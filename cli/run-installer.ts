// `asf install|uninstall|status` run the same install.sh the offline tarball carries, so the CLI
// and an air-gapped target without Node.js follow one set of steps.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../runtime/paths.js';

/** The install.sh this package ships (the bundle builder copies it into the tarball). */
export const packagedInstaller = path.join(packageRoot, 'installer', 'install.sh');

/**
 * A bundle root to install from: a folder as is; an artefact (.tar.gz, .oci.tar) is extracted
 * safely beside itself once (a folder left by an earlier run is reused: extraction is all or nothing).
 */
export async function bundleRoot(bundle: string, extractTo?: string, say: (line: string) => void = () => {}): Promise<string> {
  if (!fs.existsSync(bundle)) throw new Error(`bundle ${bundle} not found; give the offline tarball (asf-offline-<version>.tar.gz) or its extracted folder`);
  if (fs.statSync(bundle).isDirectory()) return path.resolve(bundle);
  const base = bundle.replace(/\.(tar\.gz|tgz|oci\.tar|tar)$/, '');
  const target = path.resolve(extractTo ?? (base === bundle ? `${bundle}.d` : base));
  if (fs.existsSync(target)) {
    say(`using ${target}, extracted earlier (remove it to extract again)`);
    return target;
  }
  say(`extracting ${bundle} into ${target}`);
  const { extractArtefact } = await import('../installer/bundle/extract.js');
  return extractArtefact(bundle, target);
}

/** The bundle's own install.sh when it carries one (the offline tarball), else the packaged one. */
export function installerFor(root: string | undefined): string {
  const own = root && path.join(root, 'install.sh');
  return own && fs.existsSync(own) ? own : packagedInstaller;
}

/**
 * The helm install.sh should use when the bundle carries none (status and uninstall without
 * --bundle): ASF_HELM or helm on PATH as they are, else the one this package ships. Undefined when
 * there is none: install.sh then says it could not check, never that nothing is installed.
 */
export async function fallbackHelm(root: string | undefined): Promise<string | undefined> {
  if (process.env['ASF_HELM'] || (root && fs.existsSync(path.join(root, 'bin', 'helm')))) return undefined;
  const onPath = (process.env['PATH'] ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, 'helm')));
  if (onPath) return undefined;
  const { helmBinary } = await import('../installer/bundle/charts.js');
  return helmBinary().catch(() => undefined);
}

/** Runs install.sh with its output on ours; resolves to its exit code. */
export function runInstaller(script: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', (err) => reject(new Error(`cannot run bash ${script}: ${err.message}`)));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
