// expect: the stated facts. Their shape is the schema's; here each names a container of the
// lab to act from, and one (or, for resolve facts, an alias) to reach or resolve.
import type { RawLab } from '../raw-lab.ts';
import { type LabSource, type Path } from '../source.ts';
import { didYouMean, quote } from '../text.ts';
import type { FactVerb, LabContainer, LabFact } from '../types.ts';
import type { At } from './problems.ts';

const FACT = /^\s*(\S+)\s+(can reach|cannot reach|resolves|cannot resolve)\s+(\S+)\s*$/;

/** `containerIndex`: the containers' names (their first index in the file). */
export function buildFacts(src: LabSource, raw: RawLab, containers: readonly LabContainer[], containerIndex: ReadonlyMap<string, number>, at: At): LabFact[] {
  const namesOnAnyNetwork = new Set(containers.flatMap((c) => [c.name, ...c.networks.flatMap((a) => a.aliases)]));
  const containerNames = [...containerIndex.keys()];
  return (raw.expect ?? []).map((text, i) => {
    const m = FACT.exec(text)!;
    const [from, verb, to] = [m[1]!, m[2] as FactVerb, m[3]!];
    const path: Path = ['expect', i];
    if (!containerIndex.has(from)) at(path, `expect ${quote(text)}: ${quote(from)} is not a container of this lab${didYouMean(from, containerNames)}`);
    const isName = verb === 'resolves' || verb === 'cannot resolve';
    if (!containerIndex.has(to) && !(isName && namesOnAnyNetwork.has(to)) && verb !== 'cannot resolve') {
      at(path, `expect ${quote(text)}: ${quote(to)} is not a container${isName ? ' or alias' : ''} of this lab${didYouMean(to, containerNames)}`);
    }
    return { from, verb, to, text: text.trim(), pos: src.pos(path) };
  });
}
