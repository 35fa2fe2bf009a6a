// What is installed and whether it works: the helm releases, each bundle image in the registry
// (by digest) and each capability's readiness at the gateway. Never healthy unless checked: what
// could not be checked counts as a problem.
import { repositories, repositoryTags } from '../registry/layout.js';
import { openBundle } from './bundle.js';
import { manifestStatuses, type RegistryTarget } from './push.js';
import { devicePluginRelease, releaseState } from './release.js';
import { localAddr, ServedRegistry } from './served-registry.js';
import type { Settings } from './settings.js';
import { helmBinary } from './tools.js';
import { nodeIp } from './node.js';

/** The gateway's /healthz answer. */
interface Healthz {
  status: string;
  services?: Record<string, { address: string; state: string; error?: string | null }[]>;
  pending?: { address: string; state: string; error?: string | null }[];
}

const stateOf = (l: { state: string; error?: string | null }) => `${l.state}${l.error ? `: ${l.error}` : ''}`;

/** One line per capability, plus one per loader whose capability is not known yet. */
export function readinessLines(h: Healthz): string[] {
  const lines = Object.entries(h.services ?? {}).map(([id, loaders]) => {
    const ready = loaders.filter((l) => l.state === 'ready').length;
    const others = loaders.filter((l) => l.state !== 'ready').map((l) => `; ${l.address} ${stateOf(l)}`).join('');
    return `capability ${id}: ${ready > 0 ? 'ready' : 'not ready'} (${ready} of ${loaders.length} loaders ready${others})`;
  });
  for (const l of h.pending ?? []) lines.push(`loader ${l.address}: not ready (${stateOf(l)}; its capability is not known yet)`);
  return lines.length > 0 ? lines : ['capabilities: none registered with the gateway yet'];
}

/** Prints the gateway's readiness and each capability's; false when it is not ready or not reached. */
async function gatewayReadiness(url: string, namespace: string, log: (line: string) => void): Promise<boolean> {
  let code: number;
  let body: unknown;
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
    code = res.status;
    body = await res.json().catch(() => undefined);
  } catch {
    log(
      `gateway ${url}: not reachable, capability readiness unknown (check the gateway Pod: kubectl -n ${namespace} get pods; from a machine that cannot reach the node, pass --gateway URL, e.g. after kubectl port-forward)`,
    );
    return false;
  }
  if (typeof body !== 'object' || body === null || typeof (body as Healthz).status !== 'string') {
    log(`gateway ${url}/healthz: HTTP ${code}, not an ASF gateway's answer; is --gateway (or --node-port) right?`);
    return false;
  }
  log(`gateway ${url}/healthz: ${code === 200 ? 'ready' : 'not ready'} (HTTP ${code})`);
  for (const line of readinessLines(body as Healthz)) log(line);
  return code === 200;
}

/** Resolves the number of problems found (0: healthy). */
export async function installStatus(settings: Settings, log: (line: string) => void): Promise<number> {
  let problems = 0;
  const helm = helmBinary(settings.bundle);
  let deployed = false;
  const release = `release ${settings.release} in ${settings.namespace}`;
  if (!helm) {
    log(`${release}: NOT CHECKED: helm not found (neither ${settings.bundle ?? '<bundle>'}/bin/helm nor on PATH; pass --bundle DIR or set ASF_HELM)`);
    problems++;
  } else {
    const state = await releaseState(helm, settings.release, settings.namespace);
    log(`${release}: ${state.state}`);
    deployed = state.deployed;
    if (!deployed) problems++;
    const plugin = deployed ? await releaseState(helm, devicePluginRelease, settings.namespace) : undefined;
    if (plugin?.deployed) log(`release ${devicePluginRelease} in ${settings.namespace}: ${plugin.state} (NVIDIA device plugin)`);
  }

  let registry: RegistryTarget | undefined = settings.registry;
  const served = new ServedRegistry(settings.stateDir, log);
  const servedAddr = served.servedAddr();
  if (!registry && servedAddr && (await served.running())) registry = { address: localAddr(servedAddr), plainHttp: true };
  const bundle = settings.bundle ? openBundleOrUndefined(settings.bundle) : undefined;
  if (!bundle) log('images: not checked (pass --bundle DIR to check the bundle\'s images in the registry)');
  else if (!registry) log('images: not checked (pass --registry HOST:PORT, or serve them with install --serve-registry)');
  if (bundle && registry) {
    const images = repositories(bundle.registry).flatMap((repository) => repositoryTags(bundle.registry, repository).map((t) => ({ repository, ...t })));
    const codes = await manifestStatuses(registry, images);
    images.forEach(({ repository, tag, digest }, i) => {
      if (codes[i] === 200) log(`image ${repository}:${tag}@${digest} present in ${registry.address}`);
      else {
        log(`image ${repository}:${tag}@${digest} MISSING from ${registry.address} (HTTP ${String(codes[i]).padStart(3, '0')})`);
        problems++;
      }
    });
  }

  let url = settings.gateway;
  if (!url) {
    const ip = await nodeIp();
    if (ip) url = `http://${ip}:${settings.nodePort}`;
  }
  if (!url) {
    log('gateway: NOT CHECKED (no node address from kubectl; pass --gateway URL)');
    problems++;
  } else if (deployed || settings.gateway) {
    if (!(await gatewayReadiness(url, settings.namespace, log))) problems++;
  } else {
    log(`gateway: not checked (release ${settings.release} is not installed)`);
  }
  return problems;
}

function openBundleOrUndefined(root: string) {
  try {
    return openBundle(root);
  } catch {
    return undefined;
  }
}
