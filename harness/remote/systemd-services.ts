// Long-running processes on a machine with systemd, through any HostRunner: a KV store (or any
// service) as a transient unit `overlab-<name>` (systemd-run), the Docker engine as the
// distribution's docker.service with a drop-in that replaces its ExecStart with the lab's
// flags (never `hosts` in daemon.json: the unit's `-H fd://` would conflict), once the host's
// daemon.json is checked for settings those flags would conflict with. This is the one place
// that writes the drop-in: provisioning only installs the engine. Logs are the units' journals. The text and commands are pure functions, unit-tested; systemd itself
// runs only on the lab's machines.
import { CommandFailedError, PrerequisiteError } from '../errors.ts';
import { ENGINE_SERVICE, type ExecResult, type HostRunner, type ServiceManager, type ServiceSpec } from '../host.ts';
import { shellJoin, systemdJoin, systemdQuote } from '../quote.ts';

export { systemdQuote };

export const DOCKER_UNIT = 'docker.service';
export const DOCKER_DROP_IN_DIR = '/etc/systemd/system/docker.service.d';
export const DOCKER_DROP_IN = `${DOCKER_DROP_IN_DIR}/overlab.conf`;
export const DEFAULT_DOCKERD = '/usr/bin/dockerd';
export const DOCKER_DAEMON_JSON = '/etc/docker/daemon.json';
export const DATA_ROOT = '/var/lib/overlab';
export const UNIT_PREFIX = 'overlab-';

export function unitName(service: string): string {
  if (service === ENGINE_SERVICE) return DOCKER_UNIT;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(service)) throw new Error(`service name "${service}" is not a valid unit name part`);
  return `${UNIT_PREFIX}${service}.service`;
}

export function serviceDataDir(service: string): string {
  return `${DATA_ROOT}/${service}`;
}

export const SYSTEM_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/**
 * An engine tree's own containerd on a systemd host: a unit overlab-containerd beside the host's
 * containerd (which the host's engine and anything else may use), with a socket, state and root
 * of its own. Given no --containerd, dockerd would take the host's containerd whenever its
 * socket exists: a mix of releases no user runs.
 */
export const TREE_CONTAINERD = 'containerd';
export const TREE_CONTAINERD_STATE = '/run/overlab/containerd';
export const TREE_CONTAINERD_SOCKET = `${TREE_CONTAINERD_STATE}/containerd.sock`;
export const TREE_CONTAINERD_CONFIG = `${DATA_ROOT}/${TREE_CONTAINERD}/config.toml`;
/**
 * A tree engine's data root, apart from the host's /var/lib/docker: a newer engine migrates a
 * data root for good, and the host's own engine runs on it again after `down`.
 */
export const TREE_DATA_ROOT = `${DATA_ROOT}/docker`;

/** The tree's containerd configuration (version 2: containerd 1.6 and 1.7 read it, 2.x migrates it). */
export function treeContainerdConfig(): string {
  return [
    "# Written by overlab: the lab's engine tree's containerd, apart from the host's own. `overlab down` removes it.",
    'version = 2',
    `root = "${DATA_ROOT}/${TREE_CONTAINERD}"`,
    `state = "${TREE_CONTAINERD_STATE}"`,
    '# Docker needs no Kubernetes CRI (dockerd turns it off in the containerd it starts itself).',
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '',
    '[grpc]',
    `  address = "${TREE_CONTAINERD_SOCKET}"`,
    '',
  ].join('\n');
}

/** Waits up to a minute (slow emulated VMs) for a unix socket to appear. */
export function waitForSocketArgv(path: string): string[] {
  return ['sh', '-c', 'i=0; while [ ! -S "$1" ]; do i=$((i + 1)); [ "$i" -le 600 ] || exit 1; sleep 0.1; done', 'wait', path];
}

/** The drop-in that runs docker.service's dockerd with the lab's flags (and only those) and environment. */
export function dockerDropIn(flags: readonly string[], dockerd = DEFAULT_DOCKERD, env: Readonly<Record<string, string>> = {}, containerd = SYSTEM_CONTAINERD_SOCKET): string {
  const argv = [dockerd, '-H', 'fd://', `--containerd=${containerd}`, ...flags];
  return [
    '# Written by overlab: the lab\'s engine flags. `overlab down` removes this file.',
    '[Service]',
    ...Object.entries(env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`),
    '# An empty ExecStart= clears the packaged one; a second ExecStart would be an error.',
    'ExecStart=',
    `ExecStart=${systemdJoin(argv)}`,
    '',
  ].join('\n');
}

/**
 * The daemon.json keys that set what the drop-in's command line sets: `hosts` (the drop-in's
 * -H fd://) and the key of each flag (`--cluster-store=...` is cluster-store, `--label=...` is
 * labels), in the file's order. dockerd refuses to start with a setting given both ways. Only
 * top-level keys count (log-opts may hold a `labels` of its own); text that is not JSON is
 * scanned for quoted keys.
 */
export function daemonJsonConflicts(text: string, flags: readonly string[]): string[] {
  const flagKeys = new Set(['hosts']);
  for (const f of flags) {
    const name = /^--([a-z][a-z0-9-]*)/.exec(f)?.[1];
    if (name) flagKeys.add(name).add(`${name}s`);
  }
  let keys: string[];
  try {
    const parsed: unknown = JSON.parse(text);
    keys = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
  } catch {
    keys = [...text.matchAll(/"([^"\\]+)"\s*:/g)].map((m) => m[1]!);
  }
  return [...new Set(keys.filter((k) => flagKeys.has(k)))];
}

/** Prints daemon.json, or nothing when the host has none. */
export const READ_DAEMON_JSON_ARGV = ['sh', '-c', 'test ! -e "$1" || cat "$1"', 'read', DOCKER_DAEMON_JSON];

/** Writes text to a path through the runner (as root when the runner uses sudo). */
export function writeFileArgv(path: string, dir: string): string[] {
  return ['sh', '-c', 'mkdir -p "$1" && cat > "$2"', 'write', dir, path];
}

/** Reloads units and restarts the engine, clearing a start-limit left by earlier failures. */
export const RESTART_DOCKER_ARGV = ['sh', '-c', `systemctl daemon-reload && { systemctl reset-failed ${DOCKER_UNIT} || true; } && systemctl restart ${DOCKER_UNIT}`];

/** Stops and forgets an earlier instance of a transient unit, so starting again is idempotent. */
export function resetUnitArgv(unit: string): string[] {
  return ['sh', '-c', `systemctl stop "$1" 2>/dev/null; systemctl reset-failed "$1" 2>/dev/null; true`, 'reset', unit];
}

/** A transient unit for a service; `--collect` unloads it once stopped or failed. */
export function systemdRunArgv(spec: ServiceSpec): string[] {
  const unit = unitName(spec.name);
  return [
    'systemd-run',
    `--unit=${unit}`,
    '--collect',
    `--description=overlab ${spec.name}`,
    `--property=WorkingDirectory=${serviceDataDir(spec.name)}`,
    ...Object.entries(spec.env ?? {}).map(([k, v]) => `--setenv=${k}=${v}`),
    '--',
    ...spec.argv,
  ];
}

export function journalArgv(unit: string, sinceEpochSeconds?: number): string[] {
  return ['journalctl', '--no-pager', '-o', 'cat', '-u', unit, ...(sinceEpochSeconds === undefined ? [] : [`--since=@${sinceEpochSeconds}`])];
}

export interface SystemdServicesOptions {
  /** Told before each change is made, so the lab state names it before it exists (for `down`). */
  record?: (change: { unit: string } | { dropIn: string }) => void;
}

/** A ServiceManager for one host with systemd, driving it through the host's runner. */
export class SystemdServices implements ServiceManager {
  private readonly startedAt = new Map<string, number>();

  constructor(
    private readonly host: string,
    private readonly runner: HostRunner,
    private readonly options: SystemdServicesOptions = {},
  ) {}

  async start(spec: ServiceSpec): Promise<void> {
    this.startedAt.set(spec.name, Math.floor(Date.now() / 1000));
    if (spec.name === ENGINE_SERVICE) return this.startEngine(spec);
    const unit = unitName(spec.name);
    this.options.record?.({ unit });
    await this.must(['mkdir', '-p', serviceDataDir(spec.name)]);
    await this.must(resetUnitArgv(unit));
    await this.must(systemdRunArgv(spec));
  }

  /**
   * The engine is the packaged docker.service: a drop-in with the flags, then a restart. A
   * daemon.json that sets what the flags set is refused before anything is written.
   */
  private async startEngine(spec: ServiceSpec): Promise<void> {
    const env = spec.env ?? {};
    let flags = spec.argv.slice(1);
    let dockerd: string;
    let containerd = SYSTEM_CONTAINERD_SOCKET;
    if (spec.tree) {
      dockerd = spec.argv[0]!;
      containerd = await this.startTreeContainerd(spec.tree, env);
      if (!flags.some((f) => f.startsWith('--data-root'))) flags = [`--data-root=${TREE_DATA_ROOT}`, ...flags];
    } else {
      const found = await this.runner.exec(['sh', '-c', 'command -v dockerd']);
      dockerd = found.exitCode === 0 && found.stdout.trim().startsWith('/') ? found.stdout.trim() : DEFAULT_DOCKERD;
    }
    const conflicts = daemonJsonConflicts((await this.must(READ_DAEMON_JSON_ARGV)).stdout, flags);
    if (conflicts.length) {
      throw new PrerequisiteError(
        `${DOCKER_DAEMON_JSON} on ${this.host} sets ${conflicts.join(', ')}, which overlab passes as dockerd flags` +
          `${conflicts.includes('hosts') ? " (hosts as the unit's -H fd://)" : ''}: dockerd refuses a setting given both ways`,
        { hint: `Remove ${conflicts.join(', ')} from ${DOCKER_DAEMON_JSON} on ${this.host}, then run up again: the drop-in was not written.` },
      );
    }
    this.options.record?.({ dropIn: DOCKER_DROP_IN });
    await this.must(writeFileArgv(DOCKER_DROP_IN, DOCKER_DROP_IN_DIR), dockerDropIn(flags, dockerd, env, containerd));
    const r = await this.runner.exec(RESTART_DOCKER_ARGV);
    if (r.exitCode !== 0) {
      const journal = await this.readLog(ENGINE_SERVICE);
      throw new CommandFailedError(
        { command: shellJoin(RESTART_DOCKER_ARGV), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}${journal ? `\n--- ${this.logFile(ENGINE_SERVICE)}:\n${journal}` : ''}`, host: this.host },
        { hint: `The drop-in is ${DOCKER_DROP_IN} on ${this.host}.` },
      );
    }
  }

  /** Starts the tree's containerd unless it runs already; returns its socket once it listens. */
  private async startTreeContainerd(tree: string, env: Readonly<Record<string, string>>): Promise<string> {
    if (!(await this.isRunning(TREE_CONTAINERD))) {
      await this.must(writeFileArgv(TREE_CONTAINERD_CONFIG, serviceDataDir(TREE_CONTAINERD)), treeContainerdConfig());
      // PATH (the tree first) is how containerd finds the tree's shim, and the shim the tree's runc.
      await this.start({ name: TREE_CONTAINERD, argv: [`${tree}/containerd`, '--config', TREE_CONTAINERD_CONFIG], env: env['PATH'] ? { PATH: env['PATH'] } : {} });
    }
    const r = await this.runner.exec(waitForSocketArgv(TREE_CONTAINERD_SOCKET), { timeoutMs: 90_000 });
    if (r.exitCode !== 0) {
      const journal = await this.readLog(TREE_CONTAINERD);
      throw new CommandFailedError(
        { command: shellJoin(waitForSocketArgv(TREE_CONTAINERD_SOCKET)), exitCode: r.exitCode, output: `the engine tree's containerd made no socket ${TREE_CONTAINERD_SOCKET} within a minute${journal ? `\n--- ${this.logFile(TREE_CONTAINERD)}:\n${journal}` : ''}`, host: this.host },
      );
    }
    return TREE_CONTAINERD_SOCKET;
  }

  async isRunning(name: string): Promise<boolean> {
    // Asked without sudo, which costs a second or more of an emulated VM's CPU (the engine's
    // watch asks often); as root where the answer is neither "active" (0) nor "not running" (3),
    // e.g. systemctl cannot reach the system bus as another user on a machine without D-Bus.
    const argv = ['systemctl', 'is-active', '--quiet', unitName(name)];
    const asked = await this.runner.exec(argv, { unprivileged: true });
    if (asked.exitCode === 0 || asked.exitCode === 3) return asked.exitCode === 0;
    return (await this.runner.exec(argv)).exitCode === 0;
  }

  async stop(name: string): Promise<void> {
    // Stopping docker.service alone would let docker.socket start it again at the next request.
    const units = name === ENGINE_SERVICE ? [DOCKER_UNIT, 'docker.socket'] : [unitName(name)];
    const r = await this.runner.exec(['systemctl', 'stop', ...units]);
    if (r.exitCode !== 0 && !/not loaded|not found/i.test(r.stderr)) throw this.failure(['systemctl', 'stop', ...units], r);
  }

  /** Not a file: the unit's journal on the host, said so that a person can read it. */
  logFile(name: string): string {
    return `journalctl -u ${unitName(name)} on ${this.host}`;
  }

  /** The unit's journal since this manager started it (all of it for a unit started earlier). */
  async readLog(name: string): Promise<string> {
    const r = await this.runner.exec(journalArgv(unitName(name), this.startedAt.get(name)), { timeoutMs: 20_000 });
    return r.exitCode === 0 ? r.stdout : '';
  }

  dataDir(name: string): string {
    return serviceDataDir(name);
  }

  private async must(argv: string[], input?: string): Promise<ExecResult> {
    const r = await this.runner.exec(argv, input === undefined ? {} : { input });
    if (r.exitCode !== 0) throw this.failure(argv, r);
    return r;
  }

  private failure(argv: readonly string[], r: ExecResult): CommandFailedError {
    return new CommandFailedError({ command: shellJoin(argv), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: this.host });
  }
}
