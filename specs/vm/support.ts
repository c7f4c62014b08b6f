// What the VM specs share.
import { expect } from 'chai';
import type { Scratch } from '../integration/support/labs.ts';

/** The labs the VM specs bring up, each under a name of its own. */
export const VM_LABS = ['vm-leftovers', 'vm-services', 'vm-tutorial'] as const;

/**
 * What a killed earlier run of any VM spec left, found by the labs' prefixes with no state
 * file (a CI machine that keeps its state between runs may hold it): the local libvirt's
 * namespace, its daemons (which would own the machine's libvirt socket and refuse every other
 * lab's libvirtd) and what libvirt defines under the lab's name. `down --force` of each.
 */
export async function sweepVmLabs(scratch: Scratch): Promise<void> {
  for (const lab of VM_LABS) {
    const r = await scratch.run(['down', '--force', lab, '--provider', 'vagrant', '--libvirt', 'local'], { timeoutMs: 5 * 60_000 });
    expect(r.exitCode, `down --force ${lab}: ${r.all}`).to.equal(0);
  }
}
