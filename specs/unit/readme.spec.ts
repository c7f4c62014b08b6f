// The README's and docs/'s examples work as written: every lab file in them validates, every
// command line in them parses with the real commander program (actions recorded, never run),
// every link between the pages leads to a page and heading that exist, and the fenced commands
// CI runs are the README's own. The README stays a front page (at most 150 lines).
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseLab } from '../../harness/lab/load.ts';
import { buildProgram, type CommandName } from '../../harness/cli/main.ts';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };

/** README.md and every Markdown page under docs/, as paths from the repository's root. */
export function docPages(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    );
  return ['README.md', ...walk('docs').sort()];
}
const PAGES = docPages().map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));

/** The fenced blocks of a given info string's first word, with the line each starts on. */
function fenced(text: string, lang: string): { line: number; text: string; info: string }[] {
  const blocks: { line: number; text: string; info: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open || !open[1]) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (open[1] === lang) blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') + '\n', info: open[2] ?? '' });
    i = end;
  }
  return blocks;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, blanks to dashes. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page's headings (outside fenced blocks). */
function anchors(text: string): Set<string> {
  const found = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const h = !fence && /^#{1,6} (.*)$/.exec(line);
    if (h) found.add(anchorOf(h[1]!));
  }
  return found;
}

/**
 * Every overlab command line the README shows: in code spans and shell blocks, as `overlab ...`,
 * `npx overlab ...` or `npm run lab:X -- ...`. Synopses (with [optional] parts or a|b) are the
 * reference table's, not examples, and are left out.
 */
export function cliExamples(text: string, scripts: Record<string, string>): { source: string; argv: string[] }[] {
  // Code spans outside fenced blocks (a fence's ``` is no span).
  const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
  const snippets = [
    ...[...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!),
    ...fenced(text, 'sh').flatMap((b) => b.text.split('\n')),
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
        if (!script) throw new Error(`the docs run npm script ${npm[1]}, which package.json does not have`);
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

describe('README and docs/', () => {
  it('reads README.md and the pages under docs/', () => {
    expect(PAGES.map((p) => p.path)).to.include.members(['README.md', 'docs/lab-file.md', 'docs/cli.md', 'docs/providers.md', 'docs/matrix-ci.md']);
  });

  it('the README is a front page: at most 150 lines', () => {
    expect(README.split('\n').length).to.be.at.most(150);
  });

  describe('every lab file example validates', () => {
    // A ```yaml block is a lab file; other YAML says what it is (```yaml workflow).
    const blocks = PAGES.flatMap((p) => fenced(p.text, 'yaml').map((b) => ({ ...b, page: p.path })));
    it('has lab file examples', () => expect(blocks.filter((b) => b.info === '').length).to.be.greaterThan(1));
    for (const b of blocks) {
      if (b.info !== '') continue;
      it(`the lab file at ${b.page}:${b.line}`, () => {
        expect(() => parseLab(b.text, `${b.page}:${b.line}`)).to.not.throw();
      });
    }
  });

  describe('every command line example parses with the real program', () => {
    const examples = PAGES.flatMap((p) => cliExamples(p.text, PACKAGE.scripts).map((e) => ({ ...e, page: p.path })));
    it('finds the examples (overlab, npx overlab, npm run lab:...) on every page that has some', () => {
      const sources = examples.map((e) => e.source);
      expect(sources).to.include('npm run lab:up -- --provider vagrant');
      expect(sources).to.include('npm run lab:down -- --provider vagrant');
      expect(sources).to.include('npx overlab env mhs-demo1');
      expect(sources).to.include('overlab --version');
      expect(examples.length).to.be.greaterThan(15);
      const pages = new Set(examples.map((e) => e.page));
      for (const page of ['README.md', 'docs/setup.md', 'docs/cli.md', 'docs/providers.md', 'docs/workshops.md', 'docs/release-matrix.md', 'docs/faults.md', 'docs/matrix-ci.md']) {
        expect(pages, page).to.include(page);
      }
    });
    for (const e of examples) {
      it(`${e.page}: ${e.source}`, async () => {
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
      for (const p of PAGES) for (const b of fenced(p.text, 'sh')) expect(b.text, `${p.path}:${b.line}`).to.not.match(/(^|&& *)sudo /m);
    });
    it('.ci/run runs the up block, then the test block, through scripts/readme-command.sh', () => {
      const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
      expect(ci).to.include('scripts/readme-command.sh up');
      expect(ci).to.include('scripts/readme-command.sh test');
      expect(ci.indexOf('bash -euo pipefail -c "$up"')).to.be.lessThan(ci.indexOf('exec bash -euo pipefail -c "$tests"'));
      expect(ci).to.not.match(/^npm /m);
    });
  });

  describe('every link between the pages leads somewhere', () => {
    for (const p of PAGES) {
      const prose = p.text.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
      const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
      if (!links.length) continue;
      it(`${p.path}: ${links.length} links`, () => {
        for (const link of links) {
          const [file, anchor] = link.split('#') as [string, string | undefined];
          const target = file === '' ? p.path : relative(ROOT, join(ROOT, dirname(p.path), file));
          expect(existsSync(join(ROOT, target)), `${p.path}: ${link} (no ${target})`).to.equal(true);
          if (anchor !== undefined) expect([...anchors(readFileSync(join(ROOT, target), 'utf8'))], `${p.path}: ${link}`).to.include(anchor);
        }
      });
    }
  });

  it('the README\'s providers table is docs/providers.md\'s', () => {
    const table = (text: string) => text.split('\n').filter((l) => l.startsWith('| `') && /netns|vagrant|ssh/.test(l.split('|')[1]!));
    const readme = table(README);
    expect(readme).to.have.length(3);
    expect(table(PAGES.find((p) => p.path === 'docs/providers.md')!.text)).to.deep.equal(readme);
  });

  describe('docs/architecture.md', () => {
    const page = PAGES.find((p) => p.path === 'docs/architecture.md')!.text;
    const cruiser = readFileSync(join(ROOT, '.dependency-cruiser.cjs'), 'utf8');
    it("the floors table names each floor's folders as .dependency-cruiser.cjs does", () => {
      const floors: Record<string, string> = { planning: 'PLANNING', machinery: 'MACHINERY', providers: 'PROVIDERS', lifecycle: 'LIFECYCLE', cli: 'CLI', api: 'API' };
      for (const [floor, constant] of Object.entries(floors)) {
        const regex = new RegExp(`const ${constant} = '\\^harness/(?:\\(\\?:)?([a-z|]+)\\)?/'`).exec(cruiser);
        expect(regex, constant).to.not.equal(null);
        const row = page.split('\n').find((l) => l.startsWith(`| ${floor} |`));
        expect(row, floor).to.not.equal(undefined);
        const listed = [...row!.split('|')[2]!.matchAll(/`([a-z]+)\/`/g)].map((m) => m[1]!);
        expect(listed.sort(), floor).to.deep.equal(regex![1]!.split('|').sort());
      }
    });
    it('the layout lists every folder and top-level file of harness/ and every folder of specs/, each once', () => {
      const listing = page.slice(page.indexOf('## Layout'));
      const entries = [...listing.matchAll(/^ {4}( *)([a-z][\w.-]*\/?|[a-z][\w.-]*\.[a-z]+)\s/gm)];
      let top = '';
      const paths: string[] = [];
      for (const m of entries) {
        if (m[1] === '') top = m[2]!;
        paths.push(m[1] === '' ? m[2]! : top + m[2]!);
      }
      expect(paths.filter((x, i) => paths.indexOf(x) !== i), 'listed twice').to.deep.equal([]);
      const actual = [
        ...readdirSync(join(ROOT, 'harness'), { withFileTypes: true }).map((e) => `harness/${e.name}${e.isDirectory() ? '/' : ''}`),
        ...readdirSync(join(ROOT, 'specs'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `specs/${e.name}/`),
      ];
      expect(actual.filter((x) => !paths.includes(x)), 'not listed').to.deep.equal([]);
      expect(paths.filter((x) => /^(harness|specs)\/./.test(x) && !actual.includes(x)), 'listed but gone').to.deep.equal([]);
    });
  });
});
