// The providers by id, the options that shape one for an `up`, and `provider: auto` resolution.
import { PrerequisiteError, UsageError } from '../errors.ts';
import type { ProviderId, ProviderName } from '../lab/types.ts';
import { NetnsProvider } from './netns/netns-provider.ts';
import type { Provider } from './provider.ts';
import { SshProvider } from './ssh/ssh-provider.ts';
import type { LibvirtMode } from './vagrant/local-libvirt.ts';
import { VagrantProvider } from './vagrant/vagrant-provider.ts';

export const LIBVIRT_MODES: readonly LibvirtMode[] = ['local'];

/** Choices that shape a provider for one `up`; a lab that is up records what it got in its state. */
export interface ProviderOptions {
  /** vagrant: `local` brings up a libvirtd of the lab's own in a namespace (`--libvirt local`). */
  libvirt?: LibvirtMode;
  /** ssh: trust machines no known_hosts lists yet, recording their keys in the lab's known_hosts (`--accept-new-host-keys`). */
  acceptNewHostKeys?: boolean;
}

/** `--libvirt` (or OVERLAB_LIBVIRT) checked: a mode overlab knows, or none. */
export function parseLibvirtMode(value: string | undefined): LibvirtMode | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(LIBVIRT_MODES as readonly string[]).includes(value)) throw new UsageError(`--libvirt must be one of ${LIBVIRT_MODES.join(', ')}; got "${value}"`);
  return value as LibvirtMode;
}

const FACTORIES: Record<ProviderId, (options: ProviderOptions) => Provider> = {
  netns: () => new NetnsProvider(),
  vagrant: (options) => new VagrantProvider(options.libvirt ? { libvirt: options.libvirt } : {}),
  ssh: (options) => new SshProvider(options.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
};

export const PROVIDER_IDS: readonly ProviderId[] = ['netns', 'vagrant', 'ssh'];

export function providerById(id: string, options: ProviderOptions = {}): Provider {
  if (!(PROVIDER_IDS as readonly string[]).includes(id)) throw new UsageError(`unknown provider "${id}" (known: auto, ${PROVIDER_IDS.join(', ')})`);
  return FACTORIES[id as ProviderId](options);
}

/** Vagrant on PATH with a usable hypervisor: VirtualBox, or vagrant-libvirt with a running libvirtd. */
async function hypervisorUsable(): Promise<boolean> {
  return (await providerById('vagrant').unusableReason()) === undefined;
}

/** `auto`: vagrant when it and a hypervisor are usable, else netns on Linux as root. */
export async function resolveProvider(requested: ProviderName, options: ProviderOptions = {}): Promise<Provider> {
  if (requested !== 'auto') {
    const p = providerById(requested, options);
    const why = await p.unusableReason();
    if (why) throw new PrerequisiteError(`the ${p.id} provider cannot run here: ${why}`);
    return p;
  }
  if (await hypervisorUsable()) return providerById('vagrant', options);
  const netns = providerById('netns');
  const why = await netns.unusableReason();
  if (!why) return netns;
  throw new PrerequisiteError(`no provider can run here: Vagrant with a hypervisor is not installed, and netns cannot run (${why})`, {
    hint: 'Install VirtualBox and Vagrant, or run as root on Linux after `sudo scripts/setup-host.sh`.',
  });
}
