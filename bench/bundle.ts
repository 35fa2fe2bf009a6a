// The offline bundle (issue 7): `asf bundle build` against a `cp -r` of the same bytes, and
// `asf bundle verify` against `sha256sum` of the same files, on a test definition of a few
// hundred MB of random layer bytes (our own images written into an OCI layout, one third-party
// image in a local docker-registry, one model file). Not a test: it prints what it measured.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveRegistry } from '../installer/registry/serve.js';
import { ociImage } from '../test/helpers/oci-fixture.js';
import { asfBin, repoRoot } from '../test/helpers/stack.js';

const MiB = 2 ** 20;
const title = '## Offline bundle';
/** The same bench on the bundle code before it was made faster (a fixed record, not re-measured). */
const history =
  'Before (this bench on commit e0107ee, the bundle code before these optimisations; median of 2, same machine, 2026-12-02): fresh build 34.79 s with 1622 MB written ' +
  '(78.6× `cp -r`), of which 20.0 s the .tar.gz (level-6 deflate of everything); re-build 30.53 s; verify 1.48 s folder, 1.86 s .oci.tar, 2.73 s .tar.gz (1.29× `sha256sum`).';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Bytes this process and its reaped children have caused to be written (page cache included). */
function writtenBytes(): number {
  const line = fs.readFileSync('/proc/self/io', 'utf8').split('\n').find((l) => l.startsWith('write_bytes:'));
  return Number(line?.split(':')[1] ?? NaN);
}

interface Run {
  seconds: number;
  written: number;
  /** Seconds from the start at which each line of stderr/stdout arrived. */
  lines: { at: number; text: string }[];
}

/** Runs a command to completion, timing it and what it wrote; fails on a non-zero exit. */
function timed(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const before = writtenBytes();
    const start = performance.now();
    const lines: Run['lines'] = [];
    const child = spawn(file, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const at = (performance.now() - start) / 1000;
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop()!;
        for (const text of parts) lines.push({ at, text });
      });
    }
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) reject(new Error(`${path.basename(file)} ${args.join(' ')} exited with ${code}:\n${lines.map((l) => l.text).slice(-20).join('\n')}`));
      else resolve({ seconds, written: writtenBytes() - before, lines });
    });
  });
}

/** Files under `dir` (not following links) and their total size. */
function filesOf(dir: string): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name);
      const stat = fs.lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile()) {
        files.push(full);
        bytes += stat.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** Reads every file once so that both sides of a comparison start from the same warm page cache. */
function warm(files: string[]): void {
  const buffer = Buffer.alloc(4 * MiB);
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0);
    fs.closeSync(fd);
  }
}

export interface BundleBenchOptions {
  /** Repetitions of every measurement, the median reported (default BENCH_BUNDLE_REPS, else 3). */
  reps?: number;
  /** MiB of random bytes in each layer: [shared base, app, tool, third-party], and the model file. */
  sizes?: { base: number; app: number; tool: number; vendor: number; model: number };
  /** The "Measured on ..." line. */
  machine: string;
}

/** Builds, verifies and compares; prints the section and writes it into bench/results.md. */
export async function bundleSection(options: BundleBenchOptions): Promise<string> {
  const sizes = options.sizes ?? { base: 96, app: 64, tool: 64, vendor: 64, model: 32 };
  const reps = options.reps ?? Number(process.env['BENCH_BUNDLE_REPS'] ?? 3);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-bench-bundle-'));
  const say = (text: string) => process.stderr.write(`bench: bundle: ${text}\n`);
  const vendor = await serveRegistry(path.join(tmp, 'vendor-registry'));
  try {
    // The definition: two images of ours sharing their base layer, a third-party image pulled from
    // a registry, a model file. Random bytes, so neither compression nor dedup makes it cheaper.
    say(`writing ${sizes.base + sizes.app + sizes.tool + sizes.vendor + sizes.model} MiB of random images and files`);
    const layout = path.join(tmp, 'layout');
    const random = (mib: number) => randomBytes(mib * MiB);
    const base = { 'base/blob.bin': random(sizes.base) };
    ociImage(layout, 'app', [base, { 'app/blob.bin': random(sizes.app) }]);
    ociImage(layout, 'tool', [base, { 'tool/blob.bin': random(sizes.tool) }]);
    const vendorLayout = path.join(tmp, 'vendor-layout');
    ociImage(vendorLayout, 'plugin', [{ plugin: random(sizes.vendor) }]);
    const vendorRef = `${vendor.host}/vendor/plugin:2.0`;
    await timed('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${vendorLayout}:plugin`, `docker://${vendorRef}`]);
    fs.rmSync(vendorLayout, { recursive: true });
    fs.writeFileSync(path.join(tmp, 'model.bin'), random(sizes.model));
    const spec = path.join(tmp, 'bundle.yaml');
    fs.writeFileSync(
      spec,
      [
        'name: bench',
        'version: 1.0.0',
        'profiles: {cpu: {}}',
        'images:',
        `  - {ref: example.test/tiny/app:1.0, oci: "${layout}:app"}`,
        `  - {ref: example.test/tiny/tool:1.0, oci: "${layout}:tool"}`,
        `  - {ref: "${vendorRef}", insecure: true}`,
        'charts:',
        `  - path: ${path.join(repoRoot, 'test', 'fixtures', 'bundle', 'chart')}`,
        'resources:',
        '  - name: models',
        `    files: [{path: model.bin, sha256: "${(await timed('sha256sum', [path.join(tmp, 'model.bin')])).lines[0]!.text.split(' ')[0]}"}]`,
      ].join('\n') + '\n',
    );
    warm([...filesOf(layout).files, ...filesOf(path.join(tmp, 'vendor-registry')).files, path.join(tmp, 'model.bin')]);

    // Build: a fresh build into an empty folder each time, then a re-build over it (nothing changed).
    const builds: Run[] = [];
    const rebuilds: Run[] = [];
    const copies: Run[] = [];
    const build = (out: string) => timed(process.execPath, [asfBin, 'bundle', 'build', '-f', spec, '-o', out]);
    const out = path.join(tmp, 'out');
    const root = path.join(out, '.bench-1.0.0-cpu.work', 'root');
    say('warm-up build');
    await build(out);
    const rootBytes = filesOf(root).bytes;
    for (let rep = 1; rep <= reps; rep++) {
      const fresh = path.join(tmp, `out-${rep}`);
      builds.push(await build(fresh));
      rebuilds.push(await build(fresh));
      fs.rmSync(fresh, { recursive: true });
      const copy = path.join(tmp, `cp-${rep}`);
      copies.push(await timed('cp', ['-r', root, copy]));
      fs.rmSync(copy, { recursive: true });
      say(`rep ${rep}: build ${builds.at(-1)!.seconds.toFixed(2)} s, re-build ${rebuilds.at(-1)!.seconds.toFixed(2)} s, cp -r ${copies.at(-1)!.seconds.toFixed(2)} s`);
    }

    // Where a fresh build spends its time, from the moments its progress lines appear.
    const marks: [string, RegExp][] = [
      ['start-up and plan', /^bundle: bench 1\.0\.0/],
      ['images into registry/ (ours copied in, the third-party one via skopeo → docker-registry)', /^images: \d+ images/],
      ['charts, files, checksums, cluster image (.oci.tar)', /^bundle: cluster image:/],
      ['offline tarball (.tar.gz)', /^bundle: offline tarball:/],
      ['manifests, digests, self-verify of both artefacts', /verified$/],
    ];
    const phases = marks.map(([name], i) => {
      const at = (run: Run, k: number) => (k < 0 ? 0 : k === marks.length - 1 ? run.seconds : (run.lines.find((l) => marks[k]![1].test(l.text))?.at ?? NaN));
      return { name, seconds: median(builds.map((run) => at(run, i) - at(run, i - 1))) };
    });

    // What every asf command pays before it starts working (in each asf figure below).
    const startups: number[] = [];
    for (let rep = 0; rep < Math.max(reps, 3); rep++) startups.push((await timed(process.execPath, [asfBin, '--version'])).seconds);
    const startup = median(startups);

    // Verify: the three forms a site may hold, against sha256sum reading the same bytes.
    const artefacts = {
      oci: path.join(out, 'bench-1.0.0.oci.tar'),
      offline: path.join(out, 'bench-offline-1.0.0.tar.gz'),
      folder: path.join(tmp, 'extracted'),
    };
    await timed(process.execPath, [asfBin, 'bundle', 'extract', artefacts.offline, '-C', artefacts.folder]);
    const verifyRows: { form: string; bytes: number; ours: number; sha: number }[] = [];
    const forms: [string, string, string[]][] = [
      ['extracted folder (every file)', artefacts.folder, filesOf(artefacts.folder).files],
      ['cluster image .oci.tar', artefacts.oci, [artefacts.oci]],
      ['offline tarball .tar.gz (gunzip included)', artefacts.offline, [artefacts.offline]],
    ];
    for (const [form, target, shaFiles] of forms) {
      const bytes = shaFiles.reduce((sum, f) => sum + fs.statSync(f).size, 0);
      warm(shaFiles);
      const ours: number[] = [];
      const sha: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        ours.push((await timed(process.execPath, [asfBin, 'bundle', 'verify', target])).seconds);
        sha.push((await timed('sha256sum', shaFiles)).seconds);
      }
      verifyRows.push({ form, bytes, ours: median(ours), sha: median(sha) });
      say(`verify ${form}: ${median(ours).toFixed(2)} s, sha256sum ${median(sha).toFixed(2)} s`);
    }

    const build1 = median(builds.map((r) => r.seconds));
    const rebuild1 = median(rebuilds.map((r) => r.seconds));
    const cp1 = median(copies.map((r) => r.seconds));
    const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
    const s = (seconds: number) => seconds.toFixed(2);
    const written = median(builds.map((r) => r.written));
    const cpWritten = median(copies.map((r) => r.written));
    const lines = [
      `${title}: asf bundle build and verify on a ${mb(rootBytes)} MB test definition`,
      '',
      `Median of ${reps} runs each, after one warm-up build. The definition (bench/bundle.ts): our two images in an OCI layout sharing a ${sizes.base} MiB base layer ` +
        `(+ ${sizes.app} and ${sizes.tool} MiB layers), a third-party ${sizes.vendor} MiB image pulled from a local docker-registry, a ${sizes.model} MiB model file and a tiny chart; ` +
        'all random bytes, so neither compression nor dedup beyond the shared layer makes anything cheaper. ' +
        'Page cache: every input was read once before measuring and the runs follow each other, so both sides of each comparison read the same warm files; ' +
        'nothing is fsynced on either side (written bytes go to the page cache). ' +
        `Every asf figure includes the command's start-up, ${s(startup)} s here (median of \`asf --version\`). ` +
        'Bytes written: /proc/self/io write_bytes of the command and its children (page-cache writes included).',
      '',
      '| operation | ours | baseline | ratio (our time ÷ baseline time) | target |',
      '|---|---|---|---|---|',
      `| build: \`asf bundle build\` into an empty folder (registry/, .oci.tar, .tar.gz, their self-verify) vs \`cp -r\` of the staged bundle root | ${s(build1)} s, ${mb(written)} MB written | ${s(cp1)} s, ${mb(cpWritten)} MB written | ${(build1 / cp1).toFixed(2)} | ≤ 2 |`,
      `| re-build, nothing changed (blobs reused) vs the same \`cp -r\` | ${s(rebuild1)} s, ${mb(median(rebuilds.map((r) => r.written)))} MB written | ${s(cp1)} s | ${(rebuild1 / cp1).toFixed(2)} | |`,
      ...verifyRows.map(
        (r) => `| verify: ${r.form}, ${mb(r.bytes)} MB vs \`sha256sum\` of the same file(s) | ${s(r.ours)} s = ${mb(r.bytes / r.ours)} MB/s | ${s(r.sha)} s = ${mb(r.bytes / r.sha)} MB/s | ${(r.ours / r.sha).toFixed(2)} | ≤ 1.3 |`,
      ),
      '',
      'Where a fresh build spends its time (median of each phase, from the moments its progress lines appear):',
      '',
      '| phase | seconds | share |',
      '|---|---|---|',
      ...phases.map((p) => `| ${p.name} | ${s(p.seconds)} | ${((100 * p.seconds) / build1).toFixed(0)}% |`),
      '',
      `Why the build is not within 2× of \`cp -r\`: it writes the bundle's bytes three times (registry/, the .oci.tar, the .tar.gz) and reads both artefacts back ` +
        'to verify them, hashing every byte several times (layer digest, artefact digests, verification), while `cp -r` writes them once inside the kernel (copy_file_range) ' +
        'and hashes nothing. Our blobs reach registry/ by an in-kernel copy too (no push through docker-registry), registry blobs are not hashed again for `checksums` ' +
        '(docker-registry and the copy checked them against their names), the .oci.tar is streamed without a temporary layer file, and the .tar.gz stores what deflate cannot shrink.',
      '',
      history,
    ];
    const section = lines.join('\n');
    console.log(`\n${section}`);
    writeSection(section.replace(/\n/, `\n\nMeasured on ${options.machine}.\n`));
    console.log('\nWritten to bench/results.md');
    return section;
  } finally {
    await vendor.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Replaces this section of bench/results.md (or appends it), keeping every other section as it is. */
function writeSection(section: string): void {
  const file = path.join(repoRoot, 'bench', 'results.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# ASF kit benchmark results\n';
  const [head, ...sections] = text.trimEnd().split(/\n(?=## )/);
  const kept = sections.filter((old) => !old.startsWith(`${title}:`)).map((old) => old.trim());
  fs.writeFileSync(file, `${[head!.trim(), ...kept, section.trim()].join('\n\n')}\n`);
}
