// Where a user's spec file failed to load, from the error its import threw: a syntax error
// (esbuild's "FILE:L:C: ERROR", node's "FILE:L" and caret, or `node --check`'s for an ES
// module node reports without a place), a throw at load time (the first stack frame in the
// spec file, else in another file of the user's), or an import that names no module (the line
// of the import in the file that names it). Pure: the caller reads files and runs node --check.
import { fileURLToPath } from 'node:url';

export interface LoadErrorPlace {
  file: string;
  line?: number;
  column?: number;
}

export interface LoadErrorInput {
  error: unknown;
  /** The spec file being loaded (absolute). */
  specFile: string;
  /** A file's text, for finding an import's line (undefined when unreadable). */
  readText: (file: string) => string | undefined;
  /** Paths whose frames are not the user's (overlab's own sources), besides node_modules and node's internals. */
  notTheUsers?: readonly string[];
  /** What `node --check SPEC` printed, for a SyntaxError that came without a place. */
  checkOutput?: string;
}

/** A path as a stack shows it: a plain path or a file: URL, perhaps with a query (`?run=2`); not inside `node:internal/...`. */
const PATH = String.raw`(?<![\w:/.])((?:file://)?/[^\s:()?'"]+)(?:\?[^\s:()'"]*)?`;

function toPath(p: string): string {
  return p.startsWith('file://') ? fileURLToPath(p) : p;
}

export function locateLoadError(input: LoadErrorInput): LoadErrorPlace {
  const { error, specFile } = input;
  const e = error as { message?: unknown; stack?: unknown; code?: unknown; name?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const stack = typeof e?.stack === 'string' ? e.stack : '';
  const users = (f: string) => !f.includes('/node_modules/') && !(input.notTheUsers ?? []).some((p) => f.startsWith(p));

  // An import naming no module: the line that imports it, in the file that does.
  const missing = /^Cannot find (?:module|package) '([^']+)' imported from (.+)$/m.exec(message);
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && missing) {
    const importer = toPath(missing[2]!.trim().replace(/\?[^/]*$/, ''));
    return { file: importer, ...importLine(input.readText(importer), missing[1]!) };
  }
  // esbuild (tsx): "Transform failed with 1 error:\n/path/x.ts:2:11: ERROR: ...", its column from 0.
  const esbuild = new RegExp(`^${PATH}:(\\d+):(\\d+): ERROR`, 'm').exec(message);
  if (esbuild) return { file: toPath(esbuild[1]!), line: Number(esbuild[2]), column: Number(esbuild[3]) + 1 }; // esbuild counts columns from 0
  // node's syntax errors: "path:LINE\n<source line>\n   ^^^" heading the stack (or node --check's output).
  for (const text of [stack, input.checkOutput ?? '']) {
    const head = new RegExp(`^${PATH}:(\\d+)\\n(.*)\\n(\\s*)\\^`, 'm').exec(text);
    if (head) return { file: toPath(head[1]!), line: Number(head[2]), column: head[4]!.length + 1 };
  }
  // A throw at load time: the first frame in the spec file, else the first in a file of the user's.
  const frames = [...stack.matchAll(new RegExp(`${PATH}:(\\d+):(\\d+)`, 'g'))].map((m) => ({ file: toPath(m[1]!), line: Number(m[2]), column: Number(m[3]) }));
  const frame = frames.find((f) => f.file === specFile) ?? frames.find((f) => users(f.file));
  return frame ?? { file: specFile };
}

/** The line (and column) of the first import of `specifier`, matched as written or by the resolved path's tail. */
function importLine(text: string | undefined, specifier: string): { line?: number; column?: number } {
  if (text === undefined) return {};
  const tail = specifier.startsWith('/') ? specifier.split('/').pop()! : specifier;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    for (const q of ["'", '"', '`']) {
      const at = lines[i]!.indexOf(q);
      if (at < 0) continue;
      // A package is named without its subpath ("Cannot find package 'overlab'" for 'overlab/spec').
      const m = new RegExp(`${q}([^${q}]*${escape(tail)}(?:/[^${q}]*)?)${q}`).exec(lines[i]!);
      if (m && (m[1] === specifier || m[1]!.endsWith(`/${tail}`) || m[1]!.startsWith(`${specifier}/`))) return { line: i + 1, column: m.index + 1 };
    }
  }
  return {};
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "file:LINE:COLUMN" (or less, as known). */
export function formatPlace(p: LoadErrorPlace, shown: (file: string) => string = (f) => f): string {
  return `${shown(p.file)}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}`;
}
