// Whether each engine has programmed its overlays for the lab's containers on other hosts, read
// from the kernel and without sending a packet: in the network's sandbox namespace, the VXLAN
// forwarding entry (peer MAC -> peer host, `bridge fdb`) and the neighbour entry (peer address
// -> MAC, `ip neigh`) the overlay driver adds when it learns of a peer.
//
// dockerd 20.10 in kv mode now and then never adds them for a container started on another
// host at the same moment (seen about once in 30-100 tutorial runs here: the neighbour entry
// there, the forwarding entry not; libnetwork's retry on a miss stops at the neighbour entry it
// already has, so the overlay stays broken in that direction for good). `up` waits for the
// entries, and where an engine has not added them, restarts that host's containers on the
// network once, which makes the engine build the network's sandbox afresh from the peers it
// knows (the workaround of moby/libnetwork#2089), and says so.
import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecResult, HostAccess, HostRunner } from '../host.ts';
import type { Plan } from '../lab/types.ts';
import { containerEndpoints } from './contents.ts';
import { engineExecRoot } from './daemon.ts';

/** A container on another host, whose entries a host's sandbox for the network must hold. */
export interface OverlayPeer {
  network: string;
  container: string;
  /** The peer's host, and that host's address: the VXLAN tunnel endpoint its packets go to. */
  host: string;
  vtep: string;
  ip: string;
  mac: string;
}

/** One of the lab's containers as its engine reports it: its address and MAC on each network. */
export interface LiveContainer {
  name: string;
  host: string;
  networks: Record<string, { ip: string; mac: string; networkId?: string }>;
}

/**
 * For each host with a container on one of `overlays`, the peers it must have programmed: every
 * container on the same network on another host. Pure.
 */
export function expectedPeers(containers: readonly LiveContainer[], overlays: readonly string[], hostAddress: ReadonlyMap<string, string>): Map<string, OverlayPeer[]> {
  const out = new Map<string, OverlayPeer[]>();
  for (const local of containers) {
    for (const network of Object.keys(local.networks)) {
      if (!overlays.includes(network)) continue;
      const peers = out.get(local.host) ?? [];
      for (const peer of containers) {
        const at = peer.networks[network];
        if (peer.host === local.host || !at?.ip || !at.mac) continue;
        if (peers.some((p) => p.network === network && p.container === peer.name)) continue;
        peers.push({ network, container: peer.name, host: peer.host, vtep: hostAddress.get(peer.host) ?? '', ip: at.ip, mac: at.mac.toLowerCase() });
      }
      out.set(local.host, peers);
    }
  }
  return out;
}

/** What a host's sandbox of one network holds: `bridge fdb show` and `ip neigh show` output. */
export interface SandboxTables {
  fdb: string;
  neigh: string;
}

/** What is missing of one peer's entries, in words ("the forwarding entry ..."); empty when both are there. Pure. */
export function missingEntries(peer: OverlayPeer, t: SandboxTables): string[] {
  const esc = (s: string) => s.replaceAll('.', '\\.');
  const fdb = new RegExp(`^${peer.mac}\\s.*\\bdst ${esc(peer.vtep)}\\s.*\\bself\\b.*\\bpermanent\\b`, 'mi');
  const neigh = new RegExp(`^${esc(peer.ip)} dev \\S+ lladdr ${peer.mac} PERMANENT`, 'mi');
  return [
    ...(neigh.test(t.neigh) ? [] : [`the neighbour entry ${peer.ip} -> ${peer.mac}`]),
    ...(fdb.test(t.fdb) ? [] : [`the forwarding entry ${peer.mac} -> ${peer.vtep}`]),
  ];
}

/**
 * Run on a host with the engine's exec root as $1 and the network id's first 10 characters as
 * $2: prints the fdb, a separator line, then the neighbour table of the network's sandbox
 * (`<exec-root>/netns/<n>-<id>`). Exit 3 when there is no sandbox (no container joined yet).
 */
export const SANDBOX_TABLES_SCRIPT = `set -e
found=
for f in "$1"/netns/*-"$2"; do
  [ -e "$f" ] || continue
  found=1
  nsenter --net="$f" bridge fdb show
  echo '--neigh--'
  nsenter --net="$f" ip neigh show
done
[ -n "$found" ] || exit 3`;

export function parseSandboxTables(stdout: string): SandboxTables {
  const [fdb = '', neigh = ''] = stdout.split('--neigh--\n');
  return { fdb, neigh };
}

export async function readSandboxTables(runner: HostRunner, execRoot: string, networkId: string): Promise<SandboxTables | ExecResult> {
  const r = await runner.exec(['sh', '-c', SANDBOX_TABLES_SCRIPT, 'sh', execRoot, networkId.slice(0, 10)], { timeoutMs: 15_000 });
  return r.exitCode === 0 ? parseSandboxTables(r.stdout) : r;
}

/** The lab's containers on one engine as it reports them. */
export async function liveContainers(docker: Docker, host: string, names: readonly string[]): Promise<LiveContainer[]> {
  return Promise.all(names.map(async (name) => ({ name, host, networks: await containerEndpoints(docker, name) })));
}

/** How long engines normally take to add a peer's entries once both containers run; then the repair. */
export const PROGRAM_WAIT_MS = 15_000;
/** After the repair, how long the entries may take to appear before the specs are left to show it. */
export const REPAIRED_WAIT_MS = 20_000;

export interface DataplaneHost {
  name: string;
  address: string;
  runner: HostRunner;
  docker: Docker;
  execRoot: string;
  /** The lab's containers on this host. */
  containers: string[];
}

/**
 * The docker hosts whose overlays the check reads: those with a container, when the lab has
 * overlays and more than one docker host; else none, and there is no check. Shared by `up` and
 * its dry run.
 */
export function checkedHosts(plan: Pick<Plan, 'dockerHosts' | 'containers' | 'networks'>): string[] {
  if (!plan.networks.length || plan.dockerHosts.length < 2) return [];
  return plan.dockerHosts.filter((d) => plan.containers.some((c) => c.host === d));
}

/** The lab's docker hosts as ensureOverlaysProgrammed reads them. */
export function dataplaneHosts(plan: Pick<Plan, 'dockerHosts' | 'containers'>, hosts: ReadonlyMap<string, HostAccess>, engines: ReadonlyMap<string, Docker>): DataplaneHost[] {
  return plan.dockerHosts.map((d) => {
    const h = hosts.get(d)!;
    return {
      name: d,
      address: h.address,
      runner: h.runner,
      docker: engines.get(d)!,
      execRoot: engineExecRoot(h.engineFlags),
      containers: plan.containers.filter((c) => c.host === d).map((c) => c.name),
    };
  });
}

/** The outcome, for up's progress line and its notes. */
export interface DataplaneReport {
  /** Peers checked, over all hosts and networks. */
  peers: number;
  /** From the first reading until every entry was there, in ms; undefined when some never came. */
  programmedMs: number | undefined;
  /** Warnings for up's notes: a host whose tables could not be read, a repair, entries still missing. */
  warnings: { host: string; message: string }[];
}

interface Reading {
  /** The lab's containers as the engines reported them for this reading. */
  live: LiveContainer[];
  missing: { host: string; peer: OverlayPeer; what: string[] }[];
  unreadable: { host: string; why: string }[];
  peers: number;
}

async function readAll(hosts: readonly DataplaneHost[], overlays: readonly string[]): Promise<Reading> {
  const live = (await Promise.all(hosts.map((h) => liveContainers(h.docker, h.name, h.containers)))).flat();
  const expected = expectedPeers(live, overlays, new Map(hosts.map((h) => [h.name, h.address])));
  const reading: Reading = { live, missing: [], unreadable: [], peers: 0 };
  await Promise.all(
    hosts.map(async (h) => {
      const peers = expected.get(h.name) ?? [];
      reading.peers += peers.length;
      for (const network of new Set(peers.map((p) => p.network))) {
        // The network's id as this host's own container on it reports it (where the sandbox is named after it).
        const id = live.find((c) => c.host === h.name && c.networks[network]?.networkId)?.networks[network]!.networkId ?? ((await h.docker.getNetwork(network).inspect()) as { Id: string }).Id;
        const t = await readSandboxTables(h.runner, h.execRoot, id);
        const mine = peers.filter((p) => p.network === network);
        if ('exitCode' in t && t.exitCode !== 3) {
          reading.unreadable.push({ host: h.name, why: `reading the sandbox of ${network} exited ${t.exitCode}: ${(t.stderr || t.stdout).trim().split('\n').pop()}` });
          continue;
        }
        for (const peer of mine) {
          const what = 'exitCode' in t ? ['a sandbox of the network'] : missingEntries(peer, t);
          if (what.length) reading.missing.push({ host: h.name, peer, what });
        }
      }
    }),
  );
  // In the hosts' order, whichever answered first.
  const order = (h: string) => hosts.findIndex((x) => x.name === h);
  reading.missing.sort((a, b) => order(a.host) - order(b.host) || a.peer.network.localeCompare(b.peer.network) || a.peer.container.localeCompare(b.peer.container));
  reading.unreadable.sort((a, b) => order(a.host) - order(b.host));
  return reading;
}

async function waitProgrammed(hosts: readonly DataplaneHost[], overlays: readonly string[], ms: number, signal: AbortSignal): Promise<Reading> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await readAll(hosts, overlays);
    // A host whose tables cannot be read adds nothing missing: the others are still checked.
    if (!r.missing.length || Date.now() >= deadline) return r;
    await sleep(200, undefined, { signal });
  }
}

const describe = (m: Reading['missing'][number]) => `${m.host} lacks ${m.what.join(' and ')} for ${m.peer.container} on ${m.peer.host} (${m.peer.network})`;

/**
 * Waits until every host's sandboxes hold the entries of every peer; where they do not after
 * PROGRAM_WAIT_MS, restarts the containers of the lacking hosts on those networks once and waits
 * again. Never throws for missing entries: the specs are the verdict; the report says what was done.
 */
export async function ensureOverlaysProgrammed(
  hosts: readonly DataplaneHost[],
  overlays: readonly string[],
  signal: AbortSignal,
  bounds: { programMs?: number; repairedMs?: number } = {},
): Promise<DataplaneReport> {
  const programMs = bounds.programMs ?? PROGRAM_WAIT_MS;
  const start = Date.now();
  const first = await waitProgrammed(hosts, overlays, programMs, signal);
  const warnings = first.unreadable.map((u) => ({ host: u.host, message: `the overlay forwarding tables of ${u.host} were not checked: ${u.why}` }));
  if (!first.missing.length) return { peers: first.peers, programmedMs: Date.now() - start, warnings };
  // Restart each lacking host's containers on the networks concerned: with none left on it, the
  // engine removes the network's sandbox, and builds it again from its peers when they start.
  const restart = new Map<string, Set<string>>();
  for (const m of first.missing) {
    for (const c of first.live.filter((c) => c.host === m.host && c.networks[m.peer.network])) (restart.get(m.host) ?? restart.set(m.host, new Set()).get(m.host)!).add(c.name);
  }
  for (const [host, names] of restart) {
    const h = hosts.find((x) => x.name === host)!;
    await Promise.all([...names].map((n) => h.docker.getContainer(n).restart({ t: 0 })));
  }
  const again = await waitProgrammed(hosts, overlays, bounds.repairedMs ?? REPAIRED_WAIT_MS, signal);
  const restarted = [...restart].map(([h, names]) => `${[...names].join(', ')} on ${h}`).join('; ');
  const after = Date.now() - start;
  for (const m of first.missing) {
    warnings.push({
      host: m.host,
      message: `${describe(m)} ${(programMs / 1000).toFixed(0)} s after the containers started (the engine missed the peer); restarted ${restarted}` +
        (again.missing.length ? '' : `, after which every entry was there (${(after / 1000).toFixed(1)} s in all)`),
    });
  }
  for (const m of again.missing) warnings.push({ host: m.host, message: `${describe(m)} even after the restart; the reach specs will fail` });
  return { peers: again.peers, programmedMs: again.missing.length ? undefined : after, warnings };
}
