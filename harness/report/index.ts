// Reports of a spec run against a live lab: the data (SpecReport, in spec-report.ts), its JUnit
// XML and JSON renderings, and writing both into the lab's state folder (.overlab/<lab>/reports/).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord, readIfThere, StateFileError } from '../state/record-file.ts';
import { checkSpecReport } from './check.ts';
import { renderJunit } from './junit.ts';
import type { SpecReport } from './spec-report.ts';

export { renderJunit } from './junit.ts';
export type { CaseFailure, CaseState, SpecCase, SpecReport } from './spec-report.ts';

/**
 * The terminal summary of a run: one line of counts (passed, failed, n/a), then one line per
 * spec that was not applicable, naming why. The CLI prints it; JUnit and JSON carry the same counts.
 */
export function summaryLines(r: SpecReport): { counts: string; notApplicable: string[] } {
  const na = r.cases.filter((c) => c.state === 'n/a');
  const parts = [`${r.counts.passed} passed`, `${r.counts.failed} failed`, ...(r.counts.na ? [`${r.counts.na} n/a`] : []), ...(r.counts.pending ? [`${r.counts.pending} pending`] : [])];
  return {
    counts: `${parts.join(', ')} of ${r.counts.tests} ${r.counts.tests === 1 ? 'spec' : 'specs'}`,
    notApplicable: na.map((c) => `n/a: ${c.suite} | ${c.title}: ${c.reason ?? 'unknown reason'}`),
  };
}

/**
 * The report if it is a result of the lab's current life (`life`: the lab's recorded
 * `createdAt`), else undefined: a report of an earlier life (the same name brought up again) is
 * never shown as the current lab's. A report from before reports named their life counts when it
 * started in this life.
 */
export function reportOfLife(report: SpecReport | undefined, life: string): SpecReport | undefined {
  if (!report) return undefined;
  if (report.life !== undefined) return report.life === life ? report : undefined;
  return Date.parse(report.startedAt) >= Date.parse(life) ? report : undefined;
}

export interface ReportFiles {
  junit: string;
  json: string;
}

/** Writes junit.xml and report.json into `dir` (each atomically); returns their paths. */
export function writeReports(report: SpecReport, dir: string): ReportFiles {
  mkdirSync(dir, { recursive: true });
  const files = { junit: join(dir, 'junit.xml'), json: join(dir, 'report.json') };
  writeAtomically(files.junit, renderJunit(report));
  writeAtomically(files.json, JSON.stringify(report, null, 2) + '\n');
  return files;
}

/**
 * The report `writeReports` left in `dir`, or undefined when there is none (or it cannot be
 * read); one that is not as overlab writes it (a count that is not a number, a state that is
 * not one) is a StateFileError naming its first bad field.
 */
export function readReport(dir: string): SpecReport | undefined {
  const file = join(dir, 'report.json');
  let text: string | undefined;
  try {
    text = readIfThere(file);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  return parseRecord(text, checkSpecReport, (pointer, problem) => new StateFileError({ what: 'spec report', file, pointer, problem, hint: 'Nothing was shown from it. `overlab test` on the lab writes it anew.' }));
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
