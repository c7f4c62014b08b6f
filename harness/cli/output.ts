// How the CLI speaks: results to stdout (JSON with --json), diagnostics to stderr, and errors
// mapped to one line plus a hint and their exit status.
import { LabFileError, OverlabError, permissionProblem } from '../errors.ts';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function say(line: string): void {
  process.stdout.write(line + '\n');
}

export function warn(line: string): void {
  process.stderr.write(line + '\n');
}

/** Prints an error the way a person (or with --json, a program) wants it; returns the exit status. */
export function reportError(e: unknown, json: boolean): number {
  // A file this user may not touch, wherever it surfaced: one line with the path, not a stack.
  e = permissionProblem(e, 'use');
  if (e instanceof OverlabError) {
    if (json) {
      printJson({
        ok: false,
        error: e.name,
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
        ...(e instanceof LabFileError ? { problems: e.problems } : {}),
      });
    } else {
      warn(`overlab: ${e.message}`);
      if (e.hint) warn(e.hint);
    }
    return e.exitCode;
  }
  if (e instanceof Error && e.name === 'AbortError') {
    warn('overlab: interrupted; what was created is recorded: `overlab down` removes it.');
    return 130;
  }
  // A bug of overlab's: one line, and the stack with OVERLAB_DEBUG=1.
  const debug = !!process.env['OVERLAB_DEBUG'];
  warn(`overlab: unexpected error: ${e instanceof Error ? (debug ? (e.stack ?? e.message) : e.message) : String(e)}`);
  if (!debug && e instanceof Error) warn('Run it again with OVERLAB_DEBUG=1 for the stack trace, and report it.');
  return 70;
}
