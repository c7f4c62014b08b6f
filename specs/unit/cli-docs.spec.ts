// docs/cli.md documents the CLI that harness/cli/main.ts defines: every command (and
// subcommand) has a row, every option a command defines is in that row's synopses, every option
// a synopsis names is defined, and every verb a command takes is listed. Read from the real
// commander program, so a new option without its documentation fails here.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../harness/cli/main.ts';

const ROOT = join(import.meta.dirname, '../..');
const CLI_DOC = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');

/** Every command of the program, by its path (`matrix merge`). */
function commands(program: Command): { path: string; command: Command }[] {
  const walk = (c: Command, prefix: string[]): { path: string; command: Command }[] =>
    c.commands.flatMap((s) => [{ path: [...prefix, s.name()].join(' '), command: s }, ...walk(s, [...prefix, s.name()])]);
  return walk(program, []);
}

/** The command reference table: per row, its synopses (the first column's code spans) and its whole text. */
function rows(): { synopses: string[]; text: string }[] {
  const start = CLI_DOC.indexOf('| command | npm script | what |');
  expect(start, 'the command table of docs/cli.md').to.be.above(-1);
  const table = CLI_DOC.slice(start).split('\n\n')[0]!.split('\n').slice(2);
  return table.map((line) => {
    const first = line.split(/(?<!\\)\|/)[1]!;
    return { synopses: [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\\\|/g, '|')), text: line.replace(/\\\|/g, '|') };
  });
}

const program = buildProgram(async () => {}, '0.0.0');
const all = commands(program);
const paths = all.map((c) => c.path).sort((a, b) => b.split(' ').length - a.split(' ').length);

/** The command a synopsis is of: the longest command path it starts with. */
function commandOf(synopsis: string): string | undefined {
  const words = synopsis.replace(/^overlab /, '').split(/\s+/);
  return paths.find((p) => p.split(' ').every((w, i) => words[i] === w));
}

/** Synopses by command, and the options each names. */
function documented(): Map<string, { flags: Set<string>; text: string[] }> {
  const docs = new Map<string, { flags: Set<string>; text: string[] }>();
  for (const row of rows()) {
    for (const s of row.synopses.filter((s) => s.startsWith('overlab '))) {
      const path = commandOf(s);
      if (!path) continue;
      const entry = docs.get(path) ?? { flags: new Set<string>(), text: [] };
      for (const m of s.matchAll(/(?:^|[\s[|])(--[a-z0-9-]+)/g)) entry.flags.add(m[1]!);
      // "Every lab command takes `[lab]` or `--lab LAB`" (the paragraph above the table).
      if (/\[lab\b/.test(s)) entry.flags.add('--lab');
      entry.text.push(row.text);
      docs.set(path, entry);
    }
  }
  return docs;
}

describe('docs/cli.md and the commands the CLI defines', () => {
  const docs = documented();

  it('finds the commands (validate ... fault, matrix merge)', () => {
    expect(all.map((c) => c.path)).to.include.members(['validate', 'up', 'matrix', 'matrix merge', 'engines', 'fault']);
  });

  it('documents no command the CLI lacks', () => {
    const unknown = rows()
      .flatMap((r) => r.synopses)
      .filter((s) => s.startsWith('overlab ') && !/^overlab --/.test(s) && commandOf(s) === undefined);
    expect(unknown).to.deep.equal([]);
  });

  for (const { path, command } of all) {
    describe(`overlab ${path}`, () => {
      it('has a row in the command table', () => expect(docs.has(path), `no synopsis starts with "overlab ${path}"`).to.equal(true));

      it('every option it defines is in its synopses', () => {
        const flags = docs.get(path)?.flags ?? new Set<string>();
        const missing = command.options.map((o) => o.long!).filter((f) => !flags.has(f));
        expect(missing, `options of overlab ${path} that docs/cli.md does not show`).to.deep.equal([]);
      });

      it('every option its synopses name is one it defines', () => {
        const defined = new Set([...command.options, ...(command.parent?.parent ? command.parent.options : [])].map((o) => o.long!));
        const extra = [...(docs.get(path)?.flags ?? [])].filter((f) => !defined.has(f));
        expect(extra, `options docs/cli.md shows for overlab ${path} that it does not take`).to.deep.equal([]);
      });

      const choices = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
      if (choices.length) {
        it(`lists every verb it takes (${choices.join(', ')})`, () => {
          const text = (docs.get(path)?.text ?? []).join('\n');
          expect(choices.filter((v) => !text.includes(v))).to.deep.equal([]);
        });
      }
    });
  }

  it('shows --version and --help', () => {
    expect(CLI_DOC).to.include('`overlab --version`');
    expect(CLI_DOC).to.include('`overlab up --help`');
  });
});
