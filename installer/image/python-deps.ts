// The dependency layer of a Python capability: a venv at <capability>/.venv holding exactly the
// pinned wheels. The build host downloads the wheels for the image's Python and platform (its own
// network, once per requirements set); they are installed inside the base image's root filesystem
// with no index at all, so the venv's interpreter link and paths are the image's own.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { cachedLayer } from './layer.js';
import { unpackRootfs } from './oci.js';
import { pinnedRequirements, RequirementsError } from './requirements.js';

/** The runtime image's Python and platform: wheels must be built for these. */
export const target = { python: '3.11', abi: 'cp311', platforms: ['manylinux_2_36_x86_64', 'manylinux_2_28_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux_2_5_x86_64', 'manylinux1_x86_64', 'any'] };
const targetName = `CPython ${target.python} on linux/amd64 (glibc 2.36)`;

export interface PythonDeps {
  requirements: string;
  /** Where the venv goes inside the image, e.g. /opt/asf/capabilities/ocr/.venv. */
  venv: string;
  base: { layout: string; tag: string; digest: string };
  cacheDir: string;
  say: (line: string) => void;
}

/** Builds (or reuses) the layer; returns its tar and a line for the image history. */
export async function pythonDepsLayer(deps: PythonDeps): Promise<{ file: string; reused: boolean; history: string }> {
  const pins = pinnedRequirements(deps.requirements);
  const key = createHash('sha256').update(JSON.stringify({ pins, venv: deps.venv, base: deps.base.digest, target })).digest('hex').slice(0, 16);
  const history = `python dependencies: ${pins.length} pinned wheels (requirements.txt) in ${deps.venv}`;
  const layer = await cachedLayer(path.join(deps.cacheDir, 'layers'), `python-${key}`, async (stage) => {
    const wheels = await downloadWheels(pins, deps);
    deps.say(`installing ${pins.length} wheels into ${deps.venv} inside the base image (no index)`);
    const rootfs = path.join(stage, '.rootfs');
    await unpackRootfs(deps.base.layout, deps.base.tag, rootfs);
    fs.cpSync(wheels, path.join(rootfs, 'tmp', 'wheels'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'tmp', 'requirements.txt'), `${pins.join('\n')}\n`);
    const run = $({ quiet: true, nothrow: true });
    const venv = await run`chroot ${rootfs} python3 -m venv --without-pip ${deps.venv}`;
    if (venv.exitCode !== 0) throw new Error(`creating ${deps.venv} in the base image failed: ${venv.stderr.trim()}`);
    // The base's own pip is not in the image (no caches, nothing to install with at run time): the
    // venv's packages are put there by the image's Python running pip from the downloaded pip wheel.
    const install = await run`chroot ${rootfs} env PYTHONDONTWRITEBYTECODE=1 ${deps.venv}/bin/python /tmp/wheels/${pipWheel(wheels)}/pip install --quiet --disable-pip-version-check --no-cache-dir --no-compile --no-deps --no-index --find-links /tmp/wheels -r /tmp/requirements.txt`;
    if (install.exitCode !== 0) throw new Error(`installing the wheels failed:\n${install.stderr.trim()}`);
    fs.mkdirSync(path.dirname(path.join(stage, deps.venv)), { recursive: true });
    fs.renameSync(path.join(rootfs, deps.venv), path.join(stage, deps.venv));
    fs.rmSync(rootfs, { recursive: true, force: true });
    removeCaches(stage);
  });
  return { ...layer, history };
}

/** Every pinned wheel for the target, downloaded once per requirements set (plus pip, to install them). */
async function downloadWheels(pins: string[], deps: PythonDeps): Promise<string> {
  const dir = path.join(deps.cacheDir, 'wheels', createHash('sha256').update(JSON.stringify({ pins, target })).digest('hex').slice(0, 16));
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  deps.say(`downloading ${pins.length} wheels for ${targetName}`);
  const platforms = target.platforms.flatMap((p) => ['--platform', p]);
  const python = process.env.PYTHON ?? 'python3';
  const r = await $({ quiet: true, nothrow: true })`${python} -m pip download --disable-pip-version-check --no-deps --only-binary=:all: --implementation cp --python-version ${target.python} --abi ${target.abi} --abi abi3 --abi none ${platforms} -d ${dir} ${pins} pip==24.0`;
  if (r.exitCode !== 0) {
    const missing = /No matching distribution found for (\S+)/.exec(r.stderr)?.[1];
    if (missing) throw new RequirementsError(`${deps.requirements}: ${missing} has no wheel for ${targetName}; pick a version that publishes one (asf build installs wheels only, nothing is compiled)`);
    throw new Error(`pip download failed:\n${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  }
  fs.writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

/** The downloaded pip wheel: run from the wheel itself (`python pip-*.whl/pip`), never installed. */
function pipWheel(dir: string): string {
  const wheel = fs.readdirSync(dir).find((f) => /^pip-[\d.]+-py3-none-any\.whl$/.test(f));
  if (!wheel) throw new Error(`no pip wheel in ${dir}`);
  return wheel;
}

function removeCaches(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isDirectory() && entry.name === '__pycache__') fs.rmSync(path.join(entry.parentPath, entry.name), { recursive: true, force: true });
  }
}
