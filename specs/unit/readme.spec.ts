// The README's examples work as written: every lab file in it validates, every command line in
// it parses with the real commander program (actions recorded, never run), and the fenced
// commands CI runs are the README's own.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseLab } from '../../harness/lab/load.ts';
import { buildProgram, type CommandName } from '../../harness/cli/main.ts';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };

/** The fenced blocks of a given info string's first word, with the line each starts on. */
function fenced(lang: string): { line: number; text: string; info: string }[] {
  const blocks: { line: number; text: string; info: string }[] = [];
  const lines = README.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open || !open[1]) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (open[1] === lang) blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') + '\n', info: open[2] ?? '' });
    i = end;
  }
  return blocks;
}

/**
 * Every overlab command line the README shows: in code spans and shell blocks, as `overlab ...`,
 * `npx overlab ...` or `npm run lab:X -- ...`. Synopses (with [optional] parts or a|b) are the
 * reference table's, not examples, and are left out.
 */
export function cliExamples(text: string, scripts: Record<string, string>): { source: string; argv: string[] }[] {
  const snippets = [
    ...[...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!),
    ...fenced('sh').flatMap((b) => b.text.split('\n')),
  ];
  const examples: { source: string; argv: string[] }[] = [];
  for (const snippet of snippets) {
    for (let part of snippet.split(/&&|;|\|\|/)) {
      part = part.replace(/\s#.*$/, '').trim();
      const sub = /\$\(([^)]*)\)/.exec(part);
      if (sub) part = sub[1]!.trim();
      let argv: string[] | undefined;
      const npm = /(?:^|\s)npm run (lab:[a-z]+)(?: -- (.*))?$/.exec(part);
      const direct = /(?:^|\s)(?:npx )?overlab ((?:-|[a-z]).*)$/.exec(part);
      if (npm) {
        const script = scripts[npm[1]!];
        if (!script) throw new Error(`the README runs npm script ${npm[1]}, which package.json does not have`);
        argv = [...script.replace(/^node bin\/overlab\.js\s*/, '').split(/\s+/).filter(Boolean), ...words(npm[2] ?? '')];
      } else if (direct) argv = words(direct[1]!);
      if (!argv || /\[|\\\||\.\.\./.test(part)) continue;
      examples.push({ source: part, argv });
    }
  }
  return examples;
}

/** Shell words: blanks split, quotes group (enough for the README's examples). */
function words(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Parses argv with the real program; resolves to the command it would run (undefined for --help/--version). */
/** What the parser made of argv: the command it ran, or what it printed instead (`--help`, `--version`: commander's code). */
async function parse(argv: string[]): Promise<{ command: CommandName; args: unknown[] } | { shown: string } | undefined> {
  let ran: { command: CommandName; args: unknown[] } | undefined;
  const program = buildProgram(async (command, args) => {
    ran = { command, args };
  }, PACKAGE.version);
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  for (const sub of program.commands) sub.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    await program.parseAsync(['node', 'overlab', ...argv]);
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode === 0) return { shown: String((e as { code?: string }).code) }; // --help, --version
    throw e;
  }
  return ran;
}

/** The command argv runs (a failed assertion when it runs none). */
async function ran(argv: string[]): Promise<{ command: CommandName; args: unknown[] }> {
  const r = await parse(argv);
  if (r === undefined || !('command' in r)) return expect.fail(`${argv.join(' ')} runs no command (${JSON.stringify(r)})`);
  return r;
}

describe('README', () => {
  describe('every lab file example validates', () => {
    const blocks = fenced('yaml');
    it('has lab file examples', () => expect(blocks.length).to.be.greaterThan(1));
    for (const b of blocks) {
      it(`the lab file at README.md:${b.line}`, () => {
        expect(() => parseLab(b.text, `README.md:${b.line}`)).to.not.throw();
      });
    }
  });

  describe('every command line example parses with the real program', () => {
    const examples = cliExamples(README, PACKAGE.scripts);
    it('finds the examples (overlab, npx overlab, npm run lab:...)', () => {
      const sources = examples.map((e) => e.source);
      expect(sources).to.include('npm run lab:up -- --provider vagrant');
      expect(sources).to.include('npm run lab:down -- --provider vagrant');
      expect(sources).to.include('npx overlab env mhs-demo1');
      expect(sources).to.include('overlab --version');
      expect(examples.length).to.be.greaterThan(15);
    });
    for (const e of examples) {
      it(e.source, async () => {
        const r = await parse(e.argv);
        if (e.argv.includes('--help') || e.argv.includes('--version')) {
          expect(r, e.source).to.deep.equal({ shown: e.argv.includes('--help') ? 'commander.helpDisplayed' : 'commander.version' });
          return;
        }
        expect(r !== undefined && 'command' in r, `${e.source} runs a command`).to.equal(true);
      });
    }
    it('rejects what is not a command line (the parser is not lenient)', async () => {
      let error: unknown;
      try {
        await parse(['down', '--provider', 'vagrnt']);
      } catch (e) {
        error = e;
      }
      expect((error as { code?: string }).code).to.equal('commander.invalidArgument');
      await parse(['down', '--no-such-flag']).then(
        () => expect.fail('parsed an unknown option'),
        (e: { code?: string }) => expect(e.code).to.equal('commander.unknownOption'),
      );
    });
    it('takes --provider wherever a lab is named, and --quiet on up, down and test', async () => {
      for (const argv of [['down'], ['status'], ['test'], ['env', 'h'], ['ssh', 'h'], ['up']]) {
        const opts = (await ran([...argv, '--provider', 'vagrant'])).args.at(-1) as { provider?: string };
        expect(opts.provider, argv[0]).to.equal('vagrant');
      }
      for (const c of ['up', 'down', 'test']) expect(((await ran([c, '--quiet'])).args.at(-1) as { quiet?: boolean }).quiet).to.equal(true);
    });
  });

  describe('the commands CI runs are the README\'s', () => {
    const command = (name: string) => execFileSync('bash', [join(ROOT, 'scripts/readme-command.sh'), name], { encoding: 'utf8' }).trim();
    it('has an up block and a test block, with no literal sudo (the scripts elevate themselves)', () => {
      expect(command('up')).to.equal('scripts/setup-host.sh && npm ci && npm run lab:up');
      expect(command('test')).to.equal('scripts/setup-host.sh --with-zookeeper && npm ci && npm run test:all');
      for (const b of fenced('sh')) expect(b.text, `README.md:${b.line}`).to.not.match(/(^|&& *)sudo /m);
    });
    it('.ci/run runs the up block, then the test block, through scripts/readme-command.sh', () => {
      const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
      expect(ci).to.include('scripts/readme-command.sh up');
      expect(ci).to.include('scripts/readme-command.sh test');
      expect(ci.indexOf('bash -euo pipefail -c "$up"')).to.be.lessThan(ci.indexOf('exec bash -euo pipefail -c "$tests"'));
      expect(ci).to.not.match(/^npm /m);
    });
  });
});
