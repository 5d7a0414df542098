import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { barsToColumns } from '../../core/bar.js';
import { buildChartData, type ChartData } from './chart-data.js';
import { PAGE_SCRIPT } from './page-script.js';

// The real check is test/backtest-report-browser.test.ts (chromium + the real chart library). This one runs the
// page script in a bare V8 context against a recorder with the library's v5 call shapes, so a typo or a wrong
// call in the script fails here too, on machines without a browser.

interface Recorded {
  series: { type: string; pane: number; points: number; title?: string }[];
  markers: { time: number; price: number; shape: string; position: string }[];
  priceLines: number[];
  range: { from: number; to: number } | null;
  stretch: number[];
}

function runPage(data: ChartData, rows: { entry: number; exit: number }[] = []) {
  const rec: Recorded = { series: [], markers: [], priceLines: [], range: null, stretch: [] };
  let maxPane = 0;
  const handlers: Record<string, (() => void)[]> = {};
  const rowEls = rows.map((r) => ({
    getAttribute: (k: string) => (k === 'data-entry' ? String(r.entry) : String(r.exit)),
    classList: { add() {}, remove() {} },
    addEventListener: (_e: string, f: () => void) => {
      handlers[`row${r.entry}`] = [f];
    },
  }));
  const chart = {
    addSeries(def: string, opts: { title?: string }, pane: number) {
      maxPane = Math.max(maxPane, pane);
      const entry = { type: def, pane, points: 0, ...(opts?.title ? { title: opts.title } : {}) };
      rec.series.push(entry);
      return {
        setData: (d: unknown[]) => {
          entry.points = d.length;
        },
        createPriceLine: (o: { price: number }) => rec.priceLines.push(o.price),
      };
    },
    panes: () =>
      Array.from({ length: maxPane + 1 }, (_, i) => ({ setStretchFactor: (f: number) => (rec.stretch[i] = f) })),
    timeScale: () => ({
      fitContent() {},
      setVisibleLogicalRange: (r: { from: number; to: number }) => {
        rec.range = r;
      },
    }),
    subscribeCrosshairMove() {},
  };
  const element = { style: {} as Record<string, string>, scrollIntoView() {}, textContent: '' };
  const window: Record<string, unknown> = {
    LightweightCharts: {
      createChart: () => chart,
      CandlestickSeries: 'candles',
      LineSeries: 'line',
      AreaSeries: 'area',
      createSeriesMarkers: (_s: unknown, m: Recorded['markers']) => {
        rec.markers = m;
        return { markers: () => m };
      },
    },
  };
  const document = {
    getElementById: (id: string) => (id === 'report-data' ? { textContent: JSON.stringify(data) } : element),
    querySelectorAll: (sel: string) => (sel === 'tr[data-entry]' ? rowEls : []),
  };
  runInNewContext(PAGE_SCRIPT, { window, document, isFinite, Number, String, Math, JSON, Array });
  return { rec, report: window.tradeforgeReport as Record<string, unknown>, handlers };
}

const T0 = Date.UTC(2024, 0, 1);
const H = 3_600_000;
const bars = barsToColumns(
  Array.from({ length: 50 }, (_, i) => ({
    time: T0 + i * H,
    open: 100 + i,
    high: 101 + i,
    low: 99 + i,
    close: 100.5 + i,
    volume: 1,
  })),
);

describe('report page script', () => {
  const data = buildChartData({
    bars,
    maxCandles: 1000,
    priceDecimals: 2,
    trades: [
      {
        strategyId: 's',
        symbol: 'X',
        side: 'long',
        entryTime: T0 + 10 * H,
        entryPrice: 110,
        exitTime: T0 + 20 * H,
        exitPrice: 120,
        quantity: 1,
        fees: 0,
        pnl: 10,
        pnlPct: 0.09,
        exitReason: 'exit_signal',
      },
    ],
    equity: { time: bars.time, value: Float64Array.from({ length: 50 }, (_, i) => 1000 + i) },
    initialCash: 1000,
    indicators: [{ name: 'sma_3', placement: 'price', values: bars.close }],
    stats: {
      priceLines: [{ price: 105, label: 'grid 0' }],
      series: { inventory: { time: [T0, T0 + 5 * H], value: [0, 1] } },
      markers: [{ time: T0 + 30 * H, price: 130, text: 'cycle 1' }],
    },
    tradeText: (_t, what) => what,
  });

  it('draws candles, overlays, equity, drawdown and strategy series in panes, with every marker', () => {
    const { rec, report } = runPage(data);
    expect(rec.series.map((s) => [s.type, s.pane, s.points])).toEqual([
      ['candles', 0, 50],
      ['line', 0, 50],
      ['line', 1, 50],
      ['area', 2, 50],
      ['line', 3, 2],
    ]);
    expect(rec.markers.map((m) => [m.shape, m.price])).toEqual([
      ['arrowUp', 110],
      ['circle', 120],
      ['square', 130],
    ]);
    expect(rec.markers[0].time).toBe((T0 + 10 * H) / 1000);
    expect(rec.priceLines).toEqual([105]);
    expect(rec.stretch).toEqual([3, 1, 1, 1]);
    expect(Object.keys(report)).toEqual(['chart', 'candles', 'markers', 'jumpToTrade']);
  });

  it('a trade row click shows the trade: its candles inside the visible range', () => {
    const { rec, handlers } = runPage(data, [{ entry: (T0 + 10 * H) / 1000, exit: (T0 + 20 * H) / 1000 }]);
    handlers[`row${(T0 + 10 * H) / 1000}`][0]();
    expect(rec.range!.from).toBeLessThanOrEqual(10);
    expect(rec.range!.to).toBeGreaterThanOrEqual(20);
  });
});
