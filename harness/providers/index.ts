// Provider registry and `provider: auto` resolution. The only place that names providers.
import { currentUid, PermissionError, PrerequisiteError, UsageError } from '../errors.ts';
import type { ProviderName } from '../lab/types.ts';
import type { Provider, ProviderId } from './provider.ts';
import type { LibvirtMode } from './vagrant/local-libvirt.ts';

export const LIBVIRT_MODES: readonly LibvirtMode[] = ['local'];
let libvirtMode: LibvirtMode | undefined;

/**
 * `--libvirt local` (or OVERLAB_LIBVIRT=local): the vagrant provider brings up a libvirtd of the
 * lab's own. Only `up` reads it; a lab that is up says in its state whether it has one.
 */
export function setLibvirtMode(mode: string | undefined): void {
  if (mode !== undefined && !(LIBVIRT_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`--libvirt must be one of ${LIBVIRT_MODES.join(', ')}; got "${mode}"`);
  }
  libvirtMode = mode as LibvirtMode | undefined;
}

function currentLibvirtMode(): LibvirtMode | undefined {
  if (libvirtMode) return libvirtMode;
  const env = process.env['OVERLAB_LIBVIRT'];
  return env === 'local' ? env : undefined;
}

/** Each provider's module is loaded when the provider is used: a netns lab never loads ssh2's or Vagrant's code. */
const FACTORIES: Record<string, () => Promise<Provider>> = {
  netns: async () => new (await import('./netns/netns-provider.ts')).NetnsProvider(),
  vagrant: async () => {
    const libvirt = currentLibvirtMode();
    return new (await import('./vagrant/vagrant-provider.ts')).VagrantProvider(libvirt ? { libvirt } : {});
  },
  ssh: async () => new (await import('./ssh/ssh-provider.ts')).SshProvider(),
};

export const PROVIDER_IDS: readonly ProviderId[] = ['netns', 'vagrant', 'ssh'];

export async function providerById(id: string): Promise<Provider> {
  const make = FACTORIES[id];
  if (!make) {
    if ((PROVIDER_IDS as readonly string[]).includes(id)) {
      throw new PrerequisiteError(`the ${id} provider is not available in this version of overlab`, { hint: 'Use --provider netns.' });
    }
    throw new UsageError(`unknown provider "${id}" (known: auto, ${PROVIDER_IDS.join(', ')})`);
  }
  return make();
}

/** Vagrant on PATH with a usable hypervisor: VirtualBox, or vagrant-libvirt with a running libvirtd. */
async function hypervisorUsable(): Promise<boolean> {
  return (await (await providerById('vagrant')).unusableReason()) === undefined;
}

/** Throws the one-line "needs root" error when a provider that needs root runs as another user. */
export function requireRoot(providerId: string, what: string): void {
  if (providerId !== 'netns' || process.platform !== 'linux') return;
  const uid = currentUid();
  if (uid === undefined || uid === 0) return;
  throw new PermissionError(`${what} needs root: the netns provider makes namespaces, veths and engines (you are uid ${uid})`, {
    root: true,
    hint: 'Run it as root, or with sudo (the overlab command offers sudo itself when it is installed).',
  });
}

/** `auto`: vagrant when it and a hypervisor are usable, else netns on Linux as root. */
export async function resolveProvider(requested: ProviderName): Promise<Provider> {
  if (requested !== 'auto') {
    requireRoot(requested, `--provider ${requested}`);
    const p = await providerById(requested);
    const why = await p.unusableReason();
    if (why) throw new PrerequisiteError(`the ${p.id} provider cannot run here: ${why}`);
    return p;
  }
  if (await hypervisorUsable()) return providerById('vagrant');
  const netns = await providerById('netns');
  requireRoot('netns', 'this lab (no usable hypervisor for vagrant, so provider auto means netns)');
  const why = await netns.unusableReason();
  if (!why) return netns;
  throw new PrerequisiteError(`no provider can run here: Vagrant with a hypervisor is not installed, and netns cannot run (${why})`, {
    hint: 'Install VirtualBox and Vagrant, or run as root on Linux after `scripts/setup-host.sh`.',
  });
}
