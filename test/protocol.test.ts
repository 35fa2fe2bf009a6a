import assert from 'node:assert/strict';
import { parseAigesHealth } from '../runtime/protocol/aiges-health.js';
import { maxBatchItems, TurnBatcher } from '../runtime/protocol/turn-batcher.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('pipe batching (TurnBatcher)', () => {
  it('sends what one turn pushed as one batch after the turn, a lone item included', async () => {
    const sent: number[][] = [];
    const batcher = new TurnBatcher<number>((items) => sent.push(items));
    batcher.push(1);
    batcher.push(2);
    assert.deepEqual(sent, [], 'nothing goes before the turn ends');
    await nextTurn();
    assert.deepEqual(sent, [[1, 2]]);
    batcher.push(3);
    await nextTurn();
    assert.deepEqual(sent, [[1, 2], [3]]);
  });

  it(`sends a full batch of ${maxBatchItems} at once and the rest after the turn, in order`, async () => {
    const sent: number[][] = [];
    const batcher = new TurnBatcher<number>((items) => sent.push(items));
    const pushed = Array.from({ length: maxBatchItems * 2 + 3 }, (_, i) => i);
    for (const item of pushed) batcher.push(item);
    assert.deepEqual(sent.map((batch) => batch.length), [maxBatchItems, maxBatchItems]);
    await nextTurn();
    assert.deepEqual(sent.map((batch) => batch.length), [maxBatchItems, maxBatchItems, 3]);
    assert.deepEqual(sent.flat(), pushed, 'every item once, in push order');
  });

  it('drops what was not sent when the stream is gone', async () => {
    const sent: number[][] = [];
    const batcher = new TurnBatcher<number>((items) => sent.push(items));
    batcher.push(1);
    batcher.discard();
    await nextTurn();
    assert.deepEqual(sent, []);
  });
});

describe("AIGES's plain-text health answer", () => {
  it('is healthy with no checks, or with every check <nil>', () => {
    assert.deepEqual(parseAigesHealth('health staus:'), { ok: true });
    assert.deepEqual(parseAigesHealth('health staus:\nengine\tcheck: <nil>\ndisk\tcheck: <nil>'), { ok: true });
  });

  it('names each failing check, and a failed load report', () => {
    assert.deepEqual(parseAigesHealth('health staus:\nengine\tcheck: <nil>\ngpu\tcheck: no device\ndisk\tcheck: full'), {
      ok: false,
      error: 'AIGES health: gpu check: no device; disk check: full',
    });
    assert.deepEqual(parseAigesHealth('report error'), { ok: false, error: 'AIGES health: report error (its load report failed)' });
  });

  it('is not an AIGES answer when it says anything else', () => {
    assert.equal(parseAigesHealth("don't support the cmd"), undefined);
    assert.equal(parseAigesHealth(''), undefined);
  });
});
