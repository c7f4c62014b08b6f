// One netns host at run time: commands and long-running services entered into the host's
// namespaces (network, UTS, mount) through its holder process, with nsenter rather than
// `ip netns exec`, which remounts /sys and hides the cgroups dockerd needs.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostUnreachableError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';
import { isSameProcess, processRef, stopProcess, type ProcessRef } from '../../system/processes.ts';
import type { ExecOptions, ExecResult, HostRunner, ServiceManager, ServiceSpec } from '../../host.ts';

export interface ServiceRecord {
  pid: number;
  /** Start time of the process (see ProcessRef): a recycled pid is not the service. */
  start?: number;
  argv: string[];
  log: string;
}

export function nsenterArgs(holder: ProcessRef): string[] {
  return ['-t', String(holder.pid), '--net', '--uts', '--mount', '--'];
}

export class NetnsRunner implements HostRunner {
  constructor(
    private readonly host: string,
    private readonly holder: ProcessRef,
  ) {}

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (!isSameProcess(this.holder)) {
      throw new HostUnreachableError(`host ${this.host} is gone: its namespace holder (pid ${this.holder.pid}) is not running`, {
        hint: 'Run `overlab down` and `overlab up` again.',
      });
    }
    const { execa } = await import('execa'); // loaded on first use: `env` and `status` never run a command
    const r = await execa('nsenter', [...nsenterArgs(this.holder), ...argv], {
      reject: false,
      ...(options.inputFile !== undefined ? { inputFile: options.inputFile } : options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    const exitCode = r.timedOut ? 124 : (r.exitCode ?? 128 + 9);
    return { exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  }
}

/** Services as detached processes in the host's namespaces; pids go to the lab state before anything waits on them. */
export class NetnsServices implements ServiceManager {
  constructor(
    private readonly host: string,
    private readonly holder: ProcessRef,
    private readonly store: StateStore,
    private readonly runtimeDir: string,
  ) {}

  logFile(name: string): string {
    return join(this.store.dir, 'logs', `${this.host}.${name}.log`);
  }

  dataDir(name: string): string {
    return join(this.runtimeDir, name);
  }

  async start(spec: ServiceSpec): Promise<void> {
    const log = this.logFile(spec.name);
    mkdirSync(join(this.store.dir, 'logs'), { recursive: true });
    mkdirSync(this.dataDir(spec.name), { recursive: true });
    // Temporary files in the host's runtime folder, which down removes: the engine's containerd
    // writes a stack dump to containerd.PID.stacks.log there when dockerd restarts it.
    const tmp = join(this.runtimeDir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const fd = openSync(log, 'a');
    try {
      const child = spawn('nsenter', [...nsenterArgs(this.holder), ...spec.argv], {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, TMPDIR: tmp, ...spec.env },
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', reject);
      });
      child.unref();
      this.store.update((s) => {
        const services = (s.hosts[this.host]!.resources['services'] ??= {}) as Record<string, ServiceRecord>;
        services[spec.name] = { ...processRef(pid), argv: spec.argv, log };
      });
    } finally {
      closeSync(fd);
    }
  }

  private record(name: string): ServiceRecord | undefined {
    const services = this.store.read()?.hosts[this.host]?.resources['services'] as Record<string, ServiceRecord> | undefined;
    return services?.[name];
  }

  async isRunning(name: string): Promise<boolean> {
    const r = this.record(name);
    return r !== undefined && isSameProcess(r);
  }

  async stop(name: string): Promise<void> {
    const r = this.record(name);
    if (r) await stopProcess(r);
  }

  async readLog(name: string): Promise<string> {
    try {
      return readFileSync(this.logFile(name), 'utf8');
    } catch {
      return '';
    }
  }
}
