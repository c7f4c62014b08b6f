// The suite's own hygiene on a machine that keeps its state between runs: a lab left up by a test
// run that was killed (no `after` hook ran) is taken down by the next run's root hook
// (specs/support/leftovers-hook.ts), and a lab that is not a test run's is left alone.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { labPrefix, namespacesWithPrefix, processesInNamedNamespaces } from '../../harness/system/namespaces.ts';
import { processRef } from '../../harness/system/processes.ts';
import { CLI, kvLab, leftovers, NOTHING_LEFT, Scratch, SCRATCH_OWNER, sweepTestLeftovers } from './support/labs.ts';

describe('leftovers of a killed test run', function () {
  this.timeout(180_000);
  let killed: Scratch;
  let live: Scratch;
  let userDir: string;
  const user = (args: string[]) => execa('node', [CLI, ...args], { reject: false, cwd: userDir, env: { FORCE_COLOR: '0' }, all: true });

  before(() => {
    killed = new Scratch();
    live = new Scratch();
    userDir = mkdtempSync(join(tmpdir(), 'overlab-user-'));
  });
  after(async () => {
    await killed.run(['down', '--force', 'it-left']);
    await user(['down', '--force', 'it-user']);
    await live.run(['down', '--force', 'it-live']);
    live.dispose();
    killed.dispose();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('takes down a lab whose processes name a scratch folder of a test process that is gone, removes that folder, and leaves up a running test\'s lab and a lab of another state home', async () => {
    const left = await killed.run(['up', '--lab', killed.lab('it-left', kvLab('it-left', { dockers: 1, third: 151 })), '--quiet']);
    expect(left.exitCode, left.all).to.equal(0);
    // A user's lab, in a folder of its own (./.overlab there).
    const file = join(userDir, 'it-user.yaml');
    await execa('cp', [killed.lab('it-user', kvLab('it-user', { dockers: 1, third: 152 })), file]);
    const up = await user(['up', '--lab', file, '--quiet']);
    expect(up.exitCode, up.all).to.equal(0);
    // A lab of this very run, whose owner (this process) is alive.
    const running = await live.run(['up', '--lab', live.lab('it-live', kvLab('it-live', { dockers: 1, third: 154 })), '--quiet']);
    expect(running.exitCode, running.all).to.equal(0);

    // The run that made `killed` is gone: its owner's pid now belongs to another process (this one).
    const me = processRef(process.pid);
    writeFileSync(join(killed.dir, SCRATCH_OWNER), JSON.stringify({ pid: me.pid, start: me.start! + 1 }));
    const swept = await sweepTestLeftovers();
    expect(swept).to.deep.equal([`it-left (${killed.dir})`]);
    expect(existsSync(killed.dir)).to.equal(false);
    expect(await leftovers('it-left')).to.deep.equal(NOTHING_LEFT);
    const status = await user(['status', 'it-user', '--json']);
    expect(status.exitCode, status.all).to.equal(0);
    expect((JSON.parse(status.stdout) as { phase: string }).phase).to.equal('up');
    expect(namespacesWithPrefix(labPrefix('it-live'))).to.not.be.empty;
    expect(await sweepTestLeftovers()).to.deep.equal([]);
  });

  it('takes down a lab of a gone test run whose every process was killed too (only its namespaces, runtime folder and state are left), as when a session ends', async () => {
    const gone = new Scratch();
    try {
      const up = await gone.run(['up', '--lab', gone.lab('it-gone', kvLab('it-gone', { dockers: 1, third: 153 })), '--quiet']);
      expect(up.exitCode, up.all).to.equal(0);
      // Every process of the lab, SIGKILLed as a machine's end of session does: what runs in its
      // namespaces and in its cgroups (the containers, in namespaces of their own).
      const pids = () => [...new Set([...processesInNamedNamespaces(namespacesWithPrefix(labPrefix('it-gone'))), ...cgroupPids('it-gone')])];
      for (let round = 0; round < 50 && pids().length; round++) {
        for (const pid of pids()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone already.
          }
        }
        await sleep(100);
      }
      expect(pids(), 'no process of the lab is left').to.deep.equal([]);
      expect(namespacesWithPrefix(labPrefix('it-gone')), 'its namespaces are still there').to.have.length(3);
      const me = processRef(process.pid);
      writeFileSync(join(gone.dir, SCRATCH_OWNER), JSON.stringify({ pid: me.pid, start: me.start! + 1 }));

      const swept = await sweepTestLeftovers();
      expect(swept).to.deep.equal([`it-gone (${gone.dir})`]);
      expect(existsSync(gone.dir)).to.equal(false);
      expect(await leftovers('it-gone')).to.deep.equal(NOTHING_LEFT);
      expect(namespacesWithPrefix(labPrefix('it-live')), 'a running test\'s lab stays').to.not.be.empty;
    } finally {
      if (existsSync(gone.dir)) await gone.run(['down', '--force', 'it-gone']);
      gone.dispose();
    }
  });
});

/** The processes in a lab's cgroups (`overlab.LAB.*` in every hierarchy, nested ones too). */
function cgroupPids(lab: string): number[] {
  const pids: number[] = [];
  const walk = (dir: string) => {
    const procs = join(dir, 'cgroup.procs');
    if (existsSync(procs)) pids.push(...readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number));
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      for (const d of readdirSync(join('/sys/fs/cgroup', h)).filter((n) => n.startsWith(`overlab.${lab}.`))) walk(join('/sys/fs/cgroup', h, d));
    } catch {
      // Not a hierarchy folder.
    }
  }
  return pids;
}
