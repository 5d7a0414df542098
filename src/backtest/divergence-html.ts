/** A divergence report as one self-contained HTML page (no scripts, no external resources). Pure. */
import type { DivergenceReport, Execution } from './divergence.js';

/** What the page says about the run compared. */
export interface DivergencePageMeta {
  title: string;
  /** Lines shown under the title (deployment, period, settings). */
  lines: string[];
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number, d = 8): string => (Number.isFinite(x) ? String(Number(x.toFixed(d))) : '');
const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
const cells = (xs: string[], tag = 'td'): string => `<tr>${xs.map((x) => `<${tag}>${x}</${tag}>`).join('')}</tr>`;
const execCells = (x: Execution): string[] => [
  esc(iso(x.time)),
  esc(x.symbol),
  esc(x.side),
  num(x.price),
  num(x.quantity),
  esc(x.orderType ?? ''),
];

/** Renders the report: verdict, each difference named, matched fills, missed and extra fills, slippage, P&L. */
export function renderDivergenceHtml(report: DivergenceReport, meta: DivergencePageMeta): string {
  const ok = report.verdict === 'match';
  const matched = report.matched
    .map((m) =>
      cells([
        esc(iso(m.expected.time)),
        esc(m.expected.symbol),
        esc(m.expected.side),
        num(m.expected.price),
        num(m.actual.price),
        num(m.slippageBps, 4),
        String(m.timeDiffMs),
        num(m.expected.quantity),
        num(m.actual.quantity),
        m.withinTolerance ? 'yes' : '<b>no</b>',
      ]),
    )
    .join('\n');
  const list = (xs: Execution[]) => xs.map((x) => cells(execCells(x))).join('\n');
  const slip = Object.entries(report.slippageByOrderType)
    .map(([type, s]) => cells([esc(type), String(s.count), num(s.meanBps, 4), num(s.maxBps, 4)]))
    .join('\n');
  const execHead = cells(['time (UTC)', 'symbol', 'side', 'price', 'quantity', 'order type'], 'th');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
.ok{color:#0a7a28}.bad{color:#b00020}li{margin:.2em 0}
</style></head><body>
<h1>${esc(meta.title)}</h1>
${meta.lines.map((l) => `<div>${esc(l)}</div>`).join('\n')}
<h2 class="${ok ? 'ok' : 'bad'}">Verdict: ${ok ? 'match' : 'diverged'}</h2>
<div>tolerance: price ${num(report.tolerance.priceBps, 6)} bp, time ${report.tolerance.timeMs} ms, quantity ${num(report.tolerance.quantityRatio, 12)} of it, P&amp;L ${num(report.tolerance.pnl)}</div>
<div>expected fills ${report.expectedCount}, actual fills ${report.actualCount}, matched ${report.matched.length}, missed ${report.missed.length}, extra ${report.extra.length}</div>
<div>P&amp;L expected ${num(report.pnl.expected, 6)}, actual ${num(report.pnl.actual, 6)}, difference ${num(report.pnl.difference, 6)}</div>
<h2>Differences (${report.differences.length})</h2>
${report.differences.length === 0 ? '<p>none</p>' : `<ul>${report.differences.map((d) => `<li>${esc(d)}</li>`).join('\n')}</ul>`}
<h2>Slippage by order type (bp, against the trader)</h2>
<table>${cells(['order type', 'fills', 'mean', 'worst'], 'th')}
${slip}</table>
<h2>Matched fills</h2>
<table>${cells(['time (UTC)', 'symbol', 'side', 'expected price', 'actual price', 'slippage bp', 'time diff ms', 'expected qty', 'actual qty', 'within tolerance'], 'th')}
${matched}</table>
<h2>Missed fills (expected, did not happen)</h2>
<table>${execHead}
${list(report.missed)}</table>
<h2>Extra fills (happened, not expected)</h2>
<table>${execHead}
${list(report.extra)}</table>
</body></html>
`;
}
