// JUnit XML of a spec run: one <testsuite> for the lab, its properties (provider, engine, KV
// store, mode), one <testcase> per fact (and per test of a user's spec file, with its file),
// failures with the full diagnostic text.
import { hostname } from 'node:os';
import type { SpecReport } from './spec-report.ts';

export function renderJunit(r: SpecReport): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const errors = r.cases.filter((c) => c.failure?.kind === 'error').length;
  // Numbers too go through attr: a report may have been read back from a file.
  const n = (x: number) => attr(String(x));
  const counts = `tests="${n(r.counts.tests)}" failures="${n(r.counts.failed - errors)}" errors="${n(errors)}" skipped="${n(r.counts.pending + (r.counts.na ?? 0))}" time="${attr(seconds(r.ms))}"`;
  out.push(`<testsuites name="overlab" ${counts}>`);
  out.push(`  <testsuite name="${attr(`overlab lab ${r.lab}`)}" ${counts} timestamp="${attr(r.startedAt.replace(/\.\d+Z$/, ''))}" hostname="${attr(hostname())}">`);
  out.push('    <properties>');
  for (const [name, value] of Object.entries(r.properties)) out.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
  out.push('    </properties>');
  for (const c of r.cases) {
    // file: the user's spec file a case comes from (GitLab, Jenkins and pytest's JUnit read it).
    const open = `    <testcase classname="${attr(`overlab.${r.lab}.${c.suite}`)}" name="${attr(c.title)}"${c.file ? ` file="${attr(c.file)}"` : ''} time="${attr(seconds(c.ms))}"`;
    const measured = Object.entries(c.measured ?? {});
    if (c.state === 'passed' && !measured.length) {
      out.push(`${open}/>`);
      continue;
    }
    out.push(`${open}>`);
    if (measured.length) {
      out.push('      <properties>');
      for (const [name, ms] of measured) out.push(`        <property name="${attr(name)}" value="${n(ms)}"/>`);
      out.push('      </properties>');
    }
    if (c.state === 'pending') out.push('      <skipped/>');
    else if (c.state === 'n/a') out.push(`      <skipped message="${attr(`not applicable: ${c.reason ?? 'unknown reason'}`)}"/>`);
    else if (c.failure) {
      const tag = c.failure.kind === 'error' ? 'error' : 'failure';
      const type = c.failure.kind === 'error' ? 'ProbeError' : 'AssertionError';
      out.push(`      <${tag} message="${attr(c.failure.message)}" type="${type}">${text(c.failure.detail)}</${tag}>`);
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}

/** Characters XML 1.0 cannot hold at all (control characters but tab, newline, return). */
const INVALID = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function text(s: string): string {
  return s.replace(INVALID, '\uFFFD').replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export function attr(s: string): string {
  return text(s).replaceAll('"', '&quot;').replaceAll('\n', '&#10;').replaceAll('\r', '&#13;').replaceAll('\t', '&#9;');
}
