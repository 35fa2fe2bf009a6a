import type { GivenService } from './loader-queries.js';
import type { ReplicaPoller } from './poller.js';
import type { Replica } from './replica.js';
import { resolveAll } from './resolve.js';

/**
 * A loader given by name (host:port): one replica per address the name resolves to. The name is
 * looked up again when asked (StaticDiscovery does so periodically) and whenever one of its
 * replicas is found unreachable, since a restarted container may be back under another address.
 * An address the name no longer gives is let go only once one it does give is ready, so requests
 * wait for the loader to come back instead of failing for want of any.
 */
export class NamedLoader {
  /** The addresses polled for this name, with their replicas. */
  private readonly tracked = new Map<string, Replica>();
  private lookingUp?: Promise<void>;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly poller: ReplicaPoller,
    private readonly given?: GivenService,
  ) {}

  /** Looks the name up again; calls while a lookup runs share it. */
  refresh(): Promise<void> {
    return (this.lookingUp ??= this.lookUp().finally(() => (this.lookingUp = undefined)));
  }

  stop() {
    this.stopped = true;
  }

  private async lookUp() {
    const found = await resolveAll(this.name);
    if (this.stopped) return;
    // Nothing behind the name (its containers being replaced, or not started yet): keep what we
    // had; with nothing at all, poll the name itself, which shows as unreachable until it resolves.
    const current = found.length ? found : this.tracked.size ? [...this.tracked.keys()] : [this.name];
    await Promise.all(current.filter((address) => !this.tracked.has(address)).map((address) => this.track(address)));
    if (this.stopped || !current.some((address) => this.tracked.get(address)?.state === 'ready')) return;
    for (const [address, replica] of this.tracked) {
      if (current.includes(address)) continue;
      replica.onDown = undefined;
      this.tracked.delete(address);
      this.poller.remove(address);
    }
  }

  private async track(address: string) {
    const replica = await this.poller.add(address, { given: this.given });
    this.tracked.set(address, replica);
    replica.onDown = () => void this.refresh();
  }
}
