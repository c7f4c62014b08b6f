// The ssh provider: the lab's hosts are machines that already exist, reached over SSH with the
// address, user, port and key the lab file gives (`hosts[].ssh`). overlab provisions them,
// runs its services under their systemd, and on `down` removes only what it put there. A
// machine's host key must be in the user's ~/.ssh/known_hosts or the lab's own known_hosts, or
// be the lab file's `hosts[].ssh.hostKey`; a first contact is trusted only when `up` is asked
// to (--accept-new-host-keys), and recorded in the lab's known_hosts.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { HostKeyError, HostUnreachableError, PrerequisiteError } from '../../errors.ts';
import type { HostPlan, Plan } from '../../lab/types.ts';
import { provisionHost } from '../../provision/index.ts';
import { expandHome } from '../../remote/ssh-config.ts';
import { userKnownHosts } from '../../remote/host-keys.ts';
import { labKnownHosts, labStateDir } from '../../state/paths.ts';
import type { DestroyReport, HostCommands, Provider } from '../provider.ts';
import type { HostAccess, HostKeyPolicy, SshEndpoint } from '../../host.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { connectSshHosts, describeSshHost, recordedEndpoints, recordSshHosts, removeOverlabFromHosts, sshCommandArgv, type SshHostSpec } from '../ssh-hosts.ts';

export interface SshProviderOptions {
  /**
   * A proxy command (ProxyCommand as argv) for hosts whose address is not routable from this
   * machine's namespace: a jump host, or a lab switch namespace in the tests.
   */
  proxy?: (host: HostPlan) => string[] | undefined;
  /** Deadline for connecting to each host (default 60 s). */
  connectDeadlineMs?: number;
  /** `up --accept-new-host-keys`: trust a machine no known_hosts lists, and record its key in the lab's known_hosts. */
  acceptNewHostKeys?: boolean;
  /** The user's known_hosts (default ~/.ssh/known_hosts). */
  userKnownHosts?: string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** Which host keys a host may present: its pinned fingerprint, else what the user's and the lab's known_hosts list. */
export function hostKeyPolicy(plan: Plan, h: HostPlan, options: { stateDir: string; userKnownHosts: string; acceptNew: boolean }): HostKeyPolicy {
  return {
    knownHosts: [options.userKnownHosts],
    recordIn: labKnownHosts(options.stateDir),
    ...(h.ssh.hostKey ? { pinned: { fingerprint: h.ssh.hostKey, source: `hosts[].ssh.hostKey of ${h.name} in ${plan.file}` } } : {}),
    ...(options.acceptNew ? { acceptNew: true } : {}),
    vouchedBy: 'user',
  };
}

/** The key for a host: its `ssh.key` (relative to the lab file, `~` expanded), else the user's default key. */
export function keyFor(plan: Plan, h: HostPlan, home = homedir()): string {
  if (h.ssh.key) {
    const path = expandHome(h.ssh.key, home);
    return isAbsolute(path) ? path : resolve(dirname(plan.file), path);
  }
  const found = DEFAULT_KEYS.map((k) => join(home, '.ssh', k)).find((p) => existsSync(p));
  if (!found) {
    throw new PrerequisiteError(`host ${h.name} has no ssh.key and there is no default key (${DEFAULT_KEYS.map((k) => `~/.ssh/${k}`).join(', ')})`, {
      hint: `Give hosts[].ssh.key for ${h.name} in ${plan.file}.`,
    });
  }
  return found;
}

export class SshProvider implements Provider {
  readonly id = 'ssh' as const;
  /** The machines exist once: a second lab on them would share their engines. */
  readonly copies = 'unsupported' as const;
  readonly sideBySide = false;

  estimateMemoryMiB(): number {
    return 0; // The machines are elsewhere.
  }

  async memoryInUseMiB(): Promise<number | undefined> {
    return undefined;
  }

  constructor(private readonly options: SshProviderOptions = {}) {}

  async unusableReason(): Promise<string | undefined> {
    return undefined; // SSH is a library here; whether each machine answers shows at connect time
  }

  /**
   * `lenient`: a missing key is shown as a placeholder instead of an error (for --dry-run).
   * `acceptNew`: this connection may trust a first contact (only `createHosts`, when asked).
   */
  private specs(plan: Plan, options: { ctx?: LabContext; lenient?: boolean; acceptNew?: boolean } = {}): SshHostSpec[] {
    const lenient = options.lenient ?? false;
    const stateDir = options.ctx?.store.dir ?? labStateDir(plan.lab);
    const key = (h: HostPlan) => {
      try {
        return keyFor(plan, h);
      } catch (e) {
        if (lenient) return '~/.ssh/id_ed25519';
        throw e;
      }
    };
    return plan.hosts.map((h) => {
      const hostKeys = hostKeyPolicy(plan, h, { stateDir, userKnownHosts: this.options.userKnownHosts ?? userKnownHosts(), acceptNew: options.acceptNew ?? false });
      const ssh: SshEndpoint = { host: h.ssh.address, port: h.ssh.port, username: h.ssh.user, privateKeyPath: key(h), hostKeys };
      const proxy = this.options.proxy?.(h);
      if (proxy) ssh.proxy = proxy;
      return { name: h.name, address: h.address, role: h.role, ssh };
    });
  }

  async createHosts(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    const specs = this.specs(plan, { ctx, acceptNew: this.options.acceptNewHostKeys ?? false });
    recordSshHosts(ctx, specs, { kind: 'ssh-machines' });
    return connectSshHosts(specs, ctx, this.deadline());
  }

  /**
   * As recorded when the lab came up (the lab file may have changed since). A machine the lab
   * state does not record is not the lab's: never brought up, or let go by `down` (destroy).
   */
  async connect(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    const recorded = recordedEndpoints(ctx.store);
    const specs = this.specs(plan, { ctx }).map((s) => {
      const ssh = recorded.get(s.name);
      if (!ssh) {
        throw new HostUnreachableError(`host ${s.name} of lab ${plan.lab} is not in the lab (its state records no machine for it: the lab is not up there, or was taken down)`, {
          hint: `Run \`overlab up --lab ${plan.lab}\`.`,
        });
      }
      return { ...s, ssh };
    });
    return connectSshHosts(specs, ctx, this.deadline());
  }

  /**
   * Machines have no life cycle here: a host the lab state records is "running" when it answers
   * over SSH within seconds; one it does not record is "not created" (nothing is asked of it).
   */
  async hostStates(plan: Plan, ctx: LabContext): Promise<Record<string, string>> {
    const recorded = recordedEndpoints(ctx.store);
    const specs = this.specs(plan, { ctx, lenient: true }).map((s) => ({ ...s, ssh: recorded.get(s.name) }));
    const states = await Promise.all(
      specs.map(async ({ ssh, ...rest }) => {
        if (!ssh) return [rest.name, 'not created'] as const;
        const spec = { ...rest, ssh };
        try {
          const [host] = await connectSshHosts([spec], ctx, { deadlineMs: 5000 });
          try {
            const r = await host!.runner.exec(['true'], { timeoutMs: 5000 });
            return [spec.name, r.exitCode === 0 ? 'running' : 'unreachable'] as const;
          } finally {
            host!.close?.(); // asked once: no connection is kept (it was, until `down` or the process ended)
          }
        } catch (e) {
          return [spec.name, e instanceof HostKeyError ? 'host key not trusted' : 'unreachable'] as const;
        }
      }),
    );
    return Object.fromEntries(states);
  }

  private deadline(): { deadlineMs?: number } {
    return this.options.connectDeadlineMs === undefined ? {} : { deadlineMs: this.options.connectDeadlineMs };
  }

  provision(plan: Plan, host: HostAccess, ctx: LabContext): Promise<string | void> {
    return provisionHost(plan, host, ctx);
  }

  sshArgv(host: HostAccess, _ctx: LabContext, command: string[]): string[] {
    return sshCommandArgv(host.ssh!, command);
  }

  engineFlagsFor(): string[] {
    return [];
  }

  describe(plan: Plan): HostCommands[] {
    return this.specs(plan, { lenient: true }).map((s) => ({ host: s.name, commands: describeSshHost(plan, s, sshCommandArgv(s.ssh, ['true'])) }));
  }

  destroy(lab: string, ctx: LabContext, options: { force: boolean }): Promise<DestroyReport> {
    return removeOverlabFromHosts(lab, ctx, options);
  }
}
