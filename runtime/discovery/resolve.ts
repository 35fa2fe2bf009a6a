import dns from 'node:dns/promises';
import net from 'node:net';

/** A loader address split into host and port; an IPv6 host is written in brackets. */
export function splitAddress(address: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const at = address.lastIndexOf(':');
  if (at <= 0) throw new Error(`loader address ${address} has no port: write host:port`);
  return { host: address.slice(0, at), port: address.slice(at + 1) };
}

export function joinAddress(host: string, port: string): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An address that names its host by IP: there is nothing to look up. */
export function isLiteral(address: string): boolean {
  return net.isIP(splitAddress(address).host) !== 0;
}

/**
 * Every address a loader name stands for (Compose answers a service name with one address per
 * replica), sorted; none when the name does not resolve. IPv4 addresses only when there are any:
 * a host on a dual-stack network answers on both, and counting it twice would double its licences.
 */
export async function resolveAll(address: string): Promise<string[]> {
  const { host, port } = splitAddress(address);
  let found: { address: string; family: number }[];
  try {
    found = await dns.lookup(host, { all: true });
  } catch {
    return [];
  }
  const v4 = found.filter((a) => a.family === 4);
  return [...new Set((v4.length ? v4 : found).map((a) => joinAddress(a.address, port)))].sort();
}
