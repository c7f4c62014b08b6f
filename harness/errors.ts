// Typed errors: one class per failure class, each with the exit status the CLI maps it to.
// The library throws these; only the CLI turns them into output and exit codes.
import { statSync } from 'node:fs';
import { count } from './plural.ts';

export abstract class OverlabError extends Error {
  abstract readonly exitCode: number;
  /** What the user can do next, printed under the message. */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** One problem in a lab file, located as file:line:column. */
export interface LabProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `file:line:column: message`; a lab that is no file (an object given to the library, line 0) is named alone. */
export function formatProblem(p: LabProblem): string {
  return p.line > 0 ? `${p.file}:${p.line}:${p.column}: ${p.message}` : `${p.file}: ${p.message}`;
}

/** The longest message a lab problem gets; the rules quote values cut short, this is a backstop. */
export const PROBLEM_MESSAGE_MAX = 400;

/**
 * A problem message on one line, whatever text it quotes: control characters and line
 * separators escaped (`\n`, `\x1b`), and cut at PROBLEM_MESSAGE_MAX characters.
 */
export function oneLine(message: string): string {
  const escaped = message.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (ch) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  const chars = [...escaped];
  return chars.length > PROBLEM_MESSAGE_MAX ? `${chars.slice(0, PROBLEM_MESSAGE_MAX).join('')}…` : escaped;
}

/** The lab file is not valid; carries every problem found, not only the first. */
export class LabFileError extends OverlabError {
  readonly exitCode = 65; // EX_DATAERR
  readonly problems: LabProblem[];

  constructor(found: LabProblem[]) {
    const problems = found.map((p) => ({ ...p, message: oneLine(p.message) }));
    const n = problems.length;
    super(`${count(n, 'problem')} in lab file:\n${problems.map(formatProblem).join('\n')}`);
    this.problems = problems;
  }
}

/** The named lab (or lab file) does not exist. */
export class LabNotFoundError extends OverlabError {
  readonly exitCode = 66; // EX_NOINPUT
}

/** Something the machine needs (a binary, root, a kernel feature) is missing. */
export class PrerequisiteError extends OverlabError {
  readonly exitCode = 69; // EX_UNAVAILABLE
}

/** A command on a host failed; carries the command, its exit code and the tail of its output. */
export class CommandFailedError extends OverlabError {
  readonly exitCode = 70; // EX_SOFTWARE
  readonly command: string;
  readonly commandExitCode: number | null;
  readonly output: string;
  readonly host: string | undefined;

  constructor(
    args: { command: string; exitCode: number | null; output: string; host?: string },
    options: { hint?: string; cause?: unknown } = {},
  ) {
    const where = args.host ? ` on ${args.host}` : '';
    const tail = tailLines(args.output, 20);
    super(
      `command failed${where} (exit ${args.exitCode ?? 'signal'}): ${args.command}${tail ? `\n${tail}` : ''}`,
      options,
    );
    this.command = args.command;
    this.commandExitCode = args.exitCode;
    this.output = args.output;
    this.host = args.host;
  }
}

/** A host (VM, namespace, machine) could not be reached. */
export class HostUnreachableError extends OverlabError {
  readonly exitCode = 68; // EX_NOHOST
}

/**
 * A host presented an SSH host key overlab does not trust: unknown (first contact without
 * --accept-new-host-keys) or different from the one expected. Nothing is run on such a host.
 */
export class HostKeyError extends OverlabError {
  readonly exitCode = 76; // EX_PROTOCOL
  readonly host: string;
  /** The fingerprint the host presented (`SHA256:...`). */
  readonly presented: string;
  /** The fingerprints expected, each with where it came from; empty for an unknown host. */
  readonly expected: { fingerprint: string; source: string }[];

  constructor(
    args: { host: string; presented: string; expected: { fingerprint: string; source: string }[]; message: string },
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(args.message, options);
    this.host = args.host;
    this.presented = args.presented;
    this.expected = args.expected;
  }
}

/** Waiting for something to become ready ran out of time; the message names what. */
export class TimeoutError extends OverlabError {
  readonly exitCode = 75; // EX_TEMPFAIL
}

/** A Docker engine died while the lab was being built; quotes its panic and names its log. */
export class EngineDiedError extends OverlabError {
  readonly exitCode = 71;
  readonly host: string;
  readonly logFile: string;
  readonly panicLine: string | undefined;

  constructor(args: { host: string; logFile: string; panicLine?: string; during: string }) {
    super(
      `the Docker engine on ${args.host} died ${args.during}` +
        (args.panicLine ? `: ${args.panicLine}` : '') +
        `\nengine log: ${args.logFile}`,
      { hint: 'This is an engine failure, not an overlab one: try another engine version or KV store.' },
    );
    this.host = args.host;
    this.logFile = args.logFile;
    this.panicLine = args.panicLine;
  }
}

/** An engine API call was refused (bad parameter, conflict, ...); names the call and the engine's words. */
export class EngineApiError extends OverlabError {
  readonly exitCode = 70;
}

/** The lab's state forbids the operation (locked by another command, not up, ...). */
export class LabStateError extends OverlabError {
  readonly exitCode = 73;
}

/**
 * This user may not do it: the netns provider needs root, or a state folder or file belongs to
 * another user. `root` says whether running as root would do it (the CLI then offers sudo).
 */
export class PermissionError extends OverlabError {
  readonly exitCode = 77; // EX_NOPERM
  readonly root: boolean;

  constructor(message: string, options: { hint?: string; cause?: unknown; root: boolean }) {
    super(message, options);
    this.root = options.root;
  }
}

/** The uid of whoever runs this process (undefined off POSIX). */
export function currentUid(): number | undefined {
  return process.getuid?.();
}

/**
 * An fs error of this user's rights (EACCES, EPERM) as a PermissionError naming the path and
 * its owner; anything else is returned as it is.
 */
export function permissionProblem(e: unknown, what: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!err || (err.code !== 'EACCES' && err.code !== 'EPERM') || !err.path) return e;
  const { owner, path } = ownerOf(err.path);
  const me = currentUid();
  const theirs = owner === undefined ? '' : `${path} belongs to ${owner === 0 ? 'root' : `uid ${owner}`}${me === undefined ? '' : `, not to you (uid ${me})`}; `;
  return new PermissionError(`cannot ${what} ${err.path}: ${theirs}permission denied`, {
    cause: e,
    root: me !== 0,
    hint:
      owner !== undefined && owner !== me
        ? `Run the command as ${owner === 0 ? 'root (overlab offers sudo)' : `uid ${owner}`}, or take the folder back: sudo chown -R ${me ?? '$(id -u)'} ${path}`
        : 'Run the command as root, or fix the permissions of that path.',
  });
}

/** The owner of `path`, or of its nearest existing parent folder. */
function ownerOf(path: string): { owner: number | undefined; path: string } {
  for (let p = path; p && p !== '/'; p = p.slice(0, Math.max(p.lastIndexOf('/'), 1))) {
    try {
      return { owner: statSync(p).uid, path: p };
    } catch {
      // Not there (or not visible): try the parent.
    }
  }
  return { owner: undefined, path };
}

/** The user asked for something that cannot work (bad flag value, unknown host, ...). */
export class UsageError extends OverlabError {
  readonly exitCode = 64; // EX_USAGE
}

/** A user's spec used the lab handle (`overlab/spec`) where no lab is under test: outside `overlab test`. */
export class NoLabUnderTestError extends OverlabError {
  readonly exitCode = 64; // EX_USAGE
}

/** Specs ran and some failed. */
export class SpecsFailedError extends OverlabError {
  readonly exitCode = 1;
}

export function tailLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
