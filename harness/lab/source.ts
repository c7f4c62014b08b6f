// A parsed lab file with source positions: maps a path of keys and indices to file:line:column,
// and turns YAML syntax errors into located problems.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type YAMLError } from 'yaml';
import type { LabProblem } from '../errors.ts';
import { quote } from './text.ts';
import type { SourcePos } from './types.ts';

export type Path = readonly (string | number)[];

/** The tags whose values are plain JSON; any other (!!binary, !!set, !!timestamp, !local) is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

export class LabSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  private readonly text: string;
  private readonly lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** YAML syntax errors (and duplicate keys, and aliases to no anchor), each located. */
  syntaxProblems(): LabProblem[] {
    const problems = this.doc.errors.map((e) => this.yamlProblem(e));
    // Tags build values that are not JSON (!!binary a Buffer, !!set a Set, !!timestamp a Date).
    const tagged = (node: Node) => {
      if (node.tag !== undefined && !PLAIN_TAGS.has(node.tag)) {
        const tag = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
        problems.push({ ...this.offsetPos(node.range?.[0] ?? 0), message: `YAML: the tag ${quote(tag)} is not allowed in a lab file; write plain values` });
      }
    };
    visit(this.doc, { Scalar: (_, n) => tagged(n), Map: (_, n) => tagged(n), Seq: (_, n) => tagged(n) });
    visit(this.doc, {
      Alias: (_, alias) => {
        if (alias.resolve(this.doc) === undefined && alias.range) {
          problems.push({
            ...this.offsetPos(alias.range[0]),
            message: `YAML: alias *${quote(alias.source).slice(1, -1)} refers to no anchor &${quote(alias.source).slice(1, -1)} defined before it`,
          });
        }
      },
    });
    return problems;
  }

  /** The document as plain data; syntaxProblems() must be empty. */
  toData(): { data: unknown } | { problem: LabProblem } {
    try {
      return { data: this.doc.toJS() };
    } catch (e) {
      // Only alias explosions ("billion laughs") get here once syntaxProblems() is empty.
      return { problem: { file: this.file, line: 1, column: 1, message: `YAML: ${(e as Error).message}` } };
    }
  }

  private yamlProblem(e: YAMLError): LabProblem {
    const text = this.text;
    let offset = e.pos[0];
    // The parser quotes the token it stopped at: cut it short like every quoted value.
    let message = e.message
      .split('\n')[0]!
      .replace(/ at line \d+, column \d+:?$/, '')
      .replace(/: "(.*)"$/, (_, token: string) => `: ${quote(token)}`);
    if (e.code === 'DUPLICATE_KEY') {
      const dup = this.duplicateKeyAt(offset);
      const key = dup?.key ?? /^[^:\n]*/.exec(text.slice(offset))![0].trim();
      message = `duplicate key ${quote(key)}${dup ? ` (first set at line ${dup.first.line})` : ''}; a key may appear once per mapping`;
    } else if (e.code === 'MISSING_CHAR' && /closing (["'])quote/.test(message)) {
      // The parser stops at the end of the file; the useful place is where the string opens.
      const quote = /closing (["'])quote/.exec(message)![1]!;
      let open = text.lastIndexOf(quote, offset - 1);
      while (open > 0 && quote === '"' && text[open - 1] === '\\') open = text.lastIndexOf(quote, open - 2);
      if (open >= 0) offset = open;
      message = `the string opened here with ${quote} is never closed`;
    } else {
      // Errors about a line's indentation point at its first column; the token is after the blanks.
      const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
      if (/^ *$/.test(text.slice(lineStart, offset))) {
        let o = offset;
        while (text[o] === ' ') o++;
        if (o < text.length && text[o] !== '\n' && text[o] !== '\r') offset = o;
      }
    }
    return { ...this.offsetPos(offset), message: `YAML: ${message}` };
  }

  /** The key repeated at `offset`, and where its mapping first sets it. */
  private duplicateKeyAt(offset: number): { key: string; first: SourcePos } | undefined {
    let found: { key: string; first: SourcePos } | undefined;
    visit(this.doc, {
      Map: (_, map) => {
        const dup = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === offset);
        if (!dup || !isScalar(dup.key)) return undefined;
        const key = String(dup.key.value);
        const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
        if (first && isScalar(first.key) && first.key.range) found = { key, first: this.offsetPos(first.key.range[0]) };
        return visit.BREAK;
      },
    });
    return found;
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

  /** The text of the scalar at a path as written (`20.10`, where the value is the number 20.1). */
  scalarSource(path: Path): string | undefined {
    const node = this.nodeAt(path);
    return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
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
