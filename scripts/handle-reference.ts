// Writes docs/handle.md, the reference of the lab handle (`import { lab } from 'overlab/spec'`)
// and of the library's Lab (`import { Lab } from 'overlab'`), from their types and doc comments:
// the TypeScript compiler reads harness/api/index.ts and harness/probes/handle.ts with
// tsconfig.json's options, and its checker prints each member's signature as a .d.ts would.
//
//   npx tsx scripts/handle-reference.ts           (npm run docs:handle) writes docs/handle.md
//   npx tsx scripts/handle-reference.ts --check   exits 1 when docs/handle.md is not what it would write
//
// Importing this module writes nothing: specs/unit/handle-reference.spec.ts calls handleReference().
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The page, from the repository's root. */
export const HANDLE_PAGE = 'docs/handle.md';
const API_ENTRY = 'harness/api/index.ts';
const SPEC_ENTRY = 'harness/probes/handle.ts';

const FLAGS = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;

/** GitHub's anchor of a heading (as specs/unit/readme.spec.ts computes it). */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** A program over the two entry points, with tsconfig.json's compiler options. */
function program(): ts.Program {
  const configPath = join(ROOT, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const config = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, undefined, configPath);
  return ts.createProgram({ rootNames: [API_ENTRY, SPEC_ENTRY].map((f) => join(ROOT, f)), options: config.options });
}

type Member = ts.ClassElement | ts.TypeElement;

class Reference {
  readonly checker: ts.TypeChecker;
  readonly api: Map<string, ts.Symbol>;
  readonly spec: Map<string, ts.Symbol>;

  constructor(readonly program: ts.Program) {
    this.checker = program.getTypeChecker();
    this.api = this.exportsOf(API_ENTRY);
    this.spec = this.exportsOf(SPEC_ENTRY);
  }

  /** A module's exports by name, aliases followed to what they name. */
  exportsOf(file: string): Map<string, ts.Symbol> {
    const source = this.program.getSourceFile(join(ROOT, file));
    const module = source && this.checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`no module ${file}`);
    return new Map(
      this.checker.getExportsOfModule(module).map((s) => [s.name, s.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(s) : s]),
    );
  }

  /** Whether a user can import the symbol by name from overlab or overlab/spec. */
  isExported(symbol: ts.Symbol): boolean {
    return [...this.api.values(), ...this.spec.values()].includes(symbol);
  }

  /** What `from` exports under `name` (an error when it does not: the page would be wrong). */
  exported(from: Map<string, ts.Symbol>, name: string, where: string): ts.Symbol {
    const s = from.get(name);
    if (!s) throw new Error(`${where} exports no ${name}`);
    return s;
  }

  declarationOf<T extends ts.Declaration>(symbol: ts.Symbol, is: (d: ts.Declaration) => d is T): T {
    const d = symbol.declarations?.find(is);
    if (!d) throw new Error(`${symbol.name} has no declaration of the kind expected`);
    return d;
  }

  /** A symbol's doc comment, paragraphs kept, each one line; then its JSDoc tags. */
  doc(symbol: ts.Symbol | undefined): string {
    if (!symbol) return '';
    const text = ts.displayPartsToString(symbol.getDocumentationComment(this.checker));
    const tags = symbol.getJsDocTags(this.checker).map((t) => `\`@${t.name}\` ${ts.displayPartsToString(t.text ?? [])}`.trim());
    return [...paragraphs(text), ...(tags.length ? [tags.map((t) => `- ${oneLine(t)}`).join('\n')] : [])].join('\n\n');
  }

  /** A member's name as written (`name`, `[Symbol.asyncDispose]`); undefined for a member the page leaves out. */
  publicName(member: Member): string | undefined {
    if (ts.isConstructorDeclaration(member) || ts.isClassStaticBlockDeclaration(member) || ts.isIndexSignatureDeclaration(member) || ts.isSemicolonClassElement(member)) return undefined;
    if (ts.isCallSignatureDeclaration(member) || ts.isConstructSignatureDeclaration(member)) return undefined;
    const name = member.name;
    if (!name || ts.isPrivateIdentifier(name)) return undefined;
    const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
    if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return undefined;
    const text = ts.isComputedPropertyName(name) ? `[${name.expression.getText()}]` : name.getText();
    return text.startsWith('_') ? undefined : text;
  }

  /** A member as a .d.ts would declare it: `reach(from: string, ...): Promise<void>`, `readonly name: string`. */
  signatures(member: Member, name: string): string[] {
    const c = this.checker;
    const prefix = this.isStatic(member) ? 'static ' : '';
    if (ts.isMethodDeclaration(member) || ts.isMethodSignature(member)) {
      const symbol = c.getSymbolAtLocation(member.name);
      const decls = (symbol?.declarations ?? [member]).filter((d): d is ts.MethodDeclaration | ts.MethodSignature => ts.isMethodDeclaration(d) || ts.isMethodSignature(d));
      // Overloads: each signature once, the implementation's left out when there are any.
      const shown = decls.length > 1 ? decls.filter((d) => !(ts.isMethodDeclaration(d) && d.body)) : decls;
      const optional = member.questionToken ? '?' : '';
      return shown.map((d) => `${prefix}${name}${optional}${c.signatureToString(c.getSignatureFromDeclaration(d)!, d, FLAGS)}`);
    }
    if (ts.isGetAccessorDeclaration(member) || ts.isSetAccessorDeclaration(member)) {
      const symbol = c.getSymbolAtLocation(member.name)!;
      const readonly = symbol.flags & ts.SymbolFlags.SetAccessor ? '' : 'readonly ';
      return [`${prefix}${readonly}${name}: ${c.typeToString(c.getTypeOfSymbol(symbol), member, FLAGS)}`];
    }
    if (ts.isPropertyDeclaration(member) || ts.isPropertySignature(member)) {
      const readonly = ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
      const type = member.type ? c.getTypeFromTypeNode(member.type) : c.getTypeAtLocation(member);
      // An alias the entry points do not export (HostPlan['role'] is HostRole) is shown as what it stands for.
      const hidden = type.aliasSymbol && !this.isExported(type.aliasSymbol);
      return [`${prefix}${readonly}${name}${member.questionToken ? '?' : ''}: ${c.typeToString(type, member, hidden ? FLAGS | ts.TypeFormatFlags.InTypeAlias : FLAGS)}`];
    }
    throw new Error(`${name}: a member of a kind this page cannot show (${ts.SyntaxKind[member.kind]})`);
  }

  /** The public members of a class or interface, in declaration order. */
  members(decl: ts.ClassDeclaration | ts.InterfaceDeclaration): { member: Member; name: string }[] {
    const seen = new Set<string>();
    const out: { member: Member; name: string }[] = [];
    for (const member of decl.members as ts.NodeArray<Member>) {
      const name = this.publicName(member);
      const key = `${this.isStatic(member) ? 'static ' : ''}${name}`;
      if (name === undefined || seen.has(key)) continue; // an overload's or a get/set pair's second declaration
      seen.add(key);
      out.push({ member, name });
    }
    return out;
  }

  isStatic(member: Member): boolean {
    return ts.canHaveModifiers(member) && !!ts.getModifiers(member)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
  }

  isCallable(member: Member): boolean {
    return ts.isMethodDeclaration(member) || ts.isMethodSignature(member);
  }

  /** A `### owner.member()` section: the heading, the signature in a ts block, the doc comment. */
  memberSection(owner: string, member: Member, name: string): string {
    const access = name.startsWith('[') ? `${owner}${name}` : `${owner}.${name}`;
    const heading = `### \`${access}${this.isCallable(member) ? '()' : ''}\``;
    const symbol = this.checker.getSymbolAtLocation((member as ts.NamedDeclaration).name!);
    const doc = this.doc(symbol);
    return [heading, '', '```ts', ...this.signatures(member, name), '```', ...(doc ? ['', doc] : [])].join('\n');
  }

  /** An option or result type: its members as a list, each its declaration and its doc comment. */
  memberList(decl: ts.InterfaceDeclaration): string {
    return this.members(decl)
      .map(({ member, name }) => {
        const doc = this.doc(this.checker.getSymbolAtLocation((member as ts.NamedDeclaration).name!));
        const line = this.signatures(member, name).map((s) => `\`${s}\``).join(', ');
        return `- ${line}${doc ? `: ${oneLine(doc)}` : ''}`;
      })
      .join('\n');
  }
}

/** A doc comment's paragraphs, each on one line. */
function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map(oneLine)
    .filter(Boolean);
}

/** The text of the last `/** ... *\/` comment from `pos` up to the next token, on one line. */
function leadingDoc(text: string, pos: number): string {
  const range = (ts.getLeadingCommentRanges(text, pos) ?? []).filter((r) => text.startsWith('/**', r.pos)).at(-1);
  if (!range) return '';
  return oneLine(
    text
      .slice(range.pos + 3, range.end - 2)
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''))
      .join('\n'),
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The text of docs/handle.md, from the types as they are now. Pure: reads the sources, writes nothing. */
export function handleReference(): string {
  const r = new Reference(program());
  const c = r.checker;
  const isClass = (d: ts.Declaration): d is ts.ClassDeclaration => ts.isClassDeclaration(d);
  const isInterface = (d: ts.Declaration): d is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(d);
  const isAlias = (d: ts.Declaration): d is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(d);

  const handleSymbol = r.exported(r.spec, 'LabHandle', SPEC_ENTRY);
  const handle = r.declarationOf(handleSymbol, isClass);
  const labConst = r.exported(r.spec, 'lab', SPEC_ENTRY);
  const labSymbol = r.exported(r.api, 'Lab', API_ENTRY);
  const labClass = r.declarationOf(labSymbol, isClass);
  const base = labClass.heritageClauses?.flatMap((h) => h.types).map((t) => c.getSymbolAtLocation(t.expression));
  const labBase = base?.[0] && base[0].flags & ts.SymbolFlags.Alias ? c.getAliasedSymbol(base[0]) : base?.[0];
  if (labBase !== handleSymbol) throw new Error(`Lab (${API_ENTRY}) no longer extends the LabHandle of ${SPEC_ENTRY}: this page says it does`);

  const handleMembers = r.members(handle);
  const labMembers = r.members(labClass);
  const statics = labMembers.filter((m) => r.isStatic(m.member));
  const own = labMembers.filter((m) => !r.isStatic(m.member));

  const headingOf = (owner: string, m: { member: Member; name: string }) =>
    `${owner}${m.name.startsWith('[') ? '' : '.'}${m.name}${r.isCallable(m.member) ? '()' : ''}`;
  const linkTo = (owner: string, m: { member: Member; name: string }) => `[\`${headingOf(owner, m)}\`](#${anchorOf(headingOf(owner, m))})`;

  const interfaceSection = (name: string, lead: string) => {
    const decl = r.declarationOf(r.exported(r.api, name, API_ENTRY), isInterface);
    const doc = r.doc(r.exported(r.api, name, API_ENTRY));
    return { decl, head: [`## \`${name}\``, '', ...(doc ? [doc, ''] : []), lead].join('\n') };
  };

  const typeSection = (name: string) => {
    const symbol = r.exported(r.api, name, API_ENTRY);
    const doc = r.doc(symbol);
    const alias = symbol.declarations?.find(isAlias);
    if (alias) {
      const type = c.getTypeFromTypeNode(alias.type);
      const literals = type.isUnion() && type.types.every((t) => t.isLiteral() || t.flags & ts.TypeFlags.BooleanLiteral);
      if (!literals && ts.isUnionTypeNode(alias.type)) {
        // A union of object types (Fault): each member on a line of its own, with its doc comment.
        const members = alias.type.types.map((t, i, all) => {
          const before = i === 0 ? (alias.type as ts.UnionTypeNode).pos : all[i - 1]!.end;
          const note = leadingDoc(alias.getSourceFile().text, before);
          return `- \`${c.typeToString(c.getTypeFromTypeNode(t), alias, FLAGS)}\`${note ? `: ${note}` : ''}`;
        });
        return [`### \`${name}\``, '', ...(doc ? [doc, ''] : []), `One of:`, '', ...members].join('\n');
      }
      // A union of literals is shown as its members; any other alias as TypeScript prints its type.
      const text = literals
        ? (type as ts.UnionType).types.map((t) => c.typeToString(t, alias, FLAGS)).join(' | ')
        : c.typeToString(type, alias, FLAGS | ts.TypeFormatFlags.InTypeAlias);
      return [`### \`${name}\``, '', '```ts', `type ${name} = ${text};`, '```', ...(doc ? ['', doc] : [])].join('\n');
    }
    const decl = r.declarationOf(symbol, isInterface);
    return [`### \`${name}\``, '', ...(doc ? [doc, ''] : []), r.memberList(decl)].join('\n');
  };

  const host = interfaceSection('HostHandle', 'What [`lab.host(name)`](#labhost) returns.');
  const container = interfaceSection('ContainerHandle', 'What [`lab.container(name)`](#labcontainer) returns.');
  // Fault once the library exports it (withFault's argument).
  const types = ['ReachOptions', 'LabUpOptions', 'LabTestResult', 'ExecResult', 'Command', 'Capability', 'Fault'].filter((t) => t !== 'Fault' || r.api.has(t));

  const sections = [
    '# The lab handle and the library\'s `Lab`: reference',
    '',
    '<!-- Generated by `npm run docs:handle` (scripts/handle-reference.ts): do not edit by hand. -->',
    '',
    `This page is generated by \`npm run docs:handle\` (\`scripts/handle-reference.ts\`) from the types and doc comments in \`harness/api/\` and \`harness/probes/handle.ts\` (and the types they export); do not edit it by hand. Change a doc comment, then run \`npm run docs:handle\`; \`specs/unit/handle-reference.spec.ts\` fails while the page and the types differ.`,
    '',
    'Back to the [README](../README.md). Spec files beside a lab file and the handle in use: [docs/specs.md](specs.md). overlab as a library in a test suite of your own: [docs/library.md](library.md).',
    '',
    '- [`lab` in spec files](#lab-in-spec-files): `import { lab, expect } from \'overlab/spec\'`',
    '- [`Lab`, the library](#lab-the-library): `import { Lab } from \'overlab\'`',
    '- [`HostHandle`](#hosthandle), [`ContainerHandle`](#containerhandle)',
    `- [Options and results](#options-and-results): ${types.map((t) => `[\`${t}\`](#${anchorOf(t)})`).join(', ')}`,
    '',
    '## `lab` in spec files',
    '',
    [r.doc(labConst), `\`import { lab, expect } from 'overlab/spec'\`: \`lab\` is a \`${handleSymbol.name}\`, and \`expect\` is chai's.`].filter(Boolean).join(' '),
    ...(r.doc(handleSymbol) ? ['', r.doc(handleSymbol)] : []),
    '',
    ...handleMembers.flatMap((m) => [r.memberSection('lab', m.member, m.name), '']),
    '## `Lab`, the library',
    '',
    [r.doc(labSymbol), "`import { Lab } from 'overlab'`."].filter(Boolean).join(' '),
    '',
    `A \`Lab\` extends \`${handleSymbol.name}\`: it has every member of the handle above (${handleMembers.map((m) => linkTo('lab', m)).join(', ')}), and these of its own.`,
    '',
    ...statics.flatMap((m) => [r.memberSection('Lab', m.member, m.name), '']),
    ...own.flatMap((m) => [r.memberSection('lab', m.member, m.name), '']),
    host.head,
    '',
    ...r.members(host.decl).flatMap((m) => [r.memberSection('host', m.member, m.name), '']),
    container.head,
    '',
    ...r.members(container.decl).flatMap((m) => [r.memberSection('container', m.member, m.name), '']),
    '## Options and results',
    '',
    ...types.flatMap((t) => [typeSection(t), '']),
  ];
  return `${sections.join('\n').trimEnd()}\n`;
}

function main(args: string[]): number {
  const check = args.includes('--check');
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length) {
    process.stderr.write(`handle-reference: unknown argument ${unknown.join(' ')} (usage: tsx scripts/handle-reference.ts [--check])\n`);
    return 2;
  }
  const page = join(ROOT, HANDLE_PAGE);
  const text = handleReference();
  if (check) {
    let current: string | undefined;
    try {
      current = readFileSync(page, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) return 0;
    process.stderr.write(`${HANDLE_PAGE} is ${current === undefined ? 'missing' : 'not what the types and doc comments of harness/api/ and harness/probes/handle.ts make'}: run \`npm run docs:handle\` and commit it.\n`);
    return 1;
  }
  writeFileSync(page, text);
  process.stdout.write(`wrote ${HANDLE_PAGE}\n`);
  return 0;
}

// Only when run as a script, never when imported.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
