// The OpenSSH client's command line for a person at this machine (`overlab ssh`, the netns
// provider's owner access): the endpoint's key, port, user and proxy, and the lab's host keys
// checked as overlab's own connections check them. Pure, and free of ssh2 and dockerode, so the
// commands that only print or run it (env, ssh, status) do not load them.
import type { HostKeyPolicy, SshEndpoint } from '../host.ts';
import { shellJoin } from '../quote.ts';

/** A UserKnownHostsFile value: the files, blank-separated, any with a blank in double quotes. */
export function knownHostsOption(files: readonly string[]): string {
  return files.map((f) => (/\s/.test(f) ? `"${f}"` : f)).join(' ');
}

/**
 * OpenSSH options that check the host's key as overlab's connections do: the policy's
 * known_hosts files and the lab's, nothing else, and no prompt (a host they do not list is
 * refused; `overlab ssh` connects, and so records a first contact or pinned key, first).
 */
export function hostKeyOptions(policy: HostKeyPolicy): string[] {
  return [
    '-o', `UserKnownHostsFile=${knownHostsOption([...policy.knownHosts, policy.recordIn])}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
  ];
}

/**
 * `ssh` for a person at this machine: the endpoint's key, port, user and proxy, the lab's host
 * keys. The user is given with `-l` and the host after `--`, so neither can be read as an option.
 */
export function sshCommandArgv(endpoint: SshEndpoint, command: readonly string[]): string[] {
  return [
    'ssh',
    '-i', endpoint.privateKeyPath,
    '-p', String(endpoint.port),
    '-l', endpoint.username,
    '-o', 'IdentitiesOnly=yes',
    ...hostKeyOptions(endpoint.hostKeys),
    ...(endpoint.proxy ? ['-o', `ProxyCommand=${shellJoin(endpoint.proxy)}`] : []),
    ...(command.length ? [] : ['-t']),
    '--',
    endpoint.host,
    ...command,
  ];
}
