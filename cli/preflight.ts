import net from 'node:net';
import type { CapabilitySpec } from '../runtime/capability/types.js';

/** A problem `asf up` finds before it starts anything. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

/**
 * Each folder once, each serviceId from one folder: the gateway would otherwise take every loader
 * of a serviceId as replicas of one service, whatever code they run.
 */
export function checkDistinct(specs: CapabilitySpec[]): void {
  const byDir = new Map<string, number>();
  const byService = new Map<string, string>();
  for (const spec of specs) {
    byDir.set(spec.dir, (byDir.get(spec.dir) ?? 0) + 1);
    if (byDir.get(spec.dir) === 2) throw new PreflightError(`capability ${spec.dir} is given more than once; for more loaders of it use --replicas N`);
    const other = byService.get(spec.serviceId);
    if (other) throw new PreflightError(`${other} and ${spec.dir} are both serviceId '${spec.serviceId}': give one of them another serviceId (asf config set -c DIR serviceId NAME)`);
    byService.set(spec.serviceId, spec.dir);
  }
}

/** Fails, saying what to do, if the gateway could not listen on host:port (taken, or no such address). */
export function checkListen(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (err.code === 'EADDRINUSE') reject(new PreflightError(`port ${port} on ${host} is in use (another asf up?): pick another with --port`));
      else if (err.code === 'EACCES') reject(new PreflightError(`no permission to listen on ${where}: ports below 1024 need root; pick another with --port`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') reject(new PreflightError(`cannot listen on ${where}: ${host} is not an address of this machine (--host)`));
      else reject(new PreflightError(`cannot listen on ${where}: ${err.message}`));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
