// A parsed lab file with source positions: maps a path of keys and indices to file:line:column,
// and turns YAML syntax errors into located problems.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { LabProblem } from '../errors.ts';
import type { SourcePos } from './types.ts';

export type Path = readonly (string | number)[];

export class LabSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** YAML syntax errors (and duplicate keys), each located. */
  syntaxProblems(): LabProblem[] {
    return this.doc.errors.map((e) => {
      const { line, col } = this.lines.linePos(e.pos[0]);
      const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { file: this.file, line, column: col, message: `YAML: ${message}` };
    });
  }

  /** The node at a path, or the deepest existing ancestor when the path does not exist. */
  nodeAt(path: Path): Node | null {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      let next: unknown = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
        next = pair?.value ?? pair?.key;
      } else if (isSeq(node) && typeof key === 'number') {
        next = node.items[key];
      }
      if (next === undefined || next === null) break;
      node = next;
    }
    return (node as Node | null) ?? null;
  }

  /** Position of the key of `key` in the map at `path` (for unknown or misplaced keys). */
  keyPos(path: Path, key: string): SourcePos {
    const map = this.nodeAt(path);
    if (isMap(map)) {
      const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return this.offsetPos(pair.key.range[0]);
    }
    return this.pos(path);
  }

  /** Position of the value at a path (or of its deepest existing ancestor). */
  pos(path: Path): SourcePos {
    const node = this.nodeAt(path);
    return this.offsetPos(node?.range?.[0] ?? 0);
  }

  problem(path: Path, message: string): LabProblem {
    return { ...this.pos(path), message };
  }

  keyProblem(path: Path, key: string, message: string): LabProblem {
    return { ...this.keyPos(path, key), message };
  }

  private offsetPos(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }
}

/** "hosts[1].cpus" from ["hosts", 1, "cpus"]. */
export function formatPath(path: Path): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${k}` : k;
  return out || '(top level)';
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate nearest to `word`, when it is near enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const n = nearest(word, candidates);
  return n ? `; did you mean "${n}"?` : candidates.length ? ` (known: ${candidates.join(', ')})` : '';
}
