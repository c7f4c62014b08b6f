// The newcomer's path on a real netns lab: --quiet prints nothing on success (its note goes to
// the lab's log and to status), --provider on every lab command is checked against the lab's
// state, and another user gets one line with the path or the reason, never a stack trace.
// The lab is named nw-* (this machine runs other people's labs at the same time).
import { expect } from 'chai';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { CLI, kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

describe('the newcomer\'s path on a live lab (quiet, --provider, another user)', function () {
  this.timeout(120_000);
  const lab = 'nw-cli';
  let s: Scratch;
  let file: string;

  before(async () => {
    s = new Scratch();
    chmodSync(s.dir, 0o755); // another user must reach the state folder to be refused by it
    // consul preferred, etcd the fallback: up has a note to make.
    file = s.lab(lab, kvLab(lab, { dockers: 1, kv: 'consul', fallback: 'etcd', third: 212 }));
    await s.run(['down', '--force', lab]);
  });
  after(async () => {
    await s.run(['down', '--force', lab]);
    s.dispose();
  });

  it('up --quiet prints nothing on success; its note goes to the lab log and to status', async () => {
    const up = await s.run(['up', '--lab', file, '--quiet']);
    expect(up.exitCode, up.all).to.equal(0);
    expect(up.all).to.equal('');
    expect(readFileSync(join(s.home, lab, 'logs', 'overlab.log'), 'utf8')).to.match(/note: kv: consul is not installed on kv; using the lab's fallback etcd/);
    const st = await s.run(['status', '--lab', file]);
    expect(st.exitCode, st.all).to.equal(0);
    expect(st.stdout).to.match(/^note: consul is not installed on kv; using the lab's fallback etcd/m);
  });

  it('--provider is accepted on every lab command and checked against the state, in one line (exit 73)', async () => {
    for (const args of [['status', file], ['down', file], ['env', 'd0', '--lab', file], ['ssh', 'd0', 'true', '--lab', file], ['test', file], ['up', file]]) {
      const r = await s.run([...args, '--provider', 'vagrant']);
      expect(r.exitCode, `${args[0]}: ${r.all}`).to.equal(73);
      expect(r.stderr.split('\n')[0], args[0]).to.equal(`overlab: lab ${lab} is up on provider netns, not vagrant`);
      expect(r.stderr).to.not.match(/^\s+at /m);
    }
    const ok = await s.run(['status', file, '--provider', 'netns', '--json']);
    expect(ok.exitCode, ok.all).to.equal(0);
    expect(JSON.parse(ok.stdout).notes).to.have.length(1);
  });

  it('another user (no sudo): one line naming the folder and its owner, or that root is needed (exit 77)', async () => {
    const asUser = (args: string[]) =>
      execa('setpriv', ['--reuid', '1000', '--regid', '1000', '--clear-groups', 'node', CLI, ...args], {
        reject: false,
        cwd: s.dir,
        env: { OVERLAB_HOME: s.home, OVERLAB_NO_SUDO: '1', HOME: s.dir },
        extendEnv: false,
      });
    const down = await asUser(['down', file]);
    expect(down.exitCode, down.stderr).to.equal(77);
    expect(down.stderr.split('\n')[0]).to.equal(`overlab: cannot take the lab lock ${s.home}/${lab}/lock: ${s.home}/${lab} belongs to root, not to you (uid 1000); permission denied`);
    const status = await asUser(['status', file]);
    expect(status.exitCode, status.stderr).to.equal(77);
    expect(status.stderr.split('\n')[0]).to.match(/^overlab: the status of lab nw-cli needs root: the netns provider/);
    for (const r of [down, status]) expect(r.stderr).to.not.match(/^\s+at /m);
  });

  it('down clears it', async () => {
    const down = await s.run(['down', '--lab', file, '--quiet']);
    expect(down.exitCode, down.all).to.equal(0);
    expect(down.all).to.equal('');
    expect({ ...(await leftovers(lab)), links: [] }).to.deep.equal(NOTHING_LEFT);
  });
});
