/** The loader's concurrency limit: a request or session holds one licence while it runs. */
export class LicencePool {
  private used = 0;

  constructor(private max: number) {}

  get total() {
    return this.max;
  }

  get idle() {
    return Math.max(0, this.max - this.used);
  }

  tryAcquire(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }

  release() {
    if (this.used > 0) this.used--;
  }

  /** AILBType: a new maximum applies to the next acquisitions; running work is not cut. */
  resize(max: number) {
    this.max = max;
  }
}
