// Encoders and decoders for the messages every request crosses: the AIGES envelope (xsf.proto:
// ReqData, ResData and their parts), the loader payload (loader.proto: LoaderInput, LoaderOutput)
// and our pipe's batches (pipe.proto). Field numbers are those of the .proto files; test/wire.test.ts
// checks both directions against protobufjs reading the same files. Decoded messages carry every
// field, absent ones at their proto3 default, as protobufjs would give them.
import type { DataMeta, LoaderInput, LoaderOutput, MetaDesc, Payload, ReqBatch, ReqData, ResBatch, ResData, Session } from './messages.js';
import { ProtoReader, ProtoWriter } from './wire.js';

/** Tag bytes: field number << 3 | wire type (0 varint, 2 length-delimited). */
const field = (number: number, wire: 0 | 2) => (number << 3) | wire;

const writer = new ProtoWriter();

export interface MessageCodec<T> {
  encode(message: T): Buffer;
  decode(bytes: Uint8Array): T;
}

function messageCodec<T>(write: (w: ProtoWriter, message: T) => void, read: (r: ProtoReader) => T): MessageCodec<T> {
  return {
    encode(message) {
      writer.reset();
      write(writer, message);
      return writer.finish();
    },
    decode(bytes) {
      const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return read(new ProtoReader(buf));
    },
  };
}

function embed<T>(w: ProtoWriter, number: number, message: T | undefined | null, write: (w: ProtoWriter, message: T) => void) {
  if (!message) return;
  const at = w.begin(number);
  write(w, message);
  w.end(at);
}

function embedAll<T>(w: ProtoWriter, number: number, messages: T[] | undefined, write: (w: ProtoWriter, message: T) => void) {
  if (!messages) return;
  for (const message of messages) embed(w, number, message, write);
}

// --- xsf.proto

function writeSession(w: ProtoWriter, s: Session) {
  w.string(1, s.t);
  w.string(2, s.h);
  w.map(3, s.sess);
}

function readSession(r: ProtoReader): Session {
  const s: Required<Session> = { t: '', h: '', sess: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) s.t = r.string();
    else if (tag === field(2, 2)) s.h = r.string();
    else if (tag === field(3, 2)) r.mapEntry(s.sess);
    else r.skip(tag);
  }
  return s;
}

function writeDataMeta(w: ProtoWriter, d: DataMeta) {
  w.bytes(1, d.data);
  w.map(3, d.desc);
}

const noBytes = Buffer.alloc(0);

function readDataMeta(r: ProtoReader): DataMeta {
  const d: Required<DataMeta> = { data: noBytes, desc: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) d.data = r.bytes();
    else if (tag === field(3, 2)) r.mapEntry(d.desc);
    else r.skip(tag);
  }
  return d;
}

function writeReqData(w: ProtoWriter, m: ReqData) {
  w.string(1, m.op);
  embed(w, 2, m.s, writeSession);
  w.map(3, m.param);
  embedAll(w, 4, m.data, writeDataMeta);
}

function readReqData(r: ProtoReader): ReqData {
  const m: ReqData & Required<Pick<ReqData, 'param' | 'data'>> = { op: '', s: undefined, param: {}, data: [] };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) m.op = r.string();
    else if (tag === field(2, 2)) m.s = r.message(readSession);
    else if (tag === field(3, 2)) r.mapEntry(m.param);
    else if (tag === field(4, 2)) m.data.push(r.message(readDataMeta));
    else r.skip(tag);
  }
  return m;
}

function writeResData(w: ProtoWriter, m: ResData) {
  w.int32(1, m.code);
  w.string(2, m.error_info);
  embed(w, 3, m.s, writeSession);
  w.map(4, m.param);
  embedAll(w, 5, m.data, writeDataMeta);
}

function readResData(r: ProtoReader): ResData {
  const m: ResData & Required<Pick<ResData, 'param' | 'data'>> = { code: 0, error_info: '', s: undefined, param: {}, data: [] };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 0)) m.code = r.int32();
    else if (tag === field(2, 2)) m.error_info = r.string();
    else if (tag === field(3, 2)) m.s = r.message(readSession);
    else if (tag === field(4, 2)) r.mapEntry(m.param);
    else if (tag === field(5, 2)) m.data.push(r.message(readDataMeta));
    else r.skip(tag);
  }
  return m;
}

// --- loader.proto

function writeMetaDesc(w: ProtoWriter, m: MetaDesc) {
  w.string(1, m.name);
  w.int32(2, m.dataType);
  w.map(3, m.attribute);
}

function readMetaDesc(r: ProtoReader): MetaDesc {
  const m: Required<MetaDesc> = { name: '', dataType: 0, attribute: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) m.name = r.string();
    else if (tag === field(2, 0)) m.dataType = r.int32() as MetaDesc['dataType'] & number;
    else if (tag === field(3, 2)) r.mapEntry(m.attribute);
    else r.skip(tag);
  }
  return m;
}

function writePayload(w: ProtoWriter, p: Payload) {
  embed(w, 1, p.meta, writeMetaDesc);
  w.bytes(2, p.data);
}

function readPayload(r: ProtoReader): Payload {
  const p: Payload = { meta: undefined, data: noBytes };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) p.meta = r.message(readMetaDesc);
    else if (tag === field(2, 2)) p.data = r.bytes();
    else r.skip(tag);
  }
  return p;
}

function writeLoaderInput(w: ProtoWriter, m: LoaderInput) {
  w.string(1, m.serviceId);
  w.string(2, m.serviceName);
  w.int32(3, m.state);
  w.map(4, m.headers);
  w.map(5, m.params);
  embedAll(w, 6, m.expect, writeMetaDesc);
  embedAll(w, 7, m.pl, writePayload);
  w.int32(8, m.sync_id);
}

function readLoaderInput(r: ProtoReader): LoaderInput {
  const m: Required<LoaderInput> = { serviceId: '', serviceName: '', state: 0, headers: {}, params: {}, expect: [], pl: [], sync_id: 0 };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) m.serviceId = r.string();
    else if (tag === field(2, 2)) m.serviceName = r.string();
    else if (tag === field(3, 0)) m.state = r.int32() as LoaderInput['state'] & number;
    else if (tag === field(4, 2)) r.mapEntry(m.headers);
    else if (tag === field(5, 2)) r.mapEntry(m.params);
    else if (tag === field(6, 2)) m.expect.push(r.message(readMetaDesc));
    else if (tag === field(7, 2)) m.pl.push(r.message(readPayload));
    else if (tag === field(8, 0)) m.sync_id = r.int32();
    else r.skip(tag);
  }
  return m;
}

function writeLoaderOutput(w: ProtoWriter, m: LoaderOutput) {
  w.string(1, m.serviceId);
  w.int32(2, m.code);
  w.string(3, m.err);
  w.int32(4, m.status);
  embedAll(w, 5, m.pl, writePayload);
}

function readLoaderOutput(r: ProtoReader): LoaderOutput {
  const m: Required<LoaderOutput> = { serviceId: '', code: 0, err: '', status: 0, pl: [] };
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) m.serviceId = r.string();
    else if (tag === field(2, 0)) m.code = r.int32();
    else if (tag === field(3, 2)) m.err = r.string();
    else if (tag === field(4, 0)) m.status = r.int32() as LoaderOutput['status'] & number;
    else if (tag === field(5, 2)) m.pl.push(r.message(readPayload));
    else r.skip(tag);
  }
  return m;
}

// --- pipe.proto

function readRepeated<T>(r: ProtoReader, read: (r: ProtoReader) => T): T[] {
  const items: T[] = [];
  while (r.more()) {
    const tag = r.tag();
    if (tag === field(1, 2)) items.push(r.message(read));
    else r.skip(tag);
  }
  return items;
}

export const reqData = messageCodec(writeReqData, readReqData);
export const resData = messageCodec(writeResData, readResData);
export const loaderInput = messageCodec(writeLoaderInput, readLoaderInput);
export const loaderOutput = messageCodec(writeLoaderOutput, readLoaderOutput);
export const reqBatch = messageCodec<ReqBatch>(
  (w, m) => embedAll(w, 1, m.calls, writeReqData),
  (r) => ({ calls: readRepeated(r, readReqData) }),
);
export const resBatch = messageCodec<ResBatch>(
  (w, m) => embedAll(w, 1, m.answers, writeResData),
  (r) => ({ answers: readRepeated(r, readResData) }),
);

