// SSH into netns hosts: the lab's client key and sshd host key (made once per lab; the host key
// is pinned, never learnt), sshd's config, and each host's sshd.
import { mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabStateError } from '../../errors.ts';
import type { HostPlan } from '../../lab/types.ts';
import type { HostAccess, HostKeyPolicy } from '../../host.ts';
import { labKnownHosts } from '../../state/paths.ts';
import { findProgram } from '../../system/programs.ts';
import { ensureKeyPair } from '../../system/ssh-keys.ts';
import { sshdConfig } from './topology.ts';

/** The hosts' key is the one overlab generated and pinned in the lab's known_hosts; nothing new is ever trusted. */
export function netnsHostKeys(stateDir: string): HostKeyPolicy {
  return { knownHosts: [], recordIn: labKnownHosts(stateDir), vouchedBy: 'overlab' };
}

/** The lab's client key and sshd host key (generated once per lab), sshd's config; returns the host key's public blob. */
export async function makeLabKeys(sshDir: string): Promise<Buffer> {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const key = join(sshDir, 'id_ed25519');
  const hostKey = join(sshDir, 'ssh_host_ed25519_key');
  const [clientPublic, hostPublic] = await Promise.all([ensureKeyPair(key, 'overlab'), ensureKeyPair(hostKey, 'overlab-host')]);
  rmSync(join(sshDir, 'authorized_keys'), { force: true });
  await writeFile(join(sshDir, 'authorized_keys'), `${clientPublic}\n`, { mode: 0o600 });
  await writeFile(join(sshDir, 'sshd_config'), sshdConfig({ hostKey, authorizedKeys: join(sshDir, 'authorized_keys') }));
  const [type, base64] = hostPublic.split(/\s+/);
  const blob = Buffer.from(base64 ?? '', 'base64');
  if (type !== 'ssh-ed25519' || blob.length === 0) throw new LabStateError(`the lab's host key ${hostKey} is not an ed25519 key`, { hint: `Remove ${sshDir} and run \`overlab up\` again.` });
  return blob;
}

/** Starts the host's sshd (a service of the host's), listening on the host's lab address. */
export async function startSshd(h: HostPlan, access: HostAccess, sshDir: string): Promise<void> {
  const sshd = findProgram('sshd', { systemDirs: true }) ?? '/usr/sbin/sshd';
  await access.services.start({ name: 'sshd', argv: [sshd, '-D', '-e', '-f', join(sshDir, 'sshd_config'), '-o', `ListenAddress=${h.address}`] });
}
