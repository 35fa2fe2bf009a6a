import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asfStreams } from './helpers/asf-run.js';
import { freePort, repoRoot, runAsf } from './helpers/stack.js';

const echoDir = path.join(repoRoot, 'examples', 'echo');

/** Every command path with a --help of its own. */
const commands = [
  ['up'], ['gateway'], ['loader'], ['demo'], ['usage'], ['check'], ['new'], ['schema'], ['validate'], ['call'], ['compose'], ['completion'], ['build'],
  ['config', 'get'], ['config', 'set'], ['config', 'unset'], ['config', 'list'],
  ['bundle', 'build'], ['bundle', 'verify'], ['bundle', 'inspect'], ['bundle', 'extract'], ['install'], ['uninstall'], ['status'],
  ['ps'], ['logs'], ['down'],
];
/** Both as everyone types them: `logs -f` follows (kubectl, docker), `bundle build -f` names the file (docker build, helm). */
const conventional = new Set(['-f: --file, --follow', '-f: --follow, --file']);

describe('asf: one meaning per flag, usage errors, exit codes', function () {
  this.timeout(60_000);

  it('gives each short flag one meaning in every command, and --gateway always names the gateway address', async () => {
    const meanings = new Map<string, Set<string>>();
    for (const command of commands) {
      const help = await asfStreams([...command, '--help']);
      assert.equal(help.code, 0, `${command.join(' ')}: ${help.stderr}`);
      for (const [, short, long] of help.stdout.matchAll(/^ {2}(-\w), (--[\w-]+)/gm)) {
        if (!meanings.has(short!)) meanings.set(short!, new Set());
        meanings.get(short!)!.add(long!);
      }
      for (const [, value] of help.stdout.matchAll(/--gateway <(\w+)>/g)) assert.equal(value, 'url', `${command.join(' ')}: --gateway <${value}>`);
    }
    const ambiguous = [...meanings].filter(([, longs]) => longs.size > 1).map(([short, longs]) => `${short}: ${[...longs].join(', ')}`).filter((line) => !conventional.has(line));
    assert.deepEqual(ambiguous, []);
    assert.deepEqual([...meanings.get('-c')!], ['--capability']);
  });

  it('usage errors exit 2 with one asf: line on stderr and nothing on stdout', async () => {
    const cases: [string[], string][] = [
      [['up', '--nope'], "asf: unknown option '--nope'"],
      [['call', 'http://127.0.0.1:9/v1/private/echo', '--concurrency', '4'], 'asf: --concurrency only applies with --bench'],
      [['call', 'http://127.0.0.1:9/v1/private/echo', '--chunk-bytes', '8'], 'asf: --chunk-bytes only applies with --stream'],
      [['gateway', '--namespace', 'asf'], 'asf: --namespace only applies with --discovery kubernetes'],
      [['gateway', '--discovery', 'kubernetes', '--loader', '10.0.0.5:5090'], 'asf: --loader only applies without --discovery kubernetes (the loaders are found in the cluster)'],
      [['check', '--service', 'echo', 'examples/echo', 'examples/mmocr'], 'asf: --service only applies with one sample'],
      [['up', '--replicas', 'two'], "asf: option '--replicas <n>' argument 'two' is invalid. replicas must be an integer >= 1, got 'two'"],
    ];
    for (const [args, message] of cases) {
      const run = await asfStreams(args);
      assert.deepEqual([run.code, run.stdout, run.stderr.trim()], [2, '', message], args.join(' '));
    }
  });

  it('failures exit 1 with the message on stderr only', async () => {
    const run = await asfStreams(['schema', path.join(os.tmpdir(), 'asf-no-such-folder')]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^asf: capability folder .*asf-no-such-folder does not exist\n$/);
    const demo = await asfStreams(['demo', 'mmocr', '--gateway', `http://127.0.0.1:${await freePort()}`, '--timeout', '2000']);
    assert.equal(demo.code, 1);
    assert.match(demo.stderr, /^asf: .*127\.0\.0\.1:\d+/m);
  });

  it('asf up ends with 130 on Ctrl-C (SIGINT), as shells expect', async () => {
    const up = runAsf(['up', '--port', '0', '-c', echoDir]);
    await up.waitFor(/^ready /m);
    assert.equal(await up.stop('SIGINT'), 130);
  });

  it("asf up --help shows the defaults asf config get -g reports for an empty gateway file", async () => {
    const help = (await asfStreams(['up', '--help'])).stdout.replace(/\n {20,}/g, ' ');
    const shown = (flag: string) => help.match(new RegExp(`${flag} <\\w+>.*?\\(default: "?([^")]+)"?\\)`))?.[1];
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'asf-defaults-')), 'empty.yaml');
    fs.writeFileSync(file, '');
    for (const [flag, key] of [['--port', 'port'], ['--host', 'host'], ['--replicas', 'replicas'], ['--body-limit', 'bodyLimit'], ['--timeout', 'timeoutMs'], ['--queue-depth', 'queueDepth'], ['--session-timeout', 'sessionTimeoutMs'], ['--read-timeout', 'readTimeoutMs']]) {
      const got = (await asfStreams(['config', 'get', '-g', file, key!])).stdout.trim();
      assert.equal(shown(flag!), got, `${flag} vs ${key}`);
    }
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
