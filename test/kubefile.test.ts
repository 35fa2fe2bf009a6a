// Reading a Kubefile as sealos build (buildah) reads it, and writing each bundle's COPY lines.
// The expected configs are what buildah made of the same text (sealos v5.1.1's `sealos build` and
// `sealos inspect`, run here; test/e2e/sealos.test.ts repeats that where a sealos is at hand).
import assert from 'node:assert/strict';
import { expandWord, kubefileFor, parseKubefile } from '../installer/bundle/kubefile.js';

describe('Kubefile: read as buildah reads it (dockerfile-ast + its variable expansion)', () => {
  it('ENV and LABEL: quoted keys, double- and single-quoted values, escapes, line continuations', () => {
    const config = parseKubefile(
      [
        'FROM scratch',
        'LABEL "quoted key"="v 1" plain=a\\ b',
        "LABEL single='no $EXPANSION here'",
        'ENV A=1 B="two words"',
        'ENV C="line one \\',
        '  line two"',
        'CMD ["bash entrypoint.sh"]',
      ].join('\n'),
    );
    assert.deepEqual(config.labels, { 'quoted key': 'v 1', plain: 'a b', single: 'no $EXPANSION here' });
    // A continuation joins the lines and keeps the next one's leading blanks, as buildah does.
    assert.deepEqual(config.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=two words', 'C=line one   line two']);
    assert.deepEqual(config.cmd, ['bash entrypoint.sh']);
  });

  it('$VAR and ${VAR} expand from the ENV set before (also in LABEL), with :- and :+; not inside single quotes; \\$ is a dollar', () => {
    const config = parseKubefile(
      [
        'ENV NAMESPACE=asf',
        'ENV RELEASE=$NAMESPACE-rel DIR=/srv/${NAMESPACE} QUOTED="$NAMESPACE x" SINGLE=\'$NAMESPACE\' LITERAL=\\$NAMESPACE',
        'ENV DEFAULTED=${MISSING:-fallback} SET=${NAMESPACE:+yes} UNSET=${MISSING:+no} EMPTY=$MISSING',
        'LABEL ns=$NAMESPACE',
      ].join('\n'),
    );
    assert.deepEqual(config.env, [
      'NAMESPACE=asf',
      'RELEASE=asf-rel',
      'DIR=/srv/asf',
      'QUOTED=asf x',
      'SINGLE=$NAMESPACE',
      'LITERAL=$NAMESPACE',
      'DEFAULTED=fallback',
      'SET=yes',
      'UNSET=',
      'EMPTY=',
    ]);
    assert.deepEqual(config.labels, { ns: 'asf' });
  });

  it('the legacy `ENV KEY value words` form, a later ENV replacing an earlier one, and shell-form CMD', () => {
    const config = parseKubefile('ENV GREETING hello there\nENV A=1\nENV B=1\nENV A=2\nCMD bash entrypoint.sh');
    assert.deepEqual(config.env, ['GREETING=hello there', 'A=2', 'B=1']);
    assert.deepEqual(config.cmd, ['/bin/sh', '-c', 'bash entrypoint.sh']);
  });

  it('FROM scratch gives the default PATH first, unless the Kubefile sets one', () => {
    assert.deepEqual(parseKubefile('FROM scratch\nENV A=1').env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1']);
    assert.deepEqual(parseKubefile('FROM scratch\nENV PATH=/opt/bin A=$PATH').env, ['PATH=/opt/bin', 'A=/opt/bin']);
  });

  it('a word that cannot be read fails with a message naming it', () => {
    assert.throws(() => expandWord('"open', new Map()), /unterminated " in "open/);
    assert.throws(() => expandWord('${A', new Map()), /unterminated \$\{ in \$\{A/);
  });

  it("a bundle's Kubefile: the template's COPY lines replaced, in their place, by one per entry of the image, sorted", () => {
    const template = ['# c', 'FROM scratch', 'ENV A=1', 'COPY charts charts', 'COPY registry \\', '  registry', 'CMD ["x"]'].join('\n');
    assert.equal(
      kubefileFor(template, ['registry', 'Kubefile', 'charts', 'bundle.json']),
      ['# c', 'FROM scratch', 'ENV A=1', 'COPY Kubefile Kubefile', 'COPY bundle.json bundle.json', 'COPY charts charts', 'COPY registry registry', 'CMD ["x"]'].join('\n'),
    );
    // The bundle's labels follow the template's last LABEL.
    assert.equal(
      kubefileFor('FROM scratch\nLABEL a="1"\nCOPY x x\nCMD ["x"]', ['y'], { 'org.opencontainers.image.version': '0.1.0' }),
      'FROM scratch\nLABEL a="1"\nLABEL org.opencontainers.image.version="0.1.0"\nCOPY y y\nCMD ["x"]',
    );
    // A template without COPY lines gets them before its CMD.
    assert.equal(kubefileFor('FROM scratch\nCMD ["x"]', ['b', 'a']), 'FROM scratch\nCOPY a a\nCOPY b b\nCMD ["x"]');
  });
});
