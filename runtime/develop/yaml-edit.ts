import fs from 'node:fs';
import { isMap, isScalar, parseDocument, type Document, type YAMLMap } from 'yaml';

/**
 * A YAML file edited in place through the document API, so that the comments, order and style a
 * person gave it survive `asf config set` and `unset`.
 */
export class YamlFile {
  private constructor(
    readonly file: string,
    private readonly doc: Document,
  ) {}

  /** The file's document (a missing file is an empty one); fails naming the file if it does not parse. */
  static open(file: string, onError: (message: string) => Error): YamlFile {
    const doc = parseDocument(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
    if (doc.errors.length) throw onError(`${file}: not valid YAML: ${doc.errors[0]!.message}`);
    return new YamlFile(file, doc);
  }

  /** Plain values, for reading. */
  values(): Record<string, unknown> {
    return (this.doc.toJS() ?? {}) as Record<string, unknown>;
  }

  /** Sets a dotted key (maps on the way are created), or with `undefined` removes it. */
  set(key: string, value: unknown): void {
    const path = key.split('.');
    if (value !== undefined) return void this.doc.setIn(path, value);
    const parent = path.length > 1 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
    if (isMap(parent)) keepCommentOf(parent, path.at(-1)!);
    this.doc.deleteIn(path);
  }

  write(): void {
    fs.writeFileSync(this.file, this.doc.toString({ flowCollectionPadding: false, lineWidth: 120 }));
  }
}

/** The comment above a key that is about to go (often a file's header) moves to the key below it. */
function keepCommentOf(map: YAMLMap, key: string): void {
  const at = map.items.findIndex((pair) => (isScalar(pair.key) ? pair.key.value : pair.key) === key);
  const gone = map.items[at]?.key;
  if (!isScalar(gone) || !gone.commentBefore) return;
  const next = map.items[at + 1]?.key;
  if (isScalar(next)) next.commentBefore = [gone.commentBefore, next.commentBefore].filter(Boolean).join('\n');
  else map.comment = [map.comment, gone.commentBefore].filter(Boolean).join('\n');
}
