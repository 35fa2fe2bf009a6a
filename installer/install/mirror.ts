// containerd reads <certs.d>/<host>/hosts.toml on each pull: every registry the bundle's images
// name is mirrored to the served registry, over plain http. The mirror is also each file's
// `server`, so a missing image fails there, named, instead of falling back to the upstream host
// (which an air-gapped node cannot resolve: a misleading DNS error).
import fs from 'node:fs';
import path from 'node:path';

const marker = '# written by ASF kit install.sh: the bundle\'s registry';

export const certsDir = () => process.env['ASF_CONTAINERD_CERTS_DIR'] ?? '/etc/containerd/certs.d';

export interface MirrorFile {
  path: string;
  text: string;
}

/** The hosts.toml of each registry host in `refs`, and of `addr` itself, pointing at `addr`. */
export function mirrorFiles(refs: string[], addr: string): MirrorFile[] {
  const hosts = new Set<string>([addr]);
  for (const ref of refs) {
    const first = ref.split('/')[0]!;
    if (ref.includes('/') && /[.:]/.test(first)) hosts.add(first);
  }
  return [...hosts].sort().map((host) => ({
    path: path.join(certsDir(), host, 'hosts.toml'),
    text: `${marker} at ${addr}\nserver = "http://${addr}"\n\n[host."http://${addr}"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n`,
  }));
}

/** The files as one text for people: a `### PATH` line before each. */
export const renderMirror = (files: MirrorFile[]) => files.map((f) => `### ${f.path}\n${f.text}`).join('\n');

/** Writes the files; each appears whole (written aside, then renamed). */
export function applyMirror(files: MirrorFile[], log: (line: string) => void): void {
  for (const file of files) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    log(`writing ${file.path}`);
    fs.writeFileSync(`${file.path}.tmp`, file.text);
    fs.renameSync(`${file.path}.tmp`, file.path);
  }
}

/** Removes the files an install wrote (they name its registry), on uninstall --purge-registry. */
export function removeMirror(log: (line: string) => void): void {
  let hosts: string[] = [];
  try {
    hosts = fs.readdirSync(certsDir());
  } catch {
    return;
  }
  for (const host of hosts) {
    const file = path.join(certsDir(), host, 'hosts.toml');
    if (!fs.existsSync(file) || !fs.readFileSync(file, 'utf8').includes(marker)) continue;
    log(`removing ${file} (it points at the removed registry)`);
    fs.rmSync(file);
    try {
      fs.rmdirSync(path.dirname(file));
    } catch {
      // other files of the site's own are there
    }
  }
}
