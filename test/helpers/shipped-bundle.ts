// The shipped cpu bundle (offline-bundle/bundle.yaml), built once per test run with the real
// `asf bundle build` (daemonless image build included) and shared by the suites that need it;
// with it, as a site's own capability would come, a folder `asf new` wrote (--capability).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asfBin } from './stack.js';
import { exec, type Result } from './tools.js';

export interface ShippedBundle {
  out: string;
  clusterImage: string;
  tarball: string;
  /** What `asf bundle build` printed. */
  build: Result;
  /** Seconds the build took. */
  seconds: number;
}

let built: Promise<ShippedBundle> | undefined;

/** Builds it on first use (minutes on a fresh machine); throws with the build's output if it fails. */
export function shippedBundle(): Promise<ShippedBundle> {
  built ??= (async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-shipped-bundle-'));
    process.once('exit', () => fs.rmSync(out, { recursive: true, force: true }));
    const start = Date.now();
    const own = path.join(out, 'hello');
    const scaffold = await exec(process.execPath, [asfBin, 'new', 'hello', '--lang', 'python', '--dir', own]);
    if (scaffold.code !== 0) throw new Error(`asf new failed: ${scaffold.stderr}`);
    const build = await exec(process.execPath, [asfBin, 'bundle', 'build', '-o', out, '--capability', own]);
    if (build.code !== 0) throw new Error(`asf bundle build failed (exit ${build.code}):\n${build.stderr.slice(-4000)}`);
    return {
      out,
      clusterImage: path.join(out, 'asf-0.1.0.oci.tar'),
      tarball: path.join(out, 'asf-offline-0.1.0.tar.gz'),
      build,
      seconds: Math.round((Date.now() - start) / 100) / 10,
    };
  })();
  return built;
}
