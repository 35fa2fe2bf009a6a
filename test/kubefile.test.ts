// Reading a Kubefile as sealos build (buildah) reads it, and writing each bundle's COPY lines.
// The expected configs are what buildah made of the same text (helpers/kubefile-sample.ts).
import assert from 'node:assert/strict';
import { expandWord, kubefileFor, parseKubefile } from '../installer/bundle/kubefile.js';
import { buildahConfig, kubefileSample } from './helpers/kubefile-sample.js';

describe('Kubefile: read as buildah reads it (dockerfile-ast + its variable expansion)', () => {
  it('quoted keys, double- and single-quoted values, escapes, continuations (keeping the next line\'s blanks), $VAR and ${VAR:-x}/${VAR:+x} from earlier ENV, nothing inside single quotes, a later ENV in place: as buildah reads them', () => {
    assert.deepEqual(parseKubefile(kubefileSample), buildahConfig);
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
