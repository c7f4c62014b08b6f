// What a libvirt holds of a lab, under the lab's prefix (domains, networks, volumes, the box's
// volumes the lab uploaded), and their removal: the lab's local libvirtd, or a server's.
import { rmdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { boxVolumes } from './libvirt-box.ts';
import { DEFAULT_POOL_XML } from './libvirt-settings.ts';
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

/** The names of a pool's volumes (`virsh vol-list`); none when it cannot be listed, unless `reject`. */
export async function poolVolumes(libvirt: Pick<LibvirtConnection, 'virsh'>, pool: string, options: { reject?: boolean } = {}): Promise<string[]> {
  const r = await libvirt.virsh(['vol-list', '--pool', pool], { reject: options.reject ?? false });
  return r.stdout.split('\n').slice(2).map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/**
 * The default pool destroyed and undefined when it holds no volume (a pool the lab's libvirtd,
 * or the test's server, defined), and the folder libvirtd made for its definition when nothing
 * else is in it; whether the pool went.
 */
export async function removeEmptyDefaultPool(libvirt: Pick<LibvirtConnection, 'virsh'>): Promise<boolean> {
  if ((await poolVolumes(libvirt, 'default')).length > 0) return false;
  await libvirt.virsh(['pool-destroy', 'default'], { reject: false });
  await libvirt.virsh(['pool-undefine', 'default'], { reject: false });
  try {
    rmdirSync(dirname(DEFAULT_POOL_XML));
  } catch {
    // Not empty, or gone.
  }
  return true;
}

/** What libvirt holds with the lab's prefix (for down, and for the tests that check nothing is left). */
export async function libvirtInventory(libvirt: LibvirtConnection): Promise<LibvirtInventory> {
  const record = libvirt.boxRecord();
  const mine = (n: string) => n.startsWith(libvirt.prefix);
  const uploaded = (n: string) => record !== undefined && boxVolumes(record.box, [n]).length === 1 && !(record.boxVolumesBefore ?? []).includes(n);
  const pools = await names(libvirt, ['pool-list', '--all', '--name']);
  const volumes: string[] = [];
  for (const p of pools) for (const name of await poolVolumes(libvirt, p)) if (mine(name) || uploaded(name)) volumes.push(`${p}/${name}`);
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
