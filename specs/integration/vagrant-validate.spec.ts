// Every shipped lab renders a Vagrantfile that the real `vagrant validate` accepts.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { Plan } from '../../harness/lab/types.ts';
import { renderVagrantfile } from '../../harness/render/vagrantfile.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const labFiles = (await readdir(join(root, 'labs'))).filter((f) => f.endsWith('.yaml')).sort();

describe('vagrant validate on rendered Vagrantfiles', function () {
  this.timeout(120000);
  const dirs: string[] = [];

  /** Writes `text` as the Vagrantfile of a fresh temp dir and runs `vagrant validate --ignore-provider` there. */
  async function validate(text: string) {
    const dir = await mkdtemp(join(tmpdir(), 'overlab-vagrant-'));
    dirs.push(dir);
    await writeFile(join(dir, 'Vagrantfile'), text);
    const result = await execa('vagrant', ['validate', '--ignore-provider'], {
      cwd: dir,
      env: { VAGRANT_CHECKPOINT_DISABLE: '1' },
      reject: false,
      all: true,
    });
    if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new Error('vagrant is not installed (not found on PATH): run scripts/setup-host.sh');
    }
    return result;
  }

  after(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('finds shipped labs', () => {
    expect(labFiles).to.include('tutorial.yaml');
  });

  for (const file of labFiles) {
    it(`accepts the Vagrantfile of labs/${file}`, async () => {
      const plan = planLab(await loadLab(join(root, 'labs', file)));
      const result = await validate(renderVagrantfile(plan, { source: `labs/${file}` }));
      expect(result.exitCode, result.all).to.equal(0);
      expect(result.all).to.include('Vagrantfile validated successfully');
    });
  }

  it('fails on a Vagrantfile with a Ruby syntax error', async () => {
    const result = await validate('Vagrant.configure("2") do |config|\n  config.vm.box = "ubuntu/focal64"\n');
    expect(result.exitCode, result.all).not.to.equal(0);
    expect(result.all).not.to.include('Vagrantfile validated successfully');
  });

  it('fails on a rendered Vagrantfile whose hostname Vagrant rejects', async () => {
    const plan: Plan = planLab(await loadLab(join(root, 'labs', 'tutorial.yaml')));
    const broken: Plan = { ...plan, hosts: plan.hosts.map((h, i) => (i === 0 ? { ...h, hostname: 'bad_host!' } : h)) };
    const result = await validate(renderVagrantfile(broken));
    expect(result.exitCode, result.all).not.to.equal(0);
    expect(result.all).to.match(/hostname/i);
  });
});
