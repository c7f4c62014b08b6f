// Topology rules a schema cannot express (names, addresses, references between sections), and
// the defaults that make a short lab file complete. Collects every problem, located. Each
// section's rules live in validate/ (the defaults in validate/defaults.ts); this runs them in
// order, each seeing what the earlier ones made (hosts, then the engine's mode, and so on).
import type { LabProblem } from '../errors.ts';
import type { RawLab } from './raw-lab.ts';
import type { LabSource } from './source.ts';
import type { Lab } from './types.ts';
import { checkAliases } from './validate/aliases.ts';
import { buildContainers } from './validate/containers.ts';
import { DEFAULT_BOX, DEFAULTS } from './validate/defaults.ts';
import { buildEngine } from './validate/engine.ts';
import { buildFacts } from './validate/facts.ts';
import { buildHosts } from './validate/hosts.ts';
import { buildKv } from './validate/kv.ts';
import { buildNetworks } from './validate/networks.ts';
import { readPairs } from './validate/pairs.ts';
import { claimLabPorts, portTable } from './validate/ports.ts';
import { collector } from './validate/problems.ts';
import { readSpecFiles } from './validate/spec-files.ts';
import { buildServices } from './validate/services.ts';
import { checkFreeStrings } from './validate/strings.ts';
import { readSubnet } from './validate/subnet.ts';

export * from './validate/defaults.ts';
export { parseEngineVersion } from './validate/engine.ts';

export function buildLab(src: LabSource, raw: RawLab): { lab: Lab; problems: LabProblem[] } {
  const { problems, at } = collector(src);
  const { text: subnetText, subnet } = readSubnet(raw, at);
  checkFreeStrings(raw, at);
  const pairs = readPairs(raw, at);
  const specFiles = readSpecFiles(src, raw, at);
  const hosts = buildHosts(raw, subnet, at);
  const engine = buildEngine(raw, hosts, at);
  const kv = buildKv(raw, hosts, engine.mode, at);
  const usePort = portTable(at);
  claimLabPorts(raw, hosts, engine.mode, kv, usePort, at);
  const nets = buildNetworks(raw, engine.mode, subnet, at);
  const { containers, index: containerIndex } = buildContainers(raw, hosts, engine.mode, nets, at);
  checkAliases(raw, containerIndex, at);
  const networkNames = nets.networks.map((n) => n.name);
  const services = buildServices(raw, { mode: engine.mode, hosts, containerIndex, networkIndex: nets.index, networkNames, usePort }, at);
  const expect = buildFacts(src, raw, containers, containerIndex, at);
  const lab: Lab = {
    file: src.file,
    name: raw.name,
    description: raw.description ?? '',
    provider: raw.provider ?? DEFAULTS.provider,
    box: raw.box ?? DEFAULT_BOX,
    subnet: subnetText,
    hosts,
    kv,
    engine,
    networks: nets.networks,
    containers,
    services,
    specs: { pairs, files: specFiles },
    ...(raw.matrix ? { matrix: raw.matrix } : {}),
    expect,
  };
  return { lab, problems };
}
