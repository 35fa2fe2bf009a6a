import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asfBin, b64, freePort, post, repoRoot, startStack, type Stack } from './helpers/stack.js';
import { formatReport, mmocrEndpoint, mmocrRequest, parseBoxes, type OcrImageResult } from '../cli/demo.js';

const mmocrDir = path.join(repoRoot, 'examples', 'mmocr');
const venvPython = path.join(mmocrDir, '.venv', 'bin', 'python');
const compat = path.join(repoRoot, 'runtime', 'python', 'compat');
const driver = path.join(repoRoot, 'test', 'fixtures', 'run_wrapper.py');
const sample = path.join(mmocrDir, 'sample.jpg');
// What make_sample.py draws into sample.jpg.
const sampleWords = ['ASF', 'KIT', 'OFFLINE', 'OCR', '2026', 'AthenaServing', 'demo'];

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (bounded by timeoutMs) and collects what it printed. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} ran past ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function requireVenv() {
  if (!fs.existsSync(venvPython)) {
    throw new Error(`${venvPython} is missing: run \`bash examples/mmocr/setup.sh\` first`);
  }
}

/** Every result entry has the MMOCR shape. */
function assertBoxes(results: OcrImageResult[]) {
  assert.equal(results.length, 1);
  assert.equal(results[0]!.filename, '0');
  for (const r of results[0]!.result) {
    assert.equal(r.box.length, 8, JSON.stringify(r));
    assert.ok(r.box.every((v) => Number.isInteger(v) && v >= 0), JSON.stringify(r));
    assert.equal(typeof r.box_score, 'number');
    assert.ok(r.box_score > 0 && r.box_score <= 1, JSON.stringify(r));
    assert.equal(typeof r.text, 'string');
    assert.ok(r.text_score > 0 && r.text_score <= 1, JSON.stringify(r));
  }
}

/** The words, read in order, somewhere in the recognised lines (the model may drop a space between words). */
function assertReads(results: OcrImageResult[], words: string[]) {
  const all = results[0]!.result.map((r) => r.text).join(' ');
  const squeezed = all.replace(/\s+/g, '');
  let from = 0;
  for (const word of words) {
    const at = squeezed.indexOf(word, from);
    assert.ok(at >= 0, `'${word}' not read (in order) in: ${all}`);
    from = at + word.length;
  }
}

describe('mmocr demo capability', function () {
  this.timeout(180_000);

  describe('wrapper.py run directly in its venv (with our aiges compat module)', () => {
    let tmp: string;
    before(() => {
      requireVenv();
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-mmocr-'));
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('reads a freshly rendered image and returns boxes in the MMOCR shape; rejects a non-image', async () => {
      const image = path.join(tmp, 'words.jpg');
      const made = await run(venvPython, [path.join(mmocrDir, 'make_sample.py'), image, '--line', 'HELLO 2026', '--line', 'SERVING', '--size', '520', '240']);
      assert.equal(made.code, 0, made.stderr);
      const junk = path.join(tmp, 'junk.jpg');
      fs.writeFileSync(junk, Buffer.from('this is not an image at all'));

      const out = await run(venvPython, [driver, mmocrDir, image, junk], { PYTHONPATH: compat });
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      assert.equal(lines.length, 2, out.stdout + out.stderr);

      const [ok, bad] = lines;
      assert.equal(ok.error_code, 0, ok.message);
      assert.deepEqual(ok.keys, ['boxes']);
      assert.equal(ok.len_ok, true);
      assert.equal(ok.status, 3);
      assertBoxes(ok.boxes);
      assertReads(ok.boxes, ['HELLO', '2026', 'SERVING']);
      assert.equal(ok.boxes[0].result.length, 2, JSON.stringify(ok.boxes));
      // Reading order, and boxes clockwise from the top-left: x1 < x2, y1 < y4.
      const [first, second] = ok.boxes[0].result;
      assert.ok(first.box[1] < second.box[1], 'HELLO 2026 is above SERVING');
      for (const { box } of ok.boxes[0].result) {
        assert.ok(box[0] < box[2] && box[1] < box[7] && box[5] > box[3], `corner order of ${box}`);
      }

      assert.notEqual(bad.error_code, 0);
      assert.equal(bad.message, 'input data is not a decodable image');
    });
  });

  describe('demo client (cli/demo.ts)', () => {
    it('builds the ASF request of the demo', () => {
      const req = mmocrRequest(Buffer.from('img'), '42');
      assert.equal(req.header.app_id, '42');
      assert.deepEqual(req.parameter.mmocr.boxes, { encoding: 'utf8', compress: 'raw', format: 'json' });
      for (const key of ['category', 'application_mode', 'gpu_id', 'gpu_type'] as const) {
        assert.equal(typeof req.parameter.mmocr[key], 'string');
      }
      assert.deepEqual(req.payload.data, { encoding: 'jpg', status: 3, image: b64('img') });
    });

    it('takes a bare gateway address or the full service URL', () => {
      assert.equal(mmocrEndpoint('http://127.0.0.1:8889'), 'http://127.0.0.1:8889/v1/private/mmocr');
      assert.equal(mmocrEndpoint('10.0.0.5:30889/'), 'http://10.0.0.5:30889/v1/private/mmocr');
      assert.equal(mmocrEndpoint('http://h/v1/private/mmocr'), 'http://h/v1/private/mmocr');
      assert.throws(() => mmocrEndpoint('ftp://h'), /must be http/);
    });

    it('accepts boxes embedded as JSON or as base64, and rejects a wrong shape', () => {
      const data = [{ filename: '0', result: [{ box: [1, 2, 3, 2, 3, 4, 1, 4], box_score: 0.9, text: 'hi', text_score: 0.8 }] }];
      assert.deepEqual(parseBoxes(data), data);
      assert.deepEqual(parseBoxes(b64(JSON.stringify(data))), data);
      assert.throws(() => parseBoxes({ boxes: [] }), /JSON array/);
      assert.throws(() => parseBoxes([{ filename: '0', result: [{ box: [1, 2], text: 'x' }] }]), /8 integers/);
      const table = formatReport('http://h/v1/private/mmocr', 'a.jpg', data, 12.3, 'sid1');
      assert.match(table, /1 text box in 12 ms/);
      assert.match(table, /1,2 3,2 3,4 1,4 +0\.900 +0\.800 +hi/);
    });

    it('exits non-zero with a clear message when the service is unreachable', async () => {
      const port = await freePort();
      const out = await run(process.execPath, [asfBin, 'demo', 'mmocr', '--url', `http://127.0.0.1:${port}`, '--timeout', '5000']);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/v1/private/mmocr \\(ECONNREFUSED\\); is \`asf up\` running\\?`));
    });

    it('exits non-zero when the image file cannot be read', async () => {
      const out = await run(process.execPath, [asfBin, 'demo', 'mmocr', '--image', path.join(os.tmpdir(), 'no-such-image.jpg')]);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /cannot read image .*no-such-image\.jpg: ENOENT/);
    });
  });

  describe('end to end: asf up --capability examples/mmocr + asf demo mmocr', () => {
    let stack: Stack;
    before(async function () {
      requireVenv();
      stack = await startStack(['--capability', mmocrDir]);
    });
    after(async () => {
      await stack?.stop();
    });

    it('prints the boxes read from the shipped sample', async () => {
      const out = await run(process.execPath, [asfBin, 'demo', 'mmocr', '--url', stack.url]);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.match(out.stdout, /3 text boxes in \d+ ms/);
      assert.match(out.stdout, /box_score +text_score +text/);
      assert.match(out.stdout, /ASF ?KIT/);
      assert.match(out.stdout, /OFFLINE ?OCR ?2026/);
      assert.match(out.stdout, /AthenaServing ?demo/);
    });

    it('answers the ASF protocol: payload.boxes.text is a JSON array of MMOCR results', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/mmocr`, mmocrRequest(fs.readFileSync(sample), '123456'));
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.header.code, 0);
      assert.equal(json.payload.boxes.format, 'json');
      assert.ok(Array.isArray(json.payload.boxes.text));
      assertBoxes(json.payload.boxes.text);
      assertReads(json.payload.boxes.text, sampleWords);
    });

    it('reports an undecodable image as a client error (400: capability.yaml lists the code), and the demo exits non-zero printing it', async () => {
      const { status, json } = await post(`${stack.url}/v1/private/mmocr`, mmocrRequest(Buffer.from('not an image'), '123456'));
      assert.equal(status, 400);
      assert.notEqual(json.header.code, 0);
      assert.equal(json.header.message, 'input data is not a decodable image');

      const junk = path.join(os.tmpdir(), `asf-mmocr-junk-${process.pid}.jpg`);
      fs.writeFileSync(junk, 'not an image');
      try {
        const out = await run(process.execPath, [asfBin, 'demo', 'mmocr', '--url', stack.url, '--image', junk]);
        assert.notEqual(out.code, 0);
        assert.match(out.stderr, /mmocr answered error \d+: input data is not a decodable image/);
      } finally {
        fs.rmSync(junk, { force: true });
      }
    });
  });
});
