// The link faults: delay and loss (netem) and a rate limit (tbf) on a host's underlay, each
// replacing its root qdisc only after what was there is read and known to be put back as it is;
// heal puts that back (or the kernel's default). Commands from qdisc.ts, run through target.ts.
import { CommandFailedError, PrerequisiteError } from '../errors.ts';
import type { HostAccess } from '../host.ts';
import { shellJoin } from '../quote.ts';
import {
  clearQdiscArgv,
  DEFAULT_QDISC_ARGV,
  defaultQdiscFrom,
  FAULT_QDISC_KINDS,
  kernelLacksQdisc,
  type LinkFaultRecord,
  NETEM_CONFIG,
  netemArgv,
  netemInConfig,
  nothingToDelete,
  parseQdiscs,
  qdiscRestore,
  qdiscTree,
  recreateQdiscArgv,
  rootQdiscLine,
  type SavedQdisc,
  showQdiscArgv,
  tbfArgv,
} from './qdisc.ts';
import { checkInterfaceName, hostOf, mustRun, run, underlayInterface, type FaultTarget } from './target.ts';

/** What the kernel attaches by default on the host (net.core.default_qdisc); undefined where it cannot be read. */
async function defaultQdisc(host: HostAccess): Promise<string | undefined> {
  return defaultQdiscFrom(await run(host, DEFAULT_QDISC_ARGV));
}

/**
 * The root qdisc the host's underlay has before a latency or rate fault replaces it, for the
 * lab's state: read and checked before anything changes. Refused, naming the interface and the
 * qdisc, when heal could not put it back as it is (a tree someone built, parameters overlab
 * cannot set): it is left as it is. `recorded`: what an earlier fault on the host that is still
 * in place recorded (the root qdisc there now is overlab's own), kept as it is.
 */
export async function qdiscBefore(t: FaultTarget, name: string, recorded?: SavedQdisc): Promise<SavedQdisc> {
  const host = hostOf(t, name);
  if (recorded) {
    checkInterfaceName(host, recorded.iface, "the interface the lab's state records a fault on");
    return recorded;
  }
  const iface = await underlayInterface(host);
  const shown = (await mustRun(host, showQdiscArgv(iface))).stdout;
  const restore = qdiscRestore(shown, await defaultQdisc(host));
  if (restore.how === 'refuse') {
    throw new PrerequisiteError(
      `host ${host.name}: a latency or rate fault would replace the root qdisc of ${iface} (${rootQdiscLine(shown)}), and overlab could not put it back as it is: ${restore.why}; nothing was changed`,
      {
        hint: FAULT_QDISC_KINDS.some((k) => rootQdiscLine(shown).startsWith(`qdisc ${k} `))
          ? `If it is overlab's own from an earlier fault the lab's state no longer records, \`${shellJoin(['tc', 'qdisc', 'del', 'dev', iface, 'root'])}\` on ${host.name} removes it.`
          : `These faults replace the root qdisc of the lab's interface; use them on a host whose ${iface} has the kernel's default qdisc, or a noqueue, pfifo, pfifo_fast or fq_codel one.`,
      },
    );
  }
  return { iface, shown };
}

/**
 * Delay (and loss) on the host's underlay with netem; refused, naming the kernel option, where
 * the kernel has none. `before`: the qdisc there, as recorded in the lab's state (read here when
 * not given); the record returned carries it, for heal.
 */
export async function latency(t: FaultTarget, name: string, ms: number, loss?: number, before?: SavedQdisc): Promise<LinkFaultRecord> {
  const host = hostOf(t, name);
  const qdisc = before ?? (await qdiscBefore(t, name));
  checkInterfaceName(host, qdisc.iface, 'the interface of the fault');
  const argv = netemArgv(qdisc.iface, ms, loss);
  const r = await run(host, argv);
  if (r.exitCode !== 0) {
    if (kernelLacksQdisc(r.stderr)) throw await netemMissing(host, r.stderr);
    throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: host.name });
  }
  return { kind: 'latency', host: name, ms, ...(loss ? { loss } : {}), since: new Date().toISOString(), qdisc };
}

/** Whether the host's kernel can add delay (netem), and if not why: for the specs' n/a. */
export async function netemUnavailable(host: HostAccess): Promise<string | undefined> {
  const iface = await underlayInterface(host);
  // A qdisc on lo tells without touching the underlay; removed at once.
  const r = await run(host, ['sh', '-c', 'tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root']);
  if (r.exitCode === 0) return undefined;
  if (kernelLacksQdisc(r.stderr)) return (await netemMissing(host, r.stderr)).message;
  return `netem could not be tried on ${host.name} (${iface}): ${r.stderr.trim()}`;
}

async function netemMissing(host: HostAccess, stderr: string): Promise<PrerequisiteError> {
  const config = await run(host, ['sh', '-c', 'zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) 2>/dev/null']);
  const setting = config.exitCode === 0 && config.stdout ? (netemInConfig(config.stdout) ?? 'not set') : 'unknown (no /proc/config.gz)';
  return new PrerequisiteError(
    `the kernel of ${host.name} has no netem qdisc (${NETEM_CONFIG} ${setting}), so no delay or loss can be added: ${stderr.trim().split('\n')[0]}`,
    { hint: `A kernel with ${NETEM_CONFIG}=y or =m (and the module loaded) has it, as the VMs' Debian kernel does; \`overlab fault rate\` (tbf) works here.` },
  );
}

/** A rate limit on the host's underlay (token bucket); `before` as for latency. */
export async function rate(t: FaultTarget, name: string, mbit: number, before?: SavedQdisc): Promise<LinkFaultRecord> {
  const host = hostOf(t, name);
  const qdisc = before ?? (await qdiscBefore(t, name));
  checkInterfaceName(host, qdisc.iface, 'the interface of the fault');
  await mustRun(host, tbfArgv(qdisc.iface, mbit));
  return { kind: 'rate', host: name, mbit, since: new Date().toISOString(), qdisc };
}

/** Deletes the root qdisc of `iface`, so the kernel attaches its default; none of anyone's there is fine. */
async function deleteRootQdisc(host: HostAccess, iface: string): Promise<void> {
  const argv = clearQdiscArgv(iface);
  const r = await run(host, argv);
  if (r.exitCode !== 0 && !nothingToDelete(r.stderr)) {
    throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: r.stderr, host: host.name });
  }
}

/**
 * Removes the root qdisc from the underlay, so the kernel attaches its default: right only where
 * that is what was there (hosts the lab created: netns, vagrant). For a fault whose record
 * carries what was there, restoreQdisc puts exactly that back.
 */
export async function clearQdisc(host: HostAccess): Promise<void> {
  await deleteRootQdisc(host, await underlayInterface(host));
}

/**
 * Puts back the root qdisc a latency or rate fault replaced, as recorded: deleting overlab's
 * where the kernel's default was there, else making the recorded one again with its handle and
 * parameters. Done already when the interface has what was recorded; left alone when its root
 * qdisc is neither that nor overlab's (someone has set another since).
 */
export async function restoreQdisc(host: HostAccess, saved: SavedQdisc): Promise<void> {
  checkInterfaceName(host, saved.iface, "the interface the lab's state records a fault on");
  const was = qdiscTree(saved.shown);
  const now = (await mustRun(host, showQdiscArgv(saved.iface))).stdout;
  if (was !== undefined && qdiscTree(now) === was) return;
  const lines = parseQdiscs(now);
  const root = typeof lines === 'string' ? undefined : lines.find((l) => l.parent === 'root');
  if (!root || !FAULT_QDISC_KINDS.includes(root.kind)) return;
  const restore = qdiscRestore(saved.shown, await defaultQdisc(host));
  switch (restore.how) {
    case 'delete':
      return deleteRootQdisc(host, saved.iface);
    case 'recreate':
      // overlab's qdisc holding the recorded handle (tc numbers its own from 8001:) is deleted
      // first: a replace with that handle would change it, not make the recorded kind.
      if (restore.args[0] === 'handle' && restore.args[1] === root.handle) await deleteRootQdisc(host, saved.iface);
      await mustRun(host, recreateQdiscArgv(saved.iface, restore.args));
      return;
    case 'refuse':
      // The kernel's default has changed since, or the record was altered: overlab's qdisc goes
      // (the kernel's default comes), and the error says what to put back by hand.
      await deleteRootQdisc(host, saved.iface);
      throw new PrerequisiteError(
        `host ${host.name}: overlab's qdisc is gone from ${saved.iface}, but the root qdisc it replaced could not be put back (${restore.why}); it was:\n${saved.shown.trim()}`,
        { hint: `Set it again with tc on ${host.name}; \`${shellJoin(showQdiscArgv(saved.iface))}\` shows what is there now.` },
      );
  }
}
