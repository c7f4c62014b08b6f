// The matrix page: one self-contained HTML page (no fetches) of a release matrix run: a grid
// of spec facts (rows) by cells (columns), each mark pass / fail / n/a / error, cell headers
// with engine version, KV store, mode and durations, changes since the compared run, a filter
// to failures, and every failure opening its diagnostics. Pure: data in, HTML out.
import { closingLine, type MatrixCellResult, type MatrixReport } from '../report/matrix.ts';
import { escapeHtml } from './html.ts';

const MARK: Record<string, string> = { passed: '✓', failed: '✗', pending: '–', 'n/a': 'n/a', 'not-run': '·' };

function secs(ms: number | undefined): string {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`;
}

/** A status or state as a class name (n/a is `na`), escaped as every value on the page is: a report read back is text. */
function cls(state: string): string {
  return escapeHtml(state === 'n/a' ? 'na' : state);
}

/** The mark of a spec's state; nothing for a state the page does not know. */
function mark(state: string): string {
  return escapeHtml(Object.hasOwn(MARK, state) ? MARK[state]! : '');
}

function cellHeader(c: MatrixCellResult): string {
  return `<th class="cell ${cls(c.status)}" data-cell="${escapeHtml(c.id)}" data-status="${escapeHtml(c.status)}"${c.change ? ` data-change="${escapeHtml(c.change)}"` : ''}>
<div class="id">${escapeHtml(c.id)}</div>
<div class="status">${escapeHtml(c.status === 'n/a' ? 'N/A' : c.status.toUpperCase())}</div>
<div class="facts">${escapeHtml(c.engine.requested)}${c.engine.version ? ` (${escapeHtml(c.engine.version)})` : ''}<br>${escapeHtml(c.mode)}${c.kv !== 'none' ? ` + ${escapeHtml(c.kv)}` : ''} · ${escapeHtml(c.provider)}</div>
${c.engine.ran ? `<div class="ran">API ${escapeHtml(c.engine.ran.api)} · containerd ${escapeHtml(c.engine.ran.containerd ?? '?')} · runc ${escapeHtml(c.engine.ran.runc ?? '?')}</div>` : ''}
${c.engine.origin ? `<div class="origin">${escapeHtml(c.engine.origin)}</div>` : ''}
<div class="counts">${c.status === 'n/a' ? '' : escapeHtml(`${c.counts.passed}/${c.counts.tests} passed`)}</div>
<div class="times">${c.status === 'n/a' ? '' : escapeHtml(`up ${secs(c.durations.upMs)} · specs ${secs(c.durations.specsMs)} · down ${secs(c.durations.downMs)}`)}</div>
${c.change ? `<div class="change">${escapeHtml(c.change)}</div>` : ''}
</th>`;
}

/** A cell that could not run its specs, or cannot exist: why, under its header (quoted, opened for failures). */
function cellReason(c: MatrixCellResult): string {
  if (!c.reason) return '<td></td>';
  const open = c.status === 'failed' || c.status === 'error';
  return `<td class="reason ${cls(c.status)}" data-cell="${escapeHtml(c.id)}">${open ? `<details class="diagnostics" open><summary>${escapeHtml(c.reason.split('\n')[0]!)}</summary><pre>${escapeHtml(c.reason)}</pre></details>` : escapeHtml(c.reason)}</td>`;
}

/**
 * The engines' observed behaviour: a row per fact, a column per cell that has facts; a value that
 * differs from the previous release's (same mode and KV store) is marked, with what it was.
 */
function factsTable(r: MatrixReport): string {
  const cells = r.cells.filter((c) => c.facts);
  if (!cells.length) return '';
  const names = [...new Set(cells.flatMap((c) => Object.keys(c.facts!)))];
  const changed = new Map((r.factChanges ?? []).map((f) => [`${f.to}\n${f.fact}`, f]));
  const rows = names.map((name) => {
    const tds = cells.map((c) => {
      const ch = changed.get(`${c.id}\n${name}`);
      const v = c.facts![name] ?? '–';
      return `<td class="factvalue${ch ? ' changed' : ''}" data-cell="${escapeHtml(c.id)}" data-fact="${escapeHtml(name)}"${ch ? ` title="${escapeHtml(`was ${ch.before ?? '–'} in ${ch.from}`)}"` : ''}>${escapeHtml(v)}${ch ? `<div class="was">was ${escapeHtml(ch.before ?? '–')} (${escapeHtml(ch.from)})</div>` : ''}</td>`;
    });
    return `<tr><th class="fact">${escapeHtml(name)}</th>${tds.join('')}</tr>`;
  });
  const list = (r.factChanges ?? []).map((f) => `<li data-from="${escapeHtml(f.from)}" data-to="${escapeHtml(f.to)}"><b>${escapeHtml(f.fact)}</b>: ${escapeHtml(f.before ?? '–')} (${escapeHtml(f.from)}) → ${escapeHtml(f.after ?? '–')} (${escapeHtml(f.to)})</li>`);
  const since = (r.compare?.factChanges ?? []).map((f) => `<li data-cell="${escapeHtml(f.to)}"><b>${escapeHtml(f.to)} ${escapeHtml(f.fact)}</b>: ${escapeHtml(f.before ?? '–')} → ${escapeHtml(f.after ?? '–')}</li>`);
  return `<h2>Engine facts, observed on each live cell</h2>
<table id="facts"><thead><tr><th>fact \\ cell</th>${cells.map((c) => `<th class="cell ${cls(c.status)}" data-cell="${escapeHtml(c.id)}"><div class="id">${escapeHtml(c.id)}</div><div class="facts">${escapeHtml(c.engine.version ?? c.engine.requested)}</div></th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<h2>What changed between releases</h2>
${list.length ? `<ul id="fact-changes">${list.join('')}</ul>` : '<p id="fact-changes">Nothing: every fact is the same across the releases (or fewer than two releases ran).</p>'}
${r.compare ? `<h2>Facts changed since ${escapeHtml(r.compare.previous)}</h2>${since.length ? `<ul id="fact-compare">${since.join('')}</ul>` : '<p id="fact-compare">None.</p>'}` : ''}`;
}

export function renderMatrixPage(r: MatrixReport, options: { title?: string } = {}): string {
  const title = options.title ?? `overlab matrix: ${r.lab}`;
  // Rows: every spec any cell ran, in the order first met (suite, then title).
  const rows: { key: string; suite: string; title: string; file?: string }[] = [];
  const seen = new Set<string>();
  for (const c of r.cells) {
    for (const s of c.specs) {
      const key = `${s.suite}\n${s.title}`;
      if (!seen.has(key)) {
        seen.add(key);
        rows.push({ key, suite: s.suite, title: s.title, ...(s.file ? { file: s.file } : {}) });
      }
    }
  }
  const byCell = new Map(r.cells.map((c) => [c.id, new Map(c.specs.map((s) => [`${s.suite}\n${s.title}`, s]))]));
  const body = rows
    .map((row) => {
      const marks = r.cells.map((c) => {
        const s = byCell.get(c.id)!.get(row.key);
        // A cell that ran no spec (n/a, or it died before its specs) marks none as passed or failed: its header says why.
        const state = s ? s.state : c.status === 'n/a' ? 'n/a' : c.specs.length === 0 ? 'not-run' : 'absent';
        const change = s?.change ? ` data-change="${escapeHtml(s.change)}"` : '';
        const inner =
          s?.state === 'failed'
            ? `<details class="diagnostics"><summary>${mark('failed')}${s.change ? ` <span class="change">${escapeHtml(s.change)}</span>` : ''}</summary><p>${escapeHtml(s.failure?.message ?? 'failed')}</p><pre>${escapeHtml(s.failure?.detail ?? '')}</pre></details>`
            : `${mark(state)}${s?.change ? ` <span class="change">${escapeHtml(s.change)}</span>` : ''}`;
        return `<td class="mark ${cls(state)}" data-cell="${escapeHtml(c.id)}" data-state="${escapeHtml(state)}"${change}>${inner}</td>`;
      });
      const failing = r.cells.some((c) => byCell.get(c.id)!.get(row.key)?.state === 'failed');
      return `<tr class="spec${failing ? ' failing' : ''}" data-spec="${escapeHtml(row.title)}"><th class="fact"><span class="suite">${escapeHtml(row.suite)}</span> ${escapeHtml(row.title)}${row.file ? ` <span class="spec-file">${escapeHtml(row.file)}</span>` : ''}</th>${marks.join('')}</tr>`;
    })
    .join('\n');
  const gone = r.compare?.goneCells.length ? `<p class="gone">Gone since ${escapeHtml(r.compare.previous)}: ${r.compare.goneCells.map((g) => `<span class="gone-cell" data-cell="${escapeHtml(g.id)}">${escapeHtml(g.id)} (${escapeHtml(g.status)})</span>`).join(', ')}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { margin: 0 0 .2em; } #summary { font-weight: 600; margin: 0 0 .6em; }
table { border-collapse: collapse; background: #fff; } th, td { border: 1px solid #ccc; padding: .3em .5em; vertical-align: top; }
th.cell { min-width: 11em; text-align: left; font-weight: normal; border-top: 6px solid #999; }
th.cell.passed { border-top-color: #2e7d32; } th.cell.failed, th.cell.error { border-top-color: #c62828; } th.cell.na { border-top-color: #bbb; color: #777; }
th.cell .id { font-weight: 700; } th.cell .status { font-weight: 700; }
th.cell.passed .status { color: #2e7d32; } th.cell.failed .status, th.cell.error .status { color: #c62828; }
.times, .facts, .ran, .origin { color: #555; font-size: 12px; } .origin { font-size: 11px; }
td.factvalue { font-size: 12px; max-width: 22em; } td.factvalue.changed { background: #f3e5f5; } .was { color: #6a1b9a; font-size: 11px; } h2 { margin: 1.2em 0 .4em; font-size: 16px; } .change { color: #6a1b9a; font-weight: 700; font-size: 12px; }
th.fact { text-align: left; font-weight: normal; min-width: 22em; max-width: 36em; } .suite { color: #777; } .spec-file { color: #777; font-family: monospace; font-size: 90%; }
td.mark { text-align: center; } td.passed { color: #2e7d32; } td.failed, td.error { color: #c62828; background: #fdecea; } td.na, td.absent, td.not-run { color: #999; }
td.reason { font-size: 12px; max-width: 24em; } td.reason.failed, td.reason.error { color: #c62828; }
pre { white-space: pre-wrap; text-align: left; font-size: 11px; background: #f4f4f4; color: #222; padding: .4em; max-width: 48em; max-height: 24em; overflow: auto; }
body.only-failures tr.spec:not(.failing) { display: none; }
body.only-failures th.cell.passed, body.only-failures th.cell.na, body.only-failures td[data-cell].hide { display: none; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p id="summary">${escapeHtml(closingLine(r))}</p>
<p class="meta">${escapeHtml(r.provider)} · ${escapeHtml(r.jobs)} at a time · ${escapeHtml(secs(r.ms))} · started ${escapeHtml(r.startedAt.replace('T', ' ').slice(0, 19))} UTC</p>
<p><label><input type="checkbox" id="only-failures"> failures only</label></p>
${gone}
<table id="matrix">
<thead><tr><th>spec \\ cell</th>${r.cells.map(cellHeader).join('')}</tr>
<tr class="reasons"><th></th>${r.cells.map(cellReason).join('')}</tr></thead>
<tbody>
${body}
</tbody></table>
${factsTable(r)}
<script>
// The filter hides passing specs and cells that passed or cannot exist; failures stay with their diagnostics.
const box = document.getElementById('only-failures');
const hidden = new Set([...document.querySelectorAll('th.cell')].filter((th) => th.dataset.status === 'passed' || th.dataset.status === 'n/a').map((th) => th.dataset.cell));
const apply = () => {
  document.body.classList.toggle('only-failures', box.checked);
  for (const td of document.querySelectorAll('td[data-cell]')) td.classList.toggle('hide', box.checked && hidden.has(td.dataset.cell));
};
box.addEventListener('change', apply); apply();
</script>
</body></html>
`;
}
