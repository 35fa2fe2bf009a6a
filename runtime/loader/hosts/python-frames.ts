/**
 * The pipe protocol between the Python host and its workers (runtime/python/asf_worker/framing.py):
 * a 4-byte big-endian header length, the header as UTF-8 JSON, then raw blobs whose sizes the
 * header lists in `sizes`. Bytes are never base64'd, and blobs are neither copied on the way out
 * nor, when a blob sits inside one pipe chunk, on the way in.
 */
export interface Frame {
  header: Record<string, unknown>;
  blobs: Buffer[];
}

/** The pieces of one frame, for a corked (vectored) write. */
export function encodeFrame(header: Record<string, unknown>, blobs: Buffer[]): Buffer[] {
  const json = Buffer.from(JSON.stringify({ ...header, sizes: blobs.map((blob) => blob.length) }), 'utf8');
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(json.length);
  return [length, json, ...blobs];
}

/** Cuts a byte stream into frames. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending?: { header: Record<string, unknown>; sizes: number[]; bytes: number };

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (!this.pending) {
        if (this.buffered < 4) break;
        const length = this.peekLength();
        if (this.buffered < 4 + length) break;
        this.take(4);
        const header = JSON.parse(this.take(length).toString('utf8')) as Record<string, unknown>;
        const sizes = Array.isArray(header['sizes']) ? (header['sizes'] as number[]) : [];
        this.pending = { header, sizes, bytes: sizes.reduce((sum, size) => sum + size, 0) };
      }
      if (this.buffered < this.pending.bytes) break;
      const { header, sizes } = this.pending;
      frames.push({ header, blobs: sizes.map((size) => this.take(size)) });
      this.pending = undefined;
    }
    return frames;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    // The length itself straddles chunks (rare): join just those 4 bytes and put them back.
    const prefix = this.take(4);
    this.chunks.unshift(prefix);
    this.buffered += 4;
    return prefix.readUInt32BE(0);
  }

  /** The next `size` buffered bytes: a view when one chunk holds them, else one copy. */
  private take(size: number): Buffer {
    if (size === 0) return Buffer.alloc(0);
    this.buffered -= size;
    const first = this.chunks[0]!;
    if (first.length >= size) {
      if (first.length === size) this.chunks.shift();
      else this.chunks[0] = first.subarray(size);
      return first.subarray(0, size);
    }
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0]!;
      const part = Math.min(chunk.length, size - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}
