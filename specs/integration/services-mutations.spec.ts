// The services specs can fail: on a live services lab on netns, `up` first refuses the lab
// (the kernel lacks IP_VS and INET_ESP) before creating anything, then comes up with
// --allow-missing; the specs pass with n/a lines naming both; then one property at a time is
// broken for real (a task of web paused on its node, a container answering the name web, VXLAN
// dropped on the way out of a host): the spec named after it fails, and passes once restored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { leftovers, NOTHING_LEFT, Scratch, shippedLab, type TestRun } from './support/labs.ts';

describe('services mutations: each release spec fails when its property breaks (live services lab, netns)', function () {
  this.timeout(300_000);
  const lab = 'sv-mut';
  let s: Scratch;
  let file: string;
  const hosts = ['node1', 'node2', 'node3'];
  const docker = async (host: string, args: string[]) => {
    const { DOCKER_HOST } = JSON.parse((await s.run(['env', '--lab', file, host, '--json'])).stdout);
    const r = await execa('docker', args, { env: { DOCKER_HOST }, reject: false });
    expect(r.exitCode, `docker ${args.join(' ')} on ${host}: ${r.stderr}`).to.equal(0);
    return String(r.stdout).trim();
  };
  const onHost = async (host: string, command: string) => {
    const r = await s.run(['ssh', '--lab', file, host, command]);
    expect(r.exitCode, `${command}: ${r.all}`).to.equal(0);
  };
  const specs = async (): Promise<TestRun> => JSON.parse((await s.run(['test', '--lab', file, '--json', '--destroy', 'never'], { timeoutMs: 200_000 })).stdout);
  const failing = (run: TestRun) => run.cases.filter((c) => c.state === 'failed').map((c) => `${c.suite} | ${c.title}`);

  before(async () => {
    s = new Scratch();
    file = s.lab(lab, shippedLab('services.yaml', lab).replaceAll('172.28.131.', '172.28.172.'));
  });
  after(async () => {
    await s.run(['down', '--force', lab]);
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
    s.dispose();
  });

  it('up names the missing kernel features and creates nothing; --allow-missing brings it up', async () => {
    const refused = await s.run(['up', '--lab', file, '--quiet']);
    expect(refused.exitCode, refused.all).to.equal(69);
    expect(refused.all).to.include('IP_VS').and.include('INET_ESP').and.include('--allow-missing');
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
    const up = await s.run(['up', '--lab', file, '--quiet', '--allow-missing']);
    expect(up.exitCode, up.all).to.equal(0);
  });

  it('the specs the kernel allows pass; the others are n/a naming IP_VS and INET_ESP; JUnit and JSON agree', async () => {
    const run = await specs();
    expect(failing(run)).to.deep.equal([]);
    const na = run.cases.filter((c) => c.state === 'n/a');
    expect(na.some((c) => c.reason?.includes('kernel has no IP_VS (CONFIG_IP_VS)'))).to.equal(true);
    expect(na.some((c) => c.reason?.includes('kernel has no INET_ESP (CONFIG_INET_ESP)'))).to.equal(true);
    expect(run.counts.na).to.equal(na.length);
    expect(run.counts.passed + run.counts.failed + run.counts.na + run.counts.pending).to.equal(run.counts.tests);
    const xml = readFileSync(join(s.home, lab, 'reports', 'junit.xml'), 'utf8');
    expect(xml).to.include(`tests="${run.counts.tests}" failures="0" errors="0" skipped="${run.counts.na}"`);
    expect(xml.match(/<skipped message="not applicable: /g)?.length).to.equal(na.length);
  });

  /** The node running a task (by its container name prefix, "web.2.") and the container's id. */
  const taskContainer = async (prefix: string) => {
    for (const h of hosts) {
      const id = await docker(h, ['ps', '-q', '--filter', `name=${prefix}`]);
      if (id) return { where: h, id };
    }
    throw new Error(`no node runs a container named ${prefix}*`);
  };

  it('pausing one task of web on its node makes "reaches each task of web" fail; unpausing restores it', async () => {
    const { where, id } = await taskContainer('web.2.');
    await docker(where, ['pause', id]);
    try {
      const broken = failing(await specs());
      expect(broken).to.include('services | probe on node1 reaches each of the 3 tasks of web over front, on whichever host it runs');
      expect(broken.every((t) => /\bweb\b/.test(t)), broken.join('\n')).to.equal(true);
    } finally {
      await docker(where, ['unpause', id]);
    }
    expect(failing(await specs())).to.deep.equal([]);
  });

  it('pausing a task of api makes "port 9090 of api (host mode) answers on the nodes its tasks run on" fail; unpausing restores it', async () => {
    const { where, id } = await taskContainer('api.1.');
    await docker(where, ['pause', id]);
    try {
      const broken = failing(await specs());
      expect(broken).to.include('published ports | port 9090 of api (host mode) answers only on the nodes its tasks run on, each by a task there');
    } finally {
      await docker(where, ['unpause', id]);
    }
    expect(failing(await specs())).to.deep.equal([]);
  });

  it('a container answering the name web makes "resolves web to its virtual IP" fail; removing the alias restores it', async () => {
    await docker('node2', ['network', 'disconnect', 'front', 'peer']);
    await docker('node2', ['network', 'connect', '--alias', 'web', 'front', 'peer']);
    try {
      const broken = failing(await specs());
      expect(broken).to.include('services | probe on node1 resolves web to its virtual IP on front');
    } finally {
      await docker('node2', ['network', 'disconnect', 'front', 'peer']);
      await docker('node2', ['network', 'connect', 'front', 'peer']);
    }
    expect(failing(await specs())).to.deep.equal([]);
  });

  it("dropping VXLAN on its way out of node1 makes the underlay capture of front fail; removing the rule restores it", async () => {
    const rule = '-p udp --dport 4789 -j DROP';
    await onHost('node1', `iptables -I OUTPUT ${rule}`);
    try {
      const broken = failing(await specs());
      expect(broken).to.include('the underlay | traffic on front from node1 to node2 crosses the underlay as VXLAN on udp 4789');
    } finally {
      await onHost('node1', `iptables -D OUTPUT ${rule}`);
    }
    expect(failing(await specs())).to.deep.equal([]);
  });
});
