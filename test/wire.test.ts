import assert from 'node:assert/strict';
import path from 'node:path';
import protobuf from 'protobufjs';
import { toolRequest, toolResponse } from '../runtime/protocol/codec.js';
import { loaderInput, loaderOutput, reqBatch, resBatch, resData } from '../runtime/protocol/envelope.js';
import type { LoaderInput, LoaderOutput, ReqBatch, ResBatch } from '../runtime/protocol/messages.js';
import { repoRoot } from './helpers/stack.js';

// protobufjs reading our .proto files is the reference the hand-written codecs are checked against.
const protoDir = path.join(repoRoot, 'runtime', 'protocol', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(protoDir, path.basename(target));
root.loadSync(['xsf.proto', 'loader.proto', 'pipe.proto'], { keepCase: true });
const reference = (name: string) => {
  const type = root.lookupType(name);
  return {
    encode: (message: object) => Buffer.from(type.encode(type.fromObject(message)).finish()),
    decode: (bytes: Uint8Array) => type.toObject(type.decode(bytes), { defaults: true }),
  };
};

const image = Buffer.alloc(40_000, 7); // longer than one length byte and than the writer's first buffer
const input: LoaderInput = {
  serviceId: 'mmocr',
  serviceName: 'mmocr',
  state: 1,
  headers: { app_id: 'ocr-test', appid: 'ocr-test', sid: 'sid-1', status: '3', note: 'größe ✓ 識別' },
  params: { lang: 'ch', long: 'x'.repeat(300), multibyte: '字'.repeat(42) },
  expect: [{ name: 'boxes', attribute: { encoding: 'utf8', format: 'json' } }],
  pl: [
    { meta: { name: 'data', dataType: 2, attribute: { encoding: 'jpg', status: '3', seq: '0' } }, data: image },
    { meta: { name: 'text', attribute: { status: '3' } }, data: Buffer.from('hello') },
  ],
  sync_id: 7,
};
const output: LoaderOutput = {
  serviceId: 'mmocr',
  code: 10106,
  err: 'output "x" is not declared',
  status: 3,
  pl: [{ meta: { name: 'boxes', attribute: { format: 'json' } }, data: Buffer.from('[{"text":"字"}]') }],
};
const batch: ReqBatch = {
  calls: [
    { op: 'AIIn', s: { t: 'trace', h: 'sid-1', sess: { a: 'b' } }, param: { SeqNo: '1', 'asf-call-id': '1' }, data: [{ data: loaderInput.encode(input), desc: { k: 'v' } }] },
    { op: 'AIExcp', s: { h: 'sid-2' }, param: { 'asf-call-id': '2' } },
  ],
};
const answers: ResBatch = {
  answers: [
    { code: -1, error_info: 'negative codes travel as ten-byte varints', s: { h: 'sid-1' }, param: { idle: '3' }, data: [{ data: loaderOutput.encode(output) }] },
    { code: 10110, error_info: 'no free licence', param: { 'asf-call-id': '2' } },
  ],
};

describe('request-path protobuf codecs (checked against protobufjs on our .proto files)', () => {
  const cases = [
    ['protocol.LoaderInput', loaderInput, input],
    ['protocol.LoaderOutput', loaderOutput, output],
    ['asf.ReqBatch', reqBatch, batch],
    ['asf.ResBatch', resBatch, answers],
  ] as const;

  for (const [name, codec, message] of cases) {
    it(`${name}: the same bytes as protobufjs, and each decodes the other's`, () => {
      const ref = reference(name);
      const ours = (codec as { encode(m: object): Buffer }).encode(message);
      assert.deepEqual(ours, ref.encode(message), 'byte for byte what protobufjs writes');
      assert.deepEqual(ref.decode(ours), ref.decode(ref.encode(message)));
      const decoded = (codec as { decode(b: Uint8Array): object }).decode(ref.encode(message));
      assert.deepEqual(ref.decode(ref.encode(decoded)), ref.decode(ref.encode(message)), 'nothing lost in our decoder');
    });
  }

  it('decodes what it did not write: defaults filled in, unknown fields skipped, negative int32s', () => {
    const decoded = loaderOutput.decode(Buffer.alloc(0));
    assert.deepEqual(decoded, { serviceId: '', code: 0, err: '', status: 0, pl: [] });
    // Field 15 (varint) and field 16 (a string) are not in LoaderOutput: an AIGES tool from a newer release may send them.
    const extra = Buffer.concat([Buffer.from([0x78, 0x96, 0x01, 0x82, 0x01, 0x03]), Buffer.from('new'), loaderOutput.encode({ code: -5, err: 'bad' })]);
    assert.deepEqual(loaderOutput.decode(extra), { serviceId: '', code: -5, err: 'bad', status: 0, pl: [] });
    assert.equal(resData.decode(reference('utils.ResData').encode({ code: -2147483648 })).code, -2147483648);
  });

  it('keeps a "__proto__" map key as a key', () => {
    const decoded = loaderInput.decode(loaderInput.encode({ headers: JSON.parse('{"__proto__":"x","sid":"s"}') }));
    assert.deepEqual(Object.keys(decoded.headers!), ['__proto__', 'sid']);
    assert.equal(Object.getPrototypeOf(decoded.headers), Object.prototype);
  });

  it('rejects a truncated message with the byte it stopped at, and encodes fine after a failed encode', () => {
    const whole = loaderInput.encode(input);
    assert.throws(() => loaderInput.decode(whole.subarray(0, 100)), /invalid protobuf message: field of \d+ bytes past the end of the message at byte \d+/);
    assert.throws(() => loaderOutput.decode(Buffer.from([0x10, 0x80])), /invalid protobuf message: truncated varint/);
    const unprintable = { toString: () => { throw new Error('not a string'); } } as unknown as string;
    assert.throws(() => loaderInput.encode({ ...input, headers: { sid: 'sid-1', bad: unprintable } }), /not a string/);
    assert.deepEqual(loaderInput.encode(input), whole, 'the writer starts clean after an encode threw');
  });

  it("ToolBox Request and Response carry headers as a string field, as AIGES's xsf.proto declares them", () => {
    const field = (tag: number, text: string) => Buffer.concat([Buffer.from([tag, Buffer.byteLength(text)]), Buffer.from(text)]);
    // Field 1 query, field 2 headers: both length-delimited text, the headers not map entries.
    const query = '{"cmd":"health"}';
    const headers = '{"method":"GET"}';
    assert.deepEqual(toolRequest.encode({ query, headers }), Buffer.concat([field(0x0a, query), field(0x12, headers)]));
    // Response: field 1 headers, field 2 body, as an AIGES loader sends its health.
    const answer = toolResponse.decode(Buffer.concat([field(0x0a, '{}'), field(0x12, 'health staus:')]));
    assert.deepEqual({ headers: answer.headers, body: answer.body }, { headers: '{}', body: 'health staus:' });
  });
});
