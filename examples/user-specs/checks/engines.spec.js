// A spec of our own, in JavaScript (an ES module): each docker host's engine (dockerode) and a
// command on the host itself, next to `docker exec` in a container.
import { expect, lab } from 'overlab/spec';

describe('our engines', () => {
  for (const host of lab.plan.dockerHosts) {
    it(`the engine of ${host} runs its containers of the lab`, async () => {
      const running = await lab.host(host).engine.listContainers();
      const names = running.map((c) => c.Names[0].slice(1));
      const planned = lab.plan.containers.filter((c) => c.host === host).map((c) => c.name);
      expect(names).to.include.members(planned);
    });
  }

  it('a command on h1 runs on h1, which has its address', async () => {
    const h1 = lab.host('h1');
    const r = await h1.run(['ip', '-o', '-4', 'addr', 'show']);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`inet ${h1.address}/`);
  });

  it('web answers a command with its exit code and output', async () => {
    const r = await lab.exec('web', 'echo hello; echo oops >&2; exit 3');
    expect(r).to.deep.equal({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n' });
  });
});
