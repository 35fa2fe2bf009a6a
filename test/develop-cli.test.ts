import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asf } from './helpers/asf-run.js';

describe('asf help and shell completion', function () {
  this.timeout(120_000);

  it('every developer command has --help with examples', async () => {
    const commands = [['new'], ['schema'], ['validate'], ['call'], ['config'], ['config', 'get'], ['config', 'set'], ['config', 'unset'], ['config', 'list'], ['compose'], ['completion'], ['up'], ['gateway'], ['loader'], ['demo']];
    for (const command of commands) {
      const run = await asf([...command, '--help']);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`^Usage: asf ${command.join(' ')}`, 'm'));
      assert.match(run.output, /^Examples?:\n {2}\S/m, `asf ${command.join(' ')} --help shows no example`);
    }
  });

  it('every bundle and install command has --help with usage and an example of itself', async () => {
    const commands = [['bundle', 'build'], ['bundle', 'verify'], ['bundle', 'inspect'], ['bundle', 'extract'], ['install'], ['uninstall'], ['status']];
    for (const command of commands) {
      const run = await asf([...command, '--help']);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`^Usage: asf ${command.join(' ')}(\\|[a-z]+)? `, 'm'));
      assert.match(run.output, new RegExp(`^Examples?:\n {2}asf ${command.join(' ')}( |$)`, 'm'), `asf ${command.join(' ')} --help shows no example of itself:\n${run.output}`);
    }
  });

  it('asf completion bash prints a script bash accepts, completing commands, subcommands, options and choices', async () => {
    const run = await asf(['completion', 'bash']);
    assert.equal(run.code, 0, run.output);
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'asf-completion-')), 'asf.bash');
    fs.writeFileSync(script, run.output);
    execFileSync('bash', ['-n', script]);
    const complete = (...words: string[]) =>
      execFileSync('bash', ['-c', `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _asf_complete; printf '%s\\n' "\${COMPREPLY[@]}"`, 'test', script], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    assert.deepEqual(complete('asf', 'con'), ['config']);
    assert.deepEqual(complete('asf', 'config', 'u'), ['unset']);
    assert.deepEqual(complete('asf', 'new', 'x', '--lang', ''), ['python', 'c', 'js']);
    assert.ok(complete('asf', 'call', 'http://h/v1/private/x', '--').includes('--bench'));
    assert.deepEqual(complete('asf', 'schema', '.', '--format', 'o'), ['openapi']);
    const bad = await asf(['completion', 'tcsh']);
    assert.equal(bad.code, 2, 'a usage error');
    assert.match(bad.output, /Allowed choices are bash, zsh, fish/);
  });

  it('asf completion zsh: a script zsh accepts, completing the same way (its compadd stood in for, outside an interactive shell)', async () => {
    const run = await asf(['completion', 'zsh']);
    assert.equal(run.code, 0, run.output);
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'asf-zsh-')), '_asf');
    fs.writeFileSync(script, run.output);
    execFileSync('zsh', ['-n', script]);
    // compdef and compadd belong to the completion system: stand-ins that print what would be offered.
    const complete = (...typed: string[]) =>
      execFileSync('zsh', ['-c', `compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print FILES; }; source "$1"; words=(${typed.map((w) => `'${w}'`).join(' ')}); CURRENT=${typed.length}; _asf`, 'test', script], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    assert.ok(complete('asf', '').includes('config'));
    assert.deepEqual(complete('asf', 'config', '').sort(), ['get', 'list', 'set', 'unset']);
    assert.deepEqual(complete('asf', 'new', 'x', '--lang', ''), ['python', 'c', 'js']);
    assert.deepEqual(complete('asf', 'up', '--capability', ''), ['FILES']);
    assert.ok(complete('asf', 'call', 'http://h/v1/private/x', '').includes('--bench'));
  });

  it('asf completion fish: a script fish loads, completing commands, subcommands, options and choices', async () => {
    const run = await asf(['completion', 'fish']);
    assert.equal(run.code, 0, run.output);
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'asf-fish-')), 'asf.fish');
    fs.writeFileSync(script, run.output);
    const complete = (line: string) =>
      execFileSync('fish', ['--no-config', '-c', `source $argv[1]; complete -C ${JSON.stringify(line)}`, script], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    assert.deepEqual(complete('asf con'), ['config']);
    assert.deepEqual(complete('asf config u'), ['unset']);
    assert.deepEqual(complete('asf new x --lang ').sort(), ['c', 'js', 'python']);
    assert.deepEqual(complete('asf schema . --format o'), ['openapi']);
    assert.ok(complete('asf call http://h/v1/private/x --').includes('--bench'));
    assert.ok(!complete('asf bundle build --').includes('--gpu'), "asf build's options are not bundle build's");
  });
});
