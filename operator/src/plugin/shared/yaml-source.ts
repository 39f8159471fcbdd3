import { readFile } from 'node:fs/promises';
import { type Document, isScalar, LineCounter, parseAllDocuments } from 'yaml';

// YAML files read with their positions, so a fault found in a value (a schema error, a CEL condition
// that does not compile) is reported as FILE:LINE:COLUMN of the file a person edits.

export interface SourcePosition {
  line: number;
  column: number;
}

export interface YamlDocument {
  readonly file: string;
  readonly value: unknown;
  /** Where the value at `path` starts in the file (its nearest existing ancestor's when it is absent). */
  positionOf(path: readonly (string | number)[]): SourcePosition;
  /** Where a 1-based line and column inside the string at `path` is in the file (see positionInScalar). */
  positionInString(path: readonly (string | number)[], at: SourcePosition): SourcePosition;
}

export class YamlSourceError extends Error {
  override readonly name = 'YamlSourceError';
}

function document(file: string, text: string, doc: Document, lines: LineCounter): YamlDocument {
  const pos = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const nodeAt = (path: readonly (string | number)[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return { node, range };
    }
    return undefined;
  };
  return {
    file,
    value: doc.toJS({ maxAliasCount: 100 }),
    positionOf: (path) => pos(nodeAt(path)?.range[0] ?? 0),
    positionInString: (path, at) => {
      const found = nodeAt(path);
      if (!found) return { line: 1, column: 1 };
      const { node, range } = found;
      if (!isScalar(node) || typeof node.value !== 'string') return pos(range[0]);
      return positionInScalar(text, node.type, range, node.value, at, pos);
    },
  };
}

/**
 * Maps a position inside a string value to the file. Exact for block literals (`|`: lines are kept,
 * only the indentation is added) and for one-line plain or quoted scalars without escapes; for other
 * styles (folded, escaped, multi-line flow) the scalar's own start is the best honest answer.
 */
function positionInScalar(
  text: string,
  type: string | undefined,
  range: [number, number, number],
  value: string,
  at: SourcePosition,
  pos: (offset: number) => SourcePosition,
): SourcePosition {
  const source = text.slice(range[0], range[1]);
  if (type === 'BLOCK_LITERAL') {
    const contentStart = range[0] + source.indexOf('\n') + 1;
    const content = text.slice(contentStart, range[1]);
    const indent = /^ */.exec(content.split('\n').find((l) => l.trim() !== '') ?? '')?.[0].length ?? 0;
    const start = pos(contentStart);
    return { line: start.line + at.line - 1, column: indent + at.column };
  }
  const quoted = type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE' ? 1 : 0;
  const inner = source.slice(quoted, source.length - quoted);
  if (at.line === 1 && !source.includes('\n') && inner === value)
    return pos(range[0] + quoted + at.column - 1);
  return pos(range[0]);
}

/** Every document of a YAML file (`---` separated); a syntax error is reported with its position. */
export async function readYamlDocuments(file: string): Promise<YamlDocument[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new YamlSourceError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first !== undefined) {
      const { line, col } = lines.linePos(first.pos[0]);
      throw new YamlSourceError(`${file}:${line}:${col}: ${first.message}`);
    }
  }
  return docs
    .filter((doc) => doc.contents !== null)
    .map((doc) => document(file, text, doc as Document, lines));
}
