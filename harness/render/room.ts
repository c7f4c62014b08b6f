// The room page: one self-contained HTML page (no fetches) with every lab of the machine, its
// drawing and its last spec results, failing labs first, so a teacher sees at a glance who is
// stuck and on what. Pure: data in, HTML out.
import type { CaseState, SpecCase, SpecReport } from '../report/index.ts';
import { escapeHtml, inlineSvg } from './html.ts';
import { count } from '../plural.ts';

export interface RoomEntry {
  lab: string;
  copyOf: string | undefined;
  provider: string;
  phase: string;
  hosts: { total: number; running: number };
  containers: number;
  ageSeconds: number;
  memoryMiB: number | undefined;
  report: SpecReport | undefined;
  /** Why the last report is not shown (it is not as overlab writes it). */
  reportProblem?: string;
  /** The topology as SVG, when it could be drawn. */
  svg: string | undefined;
}

export type RoomVerdict = 'failing' | 'down' | 'untested' | 'passing';

/** failing: a spec failed, or the lab is not up; untested: no report yet; passing: every spec passed. */
export function verdictOf(e: RoomEntry): RoomVerdict {
  if (e.phase !== 'up') return 'down';
  if (!e.report) return 'untested';
  return e.report.counts.failed > 0 ? 'failing' : 'passing';
}

const ORDER: Record<RoomVerdict, number> = { failing: 0, down: 1, untested: 2, passing: 3 };

/** Failing labs first, then labs not up, untested, passing; by name within each. */
export function roomOrder(entries: readonly RoomEntry[]): RoomEntry[] {
  return [...entries].sort((a, b) => ORDER[verdictOf(a)] - ORDER[verdictOf(b)] || a.lab.localeCompare(b.lab));
}

const LABEL: Record<RoomVerdict, string> = { failing: 'FAILING', down: 'NOT UP', untested: 'NOT TESTED', passing: 'PASSING' };

function ago(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return 'at an unknown time';
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/** Failed specs listed per lab; the rest are counted (a broken overlay fails a dozen at once). */
const SHOWN_FAILURES = 5;

/** How a check's state reads on the page, and the class it is drawn with. */
const CHECK_MARK: Record<CaseState, { mark: string; word: string; cls: string }> = {
  passed: { mark: '✓', word: 'passed', cls: 'passed' },
  failed: { mark: '✗', word: 'failed', cls: 'failed' },
  'n/a': { mark: '–', word: 'n/a', cls: 'na' },
  pending: { mark: '·', word: 'not run', cls: 'pending' },
};

/** The first line of a text (a failure's message may carry more). */
const firstLine = (text: string): string => text.split('\n', 1)[0]!.trim();

/**
 * A teacher's checks for one student: the cases of users' spec files (those with a `file`) in
 * the lab's last report, grouped by file in the order they ran; none when there are none.
 */
export function checksOf(report: SpecReport | undefined): { file: string; cases: SpecCase[] }[] {
  const groups = new Map<string, SpecCase[]>();
  for (const c of report?.cases ?? []) if (c.file !== undefined) groups.set(c.file, [...(groups.get(c.file) ?? []), c]);
  return [...groups].map(([file, cases]) => ({ file, cases }));
}

/** The checks section of a lab's card: each check passed, failed (with the first line of why) or n/a; empty when the lab ran none. */
function checksSection(report: SpecReport | undefined): string {
  const groups = checksOf(report);
  if (!groups.length) return '';
  const all = groups.flatMap((g) => g.cases);
  const tally = (s: CaseState) => all.filter((c) => c.state === s).length;
  const heading = `checks: ${tally('passed')} of ${all.length} passed${tally('failed') ? `, ${tally('failed')} failed` : ''}${tally('n/a') ? `, ${tally('n/a')} n/a` : ''}${groups.length === 1 ? ` (${groups[0]!.file})` : ''}`;
  const item = (c: SpecCase): string => {
    const m = CHECK_MARK[c.state] ?? CHECK_MARK.pending;
    const why = c.state === 'failed' ? firstLine(c.failure?.message ?? 'failed') : c.state === 'n/a' ? firstLine(c.reason ?? '') : '';
    const line = `<span class="mark" title="${escapeHtml(m.word)}">${escapeHtml(m.mark)}</span> <span class="check-title">${escapeHtml(c.title)}</span> <span class="state">${escapeHtml(m.word)}</span>${why ? `<span class="why">: ${escapeHtml(why)}</span>` : ''}`;
    // A failed check opens on its whole failure: the command that decided it, its output.
    const shown = c.state === 'failed' && c.failure?.detail ? `<details><summary>${line}</summary><pre>${escapeHtml(c.failure.detail)}</pre></details>` : line;
    return `<li class="check ${escapeHtml(m.cls)}" data-check="${escapeHtml(c.title)}" data-state="${escapeHtml(c.state)}">${shown}</li>`;
  };
  const list = (cases: SpecCase[]) => `<ul>${cases.map(item).join('')}</ul>`;
  const body = groups.length === 1 ? list(groups[0]!.cases) : groups.map((g) => `<h4 class="check-file" data-file="${escapeHtml(g.file)}">${escapeHtml(g.file)}</h4>${list(g.cases)}`).join('');
  return `<section class="checks"><h3>${escapeHtml(heading)}</h3>${body}</section>`;
}

/** Every value below reaches the page through escapeHtml, numbers included: a report read back is text. */
function labCard(e: RoomEntry, now: number): string {
  const v = verdictOf(e);
  const r = e.report;
  const counts = r
    ? `${r.counts.passed} of ${r.counts.tests} specs passed${r.counts.failed ? `, ${r.counts.failed} failed` : ''}${r.counts.na ? `, ${r.counts.na} n/a` : ''} (tested ${ago(r.startedAt, now)})`
    : e.reportProblem
      ? `last report not shown: ${e.reportProblem}`
      : 'no spec run yet: overlab test --all';
  // The checks' failures are in their own section; this list is of the lab's own specs.
  const failed = (r?.cases ?? []).filter((c) => c.state === 'failed' && c.file === undefined);
  const failures = failed
    .slice(0, SHOWN_FAILURES)
    .map(
      (c) =>
        `<li class="failed-spec"><details><summary><span class="spec-title">${escapeHtml(c.title)}</span>: ${escapeHtml(c.failure?.message ?? 'failed')}</summary><pre>${escapeHtml(c.failure?.detail ?? '')}</pre></details></li>`,
    )
    .join('')
    .concat(failed.length > SHOWN_FAILURES ? `<li class="more">${escapeHtml(`and ${failed.length - SHOWN_FAILURES} more (reports/report.json of the lab)`)}</li>` : '');
  const facts = [
    e.provider,
    `${e.hosts.running}/${e.hosts.total} hosts up`,
    count(e.containers, 'container'),
    e.memoryMiB === undefined ? '' : `${e.memoryMiB} MiB`,
    `up ${Math.round(e.ageSeconds / 60)} min`,
  ].filter(Boolean);
  const svg = e.svg ? inlineSvg(e.svg) : '';
  return `<article class="lab ${escapeHtml(v)}" id="lab-${escapeHtml(e.lab)}" data-lab="${escapeHtml(e.lab)}" data-verdict="${escapeHtml(v)}">
<header><h2>${escapeHtml(e.lab)}</h2><span class="verdict">${escapeHtml(LABEL[v])}</span></header>
<p class="facts">${facts.map(escapeHtml).join(' · ')}</p>
<p class="counts${r || !e.reportProblem ? '' : ' unreadable'}">${escapeHtml(counts)}</p>
${checksSection(r)}
${failures ? `<ul class="failures">${failures}</ul>` : ''}
${svg ? `<figure class="topology">${svg}</figure>` : ''}
</article>`;
}

export function renderRoomPage(entries: readonly RoomEntry[], options: { title?: string; refreshSeconds?: number; now?: number } = {}): string {
  const now = options.now ?? Date.now();
  const ordered = roomOrder(entries);
  const tally = (v: RoomVerdict) => ordered.filter((e) => verdictOf(e) === v).length;
  const summary = `${count(ordered.length, 'lab')}: ${tally('passing')} passing, ${tally('failing')} failing, ${tally('down')} not up, ${tally('untested')} not tested`;
  const refresh = options.refreshSeconds ? `<meta http-equiv="refresh" content="${escapeHtml(options.refreshSeconds)}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${refresh}<title>${escapeHtml(options.title ?? 'overlab room')}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { margin: 0 0 .2em; } #summary { margin: 0 0 1em; font-weight: 600; }
.labs { display: grid; grid-template-columns: repeat(auto-fill, minmax(30em, 1fr)); gap: 1em; }
.lab { background: #fff; border: 1px solid #ccc; border-left: 8px solid #999; border-radius: 6px; padding: .6em 1em; }
.lab.failing, .lab.down { border-left-color: #c62828; } .lab.passing { border-left-color: #2e7d32; } .lab.untested { border-left-color: #f9a825; }
.lab header { display: flex; justify-content: space-between; align-items: baseline; }
.lab h2 { margin: 0; font-size: 1.2em; } .verdict { font-weight: 700; }
.failing .verdict, .down .verdict { color: #c62828; } .passing .verdict { color: #2e7d32; } .untested .verdict { color: #b77900; }
.facts { color: #555; margin: .2em 0; } .failures { padding-left: 1.2em; color: #c62828; } .counts.unreadable { color: #b77900; }
pre { white-space: pre-wrap; font-size: 12px; background: #f4f4f4; padding: .5em; max-height: 30em; overflow: auto; color: #222; }
.checks h3 { font-size: 1em; margin: .5em 0 .2em; } .checks h4 { font-size: .9em; margin: .3em 0 0; color: #555; font-weight: 600; }
.checks ul { list-style: none; padding-left: .2em; margin: .2em 0; } .check .mark { display: inline-block; width: 1.1em; font-weight: 700; }
.check.passed .mark, .check.passed .state { color: #2e7d32; } .check.failed, .check.failed .mark { color: #c62828; } .check.na .mark, .check.na .state, .check.pending .state { color: #b77900; }
.check .state { font-size: .85em; }
figure.topology { margin: .5em 0 0; } figure.topology svg { max-width: 100%; height: auto; }
body.only-failing .lab.passing, body.only-failing .lab.untested { display: none; }
</style></head><body>
<h1>${escapeHtml(options.title ?? 'overlab room')}</h1>
<p id="summary">${escapeHtml(summary)}</p>
<p><label><input type="checkbox" id="only-failing"> failing labs only</label> · written ${escapeHtml(new Date(now).toISOString().replace('T', ' ').slice(0, 19))} UTC${options.refreshSeconds ? `, reloads every ${escapeHtml(options.refreshSeconds)} s` : ''}</p>
<main class="labs">
${ordered.map((e) => labCard(e, now)).join('\n') || '<p>No labs on this machine.</p>'}
</main>
<script>
// The filter survives the page's reloads where the browser keeps storage for the file.
const box = document.getElementById('only-failing');
const store = { get() { try { return localStorage.getItem('overlab.onlyFailing'); } catch { return null; } }, set(v) { try { localStorage.setItem('overlab.onlyFailing', v); } catch {} } };
box.checked = store.get() === '1';
const apply = () => { document.body.classList.toggle('only-failing', box.checked); store.set(box.checked ? '1' : '0'); };
box.addEventListener('change', apply); apply();
</script>
</body></html>
`;
}
