// specs.pairs: which container pairs the generated reachability specs test.
import { parsePairs } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import { quote } from '../text.ts';
import type { PairsPolicy } from '../types.ts';
import { DEFAULTS } from './defaults.ts';
import type { At } from './problems.ts';

export function readPairs(raw: RawLab, at: At): PairsPolicy {
  const text = raw.specs?.pairs ?? DEFAULTS.pairs;
  const pairs = parsePairs(text);
  if (!pairs) at(['specs', 'pairs'], `specs.pairs ${quote(text)} is not a pairs policy: write all, cross-host or "sample N" (N from 1 to 1000000)`);
  return pairs ?? { kind: 'all' };
}
