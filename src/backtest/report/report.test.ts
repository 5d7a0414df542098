import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BarColumns, barsToColumns } from '../../core/bar.js';
import type { ClosedTrade } from '../../core/events.js';
import type { FillRecord } from '../../core/fill.js';
import { getStrategy } from '../../strategy/registry.js';
import { tradeFingerprint } from '../fingerprint.js';
import type { ChartData } from './chart-data.js';
import { chartIndicators } from './indicators.js';
import { computeMetrics, type EquityCurve } from '../metrics.js';
import {
  EQUITY_CSV_HEADER,
  type ReportInput,
  renderEquityCsv,
  renderHtml,
  renderJson,
  renderTradesCsv,
  TRADES_CSV_HEADER,
  FILLS_CSV_HEADER,
  loadChartLibrary,
  renderFillsCsv,
  writeCsvReports,
  writeHtmlReport,
  writeJsonReport,
} from './index.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

function candles(n: number): BarColumns {
  return barsToColumns(
    Array.from({ length: n }, (_, i) => {
      const o = 100 + 10 * Math.sin(i / 7);
      const cl = 100 + 10 * Math.sin((i + 1) / 7);
      return {
        time: T0 + i * DAY,
        open: o,
        high: Math.max(o, cl) + 1,
        low: Math.min(o, cl) - 1,
        close: cl,
        volume: 1000,
      };
    }),
  );
}

const trades: ClosedTrade[] = [
  {
    strategyId: 'sma-cross',
    symbol: 'SPX',
    side: 'long',
    entryTime: T0 + 2 * DAY,
    entryPrice: 101.5,
    exitTime: T0 + 5 * DAY,
    exitPrice: 104.25,
    quantity: 10,
    fees: 2.06,
    pnl: 25.44,
    pnlPct: 0.025,
    exitReason: 'exit_signal',
    entryTag: 'cross, "up"',
  },
  {
    strategyId: 'sma-cross',
    symbol: 'SPX',
    side: 'short',
    entryTime: T0 + 7 * DAY,
    entryPrice: 106,
    exitTime: T0 + 9 * DAY,
    exitPrice: 107,
    quantity: 10,
    fees: 2.13,
    pnl: -12.13,
    pnlPct: -0.0114,
    exitReason: 'stop_loss',
  },
];

const fills: FillRecord[] = [
  {
    time: T0 + 2 * DAY,
    symbol: 'SPX',
    side: 'buy',
    price: 101.5,
    quantity: 10,
    fee: 1.015,
    orderType: 'limit',
    tag: 'grid-1, a',
    liquidity: 'maker',
  },
];

function result(nBars = 12, extra: Partial<ReportInput> = {}): ReportInput {
  const values = Array.from({ length: nBars }, (_, i) => 1000 + (i < 6 ? i * 5 : 30 - (i - 6) * 3));
  values[3] = Number.NaN; // a broken point must not leak NaN into JSON
  const equity: EquityCurve = {
    time: Float64Array.from(values.map((_, i) => T0 + i * DAY)),
    value: Float64Array.from(values),
  };
  const clean = { time: equity.time, value: Float64Array.from(values.map((v) => (Number.isNaN(v) ? 1010 : v))) };
  return {
    trades,
    equity,
    metrics: computeMetrics({ trades, equity: clean, initialCash: 1000, timeframe: '1d', tradingDaysPerYear: 252 }),
    fingerprint: tradeFingerprint(trades),
    timing: { loadMs: 3, runMs: 1.5, bars: nBars, barsPerSecond: nBars / 0.0015 },
    riskEvents: [{ time: T0 + 4 * DAY, code: 'INSUFFICIENT_FUNDS', detail: 'cost 1200 > cash 1000 <b>' }],
    config: { strategy: 'sma-cross', symbol: 'SPX', params: { fast: 2, slow: 4 } },
    fillRecords: fills,
    strategyStats: {
      summary: { cycles: 1 },
      tables: { cycles: { columns: ['#', 'profit'], rows: [[1, 9.77]] } },
      priceLines: [{ price: 100, label: 'grid 0' }],
      markers: [{ time: T0 + 6 * DAY, price: 104, text: 'cycle 1' }],
    },
    ...extra,
  };
}

describe('renderJson', () => {
  const doc = JSON.parse(renderJson(result()));

  it('holds trades, metrics, equity, fingerprint, timing, riskEvents and config', () => {
    expect(Object.keys(doc)).toEqual([
      'version',
      'fingerprint',
      'config',
      'timing',
      'metrics',
      'trades',
      'fills',
      'equity',
      'riskEvents',
      'strategyStats',
    ]);
    expect(doc.fills).toEqual([fills[0]]);
    expect(doc.strategyStats.summary.cycles).toBe(1);
    expect(doc.fingerprint).toBe(tradeFingerprint(trades));
    expect(doc.timing.runMs).toBe(1.5);
    expect(doc.config.params).toEqual({ fast: 2, slow: 4 });
    expect(doc.riskEvents[0].code).toBe('INSUFFICIENT_FUNDS');
    expect(doc.metrics.trades).toBe(2);
  });

  it('writes trades with the documented fields and entryTag null when absent', () => {
    expect(Object.keys(doc.trades[0]).slice(0, 13)).toEqual([
      'symbol',
      'side',
      'entryTime',
      'entryPrice',
      'exitTime',
      'exitPrice',
      'quantity',
      'fees',
      'grossPnl',
      'netPnl',
      'netPnlPct',
      'exitReason',
      'entryTag',
    ]);
    // One unit for percentages: netPnlPct is in percent, as every Pct field of the metrics.
    expect(doc.trades[0].netPnlPct).toBeCloseTo(2.5, 12);
    expect(doc.trades[0].grossPnl).toBeCloseTo(25.44 + 2.06, 12);
    expect(doc.trades[0].entryTag).toBe('cross, "up"');
    expect(doc.trades[1].entryTag).toBeNull();
  });

  it('writes equity as parallel arrays and NaN as null', () => {
    expect(doc.equity.time).toHaveLength(12);
    expect(doc.equity.value).toHaveLength(12);
    expect(doc.equity.time[1]).toBe(T0 + DAY);
    expect(doc.equity.value[3]).toBeNull();
    expect(doc.equity.value[5]).toBe(1025);
    expect(renderJson(result())).not.toMatch(/NaN|Infinity/);
  });
});

describe('CSV renderers', () => {
  it('trades.csv: header, ISO times, RFC 4180 quoting', () => {
    const lines = renderTradesCsv(trades).trimEnd().split('\n');
    expect(lines[0]).toBe(TRADES_CSV_HEADER);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(
      'SPX,long,2024-01-03T00:00:00.000Z,101.5,2024-01-06T00:00:00.000Z,104.25,10,2.06,27.5,25.44,2.5,exit_signal,"cross, ""up""",sma-cross',
    );
    expect(lines[2].split(',')).toHaveLength(14);
    expect(lines[2]).toContain(',stop_loss,,sma-cross');
  });

  it('fills.csv: every fill with its order type and tag', () => {
    expect(renderFillsCsv(fills)).toBe(
      `${FILLS_CSV_HEADER}\n2024-01-03T00:00:00.000Z,SPX,buy,101.5,10,1.015,limit,"grid-1, a",maker\n`,
    );
  });

  it('trades.csv of no trades is just the header', () => {
    expect(renderTradesCsv([])).toBe(`${TRADES_CSV_HEADER}\n`);
  });

  it('equity.csv: one row per bar with drawdown below the running peak', () => {
    const eq = { time: Float64Array.of(T0, T0 + DAY, T0 + 2 * DAY), value: Float64Array.of(100, 120, 90) };
    expect(renderEquityCsv(eq, 100)).toBe(
      `${EQUITY_CSV_HEADER}\n2024-01-01T00:00:00.000Z,100,0\n2024-01-02T00:00:00.000Z,120,0\n2024-01-03T00:00:00.000Z,90,25\n`,
    );
    // Below the initial cash from the start: drawdown from the initial cash.
    expect(renderEquityCsv({ time: Float64Array.of(T0), value: Float64Array.of(80) }, 100)).toContain(',80,20\n');
  });
});

/** The data island the page script draws from. */
function chartData(html: string): ChartData {
  const m = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html);
  expect(m, 'data island').not.toBeNull();
  return JSON.parse(m![1]) as ChartData;
}

describe('renderHtml', () => {
  const lib = loadChartLibrary();

  it('is self-contained: the chart library inlined with its licence, no external script, stylesheet or image', () => {
    const html = renderHtml(result(), candles(12), lib);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(lib);
    expect(html).toContain('TradingView Lightweight Charts™ v5');
    expect(html).toContain('Licensed under Apache License 2.0');
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*href=/i);
    expect(html).not.toMatch(/<img/i);
  });

  it('puts every candle and a marker for every entry and exit into the chart data', () => {
    const html = renderHtml(result(), candles(12), lib);
    for (const id of ['chart', 'metrics', 'trades', 'fills', 'by-exit-reason', 'strategy-summary']) {
      expect(html, id).toContain(`id="${id}"`);
    }
    const d = chartData(html);
    expect(d.candles.t).toHaveLength(12);
    expect(d.per).toBe(1);
    expect(d.markers.map((m) => m.kind).sort()).toEqual(
      ['entry-long', 'entry-short', 'exit-loss', 'exit-win', 'strategy'].sort(),
    );
    const entry = d.markers.find((m) => m.kind === 'entry-long')!;
    expect(entry.t).toBe((T0 + 2 * DAY) / 1000);
    expect(entry.p).toBe(101.5);
    expect(d.equity.t).toEqual(d.candles.t);
    expect(d.drawdown.v.every((v) => v === null || v <= 0)).toBe(true);
    expect(d.priceLines).toEqual([{ price: 100, label: 'grid 0' }]);
    expect(html).toContain(tradeFingerprint(trades));
    // The trade row carries the times the page jumps to.
    expect(html).toContain(`data-entry="${(T0 + 2 * DAY) / 1000}" data-exit="${(T0 + 5 * DAY) / 1000}"`);
  });

  it('shows prices and quantities at the precision of the data, not float noise', () => {
    const cents = barsToColumns(
      Array.from({ length: 12 }, (_, i) => ({
        time: T0 + i * DAY,
        open: 890.16 + i,
        high: 891.5 + i,
        low: 889.25 + i,
        close: 890.75 + i,
        volume: 1000,
      })),
    );
    const noisy: ClosedTrade = {
      ...trades[0],
      entryPrice: 890.1599729999999,
      exitPrice: 893.2500000000001,
      quantity: 0.1 + 0.2,
    };
    const r = result(12, {
      trades: [noisy],
      fillRecords: [{ ...fills[0], price: 890.1599729999999, quantity: 0.1 + 0.2 }],
    });
    const html = renderHtml(r, cents, lib);
    const visible = html.replace(/data-v="[^"]*"/g, '').replace(/<script[\s\S]*?<\/script>/g, '');
    expect(visible).not.toContain('890.1599729999999');
    expect(visible).not.toContain('0.30000000000000004');
    expect(html).toMatch(
      />890\.16<\/td><td class="l">[^<]+<\/td><td data-v="[^"]+">893\.25<\/td><td data-v="[^"]+">0\.3<\/td>/,
    );
    expect(chartData(html).priceDecimals).toBe(2);
    const fixed = renderHtml(r, cents, lib, { priceDecimals: 4, quantityDecimals: 3 });
    expect(fixed).toMatch(/>890\.1600<\/td>/);
    expect(fixed).toMatch(/>0\.300<\/td>/);
  });

  it('shows risk events, escaped, and leaves the table out when there are none', () => {
    const html = renderHtml(result(), candles(12), lib);
    expect(html).toContain('id="risk-events"');
    expect(html).toContain('cost 1200 &gt; cash 1000 &lt;b&gt;');
    expect(html).not.toContain('<b>');
    expect(renderHtml(result(12, { riskEvents: [] }), candles(12), lib)).not.toContain('id="risk-events"');
  });

  it('merges candles above the limit, says so, and keeps every marker at its exact price', () => {
    const many = 5000;
    const html = renderHtml(result(many), candles(many), lib, { maxCandles: 1000 });
    const d = chartData(html);
    expect(d.candles.t).toHaveLength(1000);
    expect(d.per).toBe(5);
    expect(html).toContain('5000 bars shown as 1000 candles of 5 bars each');
    expect(d.markers.filter((m) => m.kind !== 'strategy')).toHaveLength(4);
    expect(d.markers.find((m) => m.kind === 'exit-loss')!.p).toBe(107);
    // Every line shares the candles' times (one time scale).
    const times = new Set(d.candles.t);
    expect(d.equity.t.every((t) => times.has(t))).toBe(true);
  });

  it('draws the strategy indicators: price overlays over the candles, oscillators in a pane', () => {
    const bars = candles(30);
    const html = renderHtml(result(30), bars, lib, {
      indicators: chartIndicators(getStrategy('sma-cross'), { fast: 3, slow: 5 }, bars),
    });
    const d = chartData(html);
    expect(d.overlays.map((o) => o.name)).toEqual(['sma_3', 'sma_5']);
    const sma3 = d.overlays[0].v;
    expect(sma3[1]).toBeNull();
    expect(sma3[2]).toBeCloseTo((bars.close[0] + bars.close[1] + bars.close[2]) / 3, 8);
    const rsi = renderHtml(result(30), bars, lib, {
      indicators: chartIndicators(getStrategy('rsi-reversion'), { period: 14 }, bars),
    });
    expect(chartData(rsi).panes.map((o) => o.name)).toEqual(['rsi_14']);
  });

  it('filters markers by symbol and renders an empty run without failing', () => {
    const html = renderHtml(result(), candles(12), lib, { symbol: 'OTHER' });
    expect(chartData(html).markers.filter((m) => m.trade >= 0)).toEqual([]);
    const empty: ReportInput = {
      trades: [],
      equity: { time: new Float64Array(0), value: new Float64Array(0) },
      metrics: computeMetrics({
        trades: [],
        equity: { time: new Float64Array(0), value: new Float64Array(0) },
        initialCash: 1,
      }),
      fingerprint: tradeFingerprint([]),
    };
    const out = renderHtml(empty, candles(0), lib);
    expect(out).toContain('No trades.');
    expect(chartData(out).candles.t).toEqual([]);
  });
});

describe('report writers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('write JSON, CSV and HTML atomically, leaving no temp files', () => {
    const r = result();
    writeJsonReport(join(dir, 'out', 'run.json'), r);
    const csv = writeCsvReports(join(dir, 'csv'), r);
    writeHtmlReport(join(dir, 'run.html'), r, candles(12));
    expect(readFileSync(csv.fills, 'utf8')).toBe(renderFillsCsv(fills));
    expect(readFileSync(csv['strategy-cycles'], 'utf8')).toBe('#,profit\n1,9.77\n');
    expect(JSON.parse(readFileSync(join(dir, 'out', 'run.json'), 'utf8')).fingerprint).toBe(r.fingerprint);
    expect(readFileSync(csv.trades, 'utf8')).toBe(renderTradesCsv(trades));
    expect(readFileSync(csv.equity, 'utf8').split('\n')[0]).toBe(EQUITY_CSV_HEADER);
    expect(readFileSync(join(dir, 'run.html'), 'utf8')).toBe(renderHtml(r, candles(12), loadChartLibrary()));
    expect(readdirSync(join(dir, 'csv')).sort()).toEqual([
      'equity.csv',
      'fills.csv',
      'strategy-cycles.csv',
      'trades.csv',
    ]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces an existing report and fails cleanly on an unwritable path', () => {
    const p = join(dir, 'again.json');
    writeJsonReport(p, result());
    writeJsonReport(p, result(12, { fingerprint: 'x' }));
    expect(JSON.parse(readFileSync(p, 'utf8')).fingerprint).toBe('x');
    expect(() => writeJsonReport(join(dir, 'again.json', 'nested.json'), result())).toThrow();
    expect(JSON.parse(readFileSync(p, 'utf8')).fingerprint).toBe('x');
  });
});
