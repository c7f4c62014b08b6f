// Where a lab keeps things: its state folder (state file, lock, logs, keys, reports) and the
// runtime folder of its daemons. One function per path, so nothing builds them by hand.
import { join, resolve } from 'node:path';

/** Root of all labs' state folders: $OVERLAB_HOME or ./.overlab. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['OVERLAB_HOME'] ?? '.overlab');
}

export function labStateDir(lab: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), lab);
}

/**
 * The lab's own known_hosts: the host keys overlab trusts for the lab's hosts (netns: the key it
 * generated; vagrant: recorded at the first `up`; ssh: first contacts accepted with
 * --accept-new-host-keys, and pinned keys once verified).
 */
export function labKnownHosts(stateDir: string): string {
  return join(stateDir, 'known_hosts');
}

/** A lab's spec reports (`overlab test`): those of its current life only (a new `up` moves them to previous/). */
export function labReportsDir(lab: string): string {
  return join(labStateDir(lab), 'reports');
}

/** The logs of a lab's daemons, its provisioning and its own notes (overlab.log), of its current life. */
export function labLogsDir(lab: string): string {
  return join(labStateDir(lab), 'logs');
}

/** The reports and logs of the lab's life before this one, set aside by `up`: readable, never read as the lab's. */
export function labPreviousLifeDir(lab: string): string {
  return join(labStateDir(lab), 'previous');
}

/** The folder of a lab's state folder given to its owner (`up --owner`): its key, its own reports and lock. */
export function ownerStateDir(stateDir: string): string {
  return join(stateDir, 'owner');
}

/** The owner's SSH key to the lab's hosts. */
export function ownerKey(stateDir: string): string {
  return join(ownerStateDir(stateDir), 'id_ed25519');
}

/**
 * The netns labs' runtime folders: short paths (unix sockets are limited to 108 bytes) in a
 * folder only root can create (never /tmp, where any user could make it first and plant links
 * for root to write through). Each netns host mounts a /run of its own and binds this folder
 * back into it.
 */
export const RUNTIME_ROOT = '/run/overlab';

export function labRuntimeDir(lab: string): string {
  return join(RUNTIME_ROOT, lab);
}
