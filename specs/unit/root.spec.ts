// Root, and not: the scripts that need root run themselves again with sudo when they can, or
// say what to run (a fake `id` and `sudo` on PATH play the user); the CLI's root check offers
// sudo only for errors root would fix; a state folder of another user is one line with its
// path, owner and the chown; a lab up on another provider is refused in one line.
import { expect } from 'chai';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LabStateError, PermissionError, permissionProblem } from '../../harness/errors.ts';
import { elevation } from '../../harness/cli/root.ts';
import { checkRecordedProvider } from '../../harness/lifecycle/access.ts';
import { requireRoot } from '../../harness/providers/index.ts';
import type { LabState } from '../../harness/state/store.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('root', () => {
  let dir: string;
  let bin: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-root-'));
    bin = join(dir, 'bin');
    mkdirSync(bin);
    // Only what the scripts' preamble uses, so a real sudo on this machine is never found.
    for (const tool of ['bash', 'readlink', 'dirname', 'basename', 'env', 'cat', 'sed']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    writeFileSync(join(bin, 'id'), '#!/bin/bash\n[ "$1" = -u ] && echo 1000\n');
    chmodSync(join(bin, 'id'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (script: string, ...args: string[]) =>
    spawnSync('/usr/bin/bash', [join(ROOT, 'scripts', script), ...args], { env: { PATH: bin }, encoding: 'utf8' });

  for (const script of ['setup-host.sh', 'test-all.sh', 'test-vm.sh']) {
    describe(`scripts/${script} as a user`, () => {
      it('runs itself again with sudo when sudo is installed, with its arguments and PATH, and says so', () => {
        writeFileSync(join(bin, 'sudo'), `#!/bin/bash\nprintf '%s\\n' "$@" > ${dir}/sudo.args\nexit 42\n`);
        chmodSync(join(bin, 'sudo'), 0o755);
        const r = run(script, '--with-zookeeper');
        expect(r.status, r.stderr).to.equal(42); // sudo's own status is the script's
        expect(r.stderr).to.match(/needs root; running it again with sudo\n$/);
        expect(readFileSync(join(dir, 'sudo.args'), 'utf8').split('\n').filter(Boolean)).to.deep.equal([
          '--',
          'env',
          `PATH=${bin}`,
          'bash',
          join(ROOT, 'scripts', script),
          '--with-zookeeper',
        ]);
      });
      it('without sudo, says to run it as root, in one line, and exits 77', () => {
        const r = run(script, '--with-zookeeper');
        expect(r.status).to.equal(77);
        expect(r.stderr.trim().split('\n')).to.have.length(1);
        expect(r.stderr).to.include('needs root, and sudo is not installed: run it as root');
        expect(r.stderr).to.include(join(ROOT, 'scripts', script));
      });
    });
  }

  it('the scripts and their shared preamble pass shellcheck (following the source)', () => {
    const r = spawnSync('/usr/bin/shellcheck', ['-x', 'scripts/lib/need-root.sh', 'scripts/setup-host.sh', 'scripts/test-all.sh', 'scripts/test-suite.sh', 'scripts/test-vm.sh', 'scripts/build-box.sh', 'scripts/readme-command.sh', '.ci/run'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  describe("the CLI's root check", () => {
    const needsRoot = new PermissionError('lab tutorial needs root', { root: true });
    const base = { uid: 1000, sudo: '/usr/bin/sudo', argv: ['/usr/bin/node', '/clone/bin/overlab.js', 'up', '--quiet'], execPath: '/usr/bin/node', env: { OVERLAB_HOME: '/h', HOME: '/home/u' } };
    it('runs the same command through sudo, passing OVERLAB_* and marking the run', () => {
      const e = elevation(needsRoot, base)!;
      expect(e.argv).to.deep.equal(['/usr/bin/sudo', '--', 'env', 'OVERLAB_HOME=/h', 'OVERLAB_ELEVATED=1', '/usr/bin/node', '/clone/bin/overlab.js', 'up', '--quiet']);
      expect(e.notice).to.equal('overlab: lab tutorial needs root; running it again with sudo');
    });
    it('does not when root, without sudo, when already elevated, with OVERLAB_NO_SUDO, or for errors root would not fix', () => {
      expect(elevation(needsRoot, { ...base, uid: 0 })).to.equal(undefined);
      expect(elevation(needsRoot, { ...base, sudo: undefined })).to.equal(undefined);
      expect(elevation(needsRoot, { ...base, env: { OVERLAB_ELEVATED: '1' } })).to.equal(undefined);
      expect(elevation(needsRoot, { ...base, env: { OVERLAB_NO_SUDO: '1' } })).to.equal(undefined);
      expect(elevation(new PermissionError('folder of uid 1001', { root: false }), base)).to.equal(undefined);
      expect(elevation(new LabStateError('locked'), base)).to.equal(undefined);
    });
    it('the netns provider needs root: one line naming what needs it (exit 77)', () => {
      const getuid = process.getuid;
      process.getuid = () => 1000;
      try {
        expect(() => requireRoot('netns', 'lab tutorial')).to.throw(PermissionError, /^lab tutorial needs root: the netns provider .* \(you are uid 1000\)$/);
        expect(() => requireRoot('vagrant', 'lab tutorial')).to.not.throw();
      } finally {
        process.getuid = getuid;
      }
      expect(new PermissionError('x', { root: true }).exitCode).to.equal(77);
    });
  });

  it('a state folder of another user: one line with the path, its owner and the chown', () => {
    const state = join(dir, 'state', 'tutorial');
    mkdirSync(state, { recursive: true });
    chownSync(state, 1001, 1001);
    const err = Object.assign(new Error(`EACCES: permission denied, open '${state}/lock'`), { code: 'EACCES', path: join(state, 'lock') });
    const getuid = process.getuid;
    process.getuid = () => 1000;
    try {
      const p = permissionProblem(err, 'take the lab lock') as PermissionError;
      expect(p).to.be.instanceOf(PermissionError);
      expect(p.message).to.equal(`cannot take the lab lock ${state}/lock: ${state} belongs to uid 1001, not to you (uid 1000); permission denied`);
      expect(p.hint).to.equal(`Run the command as uid 1001, or take the folder back: sudo chown -R 1000 ${state}`);
      expect(p.root).to.equal(true);
    } finally {
      process.getuid = getuid;
    }
    expect(permissionProblem(new Error('other'), 'x')).to.be.instanceOf(Error).and.not.instanceOf(PermissionError);
  });

  it('a lab up on another provider: refused in one line', () => {
    const state = { lab: 'tutorial', provider: 'netns', phase: 'up' } as LabState;
    expect(() => checkRecordedProvider('tutorial', state, 'vagrant')).to.throw(LabStateError, /^lab tutorial is up on provider netns, not vagrant$/);
    expect(() => checkRecordedProvider('tutorial', state, 'netns')).to.not.throw();
    expect(() => checkRecordedProvider('tutorial', state, 'auto')).to.not.throw();
    expect(() => checkRecordedProvider('tutorial', undefined, 'vagrant')).to.not.throw();
  });
});
