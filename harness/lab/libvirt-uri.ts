// `--libvirt qemu+ssh://[USER@]SERVER[:PORT]/system` checked (pure): the server's libvirt a lab's
// VMs go to, as given on the command line and as recorded in the lab state.
import { UsageError } from '../errors.ts';

/** The remote libvirt a URI names. */
export interface RemoteLibvirtTarget {
  /** The URI as given (recorded in the lab state; `status` shows it). */
  uri: string;
  /** The server as ssh takes it: a name (also one of the user's ~/.ssh/config), or an address. */
  server: string;
  user?: string;
  port?: number;
  /** The key to log in with (`?keyfile=`); else ssh's own choice (agent, ~/.ssh/config, ~/.ssh/id_*). */
  keyfile?: string;
}

const SERVER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** A path ssh and libvirt take as it is, unquoted in a URI and a ProxyCommand. */
export const PLAIN_PATH = /^\/[A-Za-z0-9/._+-]{0,4095}$/;

/** URI parameters overlab sets itself, or that would turn the host key check off. */
const REFUSED_PARAMS: Record<string, string> = {
  no_verify: 'it turns the server\'s host key check off (overlab checks it against ~/.ssh/known_hosts; --accept-new-host-keys records a first one)',
  command: 'overlab gives libvirt its own ssh command',
  proxy: 'overlab connects through ssh itself',
  netcat: 'the server needs virt-ssh-helper or nc, found by libvirt',
  socket: 'the server\'s libvirtd is reached on its own socket',
  known_hosts: 'the server\'s key is checked against ~/.ssh/known_hosts and the lab\'s record',
  known_hosts_verify: 'the server\'s key is always checked',
};

/**
 * A `qemu+ssh://` URI of a libvirt's system instance, checked: what `--libvirt` takes besides
 * `local`. Only `keyfile` is taken among libvirt's parameters (an absolute path).
 */
export function parseRemoteLibvirtUri(uri: string): RemoteLibvirtTarget {
  const bad = (why: string) =>
    new UsageError(`--libvirt ${JSON.stringify(uri)}: ${why}`, { hint: 'Give `local`, or a libvirt on a server reached over SSH: qemu+ssh://USER@SERVER/system (e.g. qemu+ssh://root@kvm-box/system).' });
  if (!uri.startsWith('qemu+ssh://')) throw bad('not "local" and not a qemu+ssh:// URI');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad('not a URI');
  }
  if (url.pathname !== '/system') throw bad(`the path is ${JSON.stringify(url.pathname)}, not /system (the server's system libvirt, which owns its networks)`);
  if (url.password) throw bad('a password in the URI (log in with a key: ?keyfile=PATH, or ssh-agent)');
  if (url.hash) throw bad('a #fragment');
  const server = url.hostname;
  if (!SERVER.test(server)) throw bad(`${JSON.stringify(server)} is not a server name or IPv4 address (for IPv6, name it in ~/.ssh/config)`);
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  if (user !== undefined && !USER.test(user)) throw bad(`${JSON.stringify(user)} is not a user name`);
  const target: RemoteLibvirtTarget = { uri, server, ...(user ? { user } : {}) };
  if (url.port) target.port = Number(url.port);
  for (const [key, value] of url.searchParams) {
    if (key === 'keyfile') {
      if (!PLAIN_PATH.test(value)) throw bad(`keyfile ${JSON.stringify(value)} is not an absolute path of letters, digits and /._+-`);
      target.keyfile = value;
    } else {
      throw bad(`the parameter ${key} is not taken${REFUSED_PARAMS[key] ? `: ${REFUSED_PARAMS[key]}` : ' (only keyfile is)'}`);
    }
  }
  return target;
}

