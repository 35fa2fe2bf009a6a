// asf bundle inspect: lists bundle.json (builds put it first) without extracting anything. It reads
// on to the end without hashing, so that a truncated file fails here rather than at install time.
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
    },
  });
  if (text === undefined) throw new Error(`${file}: no ${manifestFile} found; is it an ASF kit bundle?`);
  return { manifest: readBundleManifest(text), text };
}
