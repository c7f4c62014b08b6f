// The specs can fail: on a live isolation lab, break one property at a time for real (connect a
// container to a second network, remove an alias, drop VXLAN in one host's namespace), check
// that the spec named after it fails, restore it, and check that everything passes again.
import { expect } from 'chai';
import { execa } from 'execa';
import { leftovers, NOTHING_LEFT, Scratch, shippedLab, type TestRun } from './support/labs.ts';

describe('mutations: each spec fails when its property breaks (live isolation lab)', function () {
  this.timeout(240_000);
  const lab = 'it-mut';
  let s: Scratch;
  let file: string;
  const docker = async (host: string, args: string[]) => {
    const { DOCKER_HOST } = JSON.parse((await s.run(['env', '--lab', file, host, '--json'])).stdout);
    const r = await execa('docker', args, { env: { DOCKER_HOST }, reject: false });
    expect(r.exitCode, `docker ${args.join(' ')}: ${r.stderr}`).to.equal(0);
  };
  const onHost = async (host: string, command: string) => {
    const r = await s.run(['ssh', '--lab', file, host, command]);
    expect(r.exitCode, `${command}: ${r.all}`).to.equal(0);
  };
  const specs = async (): Promise<TestRun> => JSON.parse((await s.run(['test', '--lab', file, '--json', '--destroy', 'never'], { timeoutMs: 200_000 })).stdout);
  const failing = (run: TestRun) => run.cases.filter((c) => c.state !== 'passed').map((c) => `${c.suite} | ${c.title}`);

  before(async () => {
    s = new Scratch();
    file = s.lab(lab, shippedLab('isolation.yaml', lab));
    const up = await s.run(['up', '--lab', file, '--quiet']);
    expect(up.exitCode, up.all).to.equal(0);
    expect(failing(await specs())).to.deep.equal([]);
  });
  after(async () => {
    await s.run(['down', '--force', lab]);
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
    s.dispose();
  });

  it('connecting web to network back makes the isolation specs fail; disconnecting restores them', async () => {
    await docker('h1', ['network', 'connect', 'back', 'web']);
    try {
      const broken = failing(await specs());
      expect(broken).to.include('isolation | web on h1 cannot reach db on h2 at any of its addresses (icmp)');
      expect(broken).to.include('isolation | web on h1 cannot reach cache on h1 at any of its addresses (tcp)');
      expect(broken).to.include(`stated in the lab file | web cannot reach db (${lab}.yaml:44)`);
      expect(broken.every((t) => /\bweb\b/.test(t)), broken.join('\n')).to.equal(true);
    } finally {
      await docker('h1', ['network', 'disconnect', 'back', 'web']);
    }
    expect(failing(await specs())).to.deep.equal([]);
  });

  it("removing app's alias api makes the DNS specs for api fail; restoring the alias restores them", async () => {
    await docker('h2', ['network', 'disconnect', 'back', 'app']);
    await docker('h2', ['network', 'connect', 'back', 'app']);
    try {
      const broken = failing(await specs());
      expect(broken).to.include('name resolution | db on h2 resolves api to the address of app on back');
      expect(broken).to.include('name resolution | cache on h1 resolves api to the address of app on back');
      expect(broken).to.include(`stated in the lab file | db resolves api (${lab}.yaml:46)`);
      expect(broken.every((t) => /\bapi\b/.test(t)), broken.join('\n')).to.equal(true);
    } finally {
      await docker('h2', ['network', 'disconnect', 'back', 'app']);
      await docker('h2', ['network', 'connect', '--alias', 'api', 'back', 'app']);
    }
    expect(failing(await specs())).to.deep.equal([]);
  });

  it("dropping VXLAN (udp 4789) in h2's namespace makes the cross-host specs fail; removing the rule restores them", async () => {
    const rule = '-p udp --dport 4789 -j DROP';
    await onHost('h2', `iptables -I INPUT ${rule}`);
    try {
      const broken = failing(await specs());
      expect(broken).to.include('reachability | web on h1 reaches app on h2 over front by address (icmp)');
      expect(broken).to.include('reachability | cache on h1 reaches db on h2 over back by name (tcp)');
      // Traffic between containers on the same host does not cross VXLAN and must still pass.
      expect(broken).to.not.include('reachability | app on h2 reaches db on h2 over back by address (icmp)');
    } finally {
      await onHost('h2', `iptables -D INPUT ${rule}`);
    }
    expect(failing(await specs())).to.deep.equal([]);
  });
});
