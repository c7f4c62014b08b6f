// Reading OpenSSH client configuration as `vagrant ssh-config` prints it (one `Host` block per
// machine: HostName, User, Port, IdentityFile, maybe ProxyCommand) into an SshEndpoint per
// host (where and as whom; which host keys to trust is the provider's). Pure: text in, data out.
import type { SshAddress } from '../host.ts';

export interface SshConfigHost {
  /** The first pattern of the `Host` line (Vagrant: the machine's name). */
  name: string;
  hostName: string;
  user: string | undefined;
  port: number;
  /** In the order given; Vagrant lists the machine's own key first. */
  identityFiles: string[];
  proxyCommand: string | undefined;
  /** Every other keyword, lower-cased, with its last value (StrictHostKeyChecking, LogLevel, ...). */
  options: Record<string, string>;
}

/** A line of the text that is not valid client configuration; `line` counts from 1. */
export class SshConfigSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`ssh-config line ${line}: ${message}`);
    this.name = 'SshConfigSyntaxError';
  }
}

/**
 * Splits a line into keyword and arguments as ssh_config(5) does: blanks or one `=` after the
 * keyword, arguments separated by blanks, double quotes keeping blanks inside one argument.
 */
export function tokenizeLine(line: string, lineNo: number): string[] {
  const m = /^\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+|$)(.*)$/.exec(line);
  if (!m) throw new SshConfigSyntaxError(lineNo, `cannot read "${line.trim()}"`);
  const words = [m[1]!];
  const rest = m[2]!;
  let i = 0;
  while (i < rest.length) {
    while (i < rest.length && /\s/.test(rest[i]!)) i++;
    if (i >= rest.length) break;
    if (rest[i] === '"') {
      const end = rest.indexOf('"', i + 1);
      if (end < 0) throw new SshConfigSyntaxError(lineNo, `unterminated quote in "${line.trim()}"`);
      words.push(rest.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = i;
      while (j < rest.length && !/\s/.test(rest[j]!)) j++;
      words.push(rest.slice(i, j));
      i = j;
    }
  }
  return words;
}

/** Every `Host` block of the text; lines before the first block and comments are ignored. */
export function parseSshConfig(text: string): SshConfigHost[] {
  const hosts: SshConfigHost[] = [];
  let current: SshConfigHost | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!current && !/^host(\s|=|$)/i.test(line)) return; // e.g. a warning printed before the first block
    const [keyword, ...args] = tokenizeLine(line, lineNo);
    const key = keyword!.toLowerCase();
    if (key === 'host') {
      if (!args[0]) throw new SshConfigSyntaxError(lineNo, 'Host without a name');
      current = { name: args[0], hostName: args[0], user: undefined, port: 22, identityFiles: [], proxyCommand: undefined, options: {} };
      hosts.push(current);
      return;
    }
    if (!current) return;
    const value = args.join(' ');
    switch (key) {
      case 'hostname':
        current.hostName = value;
        break;
      case 'user':
        current.user = value;
        break;
      case 'port': {
        const port = Number(value);
        if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new SshConfigSyntaxError(lineNo, `Port "${value}" is not a port number`);
        current.port = port;
        break;
      }
      case 'identityfile':
        if (!value) throw new SshConfigSyntaxError(lineNo, 'IdentityFile without a path');
        current.identityFiles.push(value);
        break;
      case 'proxycommand':
        // The rest of the line is a shell command: keep it as written, quotes included.
        current.proxyCommand = line.replace(/^\s*proxycommand(?:\s*=\s*|\s+)/i, '');
        break;
      default:
        current.options[key] = value;
    }
  });
  return hosts;
}

/** `~/` at the start of a path, as ssh expands it. */
export function expandHome(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

/** A ProxyCommand as an argv, with ssh's tokens %h, %p, %r and %% filled in. */
export function proxyArgv(command: string, host: { hostName: string; port: number; user: string }): string[] {
  const expanded = command.replace(/%([hpr%])/g, (_, t: string) => (t === 'h' ? host.hostName : t === 'p' ? String(host.port) : t === 'r' ? host.user : '%'));
  return ['sh', '-c', expanded];
}

/** Per host of the text, how to reach it; `home` expands `~` in key paths. */
export function sshConfigEndpoints(text: string, options: { home?: string } = {}): Map<string, SshAddress> {
  const out = new Map<string, SshAddress>();
  for (const h of parseSshConfig(text)) {
    if (!h.user) throw new Error(`ssh-config: host ${h.name} has no User`);
    const key = h.identityFiles[0];
    if (!key) throw new Error(`ssh-config: host ${h.name} has no IdentityFile`);
    const endpoint: SshAddress = {
      host: h.hostName,
      port: h.port,
      username: h.user,
      privateKeyPath: options.home === undefined ? key : expandHome(key, options.home),
    };
    if (h.proxyCommand && h.proxyCommand.toLowerCase() !== 'none') endpoint.proxy = proxyArgv(h.proxyCommand, { hostName: h.hostName, port: h.port, user: h.user });
    out.set(h.name, endpoint);
  }
  return out;
}
