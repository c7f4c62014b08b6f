// The facts of a recorded plan (plan.json): what the specs prove, in words that probes put in
// their command lines. Part of check-plan.ts's check of a plan before a command acts on it.
import { FACT_WORD } from './rules.ts';
import { at, finite, int, isObject, matches, notA, object, oneOf, req, str, text, type Obj } from './shape.ts';

const FACT_VERBS = ['can reach', 'cannot reach', 'resolves', 'cannot resolve'] as const;

/**
 * A fact the specs prove: its kind, and words naming containers, networks, hosts and services
 * (what probes put in their command lines), numbers and flags; a stated fact as the lab file
 * stated it. Kinds are not listed here, so a plan of a newer kind is still read; its words are
 * still words.
 */
export function checkFact(v: unknown, p: string): void {
  const f = object(v, p);
  const kind = req(f, p, 'kind', matches(/^[a-z][a-z-]{0,63}$/, 'a kind of fact'));
  for (const [key, value] of Object.entries(f)) {
    if (key === 'kind') continue;
    if (kind === 'stated' && key === 'fact') statedFact(object(value, at(p, key)), at(p, key));
    else factValue(value, at(p, key));
  }
}

function factValue(value: unknown, p: string): void {
  if (typeof value === 'string') matches(FACT_WORD, 'a name (letters, digits, ".", "_" and "-")')(value, p);
  else if (typeof value === 'number') finite()(value, p);
  else if (typeof value === 'boolean') return;
  else if (Array.isArray(value)) value.forEach((x, i) => factValue(x, at(p, i)));
  else notA(p, value, isObject(value) ? 'a name, a number or a list (not an object)' : 'a name, a number or a list');
}

function statedFact(s: Obj, p: string): void {
  req(s, p, 'from', matches(FACT_WORD, 'a name'));
  req(s, p, 'verb', oneOf(FACT_VERBS));
  req(s, p, 'to', matches(FACT_WORD, 'a name'));
  req(s, p, 'text', text({ max: 1000 }));
  req(s, p, 'pos', (v, q) => {
    const pos = object(v, q);
    req(pos, q, 'file', str);
    req(pos, q, 'line', int(0));
    req(pos, q, 'column', int(0));
  });
}
