// A STAND-IN for the Kubernetes API server, just enough for EndpointSlice discovery: list and watch
// of discovery.k8s.io/v1 EndpointSlices in one namespace, speaking the real wire protocol (a JSON
// list with metadata.resourceVersion; `?watch=true` streams one JSON event per line, chunked).
// Label selectors are recorded, not evaluated: the test decides which slices exist.
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Endpoint {
  ip: string;
  ready?: boolean;
}

export interface StandInRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
}

export class KubeApiServerStandIn {
  readonly requests: StandInRequest[] = [];
  private readonly server: http.Server;
  private readonly slices = new Map<string, object>();
  private readonly watchers = new Set<http.ServerResponse>();
  private revision = 1;
  url = '';

  constructor(readonly namespace: string) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this;
  }

  async close() {
    for (const res of this.watchers) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** A kubeconfig file pointing at this server (token auth, context namespace set). */
  kubeconfig(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-kubeconfig-')), url = this.url): string {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        // client-node refuses plain http unless TLS verification is off (the stand-in has no TLS).
        'clusters: [{name: standin, cluster: {server: "' + url + '", insecure-skip-tls-verify: true}}]',
        'users: [{name: gateway, user: {token: standin-token}}]',
        'contexts: [{name: standin, context: {cluster: standin, user: gateway, namespace: ' + this.namespace + '}}]',
        'current-context: standin',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Number of watch connections open now. */
  watching(): number {
    return this.watchers.size;
  }

  /** Creates or replaces the EndpointSlice `name` of a capability Service, and tells the watchers. */
  setSlice(name: string, service: string, endpoints: Endpoint[], port = 5090) {
    const type = this.slices.has(name) ? 'MODIFIED' : 'ADDED';
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name,
        namespace: this.namespace,
        resourceVersion: String(++this.revision),
        labels: { 'kubernetes.io/service-name': service, 'app.kubernetes.io/component': 'loader' },
      },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port, protocol: 'TCP' }],
      endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: true, terminating: e.ready === false } })),
    };
    this.slices.set(name, slice);
    this.emit(type, slice);
  }

  deleteSlice(name: string) {
    const slice = this.slices.get(name) as { metadata: { resourceVersion: string } } | undefined;
    if (!slice) return;
    this.slices.delete(name);
    slice.metadata.resourceVersion = String(++this.revision);
    this.emit('DELETED', slice);
  }

  /** Ends every open watch, as an API server does at its watch timeout; clients watch again. */
  dropWatches() {
    for (const res of this.watchers) res.end();
    this.watchers.clear();
  }

  private emit(type: string, object: object) {
    for (const res of this.watchers) res.write(JSON.stringify({ type, object }) + '\n');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    const collection = `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`;
    if (req.method !== 'GET' || url.pathname !== collection) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
      return;
    }
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      this.watchers.add(res);
      res.on('close', () => this.watchers.delete(res));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'EndpointSliceList',
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { resourceVersion: String(this.revision) },
        items: [...this.slices.values()],
      }),
    );
  }
}
