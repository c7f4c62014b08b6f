// aliases: the embedded DNS must give every name one answer, or resolve facts cannot hold. An
// alias is no other container's name, and on each network belongs to one container.
import type { RawLab } from '../raw-lab.ts';
import { type Path } from '../source.ts';
import { quote } from '../text.ts';
import type { At } from './problems.ts';

/** `containerIndex`: the containers' names (their first index in the file). */
export function checkAliases(raw: RawLab, containerIndex: ReadonlyMap<string, number>, at: At): void {
  const aliasOwner = new Map<string, string>(); // "network/alias" -> container
  (raw.containers ?? []).forEach((c, i) => {
    const declared: { alias: string; path: Path; networks: string[] }[] = [
      ...(c.aliases ?? []).map((alias, k) => ({
        alias,
        path: ['containers', i, 'aliases', k] as Path,
        networks: c.networks.map((e) => (typeof e === 'string' ? e : e.name)),
      })),
      ...c.networks.flatMap((e, j) =>
        typeof e === 'string'
          ? []
          : (e.aliases ?? []).map((alias, k) => ({ alias, path: ['containers', i, 'networks', j, 'aliases', k] as Path, networks: [e.name] })),
      ),
    ];
    for (const { alias, path, networks: on } of declared) {
      if (alias !== c.name && containerIndex.has(alias)) {
        at(path, `container ${quote(c.name)}: alias ${quote(alias)} is the name of another container; DNS would answer ${quote(alias)} with either`);
        continue;
      }
      for (const n of new Set(on)) {
        const owner = aliasOwner.get(`${n}/${alias}`);
        if (owner !== undefined && owner !== c.name) {
          at(path, `container ${quote(c.name)}: alias ${quote(alias)} on network ${quote(n)} is already an alias of ${quote(owner)}; DNS would answer it with either`);
        } else aliasOwner.set(`${n}/${alias}`, c.name);
      }
    }
  });
}
