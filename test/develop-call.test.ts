import assert from 'node:assert/strict';
import path from 'node:path';
import { asf } from './helpers/asf-run.js';
import { repoRoot, startStack, type Stack } from './helpers/stack.js';

describe('asf call: expected outputs, decoded answers, --bench', function () {
  this.timeout(120_000);
  let stack: Stack;
  let url: string;
  before(async () => {
    stack = await startStack(['--capability', path.join(repoRoot, 'examples', 'echo')]);
    url = `${stack.url}/v1/private/echo`;
  });
  after(async () => void (await stack?.stop()));

  it('--bench N -c C sends N requests and prints outcomes, percentiles and a latency histogram', async () => {
    const run = await asf(['call', url, '-i', 'text=hello', '-P', 'mode=upper', '--bench', '60', '--concurrency', '4']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /^60 requests, concurrency 4, [\d.]+ s, [\d.]+ req\/s$/m);
    assert.match(run.output, /^outcomes: code 0 ×60$/m);
    assert.match(run.output, /^latency: min [\d.]+ ms {2}p50 [\d.]+ ms {2}p90 [\d.]+ ms {2}p99 [\d.]+ ms {2}max [\d.]+ ms$/m);
    const buckets = [...run.output.matchAll(/^ {2}≤ +([\d.]+) +(\d+)(?: +█+)?$/gm)];
    assert.ok(buckets.length >= 1, run.output);
    assert.equal(buckets.reduce((sum, m) => sum + Number(m[2]), 0), 60, 'every request lands in one bucket');
    const bounds = buckets.map((m) => Number(m[1]));
    assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b), 'buckets rise');
  });

  it('--bench counts failed answers by code and exits 1', async () => {
    const run = await asf(['call', url, '-i', 'text=hello', '-P', 'mode=shout', '--bench', '5', '--concurrency', '2']);
    assert.equal(run.code, 1);
    assert.match(run.output, /^outcomes: code 10163 ×5$/m);
  });

  it('--output asks for an output and a format; --decode prints it decoded, or the error', async () => {
    const ok = await asf(['call', url, '-i', 'text=hi there', '-P', 'mode=upper', '--output', 'result:plain', '--decode']);
    assert.equal(ok.code, 0, ok.output);
    assert.equal(ok.output, 'result: HI THERE\n');
    const undeclared = await asf(['call', url, '-i', 'text=hi', '--output', 'nope', '--decode']);
    assert.equal(undeclared.code, 1);
    assert.equal(undeclared.output, "error 10106: output 'nope' is not declared by echo (declared: result)\n");
  });

  it('refuses --bench with --stream, and a bad --bench count, saying what to do', async () => {
    const both = await asf(['call', url, '-i', 'text=hi', '--stream', '--bench', '3']);
    assert.equal(both.code, 1);
    assert.match(both.output, /asf: --bench sends one-shot requests: drop --stream/);
    const zero = await asf(['call', url, '-i', 'text=hi', '--bench', '0']);
    assert.equal(zero.code, 2, 'a usage error');
    assert.match(zero.output, /bench must be an integer >= 1/);
  });
});
