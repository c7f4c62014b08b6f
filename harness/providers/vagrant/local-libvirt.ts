// libvirt of the lab's own, for the vagrant provider on a machine with no hypervisor service:
// a network namespace `ovl.<lab>._libvirt` holding virtlogd and libvirtd (started by hand, as
// there is no systemd, and stopped by their pids), QEMU under software emulation, and the
// locally built box (scripts/build-box.sh). libvirt's management network (dnsmasq on
// 192.168.121.0/24) and the lab's private network exist only inside that namespace; every
// `vagrant` call runs there too, and SSH reaches the guests through `nsenter ... busybox nc`.
// Everything libvirt creates for the lab is named with the lab's prefix, so `down` finds it.
// One concept per module: names and settings (./libvirt-settings.ts, pure, unit-tested), the box
// (./libvirt-box.ts), the daemons (./libvirt-daemons.ts), what libvirt holds of the lab
// (./libvirt-inventory.ts), and the sweep of a lab whose state is gone (./libvirt-sweep.ts);
// here the lab's libvirt as a whole, and its teardown. Re-exported here for their importers.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { LabStateError } from '../../errors.ts';
import { waitFor } from '../../wait.ts';
import { listDir } from '../../system/files.ts';
import { NETNS_DIR, processesInNamedNamespaces } from '../../system/namespaces.ts';
import { isPresent, isSameProcess, processLabel, processRef } from '../../system/processes.ts';
import { LIBVIRT_LEFTOVER_DIRS, type LocalLibvirtRecord } from './libvirt-settings.ts';
import { LibvirtDaemons } from './libvirt-daemons.ts';
import { libvirtInventory, removeEmptyDefaultPool, removeLibvirtObjects, type LibvirtInventory } from './libvirt-inventory.ts';

export * from './libvirt-settings.ts';
export * from './libvirt-box.ts';
export { daemonArgv, LibvirtDaemons, QEMU_CONF } from './libvirt-daemons.ts';
export type { LibvirtInventory } from './libvirt-inventory.ts';

/** The lab's libvirt: its namespace and daemons, and what they created. */
export class LocalLibvirt extends LibvirtDaemons {
  /** What libvirt holds with the lab's prefix (for down, and for the tests that check nothing is left). */
  inventory(): Promise<LibvirtInventory> {
    return libvirtInventory(this);
  }

  /**
   * Before the first `vagrant up` of the lab in its state folder: domains, volumes and networks
   * named with the lab's prefix are what an earlier run of a lab of this name left behind when
   * its state went (a killed run, a deleted state folder). Vagrant does not know them, and
   * would stop on "Name ... of domain about to create is already taken". Removed, and named
   * in a warning. (The lab's libvirtd is the only one on the machine, see start().)
   */
  async removeLeftovers(): Promise<string[]> {
    const removed = await removeLibvirtObjects(this, await this.inventory());
    if (removed.length > 0) {
      this.ctx.events.emit({ type: 'warn', message: `removed what an earlier run of lab ${this.lab} left in libvirt (its state was gone): ${removed.join(', ')}` });
    }
    return removed;
  }

  /**
   * Removes the lab's domains, volumes and networks (by prefix; the box's volume and the
   * default pool when the lab made them), stops the daemons by pid, kills anything still in
   * the namespace, and deletes it. Idempotent; starts the daemons again when they are gone
   * but the namespace is not, so what they made can be removed.
   */
  async teardown(): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }> {
    const record = LibvirtDaemons.recorded(this.ctx);
    const removed: string[] = [];
    const processes: string[] = [];
    if (record && existsSync(join(NETNS_DIR, this.namespace)) && !(await this.answering())) {
      try {
        await this.start(record.box);
      } catch (e) {
        this.ctx.events.emit({ type: 'warn', message: `libvirtd of lab ${this.lab} could not be started to clean up: ${(e as Error).message}` });
      }
    }
    if (await this.answering().catch(() => false)) {
      const inv = await this.inventory();
      removed.push(...(await removeLibvirtObjects(this, inv)));
      if (LibvirtDaemons.recorded(this.ctx)?.createdPool && inv.pools.includes('default') && (await removeEmptyDefaultPool(this))) removed.push('pool default');
    }
    // The daemons, by their recorded pids; then whatever else still runs in the namespace (qemu,
    // dnsmasq). Each by pid and start time: the waits below are long enough for a pid to be reused.
    const daemons = Object.values(this.daemons()).filter((ref) => isSameProcess(ref));
    const inside = processesInNamedNamespaces([this.namespace])
      .filter((p) => !daemons.some((d) => d.pid === p))
      .map(processRef);
    for (const group of [daemons.reverse(), inside]) {
      for (const ref of group) {
        const label = processLabel(ref.pid);
        try {
          process.kill(ref.pid, 'SIGTERM');
          processes.push(label);
        } catch {
          // Gone already.
        }
      }
      // Gone means reaped too, as a census of the machine's processes would see it.
      const left = () => group.filter(isPresent);
      const gone = async () => (left().length ? undefined : true);
      await waitFor(gone, { what: 'the lab libvirt processes to exit', timeoutMs: 15_000, intervalMs: 100 }).catch(async () => {
        for (const ref of left()) process.kill(ref.pid, 'SIGKILL');
        await waitFor(gone, { what: `the lab libvirt processes to exit after SIGKILL (${left().map((r) => r.pid).join(', ')})`, timeoutMs: 10_000, intervalMs: 100 });
      });
    }
    // What libvirt keeps after its objects are gone, named after them: QEMU logs, dnsmasq files.
    for (const dir of LIBVIRT_LEFTOVER_DIRS) {
      for (const name of listDir(dir).filter((n) => n.startsWith(this.prefix))) {
        rmSync(join(dir, name), { force: true, recursive: true });
        removed.push(join(dir, name));
      }
    }
    const namespaces: string[] = [];
    if (existsSync(join(NETNS_DIR, this.namespace))) {
      const r = await execa('ip', ['netns', 'del', this.namespace], { reject: false, all: true });
      if (r.exitCode !== 0) throw new LabStateError(`cannot delete namespace ${this.namespace}: ${String(r.all)}`);
      namespaces.push(this.namespace);
    }
    this.ctx.store.update((s) => {
      const r = s.resources['libvirt'] as LocalLibvirtRecord | undefined;
      if (r) {
        r.pids = {};
        delete r.starts;
      }
    });
    return { processes, namespaces, removed };
  }
}
