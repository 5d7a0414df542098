import type { BarColumns } from '../../core/bar.js';
import type { ClosedTrade } from '../../core/events.js';
import type { GroupStats, Metrics } from '../metrics.js';
import { escapeHtml, fmt, fmtDuration, isoTime, precisionOf } from './format.js';
import { axes, c, frame, linear, linePath, niceTicks } from './svg.js';
import type { ReportInput } from './types.js';

/** Options of the HTML report. */
export interface HtmlReportOptions {
  /** Page title; defaults to the strategy and symbol from the config when present. */
  readonly title?: string;
  /** Only mark trades of this symbol on the candles (multi-symbol runs); all trades by default. */
  readonly symbol?: string;
  /** Above this many candles, consecutive bars are merged into one candle (markers keep their exact place). */
  readonly maxCandles?: number;
  /** Rows of the trade table; the rest are summarised in one line (the CSV/JSON exports hold them all). */
  readonly maxTradeRows?: number;
  /** Decimals of prices; default: the precision the candles are quoted in. */
  readonly priceDecimals?: number;
  /** Decimals of quantities; default: the precision of the trades' quantities. */
  readonly quantityDecimals?: number;
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2433;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#667;margin-bottom:16px;font-size:12px;word-break:break-all}
table{border-collapse:collapse;background:#fff;font-size:12px}
td,th{border:1px solid #e1e4e8;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f3f4f6}td.l,th.l{text-align:left}
.cols{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
svg{background:#fff;border:1px solid #e1e4e8;display:block;max-width:100%;height:auto}
.grid{stroke:#eef0f3;stroke-width:1}.ylab,.xlab{font-size:10px;fill:#667}
.up{fill:#26a269;stroke:#26a269}.down{fill:#e01b24;stroke:#e01b24}.wick{stroke-width:1}
.eq{fill:none;stroke:#1c71d8;stroke-width:1.5}.dd{fill:rgba(224,27,36,.25);stroke:#e01b24;stroke-width:1}
.entry.long{fill:#1c71d8}.entry.short{fill:#c061cb}.exit{stroke-width:2;fill:none}
.exit.win{stroke:#26a269}.exit.loss{stroke:#e01b24}.link{stroke:#888;stroke-dasharray:3 3;stroke-width:1}
.pos{color:#26a269}.neg{color:#e01b24}.muted{color:#889}
`;

function row(label: string, value: string): string {
  return `<tr><th class="l">${escapeHtml(label)}</th><td>${value}</td></tr>`;
}

function signed(x: number | null | undefined, digits = 2, suffix = ''): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const cls = x > 0 ? 'pos' : x < 0 ? 'neg' : '';
  return `<span class="${cls}">${fmt(x, digits)}${suffix}</span>`;
}

function timeOrDash(ms: number | null): string {
  return ms === null ? '—' : isoTime(ms).slice(0, 19).replace('T', ' ');
}

function summaryTables(m: Metrics): string {
  const perf = [
    row('Initial cash', fmt(m.initialCash)),
    row('Final equity', fmt(m.finalEquity)),
    row('Total return', `${signed(m.totalReturn)} (${signed(m.totalReturnPct, 2, ' %')})`),
    row('CAGR', signed(m.cagrPct, 2, ' %')),
    row('Sharpe', fmt(m.sharpe, 3)),
    row('Sortino', fmt(m.sortino, 3)),
    row('Calmar', fmt(m.calmar, 3)),
    row('Annual volatility', `${fmt(m.annualVolatilityPct)} %`),
    row('Max drawdown', `${fmt(m.maxDrawdownPct)} % (${fmt(m.maxDrawdownAbs)})`),
    row('Max DD peak → trough', `${timeOrDash(m.maxDrawdownPeakTime)} → ${timeOrDash(m.maxDrawdownTroughTime)}`),
    row('Longest drawdown', `${fmtDuration(m.maxDrawdownDurationMs)} (${m.maxDrawdownDurationBars} bars)`),
    row('Exposure', `${fmt(m.exposurePct)} %`),
    row('Buy & hold return', signed(m.benchmarkReturnPct, 2, ' %')),
    row('Buy & hold CAGR', signed(m.benchmarkCagrPct, 2, ' %')),
    row('Buy & hold max DD', m.benchmarkMaxDrawdownPct === null ? '—' : `${fmt(m.benchmarkMaxDrawdownPct)} %`),
    row('Bars / per year', `${m.bars} / ${fmt(m.barsPerYear, 0)}`),
  ];
  const tr = [
    row('Trades (long / short)', `${m.trades} (${m.longTrades} / ${m.shortTrades})`),
    row('Win rate', m.winRatePct === null ? '—' : `${fmt(m.winRatePct)} %`),
    row('Profit factor', fmt(m.profitFactor, 3)),
    row('Expectancy', `${signed(m.expectancy)} (${signed(m.expectancyPct, 2, ' %')})`),
    row('Average win / loss', `${signed(m.avgWin)} / ${signed(m.avgLoss)}`),
    row('Best / worst trade', `${signed(m.bestTradePnl)} / ${signed(m.worstTradePnl)}`),
    row('Best / worst trade %', `${signed(m.bestTradePct, 2, ' %')} / ${signed(m.worstTradePct, 2, ' %')}`),
    row('Max consecutive wins / losses', `${m.maxConsecutiveWins} / ${m.maxConsecutiveLosses}`),
    row('Average / median duration', `${fmtDuration(m.avgTradeDurationMs)} / ${fmtDuration(m.medianTradeDurationMs)}`),
    row('Total fees', fmt(m.totalFees)),
  ];
  return `<div class="cols"><table id="metrics">${perf.join('')}</table><table id="trade-metrics">${tr.join('')}</table></div>`;
}

function breakdown<R extends GroupStats>(
  title: string,
  id: string,
  key: string,
  rows: readonly R[],
  label: (r: R) => string,
): string {
  if (!rows.length) return '';
  const body = rows
    .map(
      (r) =>
        `<tr><td class="l">${escapeHtml(label(r))}</td><td>${r.trades}</td><td>${fmt(r.winRatePct)}</td><td>${signed(r.totalPnl)}</td><td>${signed(r.avgPnlPct, 2)}</td><td>${fmt(r.fees)}</td></tr>`,
    )
    .join('');
  return `<div><h2>${title}</h2><table id="${id}"><tr><th class="l">${key}</th><th>trades</th><th>win %</th><th>total pnl</th><th>avg pnl %</th><th>fees</th></tr>${body}</table></div>`;
}

/** Drawdown below the running peak in percent (peak starts at the initial cash, as in the metrics). */
function drawdownSeries(value: Float64Array, initialCash: number): Float64Array {
  const dd = new Float64Array(value.length);
  let peak = initialCash;
  for (let i = 0; i < value.length; i++) {
    if (value[i] > peak) peak = value[i];
    dd[i] = peak > 0 ? ((value[i] - peak) / peak) * 100 : 0;
  }
  return dd;
}

function equityChart(r: ReportInput): string {
  const { time, value } = r.equity;
  const n = value.length;
  if (n === 0) return '<p class="muted">No equity points.</p>';
  const f = frame(240);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if (value[i] < lo) lo = value[i];
    if (value[i] > hi) hi = value[i];
  }
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.01 || 1;
  const t0 = time[0];
  const t1 = time[n - 1];
  const x = linear(t0, t1, f.left, f.width - f.right);
  const y = linear(lo - pad, hi + pad, f.height - f.bottom, f.top);
  const ticks = niceTicks(lo - pad, hi + pad);
  return `<svg id="equity-chart" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img" aria-label="Equity curve">${axes(f, t0, t1, y, ticks, (v) => fmt(v, 0))}<path class="eq" d="${linePath(time, value, x, y)}"/></svg>`;
}

function drawdownChart(r: ReportInput): string {
  const { time, value } = r.equity;
  const n = value.length;
  if (n === 0) return '';
  const dd = drawdownSeries(value, r.metrics.initialCash);
  let lo = 0;
  for (let i = 0; i < n; i++) if (dd[i] < lo) lo = dd[i];
  if (lo === 0) lo = -1;
  const f = frame(150);
  const t0 = time[0];
  const t1 = time[n - 1];
  const x = linear(t0, t1, f.left, f.width - f.right);
  const y = linear(lo * 1.05, 0, f.height - f.bottom, f.top);
  const line = linePath(time, dd, x, y);
  const area = `${line}L${c(x(t1))},${c(y(0))}L${c(x(t0))},${c(y(0))}Z`;
  return `<svg id="drawdown-chart" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img" aria-label="Drawdown">${axes(f, t0, t1, y, niceTicks(lo * 1.05, 0, 4), (v) => `${fmt(v, 1)}%`)}<path class="dd" d="${area}"/></svg>`;
}

/** Candles merged `per` bars at a time: open of the first, extremes of all, close of the last. */
function mergeCandles(b: BarColumns, per: number) {
  const m = Math.ceil(b.length / per);
  const out = {
    n: m,
    t0: new Float64Array(m),
    t1: new Float64Array(m),
    open: new Float64Array(m),
    high: new Float64Array(m),
    low: new Float64Array(m),
    close: new Float64Array(m),
  };
  for (let k = 0; k < m; k++) {
    const a = k * per;
    const z = Math.min(b.length, a + per) - 1;
    let hi = Number.NEGATIVE_INFINITY;
    let lo = Number.POSITIVE_INFINITY;
    for (let i = a; i <= z; i++) {
      if (b.high[i] > hi) hi = b.high[i];
      if (b.low[i] < lo) lo = b.low[i];
    }
    out.t0[k] = b.time[a];
    out.t1[k] = b.time[z];
    out.open[k] = b.open[a];
    out.close[k] = b.close[z];
    out.high[k] = hi;
    out.low[k] = lo;
  }
  return out;
}

/** Decimals prices and quantities are shown with (the instrument's precision, not float noise). */
interface Precision {
  price: number;
  qty: number;
}

function tradeTitle(t: ClosedTrade, what: 'entry' | 'exit', p: Precision): string {
  const head = `${t.side} ${t.symbol} ${what}`;
  return what === 'entry'
    ? `${head} ${isoTime(t.entryTime)} @ ${fmt(t.entryPrice, p.price)}${t.entryTag ? ` [${t.entryTag}]` : ''}`
    : `${head} ${isoTime(t.exitTime)} @ ${fmt(t.exitPrice, p.price)} (${t.exitReason}) pnl ${fmt(t.pnl)}`;
}

function candleChart(candles: BarColumns, trades: readonly ClosedTrade[], maxCandles: number, p: Precision): string {
  if (candles.length === 0) return '<p class="muted">No candles.</p>';
  const per = Math.max(1, Math.ceil(candles.length / maxCandles));
  const k = mergeCandles(candles, per);
  const first = candles.time[0];
  const last = candles.time[candles.length - 1];
  const shown = trades.filter((t) => t.entryTime <= last && t.exitTime >= first);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < k.n; i++) {
    if (k.low[i] < lo) lo = k.low[i];
    if (k.high[i] > hi) hi = k.high[i];
  }
  for (const t of shown) {
    lo = Math.min(lo, t.entryPrice, t.exitPrice);
    hi = Math.max(hi, t.entryPrice, t.exitPrice);
  }
  const pad = (hi - lo) * 0.04 || Math.abs(hi) * 0.01 || 1;
  const f = frame(380);
  // Half a bar of room at each end so the first and last candles are not cut in half.
  const barMs = candles.length > 1 ? (last - first) / (candles.length - 1) : 60_000;
  const t0 = first - (barMs * per) / 2;
  const t1 = last + (barMs * per) / 2;
  const x = linear(t0, t1, f.left, f.width - f.right);
  const y = linear(lo - pad, hi + pad, f.height - f.bottom, f.top);
  const w = Math.max(0.6, ((f.width - f.left - f.right) / k.n) * 0.7);
  const parts: string[] = [axes(f, t0, t1, y, niceTicks(lo - pad, hi + pad), (v) => fmt(v, v >= 1000 ? 0 : 2))];
  parts.push('<g class="candles">');
  for (let i = 0; i < k.n; i++) {
    const cls = k.close[i] >= k.open[i] ? 'up' : 'down';
    const cx = x((k.t0[i] + k.t1[i]) / 2);
    const yo = y(k.open[i]);
    const yc = y(k.close[i]);
    parts.push(
      `<line class="wick ${cls}" x1="${c(cx)}" x2="${c(cx)}" y1="${c(y(k.high[i]))}" y2="${c(y(k.low[i]))}"/>` +
        `<rect class="${cls}" x="${c(cx - w / 2)}" y="${c(Math.min(yo, yc))}" width="${c(w)}" height="${c(Math.max(0.5, Math.abs(yo - yc)))}"/>`,
    );
  }
  parts.push('</g><g class="markers">');
  const s = 6;
  shown.forEach((t, i) => {
    const ex = x(t.entryTime);
    const ey = y(t.entryPrice);
    const xx = x(t.exitTime);
    const xy = y(t.exitPrice);
    // Long entries point up from below the price, short entries point down from above.
    const tri =
      t.side === 'long' ? `M${c(ex)},${c(ey)}l${-s / 2},${s}h${s}z` : `M${c(ex)},${c(ey)}l${-s / 2},${-s}h${s}z`;
    const outcome = t.pnl >= 0 ? 'win' : 'loss';
    parts.push(
      `<line class="link" x1="${c(ex)}" y1="${c(ey)}" x2="${c(xx)}" y2="${c(xy)}"/>` +
        `<path class="marker entry ${t.side}" data-trade="${i}" d="${tri}"><title>${escapeHtml(tradeTitle(t, 'entry', p))}</title></path>` +
        `<path class="marker exit ${outcome}" data-trade="${i}" d="M${c(xx - s / 2)},${c(xy - s / 2)}l${s},${s}m0,${-s}l${-s},${s}"><title>${escapeHtml(tradeTitle(t, 'exit', p))}</title></path>`,
    );
  });
  parts.push('</g>');
  const note =
    per > 1
      ? `<p class="muted">${candles.length} bars shown as ${k.n} candles of ${per} bars each; markers sit at their exact time and price.</p>`
      : '';
  return `<svg id="candles-chart" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img" aria-label="Candles with trades">${parts.join('')}</svg>${note}`;
}

function tradeTable(trades: readonly ClosedTrade[], maxRows: number, p: Precision): string {
  if (!trades.length) return '<p class="muted">No trades.</p>';
  const head =
    '<tr><th>#</th><th class="l">symbol</th><th class="l">side</th><th class="l">entry time</th><th>entry</th><th class="l">exit time</th><th>exit</th><th>qty</th><th>fees</th><th>pnl</th><th>pnl %</th><th class="l">exit reason</th><th class="l">tag</th></tr>';
  const rows = trades
    .slice(0, maxRows)
    .map(
      (t, i) =>
        `<tr><td>${i + 1}</td><td class="l">${escapeHtml(t.symbol)}</td><td class="l">${t.side}</td><td class="l">${timeOrDash(t.entryTime)}</td><td>${fmt(t.entryPrice, p.price)}</td><td class="l">${timeOrDash(t.exitTime)}</td><td>${fmt(t.exitPrice, p.price)}</td><td>${fmt(t.quantity, p.qty)}</td><td>${fmt(t.fees)}</td><td>${signed(t.pnl)}</td><td>${signed(t.pnlPct * 100, 2)}</td><td class="l">${escapeHtml(t.exitReason)}</td><td class="l">${escapeHtml(t.entryTag ?? '')}</td></tr>`,
    );
  const more =
    trades.length > maxRows
      ? `<p class="muted">${trades.length - maxRows} more trades in the CSV/JSON export.</p>`
      : '';
  return `<table id="trades">${head}${rows.join('')}</table>${more}`;
}

function riskTable(r: ReportInput): string {
  const ev = r.riskEvents ?? [];
  if (!ev.length) return '';
  const rows = ev
    .map(
      (e) =>
        `<tr><td class="l">${timeOrDash(e.time)}</td><td class="l">${escapeHtml(e.code)}</td><td class="l">${escapeHtml(e.detail)}</td></tr>`,
    )
    .join('');
  return `<h2>Risk events (${ev.length})</h2><table id="risk-events"><tr><th class="l">time</th><th class="l">code</th><th class="l">detail</th></tr>${rows}</table>`;
}

function defaultTitle(config: unknown): string {
  if (config && typeof config === 'object') {
    const o = config as Record<string, unknown>;
    const bits = [o.strategy, o.symbol ?? o.data].filter((v) => typeof v === 'string');
    if (bits.length) return `Backtest: ${bits.join(' on ')}`;
  }
  return 'Backtest report';
}

/**
 * A self-contained HTML report: inline CSS and inline SVG charts, no script and no external reference, so it
 * opens offline. Holds the summary metrics, equity curve, drawdown chart, candles with entry/exit markers
 * (candles merged above `maxCandles`, markers kept), breakdowns, the trade list and the risk events.
 */
export function renderHtml(result: ReportInput, candles: BarColumns, options: HtmlReportOptions = {}): string {
  const title = options.title ?? defaultTitle(result.config);
  const trades = options.symbol ? result.trades.filter((t) => t.symbol === options.symbol) : result.trades;
  const m = result.metrics;
  const precision: Precision = {
    price: options.priceDecimals ?? Math.max(precisionOf(candles.close), precisionOf(candles.open)),
    qty: options.quantityDecimals ?? precisionOf(result.trades.map((t) => t.quantity)),
  };
  const config =
    result.config === undefined
      ? ''
      : `<h2>Settings</h2><pre>${escapeHtml(JSON.stringify(result.config, null, 2))}</pre>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="sub">${timeOrDash(m.startTime)} → ${timeOrDash(m.endTime)} · ${m.bars} bars · fingerprint <code id="fingerprint">${escapeHtml(result.fingerprint)}</code></div>
<h2>Summary</h2>${summaryTables(m)}
<h2>Equity</h2>${equityChart(result)}
<h2>Drawdown</h2>${drawdownChart(result)}
<h2>Price and trades</h2>${candleChart(candles, trades, options.maxCandles ?? 2000, precision)}
<div class="cols">${breakdown('By symbol', 'by-symbol', 'symbol', m.bySymbol, (r) => r.symbol)}${breakdown('By exit reason', 'by-exit-reason', 'exit reason', m.byExitReason, (r) => r.exitReason)}</div>
${riskTable(result)}
<h2>Trades (${result.trades.length})</h2>${tradeTable(result.trades, options.maxTradeRows ?? 5000, precision)}
${config}
</body></html>
`;
}
