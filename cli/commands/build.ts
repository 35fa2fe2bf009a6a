import { Command, Option } from 'commander';

/** asf build: a capability folder → an OCI image (installer/image/), no daemon. */
export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description('build a capability folder (Python, C or JS) into an OCI image on our runtime image, without any container daemon')
    .argument('<dir>', 'capability folder')
    .option('-t, --tag <ref>', 'image reference to name it by (default: asf.local/capabilities/<serviceId>:<version>)')
    .option('--gpu', 'base it on the CUDA variant of the runtime image')
    .addOption(new Option('--layout <dir>', 'OCI image layout to write it to (default: where images/build.sh writes, $ASF_IMAGES/oci)'))
    .option('--json', 'print what was built as JSON')
    .addHelpText(
      'after',
      '\nNeeds root and the Debian packages umoci and skopeo (the runtime base image is built with debootstrap when missing).\nPython dependencies come from requirements.txt (every line name==version; wheels only), C capabilities are built with their Makefile.\n\nExamples:\n  asf build ./ocr\n  asf build ./ocr -t registry.example/team/ocr:1.2.0\n  skopeo inspect oci:.cache/images/oci:ocr-1.2.0',
    )
    .action(async (dir: string, opts: { tag?: string; gpu?: boolean; layout?: string; json?: boolean }) => {
      const { buildCapabilityImage } = await import('../../installer/image/build.js');
      const built = await buildCapabilityImage({ dir, ref: opts.tag, gpu: opts.gpu, layout: opts.layout, say: (line) => process.stderr.write(`build: ${line}\n`) });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(built, null, 2)}\n`);
        return;
      }
      for (const layer of built.layers) process.stderr.write(`build: layer ${layer.reused ? '(cached) ' : ''}${layer.history}\n`);
      process.stdout.write(`${built.ref} ${built.digest}\n  oci:${built.layout}:${built.tag}\n`);
    });
}
