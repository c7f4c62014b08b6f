// kv: the host that runs the store (kv.host, or the one host with role kv, which mode kv
// needs), and a fallback that is another store.
import type { RawLab } from '../raw-lab.ts';
import { didYouMean, quote } from '../text.ts';
import type { Lab, LabHost } from '../types.ts';
import { DEFAULTS } from './defaults.ts';
import { hostsByName } from './hosts.ts';
import type { At } from './problems.ts';

export function buildKv(raw: RawLab, hosts: readonly LabHost[], mode: Lab['engine']['mode'], at: At): Lab['kv'] {
  const type = raw.kv?.type ?? DEFAULTS.kv.type;
  const kvHosts = hosts.filter((h) => h.role === 'kv');
  let host = raw.kv?.host;
  if (host !== undefined) {
    const byName = hostsByName(hosts);
    const h = byName.get(host);
    if (!h) at(['kv', 'host'], `kv.host ${quote(host)} is not a host of this lab${didYouMean(host, [...byName.keys()])}`);
    else if (h.role !== 'kv') at(['kv', 'host'], `kv.host ${quote(host)} has role ${h.role}; give it role: kv`);
  } else if (mode === 'kv') {
    if (kvHosts.length === 0) {
      const which = raw.engine?.mode === undefined ? 'engine.mode kv (the default)' : 'engine.mode kv';
      at(
        raw.engine?.mode === undefined ? ['hosts'] : ['engine', 'mode'],
        `${which} needs a host with role: kv to run the KV store; add one, or set engine.mode: swarm`,
      );
    } else if (kvHosts.length > 1) {
      at(['hosts'], `${kvHosts.length} hosts have role kv (${kvHosts.map((h) => h.name).join(', ')}): name the one to use in kv.host`);
    } else host = kvHosts[0]!.name;
  } else if (kvHosts.length === 1) host = kvHosts[0]!.name;
  if (raw.kv?.fallback !== undefined && raw.kv.fallback === type) {
    at(['kv', 'fallback'], `kv.fallback is the same store as kv.type (${type}); name another store or remove it`);
  }
  return { type, fallback: raw.kv?.fallback, host, port: raw.kv?.port };
}
