// A spec of our own, in TypeScript: `overlab test examples/user-specs/lab.yaml` runs it after
// the built-in specs, against the same live lab, and reports it beside them.
import { expect, lab } from 'overlab/spec';

describe('our overlays', () => {
  it('web on h1 reaches app on h2 over front, by name and over tcp', async () => {
    await lab.reach('web', 'app', { over: 'front', by: 'name' });
    await lab.reach('web', 'app', { over: 'front', by: 'address', proto: 'tcp' });
  });

  it('app resolves db on back, and web reaches nothing of db', async () => {
    await lab.resolves('app', 'db', { over: 'back' });
    await lab.cannotReach('web', 'db');
    await lab.cannotResolve('web', 'db');
  });

  it('app has an address on each of its networks, in their subnets', async () => {
    const addresses = await lab.container('app').addresses();
    expect(addresses['front']).to.match(/^10\.0\.5\./);
    expect(addresses['back']).to.match(/^10\.0\.6\./);
  });

  it('an encrypted overlay would need ESP (n/a on a kernel without it)', () => {
    lab.requires('esp');
    expect(lab.plan.networks.every((n) => !n.encrypted)).to.equal(true);
  });
});
