// A teacher's check for labs/swarm-class.yaml (docs/workshops.md, "A teacher's checks"), as the
// docs show it: overlab test --all --spec examples/teacher-checks/exercise-1.spec.ts
import { expect, lab } from 'overlab/spec';

describe('exercise 1: an overlay of your own', () => {
  it('the manager has an attachable overlay x', async () => {
    const nets = await lab.host('manager').engine.listNetworks();
    const x = nets.find((n) => n.Name === 'x');
    expect(x, 'no network x on the manager').to.not.equal(undefined);
    expect([x!.Driver, x!.Attachable]).to.deep.equal(['overlay', true]);
  });

  it('c0 on worker1 and c1 on worker2 are attached to x', async () => {
    for (const [host, name] of [['worker1', 'c0'], ['worker2', 'c1']] as const) {
      const info = await lab.host(host).engine.getContainer(name).inspect();
      expect(Object.keys(info.NetworkSettings.Networks), `${name} on ${host}`).to.include('x');
    }
  });

  it('c0 reaches c1 by name over x', async () => {
    const r = await lab.host('worker1').exec('c0', ['ping', '-c', '1', '-W', '2', 'c1']);
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
  });
});
