import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isPresent, isSameProcess, processRef, procStat, startTimeOf, stopProcess } from '../../harness/system/processes.ts';

describe('processes recorded by pid and start time', () => {
  const children: ChildProcess[] = [];
  let dir = '';

  /** A sleeping process (under a command name that may hold spaces and parentheses). */
  function sleeper(name?: string): ChildProcess {
    const bin = name === undefined ? '/bin/sleep' : join(dir, name);
    if (name !== undefined) copyFileSync('/bin/sleep', bin);
    const child = spawn(bin, ['60'], { stdio: 'ignore' });
    children.push(child);
    return child;
  }

  const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-processes-'));
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the start time of a running process, the same every time, and none for a process that is gone', async () => {
    const child = sleeper();
    const start = startTimeOf(child.pid!);
    expect(start).to.be.a('number').and.greaterThan(0);
    expect(startTimeOf(child.pid!)).to.equal(start);
    expect(startTimeOf(process.pid)).to.be.at.most(start!);
    child.kill('SIGKILL');
    await exited(child);
    expect(startTimeOf(child.pid!)).to.equal(undefined);
  });

  it('reads it behind a command name with spaces and parentheses', () => {
    const child = sleeper('a) b (c');
    // proc(5): field 22 of /proc/PID/stat, counted after the command name's last ')'.
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const expected = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    expect(stat).to.include('(a) b (c)');
    expect(expected).to.be.greaterThan(0);
    expect(startTimeOf(child.pid!)).to.equal(expected);
    expect(processRef(child.pid!).start).to.equal(startTimeOf(child.pid!));
  });

  it('tells the recorded process from another one given the same pid', () => {
    const child = sleeper();
    const ref = processRef(child.pid!);
    expect(isSameProcess(ref)).to.equal(true);
    expect(isSameProcess({ pid: ref.pid, start: ref.start! + 1 })).to.equal(false);
    // An older state file without start times: the pid alone.
    expect(isSameProcess({ pid: ref.pid })).to.equal(true);
  });

  it('stopProcess leaves a process alone when its start time is not the recorded one, and stops the recorded one', async () => {
    const child = sleeper();
    const ref = processRef(child.pid!);
    await stopProcess({ pid: ref.pid, start: ref.start! - 1 }, 100);
    expect(isSameProcess(ref), 'a recycled pid is not killed').to.equal(true);
    await stopProcess(ref, 2_000);
    await exited(child);
    expect(child.signalCode).to.equal('SIGTERM');
  });

  it('a process that exited but is not reaped yet (a zombie) is no longer the same process, but still present until reaped', async function () {
    this.timeout(20_000);
    // sh starts `sleep 0` and becomes `sleep 5`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 5'], { stdio: 'ignore' });
    children.push(parent);
    let zombie: number | undefined;
    for (let i = 0; i < 200 && zombie === undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const kids = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      zombie = kids.find((k) => procStat(k)?.state === 'Z');
    }
    expect(zombie, 'a zombie child').to.be.a('number');
    const ref = processRef(zombie!);
    expect(isSameProcess(ref)).to.equal(false);
    expect(isPresent(ref)).to.equal(true);
    expect(isPresent({ pid: ref.pid, start: ref.start! + 1 })).to.equal(false);
    parent.kill('SIGKILL');
    await exited(parent);
    // Reaped by whoever adopts it (init here reaps late): bounded.
    for (let i = 0; i < 1500 && isPresent(ref); i++) await new Promise((r) => setTimeout(r, 10));
    expect(isPresent(ref)).to.equal(false);
  });
});
