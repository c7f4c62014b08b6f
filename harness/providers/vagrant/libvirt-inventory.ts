// What a libvirt holds of a lab, under the lab's prefix (domains, networks, volumes, the box's
// volumes the lab uploaded), and their removal: the lab's local libvirtd, or a server's.
import { boxVolumes } from './libvirt-box.ts';
import type { LibvirtConnection } from './virsh.ts';

/** The lab's objects in libvirt, by kind (volumes as `pool/name`), and every pool. */
export interface LibvirtInventory {
  domains: string[];
  networks: string[];
  volumes: string[];
  pools: string[];
}

async function names(libvirt: LibvirtConnection, args: string[]): Promise<string[]> {
  const r = await libvirt.virsh(args, { reject: false });
  return r.exitCode === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

/** What libvirt holds with the lab's prefix (for down, and for the tests that check nothing is left). */
export async function libvirtInventory(libvirt: LibvirtConnection): Promise<LibvirtInventory> {
  const record = libvirt.boxRecord();
  const mine = (n: string) => n.startsWith(libvirt.prefix);
  const uploaded = (n: string) => record !== undefined && boxVolumes(record.box, [n]).length === 1 && !(record.boxVolumesBefore ?? []).includes(n);
  const pools = await names(libvirt, ['pool-list', '--all', '--name']);
  const volumes: string[] = [];
  for (const p of pools) {
    const r = await libvirt.virsh(['vol-list', '--pool', p], { reject: false });
    for (const line of r.stdout.split('\n').slice(2)) {
      const name = line.trim().split(/\s+/)[0];
      if (name && (mine(name) || uploaded(name))) volumes.push(`${p}/${name}`);
    }
  }
  return {
    domains: (await names(libvirt, ['list', '--all', '--name'])).filter(mine),
    networks: (await names(libvirt, ['net-list', '--all', '--name'])).filter(mine),
    volumes,
    pools,
  };
}

/** Destroys and undefines the domains, deletes the volumes, removes the networks; what went, as `kind name`. */
export async function removeLibvirtObjects(libvirt: LibvirtConnection, inv: Omit<LibvirtInventory, 'pools'>): Promise<string[]> {
  const removed: string[] = [];
  for (const d of inv.domains) {
    await libvirt.virsh(['destroy', d], { reject: false });
    await libvirt.virsh(['undefine', d, '--nvram'], { reject: false }).then((r) => (r.exitCode === 0 ? r : libvirt.virsh(['undefine', d], { reject: false })));
    removed.push(`domain ${d}`);
  }
  for (const v of inv.volumes) {
    const [pool, name] = [v.slice(0, v.indexOf('/')), v.slice(v.indexOf('/') + 1)];
    await libvirt.virsh(['vol-delete', '--pool', pool, name], { reject: false });
    removed.push(`volume ${v}`);
  }
  for (const n of inv.networks) {
    await libvirt.virsh(['net-destroy', n], { reject: false });
    await libvirt.virsh(['net-undefine', n], { reject: false });
    removed.push(`network ${n}`);
  }
  return removed;
}
