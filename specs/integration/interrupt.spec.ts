// One signal ends `up` wherever it lands: SIGINT (exit 130) and SIGTERM (exit 143), at every
// step boundary, inside host creation, and at random offsets (seeded; one in each quarter of up,
// the two signals taking turns); each time within 5 s, and `down` then leaves nothing of the lab
// on the machine. Also `down` itself, interrupted and run again.
// Labs are named nw-* (this machine runs other people's labs at the same time).
import { expect } from 'chai';
import { once } from 'node:events';
import { kvLab, leftovers, NOTHING_LEFT, Scratch, type Leftovers } from './support/labs.ts';

type SignalName = 'SIGINT' | 'SIGTERM';
const STATUS: Record<SignalName, number> = { SIGINT: 130, SIGTERM: 143 };
const SIGNO: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
const EXIT_BOUND_MS = 5_000;
/** The random offsets: parts of up's span, each met by one of the two signals per run. */
const RANDOM_STRATA = 4;

/** What one interrupted command did: its status (128 + signal when a signal ended it), how long it took to end. */
interface Outcome {
  status: number;
  exitMs: number;
  signalled: boolean;
  output: string;
}

describe('one signal ends a command (SIGINT 130, SIGTERM 143) and down leaves nothing', function () {
  this.timeout(240_000);
  const lab = 'nw-int';
  let s: Scratch;
  let file: string;
  const exits: number[] = [];

  before(async () => {
    s = new Scratch();
    // One kv host, two docker hosts, one network, a container on each: every step of up, quickly.
    file = s.lab(lab, kvLab(lab, { dockers: 2, third: 211 }));
    await s.run(['down', '--force', lab]);
  });
  after(async () => {
    await s.run(['down', '--force', lab]);
    s.dispose();
    if (exits.length) {
      const sorted = [...exits].sort((a, b) => a - b);
      console.log(`      ${exits.length} interrupted commands: exit after the signal in ${sorted[0]}-${sorted.at(-1)} ms (median ${sorted[Math.floor(sorted.length / 2)]} ms)`);
    }
  });

  /**
   * Starts `overlab <args>`, sends `signal` when `when` says so (it gets each stdout line and the
   * time since the start), and measures how long the process takes to exit after it.
   */
  async function interrupt(args: string[], signal: SignalName, when: (line: string | undefined, ms: number) => boolean): Promise<Outcome> {
    const child = s.spawn(args);
    const started = Date.now();
    let sentAt: number | undefined;
    let exited = false;
    const exit = once(child, 'exit').then(() => (exited = true));
    const send = () => {
      if (sentAt !== undefined || exited) return;
      sentAt = Date.now();
      child.kill(signal);
    };
    child.stdout!.setEncoding('utf8');
    let partial = '';
    child.stdout!.on('data', (d: string) => {
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (when(l, Date.now() - started)) send();
    });
    const timer = setInterval(() => when(undefined, Date.now() - started) && send(), 5);
    await exit;
    clearInterval(timer);
    const endedAt = Date.now();
    const r = await child;
    const status = r.exitCode ?? 128 + (SIGNO[r.signal ?? ''] ?? 0);
    return { status, exitMs: sentAt === undefined ? -1 : endedAt - sentAt, signalled: sentAt !== undefined, output: r.all ?? '' };
  }

  /** After an interrupted command: the right status within the bound, then down clears everything. */
  async function check(o: Outcome, signal: SignalName, what: string): Promise<void> {
    const label = `${what} (${signal})`;
    if (o.signalled) {
      exits.push(o.exitMs);
      expect(o.exitMs, `${label}: exit ${o.exitMs} ms after the signal\n${o.output}`).to.be.below(EXIT_BOUND_MS);
      // A command that finished just before the signal arrived may end 0.
      expect([STATUS[signal], 0], `${label}: status\n${o.output}`).to.include(o.status);
    } else expect(o.status, `${label}: finished before the signal\n${o.output}`).to.equal(0);
    const down = await s.run(['down', '--lab', file]);
    expect(down.exitCode, `${label}: down\n${down.all}`).to.equal(0);
    const left = await leftovers(lab);
    // Interfaces of the machine's own namespace are left out: other people's labs run beside these.
    expect({ ...left, links: [] } satisfies Leftovers, `${label}: leftovers after down`).to.deep.equal(NOTHING_LEFT);
  }

  const upArgs = () => ['up', '--lab', file, '--json'];
  /** The `--json` event of a step's first task starting: the boundary between two steps. */
  const stepStarts = (line: string | undefined, step: string) => {
    // Events are one JSON object a line; the closing document spans several lines.
    if (!line?.startsWith('{"event"')) return false;
    const e = JSON.parse(line) as { event?: string; step?: string; state?: string };
    return e.event === 'task' && e.state === 'started' && e.step === step;
  };
  const STEPS = ['Create hosts (netns)', 'Start the KV store', 'Start the engines', 'Create overlay networks', 'Run containers', 'Check the overlay forwarding', 'Check the engines'];

  // The random delays come from a seeded generator: a failure names its seed, and
  // OVERLAB_TEST_SEED=N draws the same delays again (offsets scale with the measured pace).
  const seed = Number(process.env['OVERLAB_TEST_SEED'] ?? Date.now() % 2 ** 31);
  const random = mulberry32(seed);
  let upMs = 3_000;
  it('brings the lab up and down once uninterrupted (the pace the random offsets are drawn from)', async () => {
    const started = Date.now();
    const up = await s.run(upArgs());
    upMs = Date.now() - started;
    expect(up.exitCode, up.all).to.equal(0);
    for (const step of STEPS) expect(up.stdout, 'the steps of up, as the test names them').to.include(`"step":${JSON.stringify(step)}`);
    await check({ status: 0, exitMs: -1, signalled: false, output: up.all ?? '' }, 'SIGINT', 'uninterrupted up');
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const step of STEPS) {
      it(`${signal} as step "${step}" starts`, async () => {
        const o = await interrupt(upArgs(), signal, (line) => stepStarts(line, step));
        expect(o.signalled, o.output).to.equal(true);
        expect(o.status, o.output).to.equal(STATUS[signal]);
        await check(o, signal, `at "${step}"`);
      });
    }

    it(`${signal} inside host creation (0-500 ms into it, twice)`, async () => {
      for (let i = 0; i < 2; i++) {
        const delay = Math.floor(random() * 500);
        let since: number | undefined;
        const o = await interrupt(upArgs(), signal, (line, ms) => {
          if (since === undefined && stepStarts(line, STEPS[0]!)) since = ms;
          return since !== undefined && ms - since >= delay;
        });
        await check(o, signal, `${delay} ms into host creation (OVERLAB_TEST_SEED=${seed})`);
      }
    });

    // Stratified: the span of up is cut in RANDOM_STRATA equal parts, and each signal draws one
    // offset in every other part, the two signals taking turns (which one takes the odd parts
    // goes by the seed): every run lands a signal at a random point of each part of up, as one
    // handler meets both signals (harness/cli/interrupt.ts), and over runs each signal meets
    // each part. The step boundaries are the cases above, every one of them each run.
    const signalIndex = signal === 'SIGINT' ? 0 : 1;
    it(`${signal} at random offsets from the start (${RANDOM_STRATA / 2} times: in every other of ${RANDOM_STRATA} equal parts of up, the other signal in the rest)`, async () => {
      for (let i = 0; i < RANDOM_STRATA / 2; i++) {
        const part = 2 * i + (signalIndex ^ (seed & 1));
        const span = upMs + 300;
        const offset = Math.floor(((part + random()) * span) / RANDOM_STRATA);
        const o = await interrupt(upArgs(), signal, (_line, ms) => ms >= offset);
        await check(o, signal, `${offset} ms after the start (part ${part + 1} of ${RANDOM_STRATA}), up taking ${upMs} ms (OVERLAB_TEST_SEED=${seed})`);
      }
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during down: it ends within the bound, and down run again clears the lab`, async () => {
      const up = await s.run(['up', '--lab', file, '--quiet']);
      expect(up.exitCode, up.all).to.equal(0);
      const o = await interrupt(['down', '--lab', file], signal, (_line, ms) => ms >= 250);
      await check(o, signal, 'down interrupted');
    });
  }
});

/** A small seeded generator of numbers in [0, 1) (mulberry32): the same seed, the same draws. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
