import type { BarColumns } from '../../core/bar.js';
import type { ClosedTrade } from '../../core/events.js';
import type { FillRecord } from '../../core/fill.js';
import type { StatValue, StrategyStatistics } from '../../strategy/types.js';
import type { GroupStats, Metrics } from '../metrics.js';
import { buildChartData, type ReportIndicator } from './chart-data.js';
import { escapeHtml, fmt, fmtDuration, isoTime, precisionOf } from './format.js';
import { PAGE_SCRIPT } from './page-script.js';
import type { ReportInput } from './types.js';

/** Options of the HTML report. */
export interface HtmlReportOptions {
  /** Page title; defaults to the strategy and symbol from the config when present. */
  readonly title?: string;
  /** Only mark trades of this symbol on the candles (multi-symbol runs); all trades by default. */
  readonly symbol?: string;
  /** Above this many candles (default 20000), consecutive bars are merged into one candle for display. */
  readonly maxCandles?: number;
  /** Rows of the trade table; the rest are summarised in one line (the CSV/JSON exports hold them all). */
  readonly maxTradeRows?: number;
  /** Rows of the fill table (default 2000); the CSV/JSON exports hold them all. */
  readonly maxFillRows?: number;
  /** The strategy's indicators, drawn over the candles or in panes below (one value per bar of `candles`). */
  readonly indicators?: readonly ReportIndicator[];
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
#chart{width:100%;height:680px;background:#fff;border:1px solid #e1e4e8}#chart-box{position:relative}
#chart-tip{position:absolute;display:none;z-index:3;pointer-events:none;background:#1d2433;color:#fff;font-size:11px;padding:3px 6px;border-radius:3px;white-space:nowrap}
table.sortable thead th{cursor:pointer;user-select:none}table.sortable thead th[data-sort=asc]::after{content:" ▲"}
table.sortable thead th[data-sort=desc]::after{content:" ▼"}
tr[data-entry]{cursor:pointer}tr[data-entry]:hover td{background:#eef4fd}tr.selected td{background:#dbe8fb}
.scroll{max-height:480px;overflow:auto;display:inline-block}
.pos{color:#26a269}.neg{color:#e01b24}.muted{color:#889}footer{margin-top:32px;color:#667;font-size:11px}
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
    row('Net P&L (after fees)', signed(m.netPnl)),
    row('Gross P&L (before fees)', signed(m.grossPnl)),
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
    row('Bars / per year', `${m.bars} / ${fmt(m.barsPerYear, 0)} (${m.annualisationBasis ?? 'given'})`),
  ];
  const tr = [
    row('Trades (long / short)', `${m.trades} (${m.longTrades} / ${m.shortTrades})`),
    row('Win rate', m.winRatePct === null ? '—' : `${fmt(m.winRatePct)} %`),
    row('Profit factor', fmt(m.profitFactor, 3)),
    row('Expectancy (net)', `${signed(m.expectancy)} (${signed(m.expectancyPct, 2, ' %')})`),
    row('Average win / loss (net)', `${signed(m.avgWin)} / ${signed(m.avgLoss)}`),
    row('Best / worst trade (net)', `${signed(m.bestTradePnl)} / ${signed(m.worstTradePnl)}`),
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
  return `<div><h2>${title}</h2><table id="${id}"><tr><th class="l">${key}</th><th>trades</th><th>win %</th><th>net pnl</th><th>avg net pnl %</th><th>fees</th></tr>${body}</table></div>`;
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
    : `${head} ${isoTime(t.exitTime)} @ ${fmt(t.exitPrice, p.price)} (${t.exitReason}) net pnl ${fmt(t.pnl)}`;
}

/** A numeric cell whose raw value sorts (data-v) while the text shows it rounded. */
function numCell(x: number, text: string): string {
  return Number.isFinite(x) ? `<td data-v="${x}">${text}</td>` : '<td>—</td>';
}

function tradeTable(trades: readonly ClosedTrade[], maxRows: number, p: Precision): string {
  if (!trades.length) return '<p class="muted">No trades.</p>';
  const head =
    '<thead><tr><th>#</th><th class="l">symbol</th><th class="l">side</th><th class="l">entry time</th><th>entry</th><th class="l">exit time</th><th>exit</th><th>qty</th><th>fees</th><th>gross pnl</th><th>net pnl</th><th>net pnl %</th><th class="l">exit reason</th><th class="l">tag</th></tr></thead>';
  const rows = trades.slice(0, maxRows).map((t, i) => {
    const gross = t.pnl + t.fees;
    return (
      `<tr data-entry="${Math.floor(t.entryTime / 1000)}" data-exit="${Math.floor(t.exitTime / 1000)}" data-trade="${i}">` +
      `<td data-v="${i + 1}">${i + 1}</td><td class="l">${escapeHtml(t.symbol)}</td><td class="l">${t.side}</td>` +
      `<td class="l">${timeOrDash(t.entryTime)}</td>${numCell(t.entryPrice, fmt(t.entryPrice, p.price))}` +
      `<td class="l">${timeOrDash(t.exitTime)}</td>${numCell(t.exitPrice, fmt(t.exitPrice, p.price))}` +
      `${numCell(t.quantity, fmt(t.quantity, p.qty))}${numCell(t.fees, fmt(t.fees))}` +
      `${numCell(gross, signed(gross))}${numCell(t.pnl, signed(t.pnl))}${numCell(t.pnlPct * 100, signed(t.pnlPct * 100, 2))}` +
      `<td class="l">${escapeHtml(t.exitReason)}</td><td class="l">${escapeHtml(t.entryTag ?? '')}</td></tr>`
    );
  });
  const more =
    trades.length > maxRows
      ? `<p class="muted">${trades.length - maxRows} more trades in the CSV/JSON export.</p>`
      : '';
  return `<p class="muted">Click a row to show the trade on the chart; click a header to sort.</p><div class="scroll"><table id="trades" class="sortable">${head}<tbody>${rows.join('')}</tbody></table></div>${more}`;
}

function fillTable(fills: readonly FillRecord[], maxRows: number, p: Precision): string {
  if (!fills.length) return '<p class="muted">No fills.</p>';
  const feeDigits = Math.max(2, Math.min(8, p.price + 2));
  const head =
    '<thead><tr><th>#</th><th class="l">time</th><th class="l">symbol</th><th class="l">side</th><th>price</th><th>qty</th><th>fee</th><th class="l">order type</th><th class="l">tag</th></tr></thead>';
  const rows = fills
    .slice(0, maxRows)
    .map(
      (f, i) =>
        `<tr><td data-v="${i + 1}">${i + 1}</td><td class="l" data-v="${f.time}">${timeOrDash(f.time)}</td><td class="l">${escapeHtml(f.symbol)}</td><td class="l">${f.side}</td>${numCell(f.price, fmt(f.price, p.price))}${numCell(f.quantity, fmt(f.quantity, p.qty))}${numCell(f.fee, fmt(f.fee, feeDigits))}<td class="l">${f.orderType}</td><td class="l">${escapeHtml(f.tag ?? '')}</td></tr>`,
    );
  const more =
    fills.length > maxRows ? `<p class="muted">${fills.length - maxRows} more fills in the CSV/JSON export.</p>` : '';
  return `<div class="scroll"><table id="fills" class="sortable">${head}<tbody>${rows.join('')}</tbody></table></div>${more}`;
}

function statText(v: StatValue): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : fmt(v, Math.abs(v) >= 100 ? 2 : 4);
  return escapeHtml(String(v));
}

function statCell(v: StatValue): string {
  return typeof v === 'number' && Number.isFinite(v)
    ? `<td data-v="${v}">${statText(v)}</td>`
    : `<td class="l">${statText(v)}</td>`;
}

/** The strategy's own statistics: its summary figures and its tables (each sortable, at most `maxRows` rows). */
function strategySection(stats: StrategyStatistics | null | undefined, maxRows: number): string {
  if (!stats) return '';
  const parts: string[] = ['<h2>Strategy statistics</h2>'];
  const summary = Object.entries(stats.summary ?? {});
  if (summary.length) {
    parts.push(`<table id="strategy-summary">${summary.map(([k, v]) => row(k, statText(v))).join('')}</table>`);
  }
  for (const [name, t] of Object.entries(stats.tables ?? {})) {
    const head = `<thead><tr>${t.columns.map((c) => `<th class="l">${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
    const body = t.rows
      .slice(0, maxRows)
      .map((r) => `<tr>${r.map(statCell).join('')}</tr>`)
      .join('');
    const more =
      t.rows.length > maxRows ? `<p class="muted">${t.rows.length - maxRows} more rows in the JSON.</p>` : '';
    parts.push(
      `<h3>${escapeHtml(name)} (${t.rows.length})</h3><div class="scroll"><table class="sortable strategy-table" data-name="${escapeHtml(name)}">${head}<tbody>${body}</tbody></table></div>${more}`,
    );
  }
  return parts.join('');
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
    const sym = Array.isArray(o.symbols) ? o.symbols.join(', ') : (o.symbol ?? o.data);
    const bits = [o.strategy, sym].filter((v) => typeof v === 'string');
    if (bits.length) return `Backtest: ${bits.join(' on ')}`;
  }
  return 'Backtest report';
}

/** JSON safe inside a <script> element: no `</script>` or `<!--` can end or change it. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c');
}

/**
 * A self-contained interactive HTML report: inline CSS, the chart library (`chartLibrary`, TradingView
 * Lightweight Charts, inlined with its licence banner) and the page script, no network reference, so it opens
 * offline. One chart with panes sharing a time scale (zoom and pan together): candles with entry/exit markers,
 * the strategy's indicators and price lines; equity; drawdown; oscillators and strategy series. Then the
 * metrics, the strategy's statistics, breakdowns, risk events, the sortable trade table (a row click moves the
 * chart to the trade) and the fill table. Above `maxCandles` bars, candles are merged for display (said on the
 * page); markers keep their exact price on the candle that holds their time.
 */
export function renderHtml(
  result: ReportInput,
  candles: BarColumns,
  chartLibrary: string,
  options: HtmlReportOptions = {},
): string {
  const title = options.title ?? defaultTitle(result.config);
  const trades = options.symbol ? result.trades.filter((t) => t.symbol === options.symbol) : result.trades;
  const fills = result.fillRecords ?? [];
  const m = result.metrics;
  const precision: Precision = {
    price: options.priceDecimals ?? Math.max(precisionOf(candles.close), precisionOf(candles.open)),
    qty:
      options.quantityDecimals ??
      precisionOf([...result.trades.map((t) => t.quantity), ...fills.map((f) => f.quantity)]),
  };
  const maxCandles = options.maxCandles ?? 20_000;
  const data = buildChartData({
    bars: candles,
    maxCandles,
    priceDecimals: precision.price,
    trades,
    equity: result.equity,
    initialCash: m.initialCash,
    indicators: options.indicators ?? [],
    stats: result.strategyStats ?? null,
    tradeText: (t, what) => tradeTitle(t, what, precision),
  });
  const merged =
    data.per > 1
      ? `<p class="muted" id="decimation">${candles.length} bars shown as ${data.candles.t.length} candles of ${data.per} bars each (display only; markers sit at their exact price on the candle holding their time; the metrics use every bar).</p>`
      : '';
  const config =
    result.config === undefined
      ? ''
      : `<h2>Settings</h2><pre>${escapeHtml(JSON.stringify(result.config, null, 2))}</pre>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="sub">${timeOrDash(m.startTime)} → ${timeOrDash(m.endTime)} · ${m.bars} bars · fingerprint <code id="fingerprint">${escapeHtml(result.fingerprint)}</code></div>
<h2>Price, equity and drawdown</h2>
<p class="muted">Drag to pan, scroll or pinch to zoom; all panes move together. ▲ long entry, ▼ short entry, ● exit (green win, red loss)${result.strategyStats?.markers?.length ? ', ■ strategy event' : ''}.</p>
<div id="chart-box"><div id="chart"></div><div id="chart-tip"></div></div>${merged}
<h2>Summary</h2>${summaryTables(m)}
${strategySection(result.strategyStats, options.maxTradeRows ?? 5000)}
<div class="cols">${breakdown('By symbol', 'by-symbol', 'symbol', m.bySymbol, (r) => r.symbol)}${breakdown('By exit reason', 'by-exit-reason', 'exit reason', m.byExitReason, (r) => r.exitReason)}</div>
${riskTable(result)}
<h2>Trades (${result.trades.length})</h2>${tradeTable(trades, options.maxTradeRows ?? 5000, precision)}
<h2>Fills (${fills.length})</h2>${fillTable(fills, options.maxFillRows ?? 2000, precision)}
${config}
<footer>Percentages are in percent (12.5 = 12.5 %). P&amp;L: gross is before fees, net after fees.
Charts: TradingView Lightweight Charts™, Copyright (c) TradingView, Inc., Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0), inlined unmodified; https://www.tradingview.com/</footer>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${chartLibrary}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
