import { ValidationError } from '../core/errors.js';
import { type ExposureBreakdown, exposureBreakdown } from './exposure.js';
import {
  type AssetClass,
  BUILTIN_SCENARIOS,
  type PriceHistory,
  runStress,
  type StressResult,
  type StressScenario,
} from './stress.js';
import { historicalVar, parametricVar, portfolioMoments, portfolioPnl, type VarFigure } from './var.js';

/** A current position for the report. */
export interface ReportPosition {
  symbol: string;
  quantity: number;
  /** Valuation price; the last close of the history when omitted. */
  price?: number;
  multiplier?: number;
  strategy?: string;
  venue?: string;
  assetClass?: AssetClass;
}

/** What `buildRiskReport` needs. */
export interface RiskReportInput {
  asOf: number;
  /** Account equity, for shares; the gross exposure stands in when omitted. */
  equity?: number;
  positions: readonly ReportPosition[];
  /** Daily closes per symbol (ascending times). */
  history: Readonly<Record<string, PriceHistory>>;
  confidences?: readonly number[];
  horizons?: readonly number[];
  /** Most recent daily returns used (default 250). */
  lookback?: number;
  scenarios?: readonly StressScenario[];
}

/** The portfolio risk report (RISK-8): exposure, VaR/ES by method, confidence and horizon, stress results. */
export interface RiskReport {
  asOf: number;
  equity: number;
  positions: (ReportPosition & { price: number; value: number })[];
  exposure: ExposureBreakdown;
  /** Aligned daily returns the VaR figures read. */
  historyDays: number;
  var: VarFigure[];
  /** Why a figure is missing (too little history), if one is. */
  notes: string[];
  stress: StressResult[];
}

/**
 * Builds the report: positions valued at their price (or last close), daily returns aligned on the dates every
 * symbol has, historical VaR/ES from the portfolio's replayed P&L (h-day overlapping sums) and parametric VaR/ES
 * from the return covariance, and every stress scenario on the current positions.
 */
export function buildRiskReport(input: RiskReportInput): RiskReport {
  const confidences = input.confidences ?? [0.95, 0.99];
  const horizons = input.horizons ?? [1, 10];
  const lookback = input.lookback ?? 250;
  const positions = input.positions.map((p) => {
    const h = input.history[p.symbol];
    const price = p.price ?? (h && h.close.length > 0 ? h.close[h.close.length - 1] : Number.NaN);
    if (!(price > 0)) throw new ValidationError(`no price for ${p.symbol}: give one or its history`, p.symbol);
    return { ...p, price, value: p.quantity * price * (p.multiplier ?? 1) };
  });
  const gross = positions.reduce((s, p) => s + Math.abs(p.value), 0);
  const equity = input.equity ?? gross;
  const returns = alignedReturns(
    positions.map((p) => p.symbol),
    input.history,
    lookback,
  );
  const days = positions.length ? (returns[positions[0].symbol]?.length ?? 0) : 0;
  const figures: VarFigure[] = [];
  const notes: string[] = [];
  if (positions.length > 0) {
    const pnl = portfolioPnl(positions, returns);
    for (const c of confidences) {
      for (const h of horizons) {
        try {
          figures.push(historicalVar(pnl, c, h));
        } catch (err) {
          notes.push((err as Error).message);
        }
      }
    }
    if (days >= 2) {
      const m = portfolioMoments(positions, returns);
      for (const c of confidences) for (const h of horizons) figures.push(parametricVar(m.mean, m.stdev, c, h, days));
    } else notes.push(`parametric VaR needs at least 2 aligned daily returns, got ${days}`);
  }
  const scenarios = input.scenarios ?? BUILTIN_SCENARIOS;
  return {
    asOf: input.asOf,
    equity,
    positions,
    exposure: exposureBreakdown(positions, equity),
    historyDays: days,
    var: figures,
    notes,
    stress: scenarios.map((s) => runStress(s, positions, input.history)),
  };
}

const DAY_MS = 86_400_000;

/** Daily simple returns of each symbol on the UTC dates all of them have, the last `lookback` of them. */
export function alignedReturns(
  symbols: readonly string[],
  history: Readonly<Record<string, PriceHistory>>,
  lookback: number,
): Record<string, number[]> {
  const byDay = new Map<string, Map<number, number>>();
  let common: Set<number> | undefined;
  for (const s of symbols) {
    const h = history[s];
    if (h === undefined) throw new ValidationError(`no price history for ${s}`, s);
    const m = new Map<number, number>();
    for (let i = 0; i < h.time.length; i++) m.set(Math.floor(h.time[i] / DAY_MS), h.close[i]);
    byDay.set(s, m);
    common = common === undefined ? new Set(m.keys()) : new Set([...common].filter((d) => m.has(d)));
  }
  const dates = [...(common ?? [])].sort((a, b) => a - b).slice(-(lookback + 1));
  const out: Record<string, number[]> = {};
  for (const s of symbols) {
    const m = byDay.get(s) as Map<number, number>;
    const r: number[] = [];
    for (let i = 1; i < dates.length; i++) r.push((m.get(dates[i]) as number) / (m.get(dates[i - 1]) as number) - 1);
    out[s] = r;
  }
  return out;
}

const n2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '-');
const iso = (t: number): string => new Date(t).toISOString();

/** The report as text. */
export function renderRiskReportText(r: RiskReport): string {
  const out: string[] = [`risk report as of ${iso(r.asOf)}, equity ${n2(r.equity)}, ${r.historyDays} daily returns`];
  out.push('', 'positions:');
  for (const p of r.positions)
    out.push(`  ${p.symbol.padEnd(12)} ${String(p.quantity).padStart(12)} @ ${n2(p.price)}  value ${n2(p.value)}`);
  out.push('', 'exposure (gross, net, gross % of equity):');
  const t = r.exposure.total;
  out.push(`  total        ${n2(t.gross)}  ${n2(t.net)}  ${pct(t.grossShare)}`);
  for (const [title, rows] of [
    ['symbol', r.exposure.bySymbol],
    ['strategy', r.exposure.byStrategy],
    ['venue', r.exposure.byVenue],
  ] as const) {
    for (const x of rows) out.push(`  ${title} ${x.key.padEnd(14)} ${n2(x.gross)}  ${n2(x.net)}  ${pct(x.grossShare)}`);
  }
  out.push('', 'value at risk (loss, positive = loss):', '  method      conf  days        VaR         ES   obs');
  for (const v of r.var) {
    out.push(
      `  ${v.method.padEnd(10)} ${String(v.confidence * 100).padStart(4)}% ${String(v.horizonDays).padStart(4)} ${n2(v.var).padStart(10)} ${n2(v.es).padStart(10)} ${String(v.observations).padStart(5)}`,
    );
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  out.push('', 'stress scenarios (P&L on current positions):');
  for (const s of r.stress) {
    out.push(
      `  ${s.scenario.padEnd(10)} ${n2(s.pnl).padStart(12)}  ${pct(r.equity > 0 ? s.pnl / r.equity : Number.NaN)} of equity  ${s.description}`,
    );
    for (const x of s.bySymbol)
      out.push(`      ${x.symbol.padEnd(12)} ${pct(x.shock).padStart(8)} ${n2(x.pnl).padStart(12)} (${x.source})`);
  }
  return `${out.join('\n')}\n`;
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The report as a self-contained HTML page. */
export function renderRiskReportHtml(r: RiskReport): string {
  const table = (head: string[], rows: string[][]) =>
    `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const exp = (rows: ExposureBreakdown['bySymbol']) =>
    table(
      ['key', 'long', 'short', 'gross', 'net', 'gross % equity'],
      rows.map((x) => [x.key, n2(x.long), n2(x.short), n2(x.gross), n2(x.net), pct(x.grossShare)]),
    );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Risk report ${esc(iso(r.asOf))}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}</style>
</head><body>
<h1>Risk report</h1>
<p>As of ${esc(iso(r.asOf))} · equity ${esc(n2(r.equity))} · ${r.historyDays} daily returns</p>
<h2>Positions</h2>
${table(
  ['symbol', 'quantity', 'price', 'value', 'strategy', 'venue'],
  r.positions.map((p) => [p.symbol, String(p.quantity), n2(p.price), n2(p.value), p.strategy ?? '-', p.venue ?? '-']),
)}
<h2>Value at risk and expected shortfall</h2>
${table(
  ['method', 'confidence', 'horizon (days)', 'VaR', 'ES', 'observations'],
  r.var.map((v) => [
    v.method,
    `${v.confidence * 100}%`,
    String(v.horizonDays),
    n2(v.var),
    n2(v.es),
    String(v.observations),
  ]),
)}
${r.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<h2>Stress scenarios</h2>
${table(
  ['scenario', 'P&L', '% of equity', 'description'],
  r.stress.map((s) => [s.scenario, n2(s.pnl), pct(r.equity > 0 ? s.pnl / r.equity : Number.NaN), s.description]),
)}
<h2>Exposure by symbol</h2>
${exp(r.exposure.bySymbol)}
<h2>Exposure by strategy</h2>
${exp(r.exposure.byStrategy)}
<h2>Exposure by venue</h2>
${exp(r.exposure.byVenue)}
</body></html>
`;
}
