// Namespaces are known by inode number, and the kernel hands a freed number to the next
// namespace made on the machine. `down` kills what runs in its lab's namespaces in rounds, and
// between rounds the lab's last process in a namespace dies: compared by number alone, the next
// namespace another lab makes (its `ip -n`, its runc init) would be taken for the lab's and its
// process killed. That killed a matrix cell's container start ("read init-p: connection reset
// by peer") while a neighbouring cell went down. Real processes in real mount namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { killProcessesIn, mountNamespaceOf, pinNamespaces, processesInNamespaces } from '../../harness/system/namespaces.ts';
import { isSameProcess, processRef } from '../../harness/system/processes.ts';

describe('namespaces pinned while their processes die (several labs on one machine)', function () {
  this.timeout(20_000);
  const children: ChildProcess[] = [];

  /** A sleep in a mount namespace of its own, once it runs there. */
  async function inNewMountNamespace(): Promise<ChildProcess> {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '60'], { stdio: 'ignore' });
    children.push(child);
    for (let i = 0; i < 200; i++) {
      try {
        if (readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'sleep') return child;
      } catch {
        // Not there yet.
      }
      await sleep(10);
    }
    throw new Error('unshare never ran sleep');
  }

  const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('the kernel gives the next namespace made the lowest free number, so a freed one comes back at once (why numbers alone are not enough)', async () => {
    const first = await inNewMountNamespace();
    const number = mountNamespaceOf(first.pid!)!;
    first.kill('SIGKILL');
    await exited(first);
    const next = await inNewMountNamespace();
    // Its own number, or a lower one that another namespace of the machine freed meanwhile (the
    // kernel frees network namespaces from a work queue, some time after their last user).
    expect(mountNamespaceOf(next.pid!)).to.be.at.most(number);
    next.kill('SIGKILL');
  });

  it('a namespace made after the pinned one\'s processes died is not taken for it, and its process lives', async () => {
    const lab = await inNewMountNamespace();
    const pins = pinNamespaces({ net: [], mnt: [`/proc/${lab.pid}/ns/mnt`] });
    try {
      const number = [...pins.mnt][0]!;
      expect(number).to.equal(mountNamespaceOf(lab.pid!));
      expect(await killProcessesIn(pins)).to.deep.equal([`sleep (pid ${lab.pid})`]);
      await exited(lab);
      // Another lab makes a namespace now, while this one's `down` still holds its numbers.
      const other = await inNewMountNamespace();
      const ref = processRef(other.pid!);
      expect(mountNamespaceOf(other.pid!)).to.not.equal(number);
      expect(processesInNamespaces(pins)).to.deep.equal([]);
      expect(await killProcessesIn(pins, { rounds: 3 })).to.deep.equal([]);
      expect(isSameProcess(ref), 'the other lab\'s process was killed').to.equal(true);
    } finally {
      pins.release();
    }
  });

  it('skips the namespaces it is told are the machine\'s own, and paths that are gone', () => {
    const own = mountNamespaceOf(process.pid);
    const pins = pinNamespaces({ net: ['/run/netns/ovl.no-such-lab.x'], mnt: [`/proc/${process.pid}/ns/mnt`, '/proc/0/ns/mnt'] }, new Set([own]));
    try {
      expect(pins.net.size).to.equal(0);
      expect(pins.mnt.size).to.equal(0);
    } finally {
      pins.release();
    }
  });
});
