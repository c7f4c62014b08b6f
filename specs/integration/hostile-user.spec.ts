// A local user without sudo (uid 4242, set with setpriv) against root's overlab: the places
// root writes into are ones that user cannot make or change, and where such a place is the
// user's after all (made before overlab ran, as /tmp/overlab could be), overlab refuses it,
// naming the owner, and writes nothing through it (a canary file stays as it was).
// suite: alone (hands the runtime root every lab shares to another user for a moment)
import { expect } from 'chai';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { RUNTIME_ROOT } from '../../harness/state/paths.ts';
import { ROOT_ENGINE_CACHE } from '../../harness/system/engines.ts';
import { CLI, kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

const UID = 4242;

describe('a local user without sudo cannot steer root', function () {
  this.timeout(120_000);
  let s: Scratch;
  before(() => {
    s = new Scratch();
  });
  after(() => s.dispose());

  const asUser = (argv: string[]) => execa('setpriv', ['--reuid', String(UID), '--regid', String(UID), '--clear-groups', ...argv], { reject: false, all: true });

  it("cannot make or change root's runtime root or engine cache", async () => {
    for (const dir of [RUNTIME_ROOT, ROOT_ENGINE_CACHE]) {
      const r = await asUser(['mkdir', '-p', join(dir, 'planted')]);
      expect(r.exitCode, `${dir}: ${r.all}`).to.not.equal(0);
      expect(r.all).to.include('Permission denied');
    }
    expect(existsSync(join(RUNTIME_ROOT, 'planted'))).to.equal(false);
  });

  it('a runtime root the user made first is refused, naming the user, and its planted link is not written through', async () => {
    // What the user could do to /tmp/overlab: made here as root for the user, as nothing else can make it.
    expect(existsSync(RUNTIME_ROOT) ? readdirSync(RUNTIME_ROOT) : [], 'no lab is up on this machine').to.deep.equal([]);
    const made = !existsSync(RUNTIME_ROOT);
    mkdirSync(join(RUNTIME_ROOT, 'hu-rt'), { recursive: true });
    const canary = join(s.dir, 'canary');
    writeFileSync(canary, 'untouched\n');
    symlinkSync(canary, join(RUNTIME_ROOT, 'hu-rt', 'hosts'));
    chownSync(RUNTIME_ROOT, UID, UID);
    try {
      const file = s.lab('hu-rt', kvLab('hu-rt', { dockers: 1, third: 214 }));
      const up = await s.run(['up', '--lab', file, '--quiet']);
      expect(up.exitCode, up.all).to.not.equal(0);
      expect(up.all).to.include(`${RUNTIME_ROOT} belongs to user ${UID} (uid ${UID}), not root: overlab runs as root and writes only into folders no other user can change`);
      expect(readFileSync(canary, 'utf8')).to.equal('untouched\n');
      const down = await s.run(['down', '--force', 'hu-rt', '--quiet']);
      expect(down.exitCode, down.all).to.equal(0);
      expect(lstatSync(join(RUNTIME_ROOT, 'hu-rt', 'hosts')).isSymbolicLink(), 'the planted link is left for root to look at').to.equal(true);
    } finally {
      chownSync(RUNTIME_ROOT, 0, 0);
      rmSync(join(RUNTIME_ROOT, 'hu-rt'), { recursive: true, force: true });
      if (made) rmSync(RUNTIME_ROOT, { recursive: true, force: true });
    }
    expect(await leftovers('hu-rt')).to.deep.equal(NOTHING_LEFT);
  });

  it("an engine cache in the user's folder (sudo -E, or OVERLAB_ENGINE_CACHE) is refused before anything is fetched into it", async () => {
    const cache = join(s.dir, 'user-cache');
    mkdirSync(cache);
    chownSync(cache, UID, UID);
    const r = await execa('node', [CLI, 'engines', 'fetch', '28.5.2', '--source', 'debian'], { reject: false, all: true, env: { OVERLAB_ENGINE_CACHE: cache, OVERLAB_ARCHIVE_ALLOW_EXPIRED: '1' } });
    expect(r.exitCode, r.all).to.not.equal(0);
    expect(r.all).to.match(/can be changed by every user|belongs to user 4242/);
    expect(readdirSync(cache)).to.deep.equal([]);
  });
});
