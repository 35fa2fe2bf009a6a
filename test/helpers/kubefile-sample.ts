// Kubefile syntax buildah has its own rules for, and the config sealos v5.1.1's `sealos build` made
// of it (sealos inspect, run here): test/kubefile.test.ts holds our reader to it, and
// test/e2e/sealos.test.ts builds it again with a real sealos where there is one.
export const kubefileSample = [
  'FROM scratch',
  'LABEL "quoted key"="v 1" plain=a\\ b',
  "LABEL single='no $EXPANSION here'",
  'ENV A=1 B="two words"',
  'ENV C="line one \\',
  '  line two"',
  'ENV NAMESPACE=asf',
  'ENV RELEASE=$NAMESPACE-rel DIR=/srv/${NAMESPACE} QUOTED="$NAMESPACE x" SINGLE=\'$NAMESPACE\' LITERAL=\\$NAMESPACE',
  'ENV DEFAULTED=${MISSING:-fallback} SET=${NAMESPACE:+yes} UNSET=${MISSING:+no} EMPTY=$MISSING',
  'LABEL ns=$NAMESPACE',
  'ENV GREETING hello there',
  'ENV A=2',
  'CMD ["bash entrypoint.sh"]',
].join('\n');

/** What buildah made of it (its own io.buildah.version label left out). */
export const buildahConfig = {
  env: [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'A=2',
    'B=two words',
    'C=line one   line two',
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
    'GREETING=hello there',
  ],
  labels: { ns: 'asf', plain: 'a b', 'quoted key': 'v 1', single: 'no $EXPANSION here' },
  cmd: ['bash entrypoint.sh'],
};
