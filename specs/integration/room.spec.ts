// A workshop for real: three copies of the tutorial side by side on netns, one of them broken
// on purpose (a container moved to another overlay), the room's specs, the room page and a
// topology picture looked at in headless chromium, a handout's commands typed as a student
// would, and `down --all` leaving nothing of any copy.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { renderedDom, screenshot } from '../support/browser.ts';
import { CLI, leftovers, NOTHING_LEFT, ROOT, Scratch, shippedLab } from './support/labs.ts';

const BASE = 'rm-tut';
const COPIES = ['rm-tut-01', 'rm-tut-02', 'rm-tut-03'];
/** A teacher's check that copy 02, broken on purpose, fails. */
const MY_NET_CHECK = `import { expect, lab } from 'overlab/spec';

describe('exercise: my-net', () => {
  it('c1 on mhs-demo1 is attached to my-net', async () => {
    const info = await lab.host('mhs-demo1').engine.getContainer('c1').inspect();
    expect(Object.keys(info.NetworkSettings.Networks), 'c1 on mhs-demo1').to.include('my-net');
  });
});
`;

/** Checks that hold on every copy, or do not apply to any. */
const EXTRAS_CHECK = `import { expect, lab } from 'overlab/spec';

describe('exercise: extras', () => {
  it('c0 on mhs-demo0 runs a command', async () => {
    const r = await lab.host('mhs-demo0').exec('c0', ['true']);
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
  });
  it('c0 has an IPv6 address', () => lab.notApplicable('the tutorial plans no IPv6'));
});
`;

/** Screenshots kept after the run, for a person to look at. */
const SHOTS = join(ROOT, '.overlab', 'screenshots');

describe('a room: three copies of the tutorial (netns, chromium)', function () {
  this.timeout(300_000);
  let s: Scratch;
  let file: string;

  /** The docker CLI pointed at a host of a copy, as a student's `eval "$(overlab env ...)"` does. */
  async function docker(lab: string, host: string, args: string[]) {
    const env = await s.run(['env', host, '--lab', lab, '--json']);
    expect(env.exitCode, env.all).to.equal(0);
    const { DOCKER_HOST } = JSON.parse(env.stdout) as { DOCKER_HOST: string };
    return execa('docker', args, { env: { DOCKER_HOST }, reject: false, all: true });
  }

  before(async () => {
    s = new Scratch();
    file = s.lab(BASE, shippedLab('tutorial.yaml', BASE));
    const up = await s.run(['up', file, '--copies', '3', '--json'], { timeoutMs: 240_000 });
    expect(up.exitCode, up.all).to.equal(0);
    // Progress events come a line each, then the result as one indented document.
    const result = JSON.parse(up.stdout.slice(up.stdout.lastIndexOf('\n{\n') + 1)) as { copies: { lab: string; ok: boolean }[] };
    expect(result.copies.map((c) => [c.lab, c.ok])).to.deep.equal(COPIES.map((c) => [c, true]));
  });
  after(async () => {
    await s.run(['down', '--all', '--force']);
    for (const lab of COPIES) await s.run(['down', '--force', lab]);
    s.dispose();
  });

  it('each copy has namespaces, engines and state of its own, at the addresses of the lab file', async () => {
    for (const lab of COPIES) {
      const st = await s.run(['status', lab, '--json']);
      expect(st.exitCode, st.all).to.equal(0);
      const status = JSON.parse(st.stdout) as { phase: string; hosts: { name: string; address: string; engine?: string }[] };
      expect(status.phase, lab).to.equal('up');
      expect(status.hosts.map((h) => h.address)).to.deep.equal(['172.28.128.5', '172.28.128.6', '172.28.128.7']);
      expect(status.hosts.slice(1).map((h) => h.name)).to.deep.equal(['mhs-demo0', 'mhs-demo1']);
      expect(status.hosts.slice(1).every((h) => h.engine)).to.equal(true);
      expect((await leftovers(lab)).namespaces, lab).to.have.length(4);
    }
  });

  it('status --all lists every copy with its hosts up and its memory', async () => {
    const r = await s.run(['status', '--all', '--json']);
    expect(r.exitCode, r.all).to.equal(0);
    const labs = (JSON.parse(r.stdout) as { labs: { lab: string; copyOf: string; phase: string; hosts: { running: number; total: number }; memoryMiB: number }[] }).labs;
    expect(labs.map((l) => [l.lab, l.copyOf, l.phase, l.hosts.running, l.hosts.total])).to.deep.equal(COPIES.map((c) => [c, BASE, 'up', 3, 3]));
    for (const l of labs) expect(l.memoryMiB, l.lab).to.be.within(100, 2000);
  });

  describe('with copy 02 broken on purpose (c1 moved from my-net to another overlay)', () => {
    let room: { ok: boolean; labs: { lab: string; ok: boolean; failed?: string[]; checks?: { file: string; title: string; state: string }[] }[] };
    before(async () => {
      // A teacher's checks, in two files beside the lab file: one that copy 02 breaks, one that holds everywhere, one not applicable.
      mkdirSync(join(s.dir, 'checks'));
      writeFileSync(join(s.dir, 'package.json'), '{"type":"module"}');
      writeFileSync(join(s.dir, 'checks', 'my-net.spec.ts'), MY_NET_CHECK);
      writeFileSync(join(s.dir, 'checks', 'extras.spec.ts'), EXTRAS_CHECK);
      const create = await docker('rm-tut-02', 'mhs-demo1', ['network', 'create', '-d', 'overlay', '--subnet', '10.0.9.0/24', 'elsewhere']);
      expect(create.exitCode, create.all).to.equal(0);
      for (const args of [['network', 'disconnect', 'my-net', 'c1'], ['network', 'connect', 'elsewhere', 'c1']]) {
        const r = await docker('rm-tut-02', 'mhs-demo1', args);
        expect(r.exitCode, r.all).to.equal(0);
      }
      const t = await s.run(['test', '--all', '--json', '--spec', 'checks/my-net.spec.ts', '--spec', 'checks/extras.spec.ts'], { timeoutMs: 240_000 });
      expect(t.exitCode, t.all).to.equal(1);
      room = JSON.parse(t.stdout);
    });

    it('test --all: the broken copy fails on cross-host reach, the others pass', () => {
      expect(room.labs.map((l) => [l.lab, l.ok])).to.deep.equal([
        ['rm-tut-01', true],
        ['rm-tut-02', false],
        ['rm-tut-03', true],
      ]);
      expect(room.labs[1]!.failed).to.include('c0 on mhs-demo0 reaches c1 on mhs-demo1 over my-net by address (icmp)');
    });

    it('the room page, rendered in chromium, shows the failing copy first with its failed spec, and every copy drawn', async () => {
      const page = join(s.dir, 'room.html');
      const r = await s.run(['report', '--all', '--out', page]);
      expect(r.exitCode, r.all).to.equal(0);
      const dom = await renderedDom(page);
      const cards = [...dom.matchAll(/<article class="lab (\w+)" id="lab-([\w-]+)"/g)].map((m) => [m[2], m[1]]);
      expect(cards).to.deep.equal([
        ['rm-tut-02', 'failing'],
        ['rm-tut-01', 'passing'],
        ['rm-tut-03', 'passing'],
      ]);
      expect(dom).to.include('3 labs: 2 passing, 1 failing');
      const broken = dom.slice(dom.indexOf('id="lab-rm-tut-02"'), dom.indexOf('id="lab-rm-tut-01"'));
      expect(broken).to.include('<span class="spec-title">c0 on mhs-demo0 reaches c1 on mhs-demo1 over my-net by address (icmp)</span>');
      expect(broken).to.include('FAILING');
      // The drawings: host names and addresses as SVG text, and the moved container's link marked.
      for (const text of ['mhs-demo0', '172.28.128.6', 'mhs-demo1', '172.28.128.7', 'my-net', 'overlay 10.0.4.0/24']) expect(broken).to.include(`>${text}</text>`);
      expect(broken).to.include('>not attached</text>');
      expect(broken).to.include('>not in the lab</text>');
      mkdirSync(SHOTS, { recursive: true });
      await screenshot(page, join(SHOTS, 'room.png'));
      expect(readFileSync(join(SHOTS, 'room.png')).subarray(1, 4).toString()).to.equal('PNG');
    });

    it("test --all --spec: the teacher's check fails on copy 02 only", () => {
      const check = (lab: string) => room.labs.find((l) => l.lab === lab)!.checks!.map((c) => [c.file, c.title, c.state]);
      for (const lab of COPIES) {
        expect(check(lab), lab).to.deep.equal([
          ['checks/my-net.spec.ts', 'c1 on mhs-demo1 is attached to my-net', lab === 'rm-tut-02' ? 'failed' : 'passed'],
          ['checks/extras.spec.ts', 'c0 on mhs-demo0 runs a command', 'passed'],
          ['checks/extras.spec.ts', 'c0 has an IPv6 address', 'n/a'],
        ]);
      }
    });

    it("the room page, rendered in chromium, shows per student which of the teacher's checks pass: the failing one on copy 02 only, with why", async () => {
      const page = join(s.dir, 'room-checks.html');
      const r = await s.run(['report', '--all', '--out', page]);
      expect(r.exitCode, r.all).to.equal(0);
      const dom = await renderedDom(page);
      const card = (lab: string) => {
        const at = dom.indexOf(`id="lab-${lab}"`);
        return dom.slice(at, dom.indexOf('</article>', at));
      };
      const checks = (lab: string) => [...card(lab).matchAll(/<li class="check (\w+)" data-check="([^"]+)" data-state="([^"]+)">/g)].map((m) => [m[2], m[3], m[1]]);
      for (const lab of COPIES) {
        const broken = lab === 'rm-tut-02';
        expect(checks(lab), lab).to.deep.equal([
          ['c1 on mhs-demo1 is attached to my-net', broken ? 'failed' : 'passed', broken ? 'failed' : 'passed'],
          ['c0 on mhs-demo0 runs a command', 'passed', 'passed'],
          ['c0 has an IPv6 address', 'n/a', 'na'],
        ]);
        const c = card(lab);
        expect(c, lab).to.include(broken ? '<h3>checks: 1 of 3 passed, 1 failed, 1 n/a</h3>' : '<h3>checks: 2 of 3 passed, 1 n/a</h3>');
        expect(c.indexOf('data-file="checks/my-net.spec.ts"'), lab).to.be.within(0, c.indexOf('data-file="checks/extras.spec.ts"'));
        expect(c, lab).to.include('<span class="why">: the tutorial plans no IPv6</span>');
        // The failure's first line: the container's networks as they are, and what the check wanted.
        const why = /<span class="check-title">c1 on mhs-demo1 is attached to my-net<\/span> <span class="state">\w+<\/span>(?:<span class="why">: ([^<]*)<\/span>)?/.exec(c)?.[1];
        expect(why, lab).to.equal(broken ? "c1 on mhs-demo1: got [ 'elsewhere' ], wanted one that includes 'my-net'" : undefined);
      }
      // The copies that pass every spec say so; only the broken one is failing.
      expect([...dom.matchAll(/<article class="lab (\w+)" id="lab-([\w-]+)"/g)].map((m) => [m[2], m[1]])).to.deep.equal([
        ['rm-tut-02', 'failing'],
        ['rm-tut-01', 'passing'],
        ['rm-tut-03', 'passing'],
      ]);
      mkdirSync(SHOTS, { recursive: true });
      await screenshot(page, join(SHOTS, 'room-checks.png'));
    });
  });

  it('report --watch writes the page again when a lab changes, and one SIGINT ends it (130)', async () => {
    const page = join(s.dir, 'watched.html');
    const watch = s.spawn(['report', '--all', '--watch', '--out', page]);
    const until = async (what: string, ok: () => boolean, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until('the first page', () => existsSync(page));
      const first = statSync(page).mtimeMs;
      expect(readFileSync(page, 'utf8')).to.include('<meta http-equiv="refresh"');
      const t = await s.run(['test', 'rm-tut-01', '--json']);
      expect(t.exitCode, t.all).to.equal(0);
      await until('the page to be written again', () => statSync(page).mtimeMs > first);
    } finally {
      watch.kill('SIGINT');
    }
    const stopped = Date.now();
    const r = await watch;
    expect(r.exitCode, r.all).to.equal(130);
    expect(Date.now() - stopped).to.be.below(5000);
  });

  it('the SVG picture of a copy renders in chromium with its hosts, addresses, overlay and containers', async () => {
    const svg = join(s.dir, 'rm-tut-01.svg');
    const r = await s.run(['graph', 'rm-tut-01', '--format', 'svg', '--out', svg]);
    expect(r.exitCode, r.all).to.equal(0);
    const dom = await renderedDom(svg);
    for (const text of ['172.28.128.5', 'KV store: etcd :2379', 'mhs-demo0', '172.28.128.6', 'c0', 'c1', 'my-net', 'overlay 10.0.4.0/24', '10.0.4.2', '10.0.4.3']) {
      expect(dom, text).to.include(`>${text}</text>`);
    }
    mkdirSync(SHOTS, { recursive: true });
    await screenshot(svg, join(SHOTS, 'tutorial-graph.png'), '1000,420');
  });

  it("a student's handout works as typed: every command block runs against the student's copy", async () => {
    const out = join(s.dir, 'handouts');
    const r = await s.run(['handout', 'rm-tut-03', '--out', out]);
    expect(r.exitCode, r.all).to.equal(0);
    const md = readFileSync(join(out, 'rm-tut-03.md'), 'utf8');
    const blocks = md
      .split('\n## ')
      .slice(1)
      .map((section) => ({ title: section.split('\n')[0]!, text: /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '' }));
    expect(blocks.map((b) => b.title)).to.include.members(['Point your docker CLI at a host', 'Containers on different hosts reach each other by name', 'A container of your own on the overlay']);
    for (const b of blocks.filter((x) => !['A shell on a host', 'Check your lab'].includes(x.title))) {
      const script = `set -e\nnpx() { shift; node ${JSON.stringify(CLI)} "$@"; }\n${b.text}`;
      const run = await execa('bash', ['-c', script], { cwd: s.dir, env: { OVERLAB_HOME: s.home }, reject: false, all: true, timeout: 60_000 });
      expect(run.exitCode, `${b.title}:\n${b.text}\n${run.all}`).to.equal(0);
    }
  });

  // Mocha runs a suite's own tests before its nested suites: the end of the room is a suite of its own.
  describe('at the end of the workshop', () => {
    it('down --all takes every copy down and leaves nothing of any', async () => {
      const r = await s.run(['down', '--all', '--json']);
      expect(r.exitCode, r.all).to.equal(0);
      expect((JSON.parse(r.stdout) as { labs: { lab: string }[] }).labs.map((l) => l.lab)).to.deep.equal(COPIES);
      for (const lab of COPIES) expect(await leftovers(lab), lab).to.deep.equal(NOTHING_LEFT);
      const st = await s.run(['status', '--all', '--json']);
      expect(JSON.parse(st.stdout)).to.deep.equal({ labs: [] });
    });
  });
});
