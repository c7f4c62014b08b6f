// How lab values and words appear in messages: quoted and escaped so a value can never break
// a message or a terminal, cut short when long, and the nearest known word for a typo. Plain
// text functions: no YAML parser behind them, so modules that only quote do not load it.

/**
 * Edit distance counting a swap of two neighbours as one edit (optimal string alignment), so
 * "swram" is one typo away from "swarm", as a person would count it.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `word`, when it is near enough to be a plausible typo: at most a
 * third of the word (and at least 2) edits, and fewer edits than either has letters, so that
 * "zz" does not suggest "a".
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best === undefined) return undefined;
  const limit = Math.min(Math.max(2, Math.floor(word.length / 3)), word.length - 1, best.length - 1);
  return bestDistance <= limit ? best : undefined;
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const n = nearest(word, candidates);
  return n ? `; did you mean "${n}"?` : candidates.length ? ` (known: ${candidates.join(', ')})` : '';
}

/** How many characters of a lab value a message quotes; longer values are cut short with "…". */
export const QUOTE_MAX = 40;

/**
 * Control characters, quotes and backslashes as escapes (`\n`, `\x1b`, `\"`), and the Unicode
 * line separators and bidirectional controls as `\u{...}`, so a value can never break a
 * message into lines or reorder what a terminal shows.
 */
export function escapeText(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f"\\\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (ch) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };
    const code = ch.charCodeAt(0);
    return named[ch] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`);
  });
}

/** A lab value quoted for a message: escaped, and cut at `max` characters with "…". */
export function quote(value: unknown, max = QUOTE_MAX): string {
  const chars = [...String(value)];
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
  return `"${escapeText(cut)}"`;
}
