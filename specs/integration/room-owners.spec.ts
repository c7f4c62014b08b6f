// A workshop server: two copies of the engines-alone lab, each handed to a student (two Unix
// accounts the test makes, with no sudo). Each student, as themselves: makes the swarm and an
// overlay from the handout as typed, with the stock docker CLI; runs status, test and ssh on
// their copy. Neither reaches the other's copy (refused, naming the owner), changes a lab (up,
// down, faults stay root's), or gets root to touch what is not theirs: a process the student
// leaves in their host naming the other copy's folder does not make root's `down` of that copy
// take theirs, and a link planted in their folder does not make root's `down` remove what it
// points at. Nothing of either copy is left.
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { CLI, leftovers, NOTHING_LEFT, ROOT, Scratch, shippedLab } from './support/labs.ts';

const BASE = 'ro-cls';
const COPIES = ['ro-cls-01', 'ro-cls-02'] as const;
const STUDENTS = ['ovl-st1', 'ovl-st2'] as const;

interface Student {
  name: string;
  uid: number;
  home: string;
}

describe('a workshop server: each student their own lab, and nothing of the others (two Unix users, netns)', function () {
  this.timeout(400_000);
  let s: Scratch;
  let cli = CLI;
  const students: Student[] = [];

  const removeUsers = async () => {
    for (const name of STUDENTS) await execa('userdel', [name], { reject: false });
  };

  /** A command as a student: their uid, their groups only, no sudo, the room's state folder. */
  const as = (st: Student, argv: string[], env: Record<string, string> = {}) =>
    execa('setpriv', ['--reuid', String(st.uid), '--regid', String(st.uid), '--init-groups', '--', ...argv], {
      reject: false,
      all: true,
      cwd: s.dir,
      env: { HOME: st.home, OVERLAB_HOME: s.home, OVERLAB_NO_SUDO: '1', FORCE_COLOR: '0', PATH: process.env['PATH']!, ...env },
      extendEnv: false,
      timeout: 180_000,
    });
  const overlab = (st: Student, args: string[]) => as(st, ['node', cli, ...args]);

  before(async () => {
    s = new Scratch();
    // The room's folder is one the students can read (a mkdtemp folder is its maker's alone).
    chmodSync(s.dir, 0o755);
    chmodSync(s.home, 0o755);
    await removeUsers(); // an interrupted run's
    for (const name of STUDENTS) {
      const home = join(s.dir, `home-${name}`);
      const add = await execa('useradd', ['--system', '--no-create-home', '--home-dir', home, '--shell', '/bin/sh', name], { reject: false, all: true });
      expect(add.exitCode, add.all).to.equal(0);
      const uid = Number((await execa('id', ['-u', name])).stdout);
      mkdirSync(home);
      chownSync(home, uid, uid);
      students.push({ name, uid, home });
    }
    // The students run this checkout's overlab; where its folder is not theirs to read (a clone
    // under /root), a copy of it in the room's folder.
    const readable = await as(students[0]!, ['test', '-r', CLI]);
    if (readable.exitCode !== 0) {
      const copy = join(s.dir, 'overlab');
      cpSync(ROOT, copy, { recursive: true, filter: (src) => !/\/(\.git|\.overlab)$/.test(src) });
      cli = join(copy, 'bin', 'overlab.js');
    }
    const file = s.lab(BASE, shippedLab('swarm-class.yaml', BASE));
    const up = await s.run(['up', file, '--copies', '2', '--owner', STUDENTS.join(','), '--json'], { timeoutMs: 300_000 });
    expect(up.exitCode, up.all).to.equal(0);
  });

  after(async () => {
    await s.run(['down', '--all', '--quiet'], { timeoutMs: 120_000 });
    await removeUsers();
    s.dispose();
  });

  it('status --all shows root every copy with its owner, and each student only their own', async () => {
    const root = await s.run(['status', '--all', '--json']);
    expect((JSON.parse(root.stdout) as { labs: { lab: string; owner?: string }[] }).labs.map((l) => [l.lab, l.owner])).to.deep.equal([
      [COPIES[0], `user ${STUDENTS[0]} (uid ${students[0]!.uid})`],
      [COPIES[1], `user ${STUDENTS[1]} (uid ${students[1]!.uid})`],
    ]);
    const mine = await overlab(students[0]!, ['status', '--all', '--json']);
    expect(mine.exitCode, mine.all).to.equal(0);
    expect((JSON.parse(mine.stdout) as { labs: { lab: string }[] }).labs.map((l) => l.lab)).to.deep.equal([COPIES[0]]);
    // ls too; and a host name alone finds the student's copy (both copies have a manager).
    const ls = await overlab(students[0]!, ['ls', '--json']);
    expect(ls.exitCode, ls.all).to.equal(0);
    expect([...new Set((JSON.parse(ls.stdout) as { lab: string }[]).map((r) => r.lab))]).to.deep.equal([COPIES[0]]);
    const env = await overlab(students[0]!, ['env', 'manager', '--json']);
    expect(env.exitCode, env.all).to.equal(0);
    expect(JSON.parse(env.stdout)).to.deep.equal({ DOCKER_HOST: `unix:///run/overlab/${COPIES[0]}/owner/manager.docker.sock`, DOCKER_MACHINE_NAME: 'manager' });
  });

  it("a student makes the swarm and an overlay from their handout, as typed, with the stock docker CLI, and their lab's specs pass", async () => {
    const out = join(s.dir, 'handouts');
    const h = await s.run(['handout', '--all', '--out', out]);
    expect(h.exitCode, h.all).to.equal(0);
    const md = readFileSync(join(out, `${COPIES[0]}.md`), 'utf8');
    expect(md).to.include(`This lab is handed to user ${STUDENTS[0]} (uid ${students[0]!.uid})`);
    const blocks = md
      .split('\n## ')
      .slice(1)
      .map((section) => ({ title: section.split('\n')[0]!, text: /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '' }));
    expect(blocks.map((b) => b.title)).to.include.members(['Your lab', 'Make the swarm', 'An overlay of your own across the hosts', 'Check your lab']);
    for (const b of blocks.filter((x) => x.title !== 'A shell on a host')) {
      const script = `set -e\nnpx() { shift; node ${JSON.stringify(cli)} "$@"; }\n${b.text}`;
      const run = await as(students[0]!, ['bash', '-c', script]);
      expect(run.exitCode, `${b.title}:\n${b.text}\n${run.all}`).to.equal(0);
    }
    // What the blocks did, seen by the student's own CLI: three nodes, c0 on the overlay.
    const env = JSON.parse((await overlab(students[0]!, ['env', 'worker2', '--lab', COPIES[0], '--json'])).stdout) as { DOCKER_HOST: string };
    expect(env.DOCKER_HOST).to.equal(`unix:///run/overlab/${COPIES[0]}/owner/worker2.docker.sock`);
    const nodes = await as(students[0]!, ['docker', '-H', `unix:///run/overlab/${COPIES[0]}/owner/manager.docker.sock`, 'node', 'ls', '--format', '{{.Hostname}} {{.Status}}']);
    expect(nodes.stdout.split('\n').sort(), nodes.all).to.deep.equal(['manager Ready', 'worker1 Ready', 'worker2 Ready']);
    const test = await overlab(students[0]!, ['test', '--lab', COPIES[0], '--json']);
    expect(test.exitCode, test.all).to.equal(0);
    const report = JSON.parse(test.stdout) as { counts: { passed: number; failed: number }; reports: { json: string } };
    expect(report.counts).to.include({ passed: 1, failed: 0 });
    expect(report.reports.json, 'in the student\'s own folder of the lab').to.equal(join(s.home, COPIES[0], 'owner', 'reports', 'report.json'));
    const ssh = await overlab(students[0]!, ['ssh', 'worker1', '--lab', COPIES[0], '--', 'hostname']);
    expect(ssh.exitCode, ssh.all).to.equal(0);
    expect(ssh.stdout.trim()).to.equal('worker1');
  });

  it("a student reaches nothing of another student's copy: overlab refuses, naming the owner, and the sockets refuse the docker CLI", async () => {
    const [st1] = students;
    const owner = `user ${STUDENTS[1]} (uid ${students[1]!.uid})`;
    for (const [args, what] of [
      [['env', 'manager', '--lab', COPIES[1]], 'use its engines'],
      [['status', '--lab', COPIES[1]], 'see its status'],
      [['test', '--lab', COPIES[1]], 'run its specs'],
      [['ssh', 'manager', '--lab', COPIES[1], '--', 'true'], 'ssh to its hosts'],
      [['graph', '--lab', COPIES[1]], 'see its status'],
    ] as const) {
      const r = await overlab(st1!, [...args]);
      expect(r.exitCode, `${args.join(' ')}: ${r.all}`).to.equal(77);
      expect(r.all).to.include(`lab ${COPIES[1]} is handed to ${owner}; you (uid ${st1!.uid}) may not ${what}`);
    }
    for (const socket of [`/run/overlab/${COPIES[1]}/owner/manager.docker.sock`, `/run/overlab/${COPIES[1]}/manager/docker.sock`]) {
      const r = await as(st1!, ['docker', '-H', `unix://${socket}`, 'ps']);
      expect(r.exitCode, r.all).to.not.equal(0);
      expect(r.all).to.include('permission denied');
    }
    // Root's key and the other student's key are not theirs to read either.
    for (const key of [join(s.home, COPIES[1], 'owner', 'id_ed25519'), join(s.home, COPIES[1], 'ssh', 'id_ed25519')]) {
      expect((await as(st1!, ['cat', key])).exitCode, key).to.not.equal(0);
    }
  });

  it('a student changes no lab: up, down and faults of their own copy need root; up --as the other copy is refused', async () => {
    const [st1] = students;
    const file = join(s.dir, `${BASE}.yaml`);
    for (const args of [['down', '--lab', COPIES[0]], ['fault', 'kill-engine', 'worker1', '--lab', COPIES[0]], ['up', file, '--as', COPIES[0]], ['test', '--lab', COPIES[0], '--faults']]) {
      const r = await overlab(st1!, args);
      expect(r.exitCode, `${args.join(' ')}: ${r.all}`).to.equal(77);
      expect(r.all).to.match(new RegExp(`lab ${COPIES[0]} is handed to user ${STUDENTS[0]} \\(uid ${st1!.uid}\\), who may use it, not change it: .* needs root`));
    }
    const other = await overlab(st1!, ['up', file, '--as', COPIES[1]]);
    expect(other.exitCode, other.all).to.equal(77);
    expect(other.all).to.include(`lab ${COPIES[1]} is handed to user ${STUDENTS[1]}`);
    const st = JSON.parse((await s.run(['status', '--all', '--json'])).stdout) as { labs: { lab: string; phase: string; hosts: { running: number } }[] };
    expect(st.labs.map((l) => [l.lab, l.phase, l.hosts.running])).to.deep.equal([
      [COPIES[0], 'up', 3],
      [COPIES[1], 'up', 3],
    ]);
  });

  it("root's down of the other copy leaves the student's copy whole, though a process of theirs names the other copy's folder", async () => {
    const [st1] = students;
    // As root on their own host (overlab ssh): a process naming the other copy's runtime folder.
    const planted = await overlab(st1!, ['ssh', 'manager', '--lab', COPIES[0], '--', 'sh', '-c', `nohup tail -f /run/overlab/${COPIES[1]}/hosts >/dev/null 2>&1 </dev/null & echo started`]);
    expect(planted.exitCode, planted.all).to.equal(0);
    const down = await s.run(['down', '--lab', COPIES[1], '--json']);
    expect(down.exitCode, down.all).to.equal(0);
    expect(await leftovers(COPIES[1])).to.deep.equal(NOTHING_LEFT);
    const status = await overlab(st1!, ['status', '--lab', COPIES[0], '--json']);
    expect(status.exitCode, status.all).to.equal(0);
    expect((JSON.parse(status.stdout) as { hosts: { state: string }[] }).hosts.map((h) => h.state)).to.deep.equal(['running', 'running', 'running']);
    const test = await overlab(st1!, ['test', '--lab', COPIES[0], '--json']);
    expect(test.exitCode, test.all).to.equal(0);
  });

  // Mocha runs a suite's own tests before its nested suites: the end of the room is a suite of its own.
  describe('at the end of the workshop', () => {
    it("root's down removes the student's folder without following a link they planted in it, and leaves nothing", async () => {
      const [st1] = students;
      const canary = join(s.dir, 'canary');
      mkdirSync(canary);
      writeFileSync(join(canary, 'keep'), 'untouched\n');
      const folder = join(s.home, COPIES[0], 'owner');
      const link = await as(st1!, ['ln', '-s', canary, join(folder, 'reports', 'link-to-canary')]);
      expect(link.exitCode, link.all).to.equal(0);
      const down = await s.run(['down', '--lab', COPIES[0], '--json']);
      expect(down.exitCode, down.all).to.equal(0);
      expect(existsSync(folder)).to.equal(false);
      expect(readFileSync(join(canary, 'keep'), 'utf8')).to.equal('untouched\n');
      for (const lab of COPIES) {
        expect(await leftovers(lab), lab).to.deep.equal(NOTHING_LEFT);
        const relays = await execa('pgrep', ['-f', `/run/overlab/${lab}/`], { reject: false });
        expect(relays.stdout, `processes naming ${lab}'s runtime folder`).to.equal('');
      }
    });
  });
});
