// Where the cluster's first node is reached: the gateway's NodePort and the served registry's
// advertised address default to it.
import { kubectl } from './tools.js';

export async function nodeIp(): Promise<string | undefined> {
  const r = await kubectl('get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}');
  return r.ok && r.stdout.trim() ? r.stdout.trim() : undefined;
}
