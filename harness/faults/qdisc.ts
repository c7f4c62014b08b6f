// The link faults' commands (pure): tc qdiscs on a host's underlay interface (netem delay and
// loss, a tbf rate limit), what the interface had at its root before and how to put that back,
// and reading what tc and the kernel answered. Nothing read from a host goes into a command
// but as an argument.
import type { FaultRecord } from '../state/faults.ts';
import { LabStateError } from '../errors.ts';

/** Delay (and loss) as the root qdisc of `iface`, in place of whatever was there (heal puts that back). */
export function netemArgv(iface: string, ms: number, loss?: number): string[] {
  return ['tc', 'qdisc', 'replace', 'dev', iface, 'root', 'netem', 'delay', `${ms}ms`, ...(loss ? ['loss', `${loss}%`] : [])];
}

/** A token bucket: `mbit` Mbit/s, a burst of ~10 ms at that rate (at least 32 kB), packets queued up to 400 ms. */
export function tbfArgv(iface: string, mbit: number): string[] {
  const burstKb = Math.max(32, Math.ceil((mbit * 1000) / 8 / 100));
  return ['tc', 'qdisc', 'replace', 'dev', iface, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', `${burstKb}kb`, 'latency', '400ms'];
}

/** Deletes the root qdisc: the kernel attaches its default in its place. */
export function clearQdiscArgv(iface: string): string[] {
  return ['tc', 'qdisc', 'del', 'dev', iface, 'root'];
}

/** What `tc qdisc del ... root` says when there is nothing of anyone's to delete (the kernel's default is there). */
export function nothingToDelete(stderr: string): boolean {
  return /No such file|Cannot delete qdisc with handle of zero|Invalid handle/i.test(stderr);
}

/** The qdiscs of an interface, as tc shows them. */
export function showQdiscArgv(iface: string): string[] {
  return ['tc', 'qdisc', 'show', 'dev', iface];
}

/** The qdisc kind the kernel attaches to an interface that has none of its own (net.core.default_qdisc). */
export const DEFAULT_QDISC_ARGV = ['cat', '/proc/sys/net/core/default_qdisc'];

/** What the default_qdisc file said: the kind, or undefined when unreadable or not a kind's name. */
export function defaultQdiscFrom(r: { exitCode: number; stdout: string }): string | undefined {
  const kind = r.stdout.trim();
  return r.exitCode === 0 && /^[a-z0-9_]{1,32}$/.test(kind) ? kind : undefined;
}

/** The qdiscs overlab puts at an interface's root (latency, rate): what heal takes away. */
export const FAULT_QDISC_KINDS: readonly string[] = ['netem', 'tbf'];

/**
 * What an interface had as its root qdisc before a latency or rate fault replaced it: recorded
 * in the lab's state with the fault before anything is changed, and put back by heal and down.
 * `shown` is `tc qdisc show dev IFACE` verbatim; what to run is worked out from it again when
 * it is put back (qdiscRestore), so the state holds what was seen, never a command.
 */
export interface SavedQdisc {
  iface: string;
  shown: string;
}

/** A latency or rate fault, as recorded: with the qdisc it replaced (absent in states written before it was recorded). */
export type LinkFaultRecord = Extract<FaultRecord, { kind: 'latency' | 'rate' }> & { qdisc?: SavedQdisc };

/** The qdisc a fault record says it replaced; undefined when it says none; a LabStateError when the record is malformed. */
export function savedQdiscOf(f: FaultRecord): SavedQdisc | undefined {
  if (f.kind !== 'latency' && f.kind !== 'rate') return undefined;
  const q = (f as LinkFaultRecord).qdisc as unknown;
  if (q === undefined) return undefined;
  const o = q as Record<string, unknown>;
  if (typeof q !== 'object' || q === null || typeof o['iface'] !== 'string' || typeof o['shown'] !== 'string') {
    throw new LabStateError(`the lab state's ${f.kind} fault on ${f.host} (since ${f.since}) has a malformed record of the qdisc it replaced: ${JSON.stringify(q).slice(0, 200)}`, {
      hint: 'Put the root qdisc of the interface back by hand (tc qdisc), then remove the fault from the state file, or run `overlab down --force`.',
    });
  }
  return { iface: o['iface'], shown: o['shown'] };
}

/**
 * The qdisc an earlier latency or rate fault on `host`, still recorded, replaced: while it is
 * there the root qdisc is overlab's, so a second fault keeps the first one's record of what to
 * put back rather than reading overlab's own qdisc as the host's.
 */
export function recordedQdiscOn(faults: readonly FaultRecord[], host: string): SavedQdisc | undefined {
  for (const f of faults) {
    if (f.host !== host) continue;
    const q = savedQdiscOf(f);
    if (q) return q;
  }
  return undefined;
}

/** One line of `tc qdisc show dev IFACE`. */
export interface QdiscLine {
  kind: string;
  /** "0:" for a qdisc the kernel attached itself; tc's "8001:", or the one given, for one someone added. */
  handle: string;
  /** "root", or the parent's id (":1", "1:10", "ffff:fff1"). */
  parent: string;
  /** What follows, less `refcnt N`. */
  params: string[];
}

/** `tc qdisc show dev IFACE` → its lines, or why they are not understood. */
export function parseQdiscs(shown: string): QdiscLine[] | string {
  const lines: QdiscLine[] = [];
  for (const raw of shown.split('\n')) {
    const text = raw.trim();
    if (!text) continue;
    const m = /^qdisc\s+([A-Za-z0-9_-]+)\s+([0-9a-f]{0,4}:[0-9a-f]*)\s+(?:(root)|parent\s+(\S+))(?:\s+(.*))?$/.exec(text);
    if (!m) return `tc showed a line overlab does not understand: "${text}"`;
    const tokens = (m[5] ?? '').split(/\s+/).filter(Boolean);
    const r = tokens.indexOf('refcnt');
    if (r >= 0) tokens.splice(r, 2);
    lines.push({ kind: m[1]!, handle: m[2]!, parent: m[3] ?? m[4]!, params: tokens });
  }
  return lines;
}

/** Ingress and clsact sit beside the root qdisc, not under it: replacing the root leaves them be. */
function besideRoot(l: QdiscLine): boolean {
  return l.kind === 'ingress' || l.kind === 'clsact' || l.parent === 'ffff:fff1';
}

/** The root tree as comparable text (kind, parent, parameters; not handles or refcounts): whether what is there now is what was. */
export function qdiscTree(shown: string): string | undefined {
  const lines = parseQdiscs(shown);
  if (typeof lines === 'string') return undefined;
  return lines
    .filter((l) => !besideRoot(l))
    .map((l) => [l.kind, l.parent, ...l.params].join(' '))
    .join('\n');
}

/** How the root qdisc that was there is put back once overlab's goes. */
export type QdiscRestore =
  /** It was the kernel's default: deleting overlab's root qdisc makes the kernel attach it again. */
  | { how: 'delete' }
  /** `tc qdisc replace dev IFACE root` and these words: it made again, with its handle and parameters. */
  | { how: 'recreate'; args: string[] }
  /** It cannot be put back faithfully: why, for the refusal. */
  | { how: 'refuse'; why: string };

/** The kinds overlab can make again from what tc shows of them, and the words tc takes back for them. */
const RECREATE: Record<string, (params: string[]) => string[] | string> = {
  noqueue: (p) => (p.length === 0 ? [] : `noqueue with parameters (${p.join(' ')})`),
  // The kernel sets pfifo_fast's bands and priomap itself; tc takes none.
  pfifo_fast: (p) => (p.join(' ') === 'bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1' ? [] : `pfifo_fast with parameters ${p.join(' ')}`),
  pfifo: (p) => (p.length === 2 && p[0] === 'limit' && /^\d+p$/.test(p[1]!) ? ['limit', p[1]!.slice(0, -1)] : `pfifo with parameters ${p.join(' ')}`),
  fq_codel: fqCodelArgs,
};

const TC_NUMBER = /^\d+$/;
const TC_TIME = /^\d+(?:\.\d+)?(?:s|ms|us)$/;
const TC_SIZE = /^\d+(?:\.\d+)?(?:b|Kb|Mb|Gb)$/;

/** fq_codel's shown parameters → tc's words for them, in tc's order; `ecn` or `noecn` always said (fq_codel's default is ecn). */
function fqCodelArgs(p: string[]): string[] | string {
  const valued: Record<string, RegExp> = {
    limit: /^\d+p$/,
    flows: TC_NUMBER,
    quantum: TC_NUMBER,
    target: TC_TIME,
    interval: TC_TIME,
    memory_limit: TC_SIZE,
    drop_batch: TC_NUMBER,
    ce_threshold: TC_TIME,
  };
  const args: string[] = [];
  let ecn = false;
  for (let i = 0; i < p.length; i++) {
    const word = p[i]!;
    if (word === 'ecn') {
      args.push(word);
      ecn = true;
      continue;
    }
    const shape = valued[word];
    const value = p[i + 1];
    if (!shape || value === undefined || !shape.test(value)) return `fq_codel with a parameter overlab cannot set again (${word}${value === undefined ? '' : ` ${value}`})`;
    args.push(word, word === 'limit' ? value.slice(0, -1) : value);
    i++;
  }
  return ecn ? args : [...args, 'noecn'];
}

/**
 * Whether the kernel, attaching its default today, makes this tree: noqueue (a device without a
 * queue) or noop (a device that is down); else the default kind on its own, or mq with one per
 * transmit queue, the default kind on the queues in use (from :1) and pfifo_fast on any past
 * them (the kernel's choice for those).
 */
function kernelWouldAttach(root: QdiscLine, under: QdiscLine[], defaultQdisc: string): boolean {
  if (!under.length) return ['noqueue', 'noop', defaultQdisc].includes(root.kind);
  if (root.kind !== 'mq') return false;
  const queues = under.map((l) => ({ kind: l.kind, n: /^:([0-9a-f]+)$/.exec(l.parent) ? parseInt(l.parent.slice(1), 16) : NaN }));
  if (queues.some((q) => Number.isNaN(q.n))) return false;
  queues.sort((a, b) => a.n - b.n);
  const inUse = queues.findIndex((q) => q.kind !== defaultQdisc);
  if (inUse === 0) return false;
  return inUse < 0 || queues.slice(inUse).every((q) => q.kind === 'pfifo_fast');
}

/**
 * How the root qdisc `shown` (`tc qdisc show dev IFACE`) is put back after overlab replaced it,
 * given the kind the kernel attaches by default now (net.core.default_qdisc; undefined when it
 * cannot be read). A tree of the kernel's own making (every handle 0:) comes back when
 * overlab's qdisc is deleted, if the kernel would make the same one today; a single qdisc of a
 * kind overlab knows is made again with its handle and parameters; anything else (htb or mq
 * trees someone built, qdiscs with parameters overlab cannot set) is refused, so nobody's
 * queueing set-up is destroyed.
 */
export function qdiscRestore(shown: string, defaultQdisc: string | undefined): QdiscRestore {
  const parsed = parseQdiscs(shown);
  if (typeof parsed === 'string') return { how: 'refuse', why: parsed };
  const lines = parsed.filter((l) => !besideRoot(l));
  const root = lines.find((l) => l.parent === 'root');
  if (!root) return { how: 'refuse', why: 'tc showed no root qdisc' };
  const under = lines.filter((l) => l !== root);
  const remake = RECREATE[root.kind];
  const args = remake ? remake(root.params) : `overlab cannot make a ${root.kind} qdisc again from what tc shows of it`;
  if (lines.every((l) => l.handle === '0:')) {
    if (defaultQdisc === undefined || kernelWouldAttach(root, under, defaultQdisc)) return { how: 'delete' };
    if (!under.length && typeof args !== 'string') return { how: 'recreate', args: [root.kind, ...args] };
    return {
      how: 'refuse',
      why: `it is the kernel's default from before net.core.default_qdisc became ${defaultQdisc}: deleting overlab's qdisc would attach ${defaultQdisc} instead, and ${typeof args === 'string' ? args : `a tree of ${lines.length} qdiscs cannot be made again`}`,
    };
  }
  if (under.length) return { how: 'refuse', why: `it is a tree of ${lines.length} qdiscs (${lines.map((l) => `${l.kind} ${l.handle}`).join(', ')}), which overlab cannot make again` };
  if (typeof args === 'string') return { how: 'refuse', why: args };
  return { how: 'recreate', args: ['handle', root.handle, root.kind, ...args] };
}

/** The root line of `shown`, for messages. */
export function rootQdiscLine(shown: string): string {
  return shown.split('\n').find((l) => /\sroot(\s|$)/.test(l))?.trim() ?? shown.trim();
}

/** The command that makes a recorded qdisc again in place of overlab's. */
export function recreateQdiscArgv(iface: string, args: readonly string[]): string[] {
  return ['tc', 'qdisc', 'replace', 'dev', iface, 'root', ...args];
}

/** The kernel option netem needs, named in the refusal. */
export const NETEM_CONFIG = 'CONFIG_NET_SCH_NETEM';

/**
 * Whether what `tc qdisc ... netem` answered says the kernel has no netem: "Error: Specified
 * qdisc kind is unknown." (iproute2 with netlink extended ack), or "RTNETLINK answers: No such
 * file or directory" from older ones.
 */
export function kernelLacksQdisc(stderr: string): boolean {
  return /qdisc kind is unknown|RTNETLINK answers: No such file or directory|Unknown qdisc/i.test(stderr);
}

/** What /proc/config.gz (gunzipped) says of netem: 'y', 'm', or undefined when it is not set or not listed. */
export function netemInConfig(config: string): 'y' | 'm' | undefined {
  const m = new RegExp(`^${NETEM_CONFIG}=([ym])$`, 'm').exec(config);
  return m ? (m[1] as 'y' | 'm') : undefined;
}
