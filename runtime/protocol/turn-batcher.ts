/**
 * Collects what is pushed during one event-loop turn and hands it on as one batch, after the
 * turn's I/O callbacks have run (setImmediate): under load many requests share a message, and
 * a lone request waits for nothing but the end of the current turn.
 */
export class TurnBatcher<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(private readonly flush: (items: T[]) => void) {}

  push(item: T) {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  /** Drops what has not been flushed (the stream it was meant for is gone). */
  discard() {
    this.items = [];
  }

  private readonly run = () => {
    this.scheduled = false;
    const items = this.items;
    this.items = [];
    if (items.length) this.flush(items);
  };
}
