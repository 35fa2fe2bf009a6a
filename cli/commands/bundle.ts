import path from 'node:path';
import { Command, Option } from 'commander';
import { packageRoot } from '../../runtime/paths.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** asf bundle build / verify / inspect / extract: the offline bundle (installer/bundle/). */
export function registerBundleCommands(program: Command): void {
  const bundle = program.command('bundle').description('build, verify and look into offline bundles (sealos cluster image + offline tarball)');

  bundle
    .command('build')
    .description('build the bundle bundle.yaml defines: <name>-<version>.oci.tar (sealos cluster image) and <name>-offline-<version>.tar.gz')
    .option('-f, --file <bundle.yaml>', 'bundle definition', path.join(packageRoot, 'offline-bundle', 'bundle.yaml'))
    .option('--profile <name>', "profile to build (default: the definition's defaultProfile)")
    .option('-o, --output <dir>', 'folder for the artefacts', 'dist/bundle')
    .option('--platform <os/arch>', 'platform of third-party images to keep (repeatable; default linux/amd64)', collect)
    .option('--authfile <file>', 'registry credentials for third-party images (docker config.json format)')
    .option('--skip-image-build', 'use our images as images/build.sh last left them instead of rebuilding them')
    .option('-c, --capability <dir>', 'a capability folder to build (asf build) and serve, besides bundle.yaml capabilities: (repeatable)', collect)
    .addOption(new Option('--only <artefact>', 'build just one artefact').choices(['oci', 'offline']))
    .addHelpText(
      'after',
      '\nExamples:\n  asf bundle build\n  asf bundle build -c ./ocr -c ./detect\n  asf bundle build --profile gpu --platform linux/amd64 --platform linux/arm64 -o /srv/bundles\n  asf bundle build -f my-bundle.yaml --authfile ~/.docker/config.json',
    )
    .action(async (opts) => {
      const { buildBundle } = await import('../../installer/bundle/build.js');
      const result = await buildBundle({
        file: opts.file,
        out: opts.output,
        profile: opts.profile,
        platforms: opts.platform,
        authfile: opts.authfile,
        skipImageBuild: opts.skipImageBuild,
        artefacts: opts.only ? [opts.only] : undefined,
        capabilities: opts.capability,
      });
      const { verifyArtefact } = await import('../../installer/bundle/verify.js');
      // Both at once: hashing one while the other is read and inflated on the thread pool.
      const files = [result.clusterImage, result.offlineTarball].filter((f): f is string => Boolean(f));
      const reports = await Promise.all(files.map((file) => verifyArtefact(file)));
      for (const [i, file] of files.entries()) {
        const report = reports[i]!;
        if (report.problems.length) throw new Error(`${file} failed verification:\n  ${report.problems.join('\n  ')}`);
        process.stdout.write(`${file}: ${report.files} files verified\n`);
      }
    });

  bundle
    .command('verify')
    .description('recompute every checksum and blob digest of a bundle (.oci.tar, .tar.gz or an extracted folder); exits 1 naming what is wrong')
    .argument('<file>', 'artefact to verify')
    .addHelpText('after', '\nExamples:\n  asf bundle verify dist/bundle/asf-offline-0.1.0.tar.gz\n  asf bundle verify dist/bundle/asf-0.1.0.oci.tar')
    .action(async (file: string) => {
      const { verifyArtefact } = await import('../../installer/bundle/verify.js');
      const report = await verifyArtefact(file);
      if (report.problems.length) {
        process.stderr.write(`${file}: ${report.problems.length} problem(s)\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${file}: ok (${report.files} files, ${report.blobs} registry blobs verified)\n`);
    });

  bundle
    .command('inspect')
    .description('list what a bundle holds (images with digests and sizes, charts, files) without extracting it')
    .argument('<file>', 'artefact to inspect')
    .option('--json', 'print bundle.json as stored')
    .addHelpText('after', '\nExample:\n  asf bundle inspect dist/bundle/asf-0.1.0.oci.tar')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { inspectArtefact } = await import('../../installer/bundle/inspect.js');
      const { manifest, text } = await inspectArtefact(file);
      process.stdout.write(opts.json ? text : (await import('../../installer/bundle/manifest.js')).renderMarkdown(manifest));
    });

  bundle
    .command('extract')
    .description('unpack a bundle into a folder, refusing entries that would land outside it')
    .argument('<file>', 'artefact to extract')
    .requiredOption('-C, --directory <dir>', 'target folder (created; must not exist yet)')
    .addHelpText('after', '\nExample:\n  asf bundle extract asf-offline-0.1.0.tar.gz -C /opt/asf-bundle')
    .action(async (file: string, opts: { directory: string }) => {
      const { extractArtefact } = await import('../../installer/bundle/extract.js');
      const root = await extractArtefact(file, opts.directory);
      process.stdout.write(`extracted ${file} into ${root}\n`);
    });
}
