// Protobuf wire format primitives for the messages on the request path (envelope.ts). Hand-written
// because protobufjs's writer queues one operation object per field and copies the result again
// when a message is nested in another; this one writes once into a reused buffer.

const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Delimited = 2,
  Fixed32 = 5,
}

/**
 * Strings shorter than this are written and read byte by byte while they are ASCII (no native
 * call: 30% less time per request here), and take one length byte whatever they hold: 42 UTF-16
 * units are at most 126 UTF-8 bytes.
 */
const shortString = 43;

/** Largest buffer kept between messages; a bigger one (an image, say) is let go after its message. */
const keptBytes = 1 << 20;

export class ProtoWriter {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private pos = 0;

  /** Drops what a failed encode left behind. */
  reset() {
    this.pos = 0;
  }

  /** The bytes written since the last finish(), in a Buffer of their own. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    if (this.buf.length > keptBytes) this.buf = Buffer.allocUnsafe(16 * 1024);
    return out;
  }

  private ensure(bytes: number) {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** An unsigned 32-bit varint. */
  private varint(value: number) {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** A negative int32 goes as its 64-bit two's complement: ten bytes, the high word all ones. */
  private negativeVarint(value: number) {
    this.ensure(10);
    const buf = this.buf;
    let low = value >>> 0;
    let high = 0xffffffff;
    for (let i = 0; i < 9; i++) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low;
  }

  private tag(field: number, wire: WireType) {
    this.varint((field << 3) | wire);
  }

  /** int32 and enums; zero (the proto3 default) is left out. */
  int32(field: number, value: number | undefined) {
    if (!value) return;
    this.tag(field, WireType.Varint);
    if (value < 0) this.negativeVarint(value);
    else this.varint(value);
  }

  string(field: number, value: string | undefined) {
    if (!value) return;
    if (typeof value !== 'string') value = String(value);
    this.tag(field, WireType.Delimited);
    const length = value.length;
    if (length < shortString) {
      this.ensure(1 + 3 * length);
      const buf = this.buf;
      const start = this.pos;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) break;
        buf[start + 1 + i] = code;
      }
      // At most 3 bytes per UTF-16 unit: the length still fits in one byte.
      const bytes = i === length ? length : buf.write(value, start + 1, 'utf8');
      buf[start] = bytes;
      this.pos = start + 1 + bytes;
      return;
    }
    const bytes = Buffer.byteLength(value);
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(value, this.pos, bytes, 'utf8');
  }

  bytes(field: number, value: Uint8Array | undefined) {
    if (!value || value.length === 0) return;
    this.tag(field, WireType.Delimited);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** map<string, string>: one entry message per key. */
  map(field: number, map: Record<string, string> | undefined) {
    if (!map) return;
    for (const key in map) {
      const at = this.begin(field);
      this.string(1, key);
      this.string(2, map[key]);
      this.end(at);
    }
  }

  /** Opens an embedded message; end() writes its length in front of it. */
  begin(field: number): number {
    this.tag(field, WireType.Delimited);
    this.ensure(1);
    return this.pos++;
  }

  /** One length byte was reserved; a longer message moves over to make room for more. */
  end(at: number) {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    const size = length < 0x4000 ? 2 : length < 0x200000 ? 3 : length < 0x10000000 ? 4 : 5;
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    const end = this.pos + size - 1;
    this.pos = at;
    this.varint(length);
    this.pos = end;
  }
}

export class ProtoReader {
  private pos = 0;
  /** End of the message being read: the buffer's, or an embedded message's while message() reads it. */
  private limit: number;

  constructor(private readonly buf: Buffer) {
    this.limit = buf.length;
  }

  more(): boolean {
    return this.pos < this.limit;
  }

  private fail(what: string): never {
    throw new Error(`invalid protobuf message: ${what} at byte ${this.pos}`);
  }

  /** A varint's low 32 bits, unsigned; the bytes beyond them (negative int32s) are skipped. */
  uint32(): number {
    const buf = this.buf;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.limit) this.fail('truncated varint');
      const byte = buf[this.pos++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.limit) this.fail('truncated varint');
      if (buf[this.pos++]! < 0x80) return value >>> 0;
    }
    return this.fail('varint longer than 10 bytes');
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** Field number and wire type of the next field. */
  tag(): number {
    return this.uint32();
  }

  /** Where the next length-delimited field ends. */
  private delimited(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.limit) this.fail(`field of ${length} bytes past the end of the message`);
    return end;
  }

  string(): string {
    const end = this.delimited();
    const buf = this.buf;
    const start = this.pos;
    this.pos = end;
    if (end - start < shortString) {
      let text = '';
      for (let i = start; i < end; i++) {
        const byte = buf[i]!;
        if (byte > 0x7f) return buf.toString('utf8', start, end);
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return buf.toString('utf8', start, end);
  }

  /** A view of the bytes, not a copy: the message buffer is the caller's to keep. */
  bytes(): Buffer {
    const end = this.delimited();
    const view = this.buf.subarray(this.pos, end);
    this.pos = end;
    return view;
  }

  /** Reads the embedded message that starts here with `read` (which stops at its end), then moves past it. */
  message<T>(read: (r: ProtoReader) => T): T {
    const end = this.delimited();
    const outer = this.limit;
    this.limit = end;
    const value = read(this);
    this.pos = end;
    this.limit = outer;
    return value;
  }

  /** One map<string, string> entry, added to `map`. */
  mapEntry(map: Record<string, string>) {
    const end = this.delimited();
    const outer = this.limit;
    this.limit = end;
    let key = '';
    let value = '';
    while (this.pos < end) {
      const tag = this.tag();
      if (tag === 10) key = this.string();
      else if (tag === 18) value = this.string();
      else this.skip(tag);
    }
    this.limit = outer;
    // A "__proto__" key is kept as a key, not taken as the object's prototype.
    if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
    else map[key] = value;
  }

  /** Moves past a field this decoder does not know (newer AIGES tools may send more). */
  skip(tag: number) {
    switch ((tag & 7) as WireType) {
      case WireType.Varint:
        this.uint32();
        return;
      case WireType.Fixed64:
        this.pos += 8;
        break;
      case WireType.Delimited:
        this.pos = this.delimited();
        return;
      case WireType.Fixed32:
        this.pos += 4;
        break;
      default:
        this.fail(`unsupported wire type ${tag & 7}`);
    }
    if (this.pos > this.limit) this.fail('truncated field');
  }
}
