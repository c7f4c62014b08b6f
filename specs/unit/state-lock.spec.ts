import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { StateStore } from '../../harness/state/store.ts';
import { breakStaleLock } from '../../harness/system/lock-file.ts';
import { processRef } from '../../harness/system/processes.ts';

describe('the lab lock', () => {
  let root = '';
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'overlab-lock-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('leaves no folder behind for a lab that was never up (a `down --force` in a fresh folder)', () => {
    const home = join(root, '.overlab');
    const release = new StateStore(join(home, 'never-up')).lock('down');
    expect(existsSync(join(home, 'never-up', 'lock'))).to.equal(true);
    release();
    expect(readdirSync(root)).to.deep.equal([]);
  });

  it('keeps the folders when something was put in them, and folders it did not make', () => {
    const home = join(root, '.overlab');
    mkdirSync(join(home, 'other'), { recursive: true });
    const release = new StateStore(join(home, 'lab')).lock('up');
    writeFileSync(join(home, 'lab', 'state.json'), '{}');
    release();
    expect(readdirSync(join(home, 'lab'))).to.deep.equal(['state.json']);
    const again = new StateStore(join(home, 'empty-but-there'));
    mkdirSync(join(home, 'empty-but-there'));
    again.lock('down')();
    expect(existsSync(join(home, 'empty-but-there'))).to.equal(true);
    expect(existsSync(join(home, 'other'))).to.equal(true);
  });

  it('refuses a second holder while the first runs, and is free again after release', () => {
    const store = new StateStore(join(root, 'lab'));
    const release = store.lock('up');
    expect(() => store.lock('down')).to.throw(/locked by `overlab up` \(pid \d+\)/);
    release();
    store.lock('down')();
  });

  it('a taker who read a dead owner never removes the lock another taker has just taken; release leaves a lock taken over from it', () => {
    const store = new StateStore(join(root, 'race'));
    mkdirSync(join(root, 'race'));
    const me = processRef(process.pid);
    const stale = JSON.stringify({ pid: me.pid, start: me.start! + 1, command: 'up' });
    writeFileSync(join(root, 'race', 'lock'), stale);
    const release = store.lock('up');
    const taken = readFileSync(join(root, 'race', 'lock'), 'utf8');
    expect(JSON.parse(taken)).to.include({ pid: process.pid, command: 'up' });
    // The second taker, late with what it read before: the breaker finds another lock and leaves it.
    breakStaleLock(join(root, 'race', 'lock'), stale);
    expect(readFileSync(join(root, 'race', 'lock'), 'utf8')).to.equal(taken);
    expect(() => store.lock('down')).to.throw(/locked by `overlab up`/);
    writeFileSync(join(root, 'race', 'lock'), '{"pid":1,"command":"test","nonce":"x"}');
    release();
    expect(readFileSync(join(root, 'race', 'lock'), 'utf8')).to.equal('{"pid":1,"command":"test","nonce":"x"}');
    expect(readdirSync(join(root, 'race')).filter((f) => f !== 'lock')).to.deep.equal([]);
  });
});
