import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { freePort, post, repoRoot, runAsf, startStack, type Stack } from './helpers/stack.js';

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const mmocrDir = path.join(repoRoot, 'examples', 'mmocr');
const layoutDir = path.join(repoRoot, 'examples', 'layout');
const wordcountDir = path.join(repoRoot, 'examples', 'wordcount-stream');
const withLayout = fs.existsSync(path.join(layoutDir, '.venv', 'bin', 'python'));
// The README's picture: each run writes it under dist/; ASF_UPDATE_DOCS=1 writes the committed one
// (a run leaves the tree clean otherwise: the bytes differ with every port and latency).
const screenshot = path.join(repoRoot, process.env['ASF_UPDATE_DOCS'] === '1' ? 'docs' : 'dist', 'console-mmocr.png');
// What examples/mmocr/make_sample.py draws into sample.jpg, line by line.
const sampleWords = ['ASF', 'KIT', 'OFFLINE', 'OCR', '2026', 'AthenaServing', 'demo'];

/** A console page, with every request it made (any request elsewhere than the gateway is refused) and its console errors. */
interface ConsolePage {
  page: Page;
  requests: string[];
  errors: string[];
  /** Bytes of every response the page received. */
  bytes: number;
}

describe('console in the browser (headless Debian chromium)', function () {
  this.timeout(180_000);
  let stack: Stack;
  let browser: Browser;
  let tmp: string;

  before(async function () {
    if (!chromium) {
      console.log('      skipped: no /usr/bin/chromium (bash scripts/setup.sh installs Debian\'s chromium)');
      this.skip();
    }
    assert.ok(fs.existsSync(path.join(mmocrDir, '.venv', 'bin', 'python')), 'examples/mmocr/.venv is missing: run bash examples/mmocr/setup.sh');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asf-console-'));
    stack = await startStack(['-c', mmocrDir, '-c', wordcountDir, ...(withLayout ? ['-c', layoutDir] : [])]);
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function openConsole(): Promise<ConsolePage & { readyMs: number }> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const opened: ConsolePage = { page, requests: [], errors: [], bytes: 0 };
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      opened.requests.push(req.url());
      if (isGateway(req.url())) void req.continue();
      else void req.abort();
    });
    page.on('response', (res) => void res.buffer().then((b) => (opened.bytes += b.length), () => {}));
    // CSP violations and failed loads are reported as console errors; an API call answering an
    // error status is logged too, and is the point of the error test.
    page.on('console', (message) => {
      const apiAnswer = message.location().url?.startsWith(`${stack.url}/v1/private/`) && message.text().startsWith('Failed to load resource: the server responded');
      if (message.type() === 'error' && !apiAnswer) opened.errors.push(message.text());
    });
    page.on('pageerror', (err) => opened.errors.push(String(err)));
    const started = Date.now();
    await page.goto(`${stack.url}/`);
    await page.waitForSelector('body[data-state="ready"]');
    return { ...opened, readyMs: Date.now() - started };
  }

  const isGateway = (url: string) => url.startsWith(`${stack.url}/`) || url.startsWith('blob:') || url.startsWith('data:');

  /** Every request went to the gateway, and the page reported no error (no CSP violation either). */
  function assertStayedHome(opened: ConsolePage) {
    assert.ok(opened.requests.includes(`${stack.url}/console/app.js`), `interception saw no request: ${opened.requests}`);
    assert.deepEqual(opened.requests.filter((url) => !isGateway(url)), [], 'requests to other hosts');
    assert.deepEqual(opened.errors, []);
  }

  async function section(page: Page, serviceId: string): Promise<ElementHandle> {
    const found = await page.$(`section[data-service="${serviceId}"]`);
    assert.ok(found, `no section for ${serviceId}`);
    return found;
  }

  /** Uploads a file into the capability's image input, sends the form, and waits for the answer. */
  async function send(page: Page, serviceId: string, file: string) {
    const card = await section(page, serviceId);
    const input = (await card.$(`input[type=file]`)) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(file);
    await card.$eval('.answer-slot', (slot) => slot.replaceChildren());
    await (await card.$('button[type=submit]'))!.click();
    await card.waitForSelector('.answer');
    return card;
  }

  const answerOf = (card: ElementHandle) =>
    card.$eval('.answer', (el) => ({
      status: el.getAttribute('data-status'),
      code: el.querySelector('.code')!.textContent,
      message: el.querySelector('.message')!.textContent,
      summary: el.querySelector('.summary')!.textContent,
      raw: JSON.parse(el.querySelector('.raw pre')!.textContent!),
    }));

  it('serves the page under a strict CSP and lists each capability with readiness, schema and a curl line that works', async () => {
    const res = await fetch(`${stack.url}/`);
    assert.equal(res.status, 200);
    const policy = res.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) assert.ok(policy.includes(directive), policy);
    assert.doesNotMatch(policy, /unsafe|https?:|\*/);

    const opened = await openConsole();
    const { page } = opened;
    const services = await page.$$eval('section[data-service]', (all) => all.map((s) => s.getAttribute('data-service')));
    assert.deepEqual(services, withLayout ? ['layout', 'mmocr', 'wordcount'] : ['mmocr', 'wordcount']);
    const card = await section(page, 'mmocr');
    const shown = await card.evaluate((el) => ({
      readiness: el.querySelector('.readiness')!.textContent,
      tables: [...el.querySelectorAll('table.schema')].map((t) => t.textContent),
      curl: el.querySelector('.command pre')!.textContent!,
    }));
    assert.match(shown.readiness!, /^ready 1\/1 replicas ready · 4\/4 licences free · queue 0\/256/);
    assert.match(shown.tables[0]!, /Inputs.*data\s*image/);
    assert.match(shown.tables[1]!, /Params.*gpu_id/);
    assert.match(shown.tables[2]!, /Outputs.*boxes\s*text\s*json/);

    // Pasted into a shell beside a photo named image.jpg, the curl line reads it.
    fs.copyFileSync(path.join(mmocrDir, 'sample.jpg'), path.join(tmp, 'image.jpg'));
    const { stdout } = await promisify(execFile)('bash', ['-c', shown.curl], { cwd: tmp });
    const answer = JSON.parse(stdout);
    assert.equal(answer.header.code, 0, stdout);
    assert.equal(answer.payload.boxes.text[0].result.length, 3, stdout);

    assertStayedHome(opened);
    console.log(`      page weight ${opened.bytes} bytes; capabilities shown ${opened.readyMs} ms after navigation (loopback)`);
    await page.close();
  });

  it('sends the sample photo to mmocr: one box drawn per text line, the words listed; hovering a row highlights its box', async () => {
    const opened = await openConsole();
    const { page } = opened;
    const card = await send(page, 'mmocr', path.join(mmocrDir, 'sample.jpg'));
    const answer = await answerOf(card);
    assert.equal(answer.status, '200');
    assert.equal(answer.code, '0');
    assert.equal(answer.message, 'success');
    assert.match(answer.summary!, /HTTP 200 · code 0 · success · \d+ ms · sid asf/);
    const results: { box: number[]; text: string }[] = answer.raw.payload.boxes.text[0].result;
    assert.equal(results.length, 3, JSON.stringify(results));

    const rows = await card.$$eval('.picture tbody tr .caption', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(rows, results.map((r) => r.text));
    let from = 0;
    const read = rows.join(' ').replace(/\s+/g, '');
    for (const word of sampleWords) {
      const at = read.indexOf(word, from);
      assert.ok(at >= 0, `'${word}' not listed in order in: ${rows.join(' | ')}`);
      from = at + word.length;
    }

    // Each box's left edge is drawn in colour over the black-on-white page; beside it the page shows through.
    const canvas = (await card.$('canvas.boxes'))!;
    const saturation = (x: number, y: number) =>
      canvas.evaluate((c, x, y) => {
        const [r, g, b] = (c as HTMLCanvasElement).getContext('2d')!.getImageData(x, y, 1, 1).data;
        return Math.max(r!, g!, b!) - Math.min(r!, g!, b!);
      }, x, y);
    assert.equal(await canvas.evaluate((c) => c.getAttribute('data-boxes')), '3');
    for (const { box } of results) {
      const y = Math.round(box[1]! + (box[7]! - box[1]!) * 0.75);
      assert.ok((await saturation(box[0]!, y)) > 100, `no box edge drawn at ${box[0]},${y}`);
      assert.ok((await saturation(box[0]! - 8, y)) < 40, `colour outside the box at ${box[0]! - 8},${y}`);
    }
    const inside = [results[1]!.box[0]! + 4, results[1]!.box[1]! + 4] as const;
    const before = await saturation(...inside);
    await (await card.$$('.picture tbody tr'))[1]!.hover();
    assert.ok((await saturation(...inside)) > before + 20, 'hovering row 2 did not fill its box');
    await page.mouse.move(0, 0);

    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await card.screenshot({ path: screenshot });
    console.log(`      screenshot: ${path.relative(repoRoot, screenshot)}`);
    assertStayedHome(opened);
    await page.close();
  });

  (withLayout ? it : it.skip)('draws the layout demo\'s labelled boxes with their scores', async () => {
    const opened = await openConsole();
    const { page } = opened;
    const card = await send(page, 'layout', path.join(layoutDir, 'sample.jpg'));
    const answer = await answerOf(card);
    assert.equal(answer.code, '0', answer.summary!);
    const results: { label: string; score: number }[] = answer.raw.payload.boxes.text[0].result;
    assert.ok(results.length >= 5, JSON.stringify(results));
    const rows = await card.$$eval('.picture tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.deepEqual(rows.map((r) => [r[1], r[2]]), results.map((r) => [r.label, r.score.toFixed(3)]));
    for (const label of ['title', 'figure', 'table']) assert.ok(rows.some((r) => r[1] === label), `no ${label} in ${JSON.stringify(rows)}`);
    assert.equal(await card.$eval('canvas.boxes', (c) => c.getAttribute('data-boxes')), String(results.length));
    assertStayedHome(opened);
    await page.close();
  });

  it('streams a text file in chunks over a WebSocket session and lists each result as it comes, in order', async () => {
    const opened = await openConsole();
    const { page } = opened;
    const words = Array.from({ length: 40 }, (_, i) => `word${i + 1}`);
    const notes = path.join(tmp, 'notes.txt');
    fs.writeFileSync(notes, `${words.join(' ')}\n`);
    const card = await section(page, 'wordcount');
    await ((await card.$('input#wordcount-stream-file')) as ElementHandle<HTMLInputElement>).uploadFile(notes);
    const chunk = (await card.$('input#wordcount-stream-chunk'))!;
    await chunk.click({ count: 3 });
    await chunk.type('60');
    await (await card.$('.stream button[type=submit]'))!.click();
    await card.waitForSelector('.stream-state[data-closed]');
    const frames = await card.$$eval('.frames li', (items) =>
      items.map((li) => ({ status: li.getAttribute('data-status'), code: li.getAttribute('data-code'), counts: li.querySelector('code')?.textContent })),
    );
    // 271 characters cut after spaces into pieces of at most 60: 5 frames, each answered.
    assert.equal(frames.length, 5, JSON.stringify(frames));
    assert.deepEqual(frames.map((f) => f.status), ['0', '1', '1', '1', '2']);
    assert.ok(frames.every((f) => f.code === '0'), JSON.stringify(frames));
    const counts = frames.map((f) => JSON.parse(f.counts!.replace(/^counts: /, '')) as { chunk: number; chunkWords: number; words: number });
    assert.deepEqual(counts.map((c) => c.chunk), [1, 2, 3, 4, 5]);
    let total = 0;
    for (const c of counts) assert.equal(c.words, (total += c.chunkWords));
    assert.equal(total, 40);
    assertStayedHome(opened);
    await page.close();
  });

  it('shows at a glance, per capability, the requests, req/s, p50/p99 and errors by code the gateway counted', async () => {
    const route = `${stack.url}/v1/private/wordcount`;
    const text = (words: string) => ({ text: { encoding: 'utf8', status: 3, text: Buffer.from(words).toString('base64') } });
    for (let i = 0; i < 4; i++) assert.equal((await post(route, { header: { app_id: '1', status: 3 }, payload: text('one two') })).status, 200);
    const missing = await post(route, { header: { app_id: '1', status: 3 }, payload: {} });
    await post(route, { header: { app_id: '1', status: 3 }, payload: {} });
    assert.notEqual(missing.json.header.code, 0, missing.text);

    const opened = await openConsole();
    const row = await opened.page.$eval('table.glance tr[data-service="wordcount"]', (tr) => [...tr.children].map((td) => td.textContent));
    assert.equal(row[1], '6');
    assert.match(row[3]!, /^≤ \d+ ms$/);
    assert.match(row[4]!, /^≤ \d+ (ms|s)$/);
    assert.equal(row[5], `${missing.json.header.code} × 2`);
    assertStayedHome(opened);
    await opened.page.close();
  });

  it('shows errors as the API gives them: a text file as the image (the wrapper), a parameter too long (the gateway)', async () => {
    const opened = await openConsole();
    const { page } = opened;
    const notImage = path.join(tmp, 'notes.txt');
    fs.writeFileSync(notImage, 'this is a text file, not a photo\n');
    // What the API itself answers to these bytes.
    const direct = await post(`${stack.url}/v1/private/mmocr`, {
      header: { app_id: '123456', status: 3 },
      payload: { data: { encoding: 'txt', status: 3, image: fs.readFileSync(notImage).toString('base64') } },
    });
    assert.equal(direct.status, 400);

    // The app id typed in the top bar is the one sent (the gateway's metering counts it).
    await (await page.$('#app-id'))!.click({ count: 3 });
    await page.keyboard.type('console-check');
    const card = await send(page, 'mmocr', notImage);
    let answer = await answerOf(card);
    const metered = await (await fetch(`${stack.url}/metrics`)).text();
    assert.match(metered, new RegExp(`asf_app_requests_total\\{app_id="console-check",service="mmocr",code="${answer.code}"\\} 1`));
    assert.equal(answer.status, '400');
    assert.equal(answer.code, String(direct.json.header.code));
    assert.equal(answer.message, direct.json.header.message);
    assert.equal(answer.message, 'input data is not a decodable image');
    assert.ok(await card.$('.answer.error'));
    assert.equal(await card.$('.picture'), null);

    await (await card.$('input[id="mmocr-param-gpu_id"]'))!.type('x'.repeat(17));
    await card.$eval('.answer-slot', (slot) => slot.replaceChildren());
    await (await card.$('button[type=submit]'))!.click();
    await card.waitForSelector('.answer');
    answer = await answerOf(card);
    assert.equal(answer.status, '400');
    assert.equal(answer.raw.header.code, Number(answer.code));
    assert.match(answer.message!, /gpu_id .*16 characters/);
    assertStayedHome(opened);
    await page.close();
  });
});

describe('console switch (--no-console)', function () {
  this.timeout(60_000);

  it('asf up --no-console answers 404 at / and /console/, and still serves the API', async () => {
    const stack = await startStack(['-c', path.join(repoRoot, 'examples', 'echo'), '--no-console']);
    try {
      for (const route of ['/', '/console/', '/console/app.js', '/console/api/capabilities']) assert.equal((await fetch(`${stack.url}${route}`)).status, 404, route);
      assert.doesNotMatch(stack.output(), /^ +console /m);
      const call = await post(`${stack.url}/v1/private/echo`, { header: { app_id: '1', status: 3 }, payload: { text: { encoding: 'utf8', status: 3, text: 'aGk=' } } });
      assert.equal(call.json.header.code, 0, call.text);
    } finally {
      await stack.stop();
    }
  });

  it('asf gateway serves the console by default, not with --no-console; unknown console files are 404', async () => {
    for (const off of [false, true]) {
      const port = await freePort();
      const gateway = runAsf(['gateway', '--host', '127.0.0.1', '--port', String(port), '--loader', '127.0.0.1:1', ...(off ? ['--no-console'] : [])]);
      try {
        await gateway.waitFor(/gateway listening on/);
        const page = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(page.status, off ? 404 : 200);
        if (!off) {
          assert.match(await page.text(), /<script type="module" src="\/console\/app.js">/);
          assert.equal((await fetch(`http://127.0.0.1:${port}/console/..%2Fpackage.json`)).status, 404);
          assert.equal((await fetch(`http://127.0.0.1:${port}/console/nothing.js`)).status, 404);
          const list = await (await fetch(`http://127.0.0.1:${port}/console/api/capabilities`)).json();
          assert.deepEqual(list.capabilities, []);
        }
      } finally {
        await gateway.stop();
      }
    }
  });
});
