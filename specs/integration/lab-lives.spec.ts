// A lab's results belong to one life of it. Tested, taken down and brought up again under the
// same name, the lab is untested: status --all (and --json) and the room page show no test of
// its earlier life, whose reports and logs stay readable in previous/, and a report of another
// life in its reports folder is not shown as its result. One small lab on netns, for real.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

const LAB = 'it-life';

interface Summary {
  lab: string;
  createdAt: string;
  lastTest?: { tests: number; at: string };
}

describe('a new up is a new life of the lab (netns)', function () {
  this.timeout(120_000);
  let s: Scratch;
  let file: string;
  const dir = () => join(s.home, LAB);

  async function run(args: string[]) {
    const r = await s.run(args);
    expect(r.exitCode, `overlab ${args.join(' ')}\n${r.all}`).to.equal(0);
    return r;
  }

  async function summary(): Promise<Summary> {
    const r = await run(['status', '--all', '--json']);
    const lab = (JSON.parse(r.stdout) as { labs: Summary[] }).labs.find((l) => l.lab === LAB);
    expect(lab, r.stdout).to.not.equal(undefined);
    return lab!;
  }

  /** The room page of the lab, as `overlab report` writes it. */
  async function page(): Promise<string> {
    const out = join(s.dir, 'room.html');
    await run(['report', LAB, '--out', out, '--quiet']);
    return readFileSync(out, 'utf8');
  }

  before(async () => {
    s = new Scratch();
    file = s.lab(LAB, kvLab(LAB, { dockers: 1, third: 157 }));
    await run(['up', file, '--quiet']);
    await run(['test', LAB, '--json']);
    // The first life's report, as a test run of that life would leave it behind.
    copyFileSync(join(dir(), 'reports', 'report.json'), join(s.dir, 'earlier-report.json'));
    await run(['down', LAB, '--quiet']);
    await run(['up', file, '--quiet']);
  });
  after(async () => {
    await s.run(['down', '--force', LAB]);
    expect(await leftovers(LAB)).to.deep.equal(NOTHING_LEFT);
    s.dispose();
  });

  it('shows the lab brought up again as never tested: status --all, its --json and the room page', async () => {
    const table = (await run(['status', '--all'])).stdout.split('\n').find((l) => l.startsWith(`${LAB} `));
    expect(table, 'the LAST TEST column').to.match(/ never /);
    expect((await summary()).lastTest).to.equal(undefined);
    expect(await page()).to.include('NOT TESTED').and.not.include('specs passed');
  });

  it("starts the new life's logs afresh, and keeps the earlier life's report and logs readable in previous/", async () => {
    const engineLog = readFileSync(join(dir(), 'logs', 'd0.dockerd.log'), 'utf8');
    expect(engineLog.match(/msg="Starting up"/g), 'the engine started once in this life').to.have.length(1);
    const earlier = JSON.parse(readFileSync(join(dir(), 'previous', 'reports', 'report.json'), 'utf8')) as { life: string; counts: { tests: number } };
    expect(earlier.counts.tests).to.be.above(0);
    const state = JSON.parse(readFileSync(join(dir(), 'state.json'), 'utf8')) as { createdAt: string };
    expect(earlier.life, 'a life of its own').to.not.equal(state.createdAt);
    expect(existsSync(join(dir(), 'previous', 'logs', 'd0.dockerd.log'))).to.equal(true);
  });

  it("shows no report of another life found in the lab's reports folder", async () => {
    mkdirSync(join(dir(), 'reports'), { recursive: true });
    copyFileSync(join(s.dir, 'earlier-report.json'), join(dir(), 'reports', 'report.json'));
    expect((await summary()).lastTest).to.equal(undefined);
  });

  it("shows a test of this life as the lab's last test", async () => {
    await run(['test', LAB, '--json']);
    const report = JSON.parse(readFileSync(join(dir(), 'reports', 'report.json'), 'utf8')) as { startedAt: string; life: string };
    const lab = await summary();
    expect(report.life).to.equal(lab.createdAt);
    expect(lab.lastTest?.at).to.equal(report.startedAt);
    expect(await page()).to.include('specs passed');
  });
});
