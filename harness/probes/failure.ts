// The failure text: what an assertion message, the console and the reports show of a failed
// probe (the decisive command, its exit code and output, the other commands, the diagnostics).
import { AssertionError } from 'chai';
import type { ProbeOutcome } from './probe.ts';

export function describeFailure(o: ProbeOutcome): string {
  const out: string[] = [o.failure ?? 'failed'];
  const decisive = o.decisiveStep === undefined ? undefined : o.steps[o.decisiveStep];
  if (decisive) {
    out.push('', `command (${decisive.where}): ${decisive.command}`, `exit code: ${decisive.exitCode ?? 'none (did not finish)'}`);
    out.push(...block('stdout', decisive.stdout), ...block('stderr', decisive.stderr));
  }
  if (o.steps.length > 1 || (o.steps.length === 1 && !decisive)) {
    out.push('', 'commands run by this probe:');
    for (const s of o.steps) out.push(`  ${s.where} $ ${s.command}  -> exit ${s.exitCode ?? '-'} (${s.ms} ms)`);
  }
  const d = o.diagnostics;
  if (d) {
    for (const log of [...d.engineLogs, ...(d.kvLog ? [d.kvLog] : [])]) {
      out.push('', `log of ${log.host} (${log.file}), ${log.note}:`, ...(log.lines.length ? log.lines.map((l) => `  ${l}`) : ['  (empty)']));
    }
    for (const n of d.networks) {
      out.push('', `docker network inspect ${n.network} (engine of ${n.host}):`);
      out.push(...(typeof n.inspect === 'string' ? n.inspect : JSON.stringify(n.inspect, null, 2)).split('\n').map((l) => `  ${l}`));
    }
  }
  return out.join('\n');
}

function block(name: string, text: string): string[] {
  const t = text.trimEnd();
  if (!t) return [`${name}: (empty)`];
  const lines = t.split('\n');
  return [`${name}:`, ...lines.slice(-20).map((l) => `  ${l}`)];
}

/**
 * An assertion's message as a person reads it: what was seen, and what was wanted, after the
 * spec's own words (`exit code of ping: got 2, wanted 0`), not the assertion library's
 * sentence (`expected 2 to equal +0`, `expected undefined to be a string`). A message of
 * another shape is kept as it is.
 */
export function plainAssertion(message: string): string {
  const m = /^(?:([\s\S]*?): )?expected ([\s\S]*?) to (not )?(?:be |have |deeply |equal |strictly )*([\s\S]*)$/.exec(message);
  if (!m) return message;
  const [, said, seen, not, wanted] = m;
  // chai's own text inside quotes could hold " to ": then the split is not to be trusted.
  if (((seen ?? '').match(/'/g)?.length ?? 0) % 2 === 1) return message;
  const zero = (t: string) => t.replace(/(^|[^\w.])\+0(?![\w.])/g, '$10');
  const goal = zero(wanted!.replace(/^equal /, '').replace(/^include /, 'one that includes ').replace(/^match /, 'a match for '));
  const text = `got ${zero(seen!)}, wanted ${not ? 'anything but ' : ''}${goal}`;
  return said ? `${said}: ${text}` : text;
}

/** The error mocha reports: the probe's failure with its command, output and diagnostics. */
export function specFailure(outcome: ProbeOutcome): Error {
  // mocha indents only the first line of a message: indent the rest to match.
  const message = describeFailure(outcome).replaceAll('\n', '\n     ');
  const error = outcome.failureKind === 'assertion' ? new AssertionError(message) : Object.assign(new Error(message), { name: 'ProbeError' });
  // The stack would only point into the pool; the message already says where it failed.
  error.stack = `${error.name}: ${message}`;
  return error;
}
