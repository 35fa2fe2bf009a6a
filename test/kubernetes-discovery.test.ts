// `asf gateway --discovery kubernetes` (a real gateway process) in front of real `asf loader`
// processes, finding them through EndpointSlices served by a STAND-IN Kubernetes API server
// (test/helpers/kube-apiserver-standin.ts): replicas join and leave while requests flow.
import assert from 'node:assert/strict';
import path from 'node:path';
import { KubeApiServerStandIn } from './helpers/kube-apiserver-standin.js';
import { b64, freePort, post, repoRoot, runAsf, waitHealthy, type RunningProcess } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');
const selector = 'app.kubernetes.io/name=asf,app.kubernetes.io/instance=t,app.kubernetes.io/component=loader';

const request = (text: string) => ({ header: { app_id: 'a' }, payload: { text: { text: b64(text) } } });

async function health(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: await res.json() };
}

/** Polls until `check` passes (it throws until then). */
async function eventually(check: () => Promise<void>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function readyReplicas(url: string): Promise<string[]> {
  const { body } = await health(url);
  return (body.services?.echo ?? []).filter((r: { state: string }) => r.state === 'ready').map((r: { address: string }) => r.address).sort();
}

async function replicaCalls(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/asf_gateway_replica_calls_total\{service="echo",replica="([^"]+)",outcome="answered"\} (\d+)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('gateway Kubernetes discovery: EndpointSlices from a STAND-IN API server, real gateway and loaders', function () {
  this.timeout(120_000);
  const procs: RunningProcess[] = [];
  const api = new KubeApiServerStandIn('asf');
  let url = '';
  let gateway: RunningProcess;
  const loaders: { proc: RunningProcess; address: string }[] = [];

  const startLoader = async () => {
    const port = await freePort();
    const proc = runAsf(['loader', '--capability', echoDir, '--host', '127.0.0.1', '--port', String(port)]);
    procs.push(proc);
    await proc.waitFor(/capability ready/);
    const loader = { proc, address: `127.0.0.1:${port}` };
    loaders.push(loader);
    return loader;
  };

  before(async () => {
    await api.start();
    const gatewayPort = await freePort();
    gateway = runAsf(
      ['gateway', '--discovery', 'kubernetes', '--namespace', 'asf', '--selector', selector, '--host', '127.0.0.1', '--port', String(gatewayPort)],
      { KUBECONFIG: api.kubeconfig() },
    );
    procs.push(gateway);
    url = `http://127.0.0.1:${gatewayPort}`;
    await gateway.waitFor(/gateway listening/);
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await api.close();
  });

  it('lists then watches EndpointSlices with the selector and the bearer token of the kubeconfig; live but not ready with no loaders', async () => {
    await eventually(async () => assert.equal(api.watching(), 1));
    const list = api.requests.find((r) => !r.query.has('watch'));
    const watch = api.requests.find((r) => r.query.get('watch') === 'true');
    assert.ok(list && watch, JSON.stringify(api.requests.map((r) => `${r.path}?${r.query}`)));
    assert.equal(list.path, '/apis/discovery.k8s.io/v1/namespaces/asf/endpointslices');
    assert.equal(list.query.get('labelSelector'), selector);
    assert.equal(watch.query.get('labelSelector'), selector);
    assert.equal(watch.query.get('resourceVersion'), '1');
    assert.equal(list.authorization, 'Bearer standin-token');
    assert.equal((await health(url)).status, 503);
    const live = await fetch(`${url}/livez`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'alive' });
  });

  it('adds a replica when its endpoint appears, then a second one, and balances over both', async () => {
    const a = await startLoader();
    api.setSlice('t-asf-echo-abc12', 't-asf-echo', [{ ip: '127.0.0.1' }], Number(a.address.split(':')[1]));
    await waitHealthy(url, 20_000);
    assert.deepEqual(await readyReplicas(url), [a.address]);
    const first = await post(`${url}/v1/private/echo`, request('one replica'));
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(Buffer.from(first.json.payload.result.text, 'base64').toString(), 'one replica');

    // A second replica: on one host both loaders share an IP, so it comes in a second slice
    // (as when a Service has more than one EndpointSlice) with its own port.
    const b = await startLoader();
    api.setSlice('t-asf-echo-def34', 't-asf-echo', [{ ip: '127.0.0.1' }], Number(b.address.split(':')[1]));
    await eventually(async () => assert.deepEqual(await readyReplicas(url), [a.address, b.address].sort()));
    await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${url}/v1/private/echo`, request(`spread ${i}`))));
    const calls = await replicaCalls(url);
    assert.ok((calls.get(a.address) ?? 0) > 1 && (calls.get(b.address) ?? 0) > 0, JSON.stringify([...calls]));
  });

  // A loader Pod leaving under load without a failed request, on a real cluster: test/e2e/cluster.test.ts.

  it('follows a watch the API server ended, and goes not ready when the last slice is deleted, ready again when one is back', async () => {
    const [, b] = loaders as [unknown, (typeof loaders)[0]];
    const watchesBefore = api.requests.filter((r) => r.query.get('watch') === 'true').length;
    api.dropWatches();
    await eventually(async () => {
      assert.equal(api.watching(), 1);
      assert.ok(api.requests.filter((r) => r.query.get('watch') === 'true').length > watchesBefore);
    });
    api.deleteSlice('t-asf-echo-abc12');
    api.deleteSlice('t-asf-echo-def34');
    await eventually(async () => assert.equal((await health(url)).status, 503));
    const gone = await post(`${url}/v1/private/echo`, request('nobody home'));
    assert.equal(gone.status, 404, JSON.stringify(gone.json));

    api.setSlice('t-asf-echo-def34', 't-asf-echo', [{ ip: '127.0.0.1' }], Number(b.address.split(':')[1]));
    await waitHealthy(url, 20_000);
    const back = await post(`${url}/v1/private/echo`, request('back'));
    assert.equal(back.status, 200, JSON.stringify(back.json));
  });
});

describe('gateway Kubernetes discovery: API server trouble (STAND-IN API server)', function () {
  this.timeout(60_000);
  const procs: RunningProcess[] = [];
  let api: KubeApiServerStandIn | undefined;
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await api?.close();
  });

  it('starts while the API server is unreachable, stays live, and finds the loaders once it answers', async () => {
    const apiPort = await freePort();
    api = new KubeApiServerStandIn('asf');
    const loaderPort = await freePort();
    const loader = runAsf(['loader', '--capability', echoDir, '--host', '127.0.0.1', '--port', String(loaderPort)]);
    procs.push(loader);
    const gatewayPort = await freePort();
    const gateway = runAsf(['gateway', '--discovery', 'kubernetes', '--host', '127.0.0.1', '--port', String(gatewayPort)], {
      KUBECONFIG: api.kubeconfig(undefined, `http://127.0.0.1:${apiPort}`),
    });
    procs.push(gateway);
    const url = `http://127.0.0.1:${gatewayPort}`;
    await gateway.waitFor(/gateway listening/);
    await gateway.waitFor(/EndpointSlice watch failed/);
    assert.equal((await fetch(`${url}/livez`)).status, 200);
    assert.equal((await health(url)).status, 503);

    await loader.waitFor(/capability ready/);
    await api.start(apiPort);
    api.setSlice('t-asf-echo-1', 't-asf-echo', [{ ip: '127.0.0.1' }], loaderPort);
    await waitHealthy(url, 30_000);
    // Without --namespace / --selector: the kubeconfig context's namespace, the default selector.
    const list = api.requests.find((r) => !r.query.has('watch'))!;
    assert.equal(list.path, '/apis/discovery.k8s.io/v1/namespaces/asf/endpointslices');
    assert.equal(list.query.get('labelSelector'), 'app.kubernetes.io/component=loader');
    const { status } = await post(`${url}/v1/private/echo`, request('late'));
    assert.equal(status, 200);
  });

  it('static discovery without --loader: a clear error', async () => {
    const gateway = runAsf(['gateway', '--port', '0']);
    procs.push(gateway);
    const code = gateway.child.exitCode ?? (await new Promise((resolve) => gateway.child.once('exit', resolve)));
    assert.equal(code, 1);
    assert.match(gateway.output(), /--loader <host:port> is required unless --discovery kubernetes/);
  });
});
