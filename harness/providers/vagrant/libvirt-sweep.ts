// `down --force` of a vagrant lab whose state is gone: what libvirt still defines under the
// lab's prefix, removed by a libvirtd of the lab's own started for the time it takes.
import type { LabContext } from '../../state/lab-context.ts';
import { libvirtLeftoverFiles, localLibvirtUnusableReason } from './libvirt-settings.ts';
import { LocalLibvirt } from './local-libvirt.ts';

/**
 * `down --force` of a lab with no state: when libvirt still defines domains, networks or volumes
 * under the lab's prefix, a libvirtd of the lab's own is started for the time it takes to remove
 * them, then stopped, its namespace deleted. Nothing happens when libvirt holds nothing of the
 * lab's; a libvirt that cannot run here, or another libvirtd owning the machine's socket, leaves
 * them in place with a warning naming them.
 */
export async function sweepLocalLibvirt(lab: string, ctx: LabContext): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }> {
  const none = { processes: [], namespaces: [], removed: [] };
  const files = libvirtLeftoverFiles(lab);
  if (files.length === 0) return none;
  const unusable = localLibvirtUnusableReason();
  const leave = (why: string) => {
    ctx.events.emit({ type: 'warn', message: `libvirt still holds what lab ${lab} left (${files.join(', ')}), not removed: ${why}` });
    return none;
  };
  if (unusable) return leave(unusable);
  if (!ctx.store.read()) {
    const now = new Date().toISOString();
    ctx.store.write({ version: 1, lab, provider: 'vagrant', mode: 'kv', file: '', phase: 'destroying', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
  }
  const local = new LocalLibvirt(lab, ctx);
  try {
    await local.start('');
  } catch (e) {
    await local.teardown().catch(() => undefined);
    return leave((e as Error).message);
  }
  const removed = await local.removeLeftovers();
  const t = await local.teardown();
  return { processes: t.processes, namespaces: t.namespaces, removed: [...removed, ...t.removed] };
}
