import assert from 'node:assert/strict';
import path from 'node:path';
import { b64, post, repoRoot, startStack, type Stack } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');
const misbehaveDir = path.join(repoRoot, 'test', 'fixtures', 'js', 'misbehave');

const echoRequest = (text: string, extra: Record<string, unknown> = {}) => ({
  header: { app_id: '123456', uid: 'u1', request_id: null },
  parameter: { echo: { mode: 'plain', ...extra } },
  payload: { text: { encoding: 'utf8', status: 3, text: b64(text) } },
});

describe('gateway + loader over real processes (asf up)', function () {
  let stack: Stack;

  before(async () => {
    stack = await startStack(['--capability', echoDir, '--capability', misbehaveDir, '--body-limit', '4096']);
  });
  after(async () => {
    await stack?.stop();
  });

  describe('one-shot success', () => {
    it('answers in the ASF shape with code 0, a sid and base64 output by default', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/echo`, echoRequest('hello ASF'));
      assert.equal(status, 200);
      assert.equal(json.header.code, 0);
      assert.equal(json.header.message, 'success');
      assert.match(json.header.sid, /^[a-z0-9]{20,}$/);
      const result = json.payload.result;
      assert.equal(Buffer.from(result.text, 'base64').toString(), 'hello ASF');
      assert.equal(result.encoding, 'utf8');
      assert.equal(result.status, 3);
      assert.equal(result.seq, 0);
    });

    it('embeds output as raw JSON when format is json and the bytes parse', async () => {
      const req = echoRequest('{"boxes":[1,2,3]}', { result: { encoding: 'utf8', compress: 'raw', format: 'json' } });
      const { status, json } = await post(`${stack.url}/v1/private/echo`, req);
      assert.equal(status, 200);
      assert.deepEqual(json.payload.result.text, { boxes: [1, 2, 3] });
      assert.equal(json.payload.result.format, 'json');
    });

    it('falls back to base64 when format is json but the bytes are not JSON', async () => {
      const req = echoRequest('not json', { result: { format: 'json' } });
      const { json } = await post(`${stack.url}/v1/private/echo`, req);
      assert.equal(Buffer.from(json.payload.result.text, 'base64').toString(), 'not json');
    });

    it('passes parameters to the wrapper', async () => {
      const { json } = await post(`${stack.url}/v1/private/echo`, { ...echoRequest('abc'), parameter: { echo: { mode: 'upper' } } });
      assert.equal(Buffer.from(json.payload.result.text, 'base64').toString(), 'ABC');
    });

    it('resolves the service by last path segment and by ?serviceId=', async () => {
      const bySegment = await post(`${stack.url}/echo`, echoRequest('a'));
      assert.equal(bySegment.status, 200);
      const byQuery = await post(`${stack.url}/some/other/path?serviceId=echo`, echoRequest('b'));
      assert.equal(byQuery.status, 200);
      assert.equal(Buffer.from(byQuery.json.payload.result.text, 'base64').toString(), 'b');
    });

    it('gives each request its own sid', async () => {
      const [a, b] = await Promise.all([post(`${stack.url}/echo`, echoRequest('1')), post(`${stack.url}/echo`, echoRequest('2'))]);
      assert.notEqual(a.json.header.sid, b.json.header.sid);
    });
  });

  describe('bad input: exact code and HTTP status', () => {
    it('body that is not JSON: 400, 10160', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/echo`, '{"header": {');
      assert.equal(status, 400);
      assert.equal(json.header.code, 10160);
      assert.match(json.header.message, /not valid JSON/);
    });

    it('wrong content type: 400, content-type must be application/json', async () => {
      const res = await fetch(`${stack.url}/v1/private/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
      assert.equal(res.status, 400);
      const json = (await res.json()) as { header: { code: number; message: string } };
      assert.equal(json.header.message, 'content-type must be application/json');
    });

    it('missing app_id: 400, 10313', async () => {
      const req = echoRequest('x');
      const { status, json } = await post(`${stack.url}/v1/private/echo`, { ...req, header: { uid: 'u' } });
      assert.equal(status, 400);
      assert.equal(json.header.code, 10313);
      assert.equal(json.header.message, 'appid cannot be empty');
    });

    it('unknown service: 404, not found', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/nosuch`, echoRequest('x'));
      assert.equal(status, 404);
      assert.equal(json.message, 'not found');
      assert.equal(json.header.code, 10404);
    });

    it('undeclared output requested: 400, 10106', async () => {
      const req = echoRequest('x', { summary: { format: 'json' } });
      const { status, json } = await post(`${stack.url}/v1/private/echo`, req);
      assert.equal(status, 400);
      assert.equal(json.header.code, 10106);
      assert.match(json.header.message, /output 'summary' is not declared/);
    });

    it('payload field that is not base64: 400, 10163 naming the field', async () => {
      const req = echoRequest('x');
      req.payload.text.text = 'this is not base64!';
      const { status, json } = await post(`${stack.url}/v1/private/echo`, req);
      assert.equal(status, 400);
      assert.equal(json.header.code, 10163);
      assert.equal(json.header.message, 'payload.text.text is not valid base64');
    });

    it('schema violation (parameter outside its enum): 400, 10163', async () => {
      const req = echoRequest('x', { mode: 'shout' });
      const { status, json } = await post(`${stack.url}/v1/private/echo`, req);
      assert.equal(status, 400);
      assert.equal(json.header.code, 10163);
      assert.equal(json.header.message, 'parameter.echo.mode must be one of "plain", "upper"');
    });

    it('schema violation (declared input missing): 400, 10163', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/echo`, { header: { app_id: '1' }, payload: {} });
      assert.equal(status, 400);
      assert.equal(json.header.code, 10163);
      assert.match(json.header.message, /payload must have required property 'text'/);
    });

    it('oversize body: 413 with the limit in the message', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/echo`, echoRequest('x'.repeat(8000)));
      assert.equal(status, 413);
      assert.equal(json.header.code, 10163);
      assert.match(json.header.message, /larger than the limit of 4096 bytes/);
    });

    it('wrapper throwing: 502, 10909 with its message; the loader keeps serving', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64('throw') } } });
      assert.equal(status, 502);
      assert.equal(json.header.code, 10909);
      assert.match(json.header.message, /boom: the wrapper fell over/);
      const after = await post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64('fine') } } });
      assert.equal(after.status, 200);
    });

    it('wrapper error code: 502 with its code and wrapperError text', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64('code') } } });
      assert.equal(status, 502);
      assert.equal(json.header.code, 10042);
      assert.equal(json.header.message, 'the wrapper refused: code 10042');
    });

    it('wrapper returning an undeclared key: 502, 10106', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64('undeclared') } } });
      assert.equal(status, 502);
      assert.equal(json.header.code, 10106);
      assert.match(json.header.message, /wrapper returned output 'secret'/);
    });

    it('licences exhausted on a single replica: the next request waits for the licence and is answered', async () => {
      const slow = post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64('sleep:1500') } } });
      // The slow call holds the only licence; wait until the loader reports it taken.
      await waitFor(async () => {
        const health = (await (await fetch(`${stack.url}/healthz`)).json()) as any;
        return health.services.misbehave[0].idle === 0;
      });
      const { status, json } = await post(`${stack.url}/v1/private/misbehave`, { header: { app_id: '1' }, payload: { text: { text: b64('x') } } });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal((await slow).status, 200);
      // Past the queue (depth 0 here: see test/admission.test.ts for more): 429 + Retry-After, 10110.
    });
  });

  describe('service endpoints', () => {
    it('GET /healthz is 200 with every capability ready', async () => {
      const res = await fetch(`${stack.url}/healthz`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as any;
      assert.equal(body.status, 'ready');
      assert.deepEqual(Object.keys(body.services).sort(), ['echo', 'misbehave']);
    });

    it('GET /metrics counts requests by service and code', async () => {
      const text = await (await fetch(`${stack.url}/metrics`)).text();
      assert.match(text, /asf_gateway_requests_total\{service="echo",code="0"\} [1-9]/);
      assert.match(text, /asf_gateway_requests_total\{service="misbehave",code="10909"\} 1/);
      // asf up serves a JS capability from a thread of its own process: the replica is named, not addressed.
      assert.match(text, /asf_loader_idle_licences\{service="echo",replica="thread:echo#\d+"\} 8/);
    });

    it('GET /openapi.json documents each capability route with its parameters', async () => {
      const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as any;
      assert.equal(doc.openapi, '3.1.0');
      const op = doc.paths['/v1/private/echo'].post;
      const schema = op.requestBody.content['application/json'].schema;
      assert.deepEqual(schema.properties.parameter.properties.echo.properties.mode.enum, ['plain', 'upper']);
      assert.deepEqual(schema.properties.payload.required, ['text']);
      assert.ok(doc.paths['/v1/private/misbehave']);
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}
