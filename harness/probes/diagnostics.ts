// What a failed probe's report shows besides its commands: the engine log lines of the hosts
// involved, logged during the run, and `docker network inspect` of the networks involved.
import { ENGINE_SERVICE } from '../host.ts';
import type { Fact } from '../lab/types.ts';
import { count } from '../plural.ts';
import type { LabUnderTest } from './lab-under-test.ts';
import type { Diagnostics, EngineLogExcerpt, Probe } from './probe.ts';

/** The hosts and networks a fact is about. */
function involved(lab: LabUnderTest, fact: Fact): { hosts: string[]; networks: string[] } {
  const plan = lab.plan;
  const hostOf = (c: string) => plan.containers.find((x) => x.name === c)?.host;
  const netsOf = (c: string) => plan.containers.find((x) => x.name === c)?.networks.map((a) => a.network) ?? [];
  const byName = (name: string) => plan.containers.filter((c) => c.name === name || c.networks.some((a) => a.aliases.includes(name))).map((c) => c.name);
  let containers: string[] = [];
  let networks: string[] = [];
  let hosts: string[] = [];
  switch (fact.kind) {
    case 'network-present':
      hosts = [fact.host];
      networks = [fact.network];
      break;
    case 'reach':
    case 'mtu':
      containers = [fact.from, fact.to];
      networks = [fact.network];
      break;
    case 'resolve':
      containers = [fact.from, fact.target];
      networks = [fact.network];
      break;
    case 'no-resolve':
      containers = [fact.from, ...byName(fact.name)];
      break;
    case 'isolated':
      containers = [fact.from, fact.to];
      break;
    case 'internal-no-route':
      containers = [fact.container];
      networks = [fact.network];
      break;
    case 'kv-registered':
    case 'swarm-ready':
    case 'engines-alone':
      hosts = [...fact.hosts];
      break;
    case 'stated':
      containers = [fact.fact.from, ...byName(fact.fact.to)];
      break;
  }
  if (!networks.length) networks = [...new Set(containers.flatMap(netsOf))];
  hosts = [...new Set([...hosts, ...containers.map(hostOf).filter((h): h is string => !!h)])];
  return { hosts, networks };
}

export async function diagnose(lab: LabUnderTest, fact: Fact, probe: Probe): Promise<Diagnostics> {
  void probe;
  const { hosts, networks } = involved(lab, fact);
  const engineHosts = hosts.filter((h) => lab.engines.has(h));
  const engineLogs = await Promise.all(
    engineHosts.map(async (h) => {
      const access = lab.hosts.get(h)!;
      return excerpt(h, access.services.logFile(ENGINE_SERVICE), await access.services.readLog(ENGINE_SERVICE), lab.startedAt);
    }),
  );
  const inspections = await Promise.all(
    engineHosts.flatMap((h) =>
      networks.map(async (network) => {
        try {
          return { host: h, network, inspect: await lab.engines.get(h)!.getNetwork(network).inspect() };
        } catch (e) {
          return { host: h, network, inspect: `not inspectable on this engine: ${(e as Error).message}` };
        }
      }),
    ),
  );
  const diagnostics: Diagnostics = { engineLogs, networks: inspections };
  if (fact.kind === 'kv-registered' && lab.plan.kv) {
    const access = lab.hosts.get(lab.plan.kv.host);
    if (access) diagnostics.kvLog = excerpt(lab.plan.kv.host, access.services.logFile('kv'), await access.services.readLog('kv'), lab.startedAt);
  }
  return diagnostics;
}

/** Lines that say nothing about the lab: the engine's complaint when an exec's stream is closed. */
const LOG_NOISE = /stream copy error|error copying std(out|err)/;

/** The log lines logged since the run started (logrus `time="..."`), else its last warnings and errors. */
export function excerpt(host: string, file: string, log: string, since: number, max = 30): EngineLogExcerpt {
  const lines = log.trimEnd().split('\n').filter((l) => l && !LOG_NOISE.test(l));
  const during = lines.filter((l) => {
    const t = /time="([^"]+)"/.exec(l)?.[1];
    return t !== undefined && Date.parse(t) >= since - 1000;
  });
  if (during.length) return { host, file, note: `${count(during.length, 'line')} logged during the run${during.length > max ? `, the last ${max}` : ''}`, lines: during.slice(-max) };
  const complaints = lines.filter((l) => /level=(warning|error|fatal|panic)|^panic: |^fatal error: /.test(l));
  if (complaints.length) return { host, file, note: 'nothing logged during the run; its last warnings and errors', lines: complaints.slice(-10) };
  return { host, file, note: 'nothing logged during the run; its last lines', lines: lines.slice(-5) };
}
