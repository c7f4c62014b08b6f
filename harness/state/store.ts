// The per-lab state file and its lock. Every resource is recorded before it is created, so an
// interrupted `up` leaves a state that `down` can clear.
import { closeSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync, writeSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LabStateError, permissionProblem } from '../errors.ts';
import type { EngineMode, Plan, ProviderId } from '../lab/types.ts';
import { isSameProcess, processRef } from '../system/processes.ts';
import type { FaultRecord } from './faults.ts';

export type LabPhase = 'creating' | 'up' | 'failed' | 'destroying';

export interface HostState {
  name: string;
  address: string;
  role: 'kv' | 'docker';
  /** Provider-specific records (namespaces, pids, paths, veths). */
  resources: Record<string, unknown>;
}

export interface LabState {
  version: 1;
  lab: string;
  /** Who created the hosts: `down`, `status` and `test` use it, never the lab file. */
  provider: ProviderId;
  /** The engines' mode when the lab came up (whether `down` leaves a swarm it formed). */
  mode: EngineMode;
  /** The lab file it was brought up from (for messages; nothing re-reads it). */
  file: string;
  /** For a copy made by `up --copies` or `--as`: the lab it is a copy of. */
  copyOf?: string;
  phase: LabPhase;
  createdAt: string;
  updatedAt: string;
  kv?: { type: string; clusterStore: string; announced?: string };
  hosts: Record<string, HostState>;
  /** Provider-wide records (switch namespace, runtime folder, ...). */
  resources: Record<string, unknown>;
  error?: string;
  /** Warnings `up` gave (a KV fallback, ...), for `status`. */
  notes?: string[];
  /** Faults put in place on purpose (`overlab fault`), until `heal` or `down` undoes them. */
  faults?: FaultRecord[];
}

export class StateStore {
  readonly dir: string;
  private readonly file: string;

  constructor(dir: string) {
    this.dir = dir;
    this.file = join(dir, 'state.json');
  }

  read(): LabState | undefined {
    try {
      const state = JSON.parse(readFileSync(this.file, 'utf8')) as LabState;
      // A state file from before the mode was recorded: taken as kv (nothing to leave on down).
      state.mode ??= 'kv';
      return state;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      const denied = permissionProblem(e, 'read the lab state');
      if (denied !== e) throw denied;
      throw new LabStateError(`cannot read the lab state ${this.file}: ${(e as Error).message}`, {
        hint: 'Run `overlab down --force` to remove the lab by its name prefix.',
      });
    }
  }

  /** Writes atomically (rename), so a crash never leaves half a state file. */
  write(state: LabState): void {
    state.updatedAt = new Date().toISOString();
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
      renameSync(tmp, this.file);
    } catch (e) {
      throw permissionProblem(e, 'write the lab state');
    }
  }

  update(fn: (s: LabState) => void): LabState {
    const s = this.read();
    if (!s) throw new LabStateError(`no lab state in ${this.dir}`);
    fn(s);
    this.write(s);
    return s;
  }

  remove(): void {
    rmSync(this.file, { force: true });
    rmSync(this.planFile, { force: true });
  }

  /** The plan the lab was brought up from, kept beside its state: what status and reports draw, without the lab file. */
  writePlan(plan: Plan): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.planFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(plan) + '\n');
    renameSync(tmp, this.planFile);
  }

  readPlan(): Plan | undefined {
    try {
      return JSON.parse(readFileSync(this.planFile, 'utf8')) as Plan;
    } catch {
      return undefined;
    }
  }

  private get planFile(): string {
    return join(this.dir, 'plan.json');
  }

  /**
   * Takes the lab's lock for one command; a lock whose holder has died is taken over. Releasing
   * it also removes the folders the lock made, when nothing else was put in them (a `down` or
   * `test` of a lab that was never up leaves no trace).
   */
  lock(command: string): () => void {
    const path = join(this.dir, 'lock');
    let made: string | undefined;
    try {
      made = mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw permissionProblem(e, 'make the state folder');
    }
    const release = () => {
      rmSync(path, { force: true });
      if (made !== undefined) removeEmptyFolders(this.dir, made);
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, JSON.stringify({ ...processRef(process.pid), command, since: new Date().toISOString() }));
        closeSync(fd);
        return release;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          // Another command released its lock and removed the empty folder just now.
          made ??= mkdirSync(this.dir, { recursive: true });
          continue;
        }
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw permissionProblem(e, 'take the lab lock');
        let holder: { pid: number; start?: number; command: string } | undefined;
        try {
          holder = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; start?: number; command: string };
        } catch {
          holder = undefined;
        }
        if (holder && isSameProcess(holder)) {
          throw new LabStateError(`the lab is locked by \`overlab ${holder.command}\` (pid ${holder.pid})`, {
            hint: 'Wait for it to finish, or stop it; a lock whose process has died is taken over.',
          });
        }
        rmSync(path, { force: true });
      }
    }
    throw new LabStateError(`cannot take the lab lock ${path}`);
  }
}

/** Removes `dir` and its parents up to `top` while each is empty. */
function removeEmptyFolders(dir: string, top: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // Not empty (state, logs, another lab), or gone.
    }
    if (d === top || dirname(d) === d) return;
  }
}
