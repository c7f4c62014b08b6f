// Folders root writes into: made only root-only, and refused when another user could change
// them (what a local user who made /tmp/overlab first could do to `up` before). Real folders,
// under /run (only root can make entries there), removed after each test.
import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { PrerequisiteError } from '../../harness/errors.ts';
import { ensureRootOnlyDir, notRootOnly } from '../../harness/system/root-dirs.ts';
import { RUNTIME_ROOT } from '../../harness/state/paths.ts';

const stat = (o: Partial<{ dir: boolean; link: boolean; uid: number; mode: number }>) => ({
  isDirectory: () => o.dir ?? true,
  isSymbolicLink: () => o.link ?? false,
  uid: o.uid ?? 0,
  mode: o.mode ?? 0o40755,
});

describe('folders only root can change', () => {
  it('the runtime root is under /run, which only root can make entries in (not /tmp)', () => {
    expect(RUNTIME_ROOT).to.equal('/run/overlab');
  });

  it('says why a folder is not one: a link, not a folder, another owner, writable by group or others', () => {
    expect(notRootOnly(stat({}))).to.equal(undefined);
    expect(notRootOnly(stat({ mode: 0o40700 }))).to.equal(undefined);
    expect(notRootOnly(stat({ link: true }))).to.equal('is a symbolic link');
    expect(notRootOnly(stat({ dir: false }))).to.equal('is not a folder');
    expect(notRootOnly(stat({ uid: 1000 }))).to.equal('belongs to user 1000 (uid 1000), not root');
    expect(notRootOnly(stat({ mode: 0o40775 }))).to.equal('can be changed by its group (mode 0775)');
    expect(notRootOnly(stat({ mode: 0o41777 }))).to.equal('can be changed by every user (mode 1777)');
  });

  describe('ensureRootOnlyDir (as root, for real)', function () {
    let dir = '';
    before(function () {
      if (process.getuid?.() !== 0) this.skip();
    });
    beforeEach(() => {
      dir = join('/run', `overlab-unit-${randomBytes(4).toString('hex')}`);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('makes the folder root-owned, mode 0755, and accepts it the next time', () => {
      ensureRootOnlyDir(dir);
      const st = lstatSync(dir);
      expect(st.uid).to.equal(0);
      expect(st.mode & 0o022).to.equal(0);
      ensureRootOnlyDir(dir);
    });

    it('refuses one another user made first, naming the owner, and leaves it alone', () => {
      mkdirSync(dir);
      chownSync(dir, 65534, 65534);
      const error = (() => {
        try {
          ensureRootOnlyDir(dir);
        } catch (e) {
          return e;
        }
      })();
      expect(error).to.be.instanceOf(PrerequisiteError);
      expect(String((error as Error).message)).to.equal(`${dir} belongs to user 65534 (uid 65534), not root: overlab runs as root and writes only into folders no other user can change`);
      expect(lstatSync(dir).uid).to.equal(65534);
    });

    it('refuses one every user can write to, and a link in its place', () => {
      mkdirSync(dir);
      chmodSync(dir, 0o1777);
      expect(() => ensureRootOnlyDir(dir)).to.throw(PrerequisiteError, 'can be changed by every user (mode 1777)');
      rmSync(dir, { recursive: true });
      symlinkSync('/etc', dir);
      expect(() => ensureRootOnlyDir(dir)).to.throw(PrerequisiteError, `${dir} is a symbolic link`);
    });

    it('refuses a folder under a parent others can change (/tmp), before making anything', () => {
      const under = join('/tmp', `overlab-unit-${randomBytes(4).toString('hex')}`);
      expect(() => ensureRootOnlyDir(under)).to.throw(PrerequisiteError, '/tmp can be changed by every user');
      expect(() => lstatSync(under)).to.throw();
    });
  });
});
