// The per-lab state file and its lock. Every resource is recorded before it is created, so an
// interrupted `up` leaves a state that `down` can clear.
import { existsSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LabStateError, oneLine, permissionProblem } from '../errors.ts';
import type { Plan, ProviderId } from '../lab/types.ts';
import { breakStaleLock, createLockFile, readLock, releaseLock } from '../system/lock-file.ts';
import { isSameProcess } from '../system/processes.ts';
import { checkPlan, checkPlanEngineFlags } from './check-plan.ts';
import { checkLabState, lockHolder, PROVIDER_IDS } from './check-state.ts';
import type { LabState } from './lab-state.ts';
import { parseRecord, readIfThere, StateFileError } from './record-file.ts';
import { LAB_NAME } from './rules.ts';
import { ShapeProblem } from './shape.ts';

export type { HostState, LabPhase, LabState, UpTiming } from './lab-state.ts';

export class StateStore {
  readonly dir: string;
  private readonly file: string;
  /** Where the engine cache is (by environment and user): an engine tree the state names must be in it. */
  private readonly env: NodeJS.ProcessEnv;
  private readonly uid: number | undefined;

  constructor(dir: string, options: { env?: NodeJS.ProcessEnv; uid?: number } = {}) {
    this.dir = dir;
    this.file = join(dir, 'state.json');
    this.env = options.env ?? process.env;
    this.uid = options.uid ?? process.getuid?.();
  }

  /**
   * The lab's state, checked (check-state.ts) before anything is done from it: a file that is
   * not as overlab writes it is a StateFileError naming its first bad field.
   */
  read(): LabState | undefined {
    let text: string | undefined;
    try {
      text = readIfThere(this.file);
    } catch (e) {
      const denied = permissionProblem(e, 'read the lab state');
      if (denied !== e) throw denied;
      throw new LabStateError(`cannot read the lab state ${this.file}: ${(e as Error).message}`, {
        hint: 'Run `overlab down --force` to remove the lab by its name prefix.',
      });
    }
    if (text === undefined) return undefined;
    const state = parseRecord(
      text,
      (data) => checkLabState(data, { stateDir: this.dir, env: this.env, uid: this.uid }),
      (pointer, problem) => new StateFileError({ what: 'lab state', file: this.file, pointer, problem, hint: this.downHint() }),
    );
    // A state file from before the mode was recorded: taken as kv (nothing to leave on down).
    state.mode ??= 'kv';
    return state;
  }

  /** What to do about a state or plan that cannot be used: the lab's name is its folder's, never the file's. */
  private downHint(): string {
    const lab = basename(this.dir);
    const down = LAB_NAME.test(lab) ? `\`overlab down --force --lab ${lab}\`` : '`overlab down --force` with the lab\'s name';
    return `Nothing was done from it. ${down} removes the lab by its name prefix and sets the file aside.`;
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

  /**
   * The recorded plan, checked (check-plan.ts); undefined when there is none (labs from before
   * plans were recorded) or it cannot be read. `lab`: the lab whose folder this is, which the
   * plan must name (its name becomes paths: the state folder, handouts).
   */
  readPlan(expected: { lab?: string } = {}): Plan | undefined {
    let text: string | undefined;
    try {
      text = readIfThere(this.planFile);
    } catch {
      return undefined;
    }
    if (text === undefined) return undefined;
    return parseRecord(
      text,
      (data) => checkPlan(data, expected),
      (pointer, problem) => new StateFileError({ what: 'lab plan', file: this.planFile, pointer, problem, hint: this.downHint() }),
    );
  }

  /**
   * readPlan, and its engine flags checked against the lab file's allowlist as well (see
   * checkPlanEngineFlags): what a command that may start an engine from the plan reads.
   */
  async readPlanToRun(expected: { lab?: string } = {}): Promise<Plan | undefined> {
    const plan = this.readPlan(expected);
    if (!plan) return undefined;
    try {
      await checkPlanEngineFlags(plan);
    } catch (e) {
      if (!(e instanceof ShapeProblem)) throw e;
      throw new StateFileError({ what: 'lab plan', file: this.planFile, pointer: e.pointer, problem: e.problem, hint: this.downHint() });
    }
    return plan;
  }

  /**
   * For `down --force` of a lab whose state or plan is not as overlab writes it: both are moved
   * aside (`state.json.rejected`, `plan.json.rejected`), so that nothing reads them again and the
   * lab is removed by its name prefix. Returns the files set aside, and the provider the state
   * names when it names one (what made the hosts, so what takes them down).
   */
  setAside(): { files: string[]; provider: ProviderId | undefined } {
    let provider: ProviderId | undefined;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as { provider?: unknown };
      provider = PROVIDER_IDS.find((p) => p === raw.provider);
    } catch {
      provider = undefined;
    }
    const files: string[] = [];
    for (const file of [this.file, this.planFile]) {
      if (!existsSync(file)) continue;
      renameSync(file, `${file}.rejected`);
      files.push(`${file}.rejected`);
    }
    return { files, provider };
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
    for (let attempt = 0; attempt < 3; attempt++) {
      let mine: string | undefined;
      try {
        // Whole or absent (lock-file.ts): never an empty lock someone could take for a dead one.
        mine = createLockFile(path, { command, since: new Date().toISOString() });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          // Another command released its lock and removed the empty folder just now.
          made ??= mkdirSync(this.dir, { recursive: true });
          continue;
        }
        // Named as the lock, not as the file written aside to make it.
        throw permissionProblem(Object.assign(e as NodeJS.ErrnoException, { path }), 'take the lab lock');
      }
      if (mine !== undefined) {
        const own = mine;
        return () => {
          releaseLock(path, own);
          if (made !== undefined) removeEmptyFolders(this.dir, made);
        };
      }
      const seen = readLock(path);
      let holder: { pid: number; start?: number; command: string } | undefined;
      try {
        // A lock that is not as overlab writes it (no pid, a pid that is not one) is taken over, as a broken one.
        holder = lockHolder(JSON.parse(seen));
      } catch {
        holder = undefined;
      }
      if (holder && isSameProcess(holder)) {
        throw new LabStateError(oneLine(`the lab is locked by \`overlab ${holder.command}\` (pid ${holder.pid})`), {
          hint: 'Wait for it to finish, or stop it; a lock whose process has died is taken over.',
        });
      }
      breakStaleLock(path, seen);
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
