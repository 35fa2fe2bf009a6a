import fs from 'node:fs';
import path from 'node:path';

/** Folders whose changes are no edit of the capability's code (environments, caches, VCS). */
const ignored = /(^|\/)(\.[^/]*|__pycache__|node_modules|venv)(\/|$)/;

/**
 * `asf up --watch`: calls `changed` once a burst of edits under `dir` has settled (an editor's save
 * is often several writes), with the first file that changed.
 */
export function watchFolder(dir: string, changed: (file: string) => void, settleMs = 300): () => void {
  let timer: NodeJS.Timeout | undefined;
  let first: string | undefined;
  const watcher = fs.watch(dir, { recursive: true }, (_event, name) => {
    const file = name?.toString() ?? '';
    if (ignored.test(file)) return;
    first ??= file;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const what = first!;
      first = undefined;
      changed(path.join(dir, what));
    }, settleMs);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
