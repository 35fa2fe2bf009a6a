import path from 'node:path';
import { Argument, type Command, Option } from 'commander';
import { collect, examples, integer, onlyWith } from '../options.js';

const warn = (line: string) => void process.stderr.write(`asf: warning: ${line}\n`);

/** A gateway config file (asf-gateway.yaml by convention): read only when named. */
const gatewayFileOption = () => new Option('-g, --gateway-config <file>', 'gateway config file (the one `asf up --config` reads)');

/** asf new / schema / validate / call / config / compose / completion (capability developers) */
export function registerDevelopCommands(program: Command): void {
  program
    .command('new')
    .description('create a capability folder that `asf up --capability` serves at once: wrapper, capability.yaml, request.json, test.sh (C: Makefile, header, built library)')
    .argument('<name>', 'capability name: its serviceId and route /v1/private/<name>')
    .addOption(new Option('--lang <language>', 'language of the wrapper').choices(['python', 'c', 'js']).default('python'))
    .option('--dir <dir>', 'folder to create (default: ./<name>)')
    .addHelpText('after', examples('asf new ocr --lang python', 'asf new fastcount --lang c --dir ./caps/fastcount', 'asf new echo2 --lang js && asf up --capability ./echo2'))
    .action(async (name: string, opts) => {
      const { scaffold } = await import('../../runtime/develop/scaffold.js');
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const dir = scaffold({ name, lang: opts.lang, dir: opts.dir, say });
      const rel = path.relative(process.cwd(), dir) || '.';
      say(`next:\n  asf up --capability ${rel}\n  asf call http://127.0.0.1:8889/v1/private/${name} --input text=hello --param mode=upper --output result --decode\n  ASF=asf sh ${rel}/test.sh\nto an air-gapped cluster (README: From wrapper.py to an air-gapped cluster):\n  asf build ${rel}\n  asf bundle build --capability ${rel}`);
    });

  program
    .command('schema')
    .description("print a capability's request and response JSON Schemas, its OpenAPI document (as the gateway serves it) and ASF's schema document (meta + schemainput + schemaoutput)")
    .argument('<dir>', 'capability folder')
    .addOption(new Option('--format <format>', 'which document to print').choices(['all', 'request', 'response', 'openapi', 'asf']).default('all'))
    .addHelpText('after', examples('asf schema ./echo', 'asf schema ./echo --format request > request.schema.json', 'asf schema ./echo --format asf'))
    .action(async (dir: string, opts) => {
      const { folderSchema, schemaDocument } = await import('../../runtime/develop/schema-docs.js');
      process.stdout.write(`${JSON.stringify(schemaDocument(folderSchema(dir, warn), opts.format), null, 2)}\n`);
    });

  program
    .command('validate')
    .description('check a request file offline against a capability, with the answer the gateway would give')
    .argument('<dir>', 'capability folder')
    .argument('<request>', 'request JSON file')
    .addHelpText('after', examples('asf validate ./echo ./echo/request.json'))
    .action(async (dir: string, request: string) => {
      const { folderSchema } = await import('../../runtime/develop/schema-docs.js');
      const { validateRequestFile } = await import('../../runtime/develop/validate-request.js');
      const verdict = validateRequestFile(request, folderSchema(dir, warn));
      if (verdict.ok) {
        process.stdout.write(`${request}: valid (inputs: ${verdict.inputs.join(', ') || 'none'})\n`);
      } else {
        process.stdout.write(`${request}: invalid: ${verdict.code} ${verdict.message} (the gateway answers HTTP ${verdict.httpStatus})\n`);
        process.exitCode = 1;
      }
    });

  program
    .command('call')
    .description('send one request to a capability, or with --stream a WebSocket session of frames, or with --bench a load test; prints each answer as a JSON line')
    .argument('<url>', 'service URL, e.g. http://127.0.0.1:8889/v1/private/echo')
    .option('-i, --input <key=@file|key=text>', "payload input: a file's bytes or literal text (repeatable)", collect, [])
    .option('-P, --param <name=value>', 'parameter.<serviceId> value (repeatable)', collect, [])
    .option('-o, --output <key[:format]>', 'expected output, with the format to answer in, e.g. result:json (repeatable)', collect, [])
    .option('--decode', "print each output's decoded data (key: text) instead of the JSON answer")
    .option('--data-type <type>', 'JSON field carrying the inputs: text, audio, image or video', 'text')
    .option('--stream', 'stream the inputs over a WebSocket, cut into frames')
    .option('--chunk-bytes <n>', 'with --stream: most bytes of each input per frame (text is cut at whitespace)', integer('chunk-bytes', 1), 4096)
    .option('--bench <n>', 'send n one-shot requests and print a latency histogram', integer('bench', 1))
    .option('--concurrency <n>', 'with --bench: requests in flight at once', integer('concurrency', 1), 1)
    .option('--timeout <ms>', 'give up on a request after this long', integer('timeout', 1), 60_000)
    .option('--app-id <id>', 'header.app_id to send', '123456')
    .option('--api-key <key>', 'sign each request as a WebGate client does (with --api-secret)')
    .option('--api-secret <secret>', 'the secret of --api-key (or env ASF_API_SECRET)')
    .addHelpText(
      'after',
      examples(
        'asf call http://127.0.0.1:8889/v1/private/echo -i text=hello',
        'ASF_API_SECRET=… asf call http://127.0.0.1:8889/v1/private/echo -i text=hello --api-key my-key',
        'asf call http://127.0.0.1:8889/v1/private/echo -i text=hello -P mode=upper --output result:plain --decode',
        'asf call http://127.0.0.1:8889/v1/private/wordcount --stream -i text=@notes.txt --chunk-bytes 64',
        'asf call http://127.0.0.1:8889/v1/private/echo -i text=hello --bench 1000 --concurrency 16',
      ),
    )
    .action(async (url: string, opts, command: Command) => {
      onlyWith(command, '--concurrency', opts.bench !== undefined, 'with --bench');
      onlyWith(command, '--chunk-bytes', Boolean(opts.stream), 'with --stream');
      const { runCall } = await import('../call.js');
      const apiSecret = opts.apiSecret ?? process.env['ASF_API_SECRET'];
      if (opts.apiKey && !apiSecret) throw new Error('--api-key needs --api-secret (or env ASF_API_SECRET)');
      if (!opts.apiKey && opts.apiSecret) throw new Error('--api-secret needs --api-key');
      const errors = await runCall({ url, ...opts, apiSecret, timeoutMs: opts.timeout, stream: Boolean(opts.stream) });
      if (errors) process.exitCode = 1;
    });

  registerConfigCommand(program);

  program
    .command('compose')
    .description('write a docker-compose file for the stack: the gateway on port 8889 and one loader service (loader-<name>) per capability')
    .option('-c, --capability <dir>', 'capability folder (repeatable; default: the gateway config file\'s, else the demo capability)', collect)
    .addOption(gatewayFileOption())
    .option('-o, --output <file>', 'file to write; host paths in it are relative to its folder (default: print to stdout, with absolute paths)')
    .option('--gpu', 'loaders in the runtime image get its CUDA variant and one NVIDIA GPU each')
    .option('-e, --env <KEY=VALUE>', 'environment variable of every loader (repeatable)', collect)
    .addHelpText('after', examples('asf compose -c ./echo -o docker-compose.yaml && docker compose up -d --wait', 'asf compose --gateway-config asf-gateway.yaml -o docker-compose.yaml'))
    .action(async (opts) => {
      const { writeCompose } = await import('../../runtime/develop/compose.js');
      writeCompose({ capabilities: opts.capability, gatewayFile: opts.gatewayConfig, output: opts.output, gpu: opts.gpu, env: opts.env });
    });

  program
    .command('completion')
    .description('print a shell completion script generated from the commands and options of this asf')
    .addArgument(new Argument('<shell>', 'shell to complete in').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', examples('source <(asf completion bash)', 'asf completion bash > /etc/bash_completion.d/asf', 'source <(asf completion zsh)   # after compinit', 'asf completion fish > ~/.config/fish/completions/asf.fish'))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('../../runtime/develop/completion.js');
      process.stdout.write(completionScript(program, shell));
    });
}

function registerConfigCommand(program: Command): void {
  const config = program
    .command('config')
    .description("read and change a capability's settings (capability.yaml), the gateway's (the file `asf up --config` reads) or the Helm chart's values")
    .addHelpText(
      'after',
      examples(
        'asf config list -c ./echo',
        'asf config set -c ./echo licences 16',
        'asf config set -c ./ocr python.workers 4',
        'asf config set -g asf-gateway.yaml appIds 123456,654321',
        'asf config get -g asf-gateway.yaml timeoutMs',
        'asf config set --values my-values.yaml capabilities.mmocr.config.licences 8',
        'asf up --config asf-gateway.yaml',
      ),
    );
  const target = (opts: { capability?: string; gatewayConfig?: string; values?: string }) => {
    if ([opts.capability, opts.gatewayConfig, opts.values].filter(Boolean).length > 1) throw new Error('give one of --capability DIR, --gateway-config FILE or --values FILE');
    if (opts.capability) return { kind: 'capability' as const, dir: opts.capability };
    if (opts.gatewayConfig) return { kind: 'gateway' as const, file: opts.gatewayConfig };
    if (opts.values) return { kind: 'values' as const, file: opts.values };
    throw new Error('say which file: --capability DIR (its capability.yaml), --gateway-config FILE (e.g. asf-gateway.yaml) or --values FILE (Helm values for charts/asf)');
  };
  const withTarget = (command: Command) =>
    command
      .option('-c, --capability <dir>', 'capability folder: change its capability.yaml')
      .addOption(gatewayFileOption())
      .option('--values <file>', 'Helm values file for charts/asf, checked against the chart\'s values.schema.json');

  withTarget(config.command('get').description('print one setting (its default when unset)').argument('<key>', 'setting, e.g. licences or config.top'))
    .addHelpText('after', examples('asf config get -c ./echo licences'))
    .action(async (key: string, opts) => {
      const { configGet } = await import('../../runtime/develop/config-command.js');
      process.stdout.write(`${configGet(target(opts), key)}\n`);
    });
  withTarget(config.command('set').description('change one setting, checked before it is written').argument('<key>', 'setting').argument('<value>', 'new value (lists: comma-separated)'))
    .addHelpText('after', examples('asf config set -c ./echo timeoutMs 10000', 'asf config set -g asf-gateway.yaml capabilities ./echo,./ocr'))
    .action(async (key: string, value: string, opts) => {
      const { configSet } = await import('../../runtime/develop/config-command.js');
      const file = configSet(target(opts), key, value);
      process.stdout.write(`${file}: ${key} = ${value}\n`);
    });
  withTarget(config.command('unset').description('remove a setting, so its default applies').argument('<key>', 'setting'))
    .addHelpText('after', examples('asf config unset -c ./echo licences'))
    .action(async (key: string, opts) => {
      const { configSet } = await import('../../runtime/develop/config-command.js');
      const file = configSet(target(opts), key, undefined);
      process.stdout.write(`${file}: ${key} unset\n`);
    });
  withTarget(config.command('list').description('print every setting with its value or default'))
    .addHelpText('after', examples('asf config list -c ./echo', 'asf config list -g asf-gateway.yaml'))
    .action(async (opts) => {
      const { configList } = await import('../../runtime/develop/config-command.js');
      process.stdout.write(`${configList(target(opts)).join('\n')}\n`);
    });
}
