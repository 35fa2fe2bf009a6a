// requirements.txt of a Python capability: every requirement pinned to one version, because the
// image installs exactly the wheels fetched at build time, with no index to resolve ranges from.
import fs from 'node:fs';

export class RequirementsError extends Error {}

/** The requirements of `file` as `name==version` strings; throws naming the first unpinned line. */
export function pinnedRequirements(file: string): string[] {
  const pins: string[] = [];
  for (const [i, raw] of fs.readFileSync(file, 'utf8').split('\n').entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const where = `${file} line ${i + 1}`;
    if (line.startsWith('-')) throw new RequirementsError(`${where}: '${line}': options and nested files are not supported; list each package as name==version`);
    // name[extras]==version, then optional environment markers and hashes.
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([A-Za-z0-9][A-Za-z0-9.!+_-]*)\s*(;.*)?$/.exec(line.replace(/\s+--hash=\S+/g, ''));
    if (!m || m[3]!.includes('*')) {
      throw new RequirementsError(`${where}: '${line}' is not pinned: write name==version (the image gets exactly the wheels fetched at build time)`);
    }
    pins.push(`${m[1]}==${m[3]}`);
  }
  return pins;
}
