// Test support for integration tests: lab files of their own (names that never clash with a
// user's labs), the real CLI as a subprocess with its own state root, and a census of
// everything a lab may leave on the machine.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { execa, execaSync, type ResultPromise } from 'execa';
import { labPrefix, namespacesWithPrefix, NS_PREFIX, processesInNamedNamespaces } from '../../../harness/system/namespaces.ts';
import { labRuntimeDir } from '../../../harness/state/paths.ts';
import { ROOT_ENGINE_CACHE } from '../../../harness/system/engines.ts';
import { ensureRootOnlyDir } from '../../../harness/system/root-dirs.ts';
import { isSameProcess, processRef, type ProcessRef } from '../../../harness/system/processes.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = join(ROOT, 'bin', 'overlab.js');

/** What every scratch folder's name starts with (see sweepTestLeftovers). */
export const SCRATCH_PREFIX = join(tmpdir(), 'overlab-it-');
/** The file in a scratch folder naming the test process that made it (pid and start time). */
export const SCRATCH_OWNER = 'owner.json';

/** A scratch folder with its own OVERLAB_HOME; removed by `dispose`. */
export class Scratch {
  readonly dir = mkdtempSync(SCRATCH_PREFIX);
  readonly home = join(this.dir, 'state');

  constructor() {
    mkdirSync(this.home);
    // Whose folder this is: a run that is still going keeps its labs (see sweepTestLeftovers).
    writeFileSync(join(this.dir, SCRATCH_OWNER), JSON.stringify(processRef(process.pid)));
  }

  lab(name: string, text: string): string {
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(file, text);
    return file;
  }

  run(args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}) {
    return execa('node', [CLI, ...args], {
      reject: false,
      cwd: this.dir,
      env: { OVERLAB_HOME: this.home, FORCE_COLOR: '0', ...options.env },
      timeout: options.timeoutMs ?? 120_000,
      // A command past its time gets SIGTERM, as from a user's Ctrl-C, and time to end on its own
      // (to take down what it started) before SIGKILL.
      forceKillAfterDelay: 30_000,
      all: true,
    });
  }

  spawn(args: string[]): ResultPromise<{ reject: false; all: true }> {
    return execa('node', [CLI, ...args], { reject: false, cwd: this.dir, env: { OVERLAB_HOME: this.home, FORCE_COLOR: '0' }, all: true });
  }

  private cache: string | undefined;

  /**
   * An engine cache of this test's own (OVERLAB_ENGINE_CACHE) where root keeps its engines: in a
   * folder only root can change (a scratch folder under /tmp is refused); removed by `dispose`.
   */
  engineCache(): string {
    this.cache ??= testEngineCache(this.dir.slice(SCRATCH_PREFIX.length));
    return this.cache;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
    if (this.cache) rmSync(this.cache, { recursive: true, force: true });
  }
}

/** A fresh engine cache folder only root can change, named for a test (remove it after). */
export function testEngineCache(name: string): string {
  const dir = join(dirname(ROOT_ENGINE_CACHE), `test-${name}`);
  ensureRootOnlyDir(dir);
  return dir;
}

/**
 * A shipped lab under another name, so a test never touches a lab the user has up, on the netns
 * provider whatever `auto` would pick on this machine.
 */
export function shippedLab(file: string, name: string): string {
  // Line numbers stay those of the shipped file (stated facts are named by file:line).
  const text = readFileSync(join(ROOT, 'labs', file), 'utf8').replace(/^name: .*$/m, `name: ${name}`);
  return /^provider: /m.test(text) ? text.replace(/^provider: .*$/m, 'provider: netns') : `${text.replace(/\n?$/, '\n')}provider: netns\n`;
}

/** `overlab test --json` output. */
export interface TestRun {
  ok: boolean;
  counts: { tests: number; passed: number; failed: number; pending: number; na: number };
  cases: { suite: string; title: string; state: string; reason?: string; failure?: { kind: string; message: string } }[];
  properties: Record<string, string>;
}

/** A kv-mode lab: one KV host and `dockers` docker hosts, one container each on one overlay. */
export function kvLab(name: string, options: { kv?: string; fallback?: string; dockers?: number; third?: number } = {}): string {
  const n = options.dockers ?? 2;
  const third = options.third ?? 140;
  const hosts = Array.from({ length: n }, (_, i) => `  - name: d${i}\n`).join('');
  const containers = Array.from({ length: n }, (_, i) => `  - name: c${i}\n    host: d${i}\n    networks: [net]\n`).join('');
  return `name: ${name}
provider: netns
network:
  subnet: 172.28.${third}.0/24
hosts:
  - name: kv
    role: kv
${hosts}kv:
  type: ${options.kv ?? 'etcd'}
${options.fallback ? `  fallback: ${options.fallback}\n` : ''}engine:
  mode: kv
networks:
  - name: net
    subnet: 10.0.4.0/24
containers:
${containers}`;
}

export interface Leftovers {
  namespaces: string[];
  processes: number[];
  mounts: string[];
  paths: string[];
  cgroups: string[];
  links: string[];
}

/** Everything of a lab still on the machine, found by its names alone. */
export async function leftovers(lab: string): Promise<Leftovers> {
  const namespaces = namespacesWithPrefix(labPrefix(lab));
  const runtime = labRuntimeDir(lab);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${runtime}/`) || p === runtime || p.startsWith(`/run/netns/${labPrefix(lab)}`));
  const cgroups = readdirSync('/sys/fs/cgroup')
    .flatMap((h) => {
      try {
        return readdirSync(join('/sys/fs/cgroup', h)).filter((d) => d.startsWith(`overlab.${lab}.`)).map((d) => `${h}/${d}`);
      } catch {
        return [];
      }
    });
  const links = rootLinks().filter((l) => !BASELINE_LINKS.includes(l));
  return {
    namespaces,
    processes: processesInNamedNamespaces(namespaces),
    mounts,
    paths: existsSync(runtime) ? [runtime] : [],
    cgroups,
    links,
  };
}

/** Interface names in the machine's own namespace. */
function rootLinks(): string[] {
  return execaSync('ip', ['-o', 'link', 'show']).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
}
/** Taken when the tests load: a lab must add no interface to the machine's namespace. */
const BASELINE_LINKS = rootLinks();

export const NOTHING_LEFT: Leftovers = { namespaces: [], processes: [], mounts: [], paths: [], cgroups: [], links: [] };

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The test process that made this scratch folder still runs (a folder without an owner file is an older run's). */
function runIsAlive(dir: string): boolean {
  try {
    return isSameProcess(JSON.parse(readFileSync(join(dir, SCRATCH_OWNER), 'utf8')) as ProcessRef);
  } catch {
    return false;
  }
}

/** A scratch folder this young may not have its owner file yet (made, not yet written). */
const YOUNG_SCRATCH_MS = 5 * 60_000;

/**
 * Scratch folders of test runs that are gone: the test process named in the folder's owner file
 * is not alive (a folder with no owner file counts only once it is old: it may be being made).
 */
function deadScratchFolders(): string[] {
  const parent = dirname(SCRATCH_PREFIX);
  const prefix = basename(SCRATCH_PREFIX);
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(parent, name))
    .filter((dir) => {
      const st = lstatSync(dir, { throwIfNoEntry: false });
      if (!st?.isDirectory() || st.uid !== 0) return false;
      if (!existsSync(join(dir, SCRATCH_OWNER)) && Date.now() - st.mtimeMs < YOUNG_SCRATCH_MS) return false;
      return !runIsAlive(dir);
    });
}

/** The netns labs whose state is in a scratch folder (VM labs are the VM specs' own to sweep). */
function netnsLabsIn(dir: string): string[] {
  const home = join(dir, 'state');
  const labs = existsSync(home) ? readdirSync(home) : [];
  return labs.filter((lab) => {
    try {
      return (JSON.parse(readFileSync(join(home, lab, 'state.json'), 'utf8')) as { provider?: string }).provider === 'netns';
    } catch {
      return false;
    }
  });
}

/**
 * Labs left on this machine by an earlier test run that was killed before its `after` hooks ran
 * (a CI runner's timeout, a session that ended): a process in the lab's namespaces names a
 * scratch folder whose test process is gone, or that folder's state holds the lab (when every
 * process of the lab was killed too, only its namespaces and runtime folder are left). Each is
 * taken down with `down --force` from its own state, and the folder removed (unless it holds a
 * VM lab, the VM specs' to sweep), so that the fixed test lab names never meet namespaces they
 * cannot own. A user's labs name no scratch folder, and a running test's labs have a live owner:
 * neither is touched. Returns what it removed.
 */
export async function sweepTestLeftovers(): Promise<string[]> {
  const labsOf = new Map<string, Set<string>>();
  const add = (dir: string, lab: string) => labsOf.set(dir, (labsOf.get(dir) ?? new Set()).add(lab));
  const byLab = new Map<string, string[]>();
  for (const ns of namespacesWithPrefix(NS_PREFIX)) {
    const lab = ns.slice(NS_PREFIX.length).split('.')[0]!;
    byLab.set(lab, [...(byLab.get(lab) ?? []), ns]);
  }
  const scratch = new RegExp(`(${SCRATCH_PREFIX.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^/\\s]+)/`);
  for (const [lab, namespaces] of byLab) {
    const dir = processesInNamedNamespaces(namespaces)
      .flatMap((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      })
      .map((arg) => scratch.exec(arg)?.[1])
      .find((d) => d !== undefined);
    if (dir !== undefined && !runIsAlive(dir)) add(dir, lab);
  }
  const dead = deadScratchFolders();
  for (const dir of dead) for (const lab of netnsLabsIn(dir)) add(dir, lab);

  const swept: string[] = [];
  for (const [dir, labs] of labsOf) {
    for (const lab of labs) {
      const down = await execa('node', [CLI, 'down', '--force', lab, '--quiet'], { reject: false, cwd: tmpdir(), env: { OVERLAB_HOME: join(dir, 'state') }, all: true, timeout: 120_000 });
      if (down.exitCode !== 0) throw new Error(`cannot remove lab ${lab}, left by an earlier test run in ${dir}: ${down.all}`);
      swept.push(`${lab} (${dir})`);
    }
  }
  // The folders once all their labs are down (each down reads its lab's state there).
  for (const dir of new Set([...labsOf.keys(), ...dead])) {
    const home = join(dir, 'state');
    const remaining = existsSync(home) ? readdirSync(home).filter((lab) => existsSync(join(home, lab, 'state.json'))) : [];
    if (remaining.length === 0) rmSync(dir, { recursive: true, force: true }); // (VM labs stay, with their folder)
  }
  return swept;
}
