// The libvirt a lab's VMs use when overlab runs or reaches it itself: a libvirt of the lab's own
// in a namespace (`--libvirt local`, ./local-libvirt.ts) or a server's over SSH (`--libvirt
// qemu+ssh://...`, ./remote-libvirt.ts). Both take the locally built box. The vagrant provider
// asks this module to make it ready for `vagrant up` (and the Vagrantfile's settings for it),
// which plan the box runs, and to take down what `vagrant destroy` leaves.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../lab/types.ts';
import type { LibvirtVagrantSettings } from '../../render/vagrantfile.ts';
import type { LabContext } from '../../state/lab-context.ts';
import type { DestroyReport } from '../provider.ts';
import { LocalLibvirt, localLibvirtPlan, localLibvirtSettings, type LibvirtMode } from './local-libvirt.ts';
import { sweepLocalLibvirt } from './libvirt-sweep.ts';
import { RemoteLibvirt } from './remote-libvirt.ts';
import { parseRemoteLibvirtUri, remoteLibvirtSettings, type LibvirtDriver } from './remote-libvirt-settings.ts';

/** The box a lab's VMs run and whether they are emulated, from the lab's libvirt record (local or a server's). */
function recordedGuests(ctx: LabContext): { box: string; emulated: boolean } | undefined {
  const local = LocalLibvirt.recorded(ctx);
  if (local) return { box: local.box, emulated: true };
  const remote = RemoteLibvirt.recorded(ctx);
  return remote ? { box: remote.box, emulated: remote.driver === 'qemu' } : undefined;
}

/** The plan as the lab's VMs run it: on the local box when the lab's libvirt is overlab's (as recorded), else as written. */
export function guestPlan(plan: Plan, ctx: LabContext): Plan {
  const guests = recordedGuests(ctx);
  return guests ? localLibvirtPlan(plan, guests.box, guests.emulated) : plan;
}

/**
 * The lab's libvirt made ready for `vagrant up`: its own daemons started, or the server reached
 * and the box's kernel and initrd uploaded there; `fresh` (Vagrant knows no machine of the lab
 * yet): what the libvirt holds under the lab's names is left over, and removed. Returns the
 * Vagrantfile's settings for it.
 */
export async function prepareLabLibvirt(
  mode: LibvirtMode,
  plan: Plan,
  ctx: LabContext,
  options: { box: string; fresh: boolean; firstBoot: NonNullable<LibvirtVagrantSettings['firstBoot']>; acceptNewHostKeys: boolean; driver?: LibvirtDriver },
): Promise<LibvirtVagrantSettings> {
  if (mode === 'local') {
    const local = new LocalLibvirt(plan.lab, ctx);
    await local.start(options.box);
    if (options.fresh) await local.removeLeftovers();
    return localLibvirtSettings(plan.lab, options.firstBoot);
  }
  const remote = new RemoteLibvirt(plan.lab, ctx, parseRemoteLibvirtUri(mode));
  const boot = await remote.prepare(options.box, { acceptNew: options.acceptNewHostKeys, fresh: options.fresh, ...(options.driver ? { driver: options.driver } : {}) });
  ctx.events.emit({ type: 'info', message: `libvirt on ${remote.target.server}: ${boot.driver === 'kvm' ? 'KVM' : 'QEMU emulation (no KVM there)'}` });
  return remoteLibvirtSettings(plan.lab, { uri: remote.uri, proxyCommand: remote.proxyCommand, ...boot }, options.firstBoot);
}

/**
 * `vagrant destroy` (`destroyMachines`) on the lab's libvirt, then what it left there under the
 * lab's names, into `report`; false when the lab's libvirt is not overlab's (Vagrant's alone).
 */
export async function destroyOnLabLibvirt(lab: string, ctx: LabContext, destroyMachines: () => Promise<unknown>, report: DestroyReport): Promise<boolean> {
  const vagrantfile = existsSync(join(ctx.store.dir, 'Vagrantfile'));
  const remote = RemoteLibvirt.of(lab, ctx);
  if (remote) {
    // Once the lab made anything there, the server must answer: else down fails here, and the state stays for another try.
    if (remote.boxRecord()?.claimed && vagrantfile) {
      await remote.reach();
      await destroyMachines().catch((e: Error) => ctx.events.emit({ type: 'warn', message: `vagrant destroy failed; removing the lab's domains on ${remote.target.server} with virsh: ${e.message.split('\n')[0]}` }));
    }
    report.paths.push(...(await remote.teardown()));
    return true;
  }
  if (!LocalLibvirt.recorded(ctx)) return false;
  const local = new LocalLibvirt(lab, ctx);
  // vagrant destroy needs the lab's libvirtd; whatever it leaves, teardown removes by prefix.
  try {
    if (vagrantfile && (await local.answering())) await destroyMachines();
  } catch (e) {
    ctx.events.emit({ type: 'warn', message: `vagrant destroy failed; removing the lab's domains with virsh: ${(e as Error).message.split('\n')[0]}` });
  } finally {
    const t = await local.teardown();
    report.processes.push(...t.processes);
    report.paths.push(...t.removed);
    report.namespaces.push(...t.namespaces);
  }
  return true;
}

/**
 * `down --force` of a lab whose state is gone: what the local libvirt (or, given its URI, the
 * server's) still holds under the lab's names.
 */
export async function sweepLabLibvirt(mode: LibvirtMode | undefined, lab: string, ctx: LabContext): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }> {
  if (mode && mode !== 'local') return { processes: [], namespaces: [], removed: await new RemoteLibvirt(lab, ctx, parseRemoteLibvirtUri(mode)).sweep() };
  return sweepLocalLibvirt(lab, ctx);
}
