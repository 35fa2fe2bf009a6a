// asf bundle inspect: reads just far enough to find bundle.json (builds put it first), so a
// multi-gigabyte bundle is listed without being read, let alone extracted.
import { manifestFile, readBundleManifest, type BundleManifest } from './manifest.js';
import { readArtefact } from './read.js';

export async function inspectArtefact(file: string): Promise<{ manifest: BundleManifest; text: string }> {
  let text: string | undefined;
  await readArtefact(file, {
    unsafe: () => {},
    problem: () => {},
    async entry(entry, body) {
      if (entry.path !== manifestFile || !body) return;
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString();
      return 'stop';
    },
  });
  if (text === undefined) throw new Error(`${file}: no ${manifestFile} found; is it an ASF kit bundle?`);
  return { manifest: readBundleManifest(text), text };
}
