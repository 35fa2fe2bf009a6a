import type { Command } from 'commander';
import { examples, port } from '../options.js';

/** asf ps / logs / down: the stacks `asf up` runs on this machine (local-stacks.ts). */
export function registerLocalCommands(program: Command): void {
  program
    .command('ps')
    .description('list the stacks asf up runs on this machine, with each capability and its state')
    .option('--json', 'print them as JSON')
    .addHelpText('after', examples('asf ps', 'asf ps --json'))
    .action(async (opts: { json?: boolean }) => {
      const { localStatus, formatStatus } = await import('../local-status.js');
      const rows = await localStatus();
      process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatStatus(rows));
    });

  program
    .command('logs')
    .description("print a background stack's output (asf up -d), or only the lines that name one capability")
    .argument('[capability]', "only lines naming this capability (its serviceId or folder name)")
    .option('-f, --follow', 'keep printing new lines until the stack stops or Ctrl-C')
    .option('-p, --port <port>', 'the stack on this port (when several run)', port)
    .addHelpText('after', examples('asf logs', 'asf logs mmocr -f', 'asf logs --port 9000'))
    .action(async (capability: string | undefined, opts: { follow?: boolean; port?: number }) => {
      const { printLogs } = await import('../stack-logs.js');
      await printLogs(opts.port, capability, Boolean(opts.follow));
    });

  program
    .command('down')
    .description('stop a stack asf up runs on this machine (as Ctrl-C would), and wait until it has stopped')
    .option('-p, --port <port>', 'the stack on this port (when several run)', port)
    .option('--all', 'every local stack')
    .addHelpText('after', examples('asf down', 'asf down --port 9000', 'asf down --all'))
    .action(async (opts: { port?: number; all?: boolean }) => {
      const { stopStacks } = await import('../stack-down.js');
      await stopStacks(opts);
    });
}
