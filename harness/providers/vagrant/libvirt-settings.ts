// The local libvirt's names, settings and plan (pure, unit-tested): the lab's namespace and
// prefix, the Vagrantfile settings under emulation, the plan on the local box, what the lab state
// records of it, the tools it needs, and the files libvirt keeps under the lab's prefix.
import { join } from 'node:path';
import type { Plan } from '../../lab/types.ts';
import { listDir } from '../../system/files.ts';
import { inNamespace, labPrefix } from '../../system/namespaces.ts';
import { findProgram } from '../../system/programs.ts';
import type { SshAddress } from '../../host.ts';
import type { LibvirtVagrantSettings } from '../../render/vagrantfile.ts';
import { setupScript } from '../../system/package-root.ts';

/**
 * `--libvirt` (or OVERLAB_LIBVIRT): `local`, a libvirt of the lab's own in its namespace; or a
 * server's libvirt, `qemu+ssh://[USER@]SERVER[:PORT]/system` (./remote-libvirt.ts).
 */
export type LibvirtMode = 'local' | `qemu+ssh://${string}`;

/** Memory and CPUs of every guest under emulation: a Debian guest with these boots to SSH in about 35 s. */
export const LOCAL_GUEST = { memory: 768, cpus: 1 } as const;
export const MANAGEMENT_NETWORK_ADDRESS = '192.168.121.0/24';
/**
 * How long `vagrant up` waits for a guest's SSH. Three guests booting at once under emulation on
 * two cores took 200-360 s here, past Vagrant's default of 300 s on a slow day.
 */
export const GUEST_BOOT_TIMEOUT_SECONDS = 1200;
/**
 * Modules udev would load at boot for the emulated machine's devices and CPU features, which no
 * lab uses (KVM, the CPU's crypto and checksum accelerations, PS/2, ACPI button, ATA, fw_cfg):
 * each is loaded and linked under emulation while the boot waits for udev to settle. Three
 * guests booting at once sent their SSH banner 4-6 s sooner without them (67.0 and 71.9 s
 * against 73.2 and 75.6 s, scripts/bench-vm-boots.sh, two rounds each, alternating). What labs
 * load on demand (overlay, vxlan, bridge, ip_vs, esp4, the qdiscs, netfilter) is not among them;
 * the crypto API then takes the generic AES and SHA code.
 */
export const GUEST_MODULES_NOT_LOADED = [
  'kvm', 'kvm_amd', 'kvm_intel', 'irqbypass', 'aesni_intel', 'crypto_simd', 'cryptd', 'ghash_clmulni_intel', 'sha1_ssse3', 'sha256_ssse3', 'sha512_ssse3', 'crc32_pclmul',
  'serio_raw', 'evdev', 'button', 'qemu_fw_cfg', 'ata_piix', 'ata_generic', 'pcspkr', 'floppy', 'psmouse', 'i2c_piix4', 'joydev',
];

/**
 * The box's kernel command line (scripts/build-box.sh) plus `apparmor=0` (Debian's kernel
 * enables AppArmor, the box has no apparmor_parser, and dockerd then refuses every container:
 * "AppArmor enabled on system but the docker-default profile could not be loaded") and the
 * modules not to load.
 */
export const GUEST_CMD_LINE = `root=/dev/vda rw console=ttyS0 net.ifnames=0 apparmor=0 modprobe.blacklist=${GUEST_MODULES_NOT_LOADED.join(',')}`;
/** The libvirt daemons' own socket: one libvirtd per machine can own it. */
export const LIBVIRT_SOCKET = '/run/libvirt/libvirt-sock';
export const LIBVIRT_URI = 'qemu:///system';
export const DEFAULT_POOL_XML = '/etc/libvirt/storage/default.xml';
export const DEFAULT_POOL_DIR = '/var/lib/libvirt/images';
/** Folders where libvirt leaves files named after a domain or network once it is removed. */
export const LIBVIRT_LEFTOVER_DIRS = ['/var/log/libvirt/qemu', '/var/lib/libvirt/dnsmasq', '/run/libvirt/network'];

/** The namespace holding the lab's libvirtd (a name a lab host cannot take: hosts never start with "_"). */
export function libvirtNamespace(lab: string): string {
  return `${labPrefix(lab)}_libvirt`;
}

/** Domains, volumes and networks of the lab all start with this (the netns prefix, `ovl.<lab>.`). */
export function libvirtPrefix(lab: string): string {
  return labPrefix(lab);
}

/**
 * The local libvirt's Vagrantfile settings. The local box configures itself at boot (hostname,
 * lab address, login key) from the kernel command line (see scripts/build-box.sh): `firstBoot`
 * gives the lab's key for it.
 */
export function localLibvirtSettings(lab: string, firstBoot?: LibvirtVagrantSettings['firstBoot']): LibvirtVagrantSettings {
  const prefix = libvirtPrefix(lab);
  return {
    defaultPrefix: prefix,
    managementNetworkName: `${prefix}_mgmt`,
    managementNetworkAddress: MANAGEMENT_NETWORK_ADDRESS,
    privateNetworkName: `${prefix}_net`,
    driver: 'qemu',
    cmdLine: GUEST_CMD_LINE,
    graphicsType: 'none',
    videoType: 'none',
    diskCache: 'unsafe',
    bootTimeoutSeconds: GUEST_BOOT_TIMEOUT_SECONDS,
    ...(firstBoot ? { firstBoot } : {}),
  };
}

/** Where a lab on the local box keeps the key its machines let Vagrant and overlab in with. */
export function guestKeyPath(stateDir: string): string {
  return join(stateDir, 'ssh', 'id_ed25519');
}

/**
 * The plan as the local box runs it: every host on the box, with the engine the box already
 * carries (docker.io 20.10; etcd too), and under emulation (`emulated`, the default) the memory
 * and CPUs that boot there; with KVM (a server's), the plan's own.
 */
export function localLibvirtPlan(plan: Plan, boxName: string, emulated = true): Plan {
  return {
    ...plan,
    engine: { ...plan.engine, install: 'preinstalled' },
    hosts: plan.hosts.map((h) => ({ ...h, box: boxName, ...(emulated ? { memory: LOCAL_GUEST.memory, cpus: LOCAL_GUEST.cpus } : {}) })),
  };
}

/** The endpoint as reached from this machine: through a proxy inside the namespace. */
export function proxiedEndpoint<T extends SshAddress>(ns: string, endpoint: T): T {
  return { ...endpoint, proxy: inNamespace(ns, ['busybox', 'nc', endpoint.host, String(endpoint.port)]) };
}

/** What the lab state keeps of the local libvirt (resources.libvirt), recorded before each is made. */
export interface LocalLibvirtRecord {
  mode: 'local';
  namespace: string;
  prefix: string;
  box: string;
  /** pid per daemon (virtlogd, libvirtd). */
  pids: Record<string, number>;
  /** Start time per daemon (see ProcessRef): a recycled pid is not the daemon. */
  starts?: Record<string, number>;
  /**
   * The box's volumes (`boxVolumePrefix(box)...`) already in the default pool before the lab's
   * libvirtd started: any other volume of the box is the lab's upload, removed on down.
   */
  boxVolumesBefore?: string[];
  /** The default pool was not defined before: the lab's libvirtd defined it, and down undefines it. */
  createdPool?: boolean;
}

/** Binaries the local libvirt needs, with the Debian package that has each. */
export const LOCAL_LIBVIRT_TOOLS: readonly [string, string][] = [
  ['libvirtd', 'libvirt-daemon-system'],
  ['virtlogd', 'libvirt-daemon-system'],
  ['virsh', 'libvirt-clients'],
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['qemu-img', 'qemu-utils'],
  ['dnsmasq', 'dnsmasq-base'],
  ['nsenter', 'util-linux'],
  ['busybox', 'busybox-static'],
  ['ip', 'iproute2'],
];

/** Why the local libvirt cannot run here, or undefined. */
export function localLibvirtUnusableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the local libvirt needs root (network namespaces, libvirtd)';
  const missing = missingTools(LOCAL_LIBVIRT_TOOLS, { systemDirs: true });
  return missing && `the local libvirt needs ${missing.names}: ${missing.install}; or run ${setupScript()} --with-libvirt, which installs all the local libvirt needs`;
}

/** Of `tools` (binary, Debian package), those not found: their names, and the apt-get line that installs them; undefined when none is missing. */
export function missingTools(tools: readonly (readonly [string, string])[], options: { systemDirs?: boolean } = {}): { names: string; install: string } | undefined {
  const missing = tools.filter(([bin]) => !findProgram(bin, options));
  if (!missing.length) return undefined;
  return { names: missing.map(([b]) => b).join(', '), install: `apt-get install --no-install-recommends ${[...new Set(missing.map(([, p]) => p))].join(' ')}` };
}

/** Where libvirt keeps, with no daemon running, what is defined or stored under the lab's prefix. */
const DEFINITION_DIRS = ['/etc/libvirt/qemu', '/etc/libvirt/qemu/networks', DEFAULT_POOL_DIR];

/** Files of domains, networks and volumes named with the lab's prefix: what a run left when its state went. */
export function libvirtLeftoverFiles(lab: string): string[] {
  const prefix = libvirtPrefix(lab);
  return DEFINITION_DIRS.flatMap((dir) => listDir(dir).filter((n) => n.startsWith(prefix)).map((n) => join(dir, n)));
}
