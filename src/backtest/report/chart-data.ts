import type { BarColumns } from '../../core/bar.js';
import type { ClosedTrade } from '../../core/events.js';
import type { StrategyStatistics } from '../../strategy/types.js';
import type { EquityCurve } from '../metrics.js';

/** An indicator line for the report's chart: on the price scale (moving averages, bands) or in its own pane. */
export interface ReportIndicator {
  readonly name: string;
  /** `price`: drawn over the candles; `pane`: an oscillator (RSI, MACD) in a pane below. */
  readonly placement: 'price' | 'pane';
  /** One value per candle of the report's bars (NaN during warm-up). */
  readonly values: ArrayLike<number>;
}

/** A marker on the candles (seconds, exact price). `trade` is the trade's row in the table, -1 for others. */
export interface ChartMarker {
  readonly t: number;
  readonly p: number;
  readonly kind: 'entry-long' | 'entry-short' | 'exit-win' | 'exit-loss' | 'strategy';
  readonly text: string;
  readonly trade: number;
}

/** A line (seconds, value) of the report's chart; null where undefined. */
export interface ChartLine {
  readonly name: string;
  readonly t: number[];
  readonly v: (number | null)[];
}

/** Everything the page script draws: the data island of the HTML report. */
export interface ChartData {
  readonly priceDecimals: number;
  /** Bars per displayed candle (1 = not merged). */
  readonly per: number;
  readonly bars: number;
  readonly candles: { t: number[]; o: number[]; h: number[]; l: number[]; c: number[] };
  readonly equity: ChartLine;
  readonly drawdown: ChartLine;
  readonly overlays: ChartLine[];
  readonly panes: ChartLine[];
  readonly strategySeries: ChartLine[];
  readonly markers: ChartMarker[];
  readonly priceLines: { price: number; label: string }[];
}

/** Rounds to `d` decimals (shortest JSON), null for NaN/Infinity. */
function round(x: number, d: number): number | null {
  if (!Number.isFinite(x)) return null;
  const p = 10 ** d;
  return Math.round(x * p) / p;
}

/** Index of the last element <= x (-1 when none). */
function lastAtOrBefore(t: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * Maps a series onto the displayed candles: per candle, the last value whose time falls inside it (the candles
 * share one time scale with every line, so a line never adds a time of its own).
 */
function snap(
  bars: BarColumns,
  per: number,
  time: ArrayLike<number>,
  value: ArrayLike<number>,
  d: number,
  name: string,
): ChartLine {
  const m = Math.ceil(bars.length / per);
  const out = new Map<number, number | null>();
  for (let i = 0; i < time.length; i++) {
    const idx = lastAtOrBefore(bars.time, time[i]);
    if (idx < 0) continue;
    out.set(Math.min(m - 1, Math.floor(idx / per)), round(value[i], d));
  }
  const keys = [...out.keys()].sort((a, b) => a - b);
  return { name, t: keys.map((k) => Math.floor(bars.time[k * per] / 1000)), v: keys.map((k) => out.get(k) ?? null) };
}

/** Per-candle line of a column aligned with the bars (the value at each candle's last bar). */
function perCandle(bars: BarColumns, per: number, values: ArrayLike<number>, d: number, name: string): ChartLine {
  const t: number[] = [];
  const v: (number | null)[] = [];
  for (let a = 0; a < bars.length; a += per) {
    const z = Math.min(bars.length, a + per) - 1;
    t.push(Math.floor(bars.time[a] / 1000));
    v.push(round(values[z], d));
  }
  return { name, t, v };
}

/** Drawdown below the running peak in percent, negative (peak starts at the initial cash, as in the metrics). */
export function drawdownSeries(value: ArrayLike<number>, initialCash: number): Float64Array {
  const dd = new Float64Array(value.length);
  let peak = initialCash;
  for (let i = 0; i < value.length; i++) {
    if (value[i] > peak) peak = value[i];
    dd[i] = peak > 0 ? ((value[i] - peak) / peak) * 100 : 0;
  }
  return dd;
}

/** What `buildChartData` needs. */
export interface ChartDataInput {
  readonly bars: BarColumns;
  readonly maxCandles: number;
  readonly priceDecimals: number;
  readonly trades: readonly ClosedTrade[];
  readonly equity: EquityCurve;
  readonly initialCash: number;
  readonly indicators: readonly ReportIndicator[];
  readonly stats: StrategyStatistics | null;
  /** Formats a trade marker's hover text. */
  readonly tradeText: (t: ClosedTrade, what: 'entry' | 'exit') => string;
}

/**
 * The chart's data: candles merged `per` bars at a time above `maxCandles` (open of the first, extremes, close of
 * the last) so a 100k-bar run stays a few MB, every other line snapped to those candles, markers at their exact
 * price on the candle that holds their time. Times are UTC seconds, as the chart library takes them.
 */
export function buildChartData(input: ChartDataInput): ChartData {
  const { bars, priceDecimals: pd } = input;
  const n = bars.length;
  const per = Math.max(1, Math.ceil(n / Math.max(1, input.maxCandles)));
  const candles = { t: [] as number[], o: [] as number[], h: [] as number[], l: [] as number[], c: [] as number[] };
  for (let a = 0; a < n; a += per) {
    const z = Math.min(n, a + per) - 1;
    let hi = Number.NEGATIVE_INFINITY;
    let lo = Number.POSITIVE_INFINITY;
    for (let i = a; i <= z; i++) {
      if (bars.high[i] > hi) hi = bars.high[i];
      if (bars.low[i] < lo) lo = bars.low[i];
    }
    candles.t.push(Math.floor(bars.time[a] / 1000));
    candles.o.push(round(bars.open[a], pd) ?? 0);
    candles.h.push(round(hi, pd) ?? 0);
    candles.l.push(round(lo, pd) ?? 0);
    candles.c.push(round(bars.close[z], pd) ?? 0);
  }
  const candleTime = (ms: number): number | null => {
    const idx = lastAtOrBefore(bars.time, ms);
    return idx < 0 ? null : Math.floor(bars.time[Math.floor(idx / per) * per] / 1000);
  };
  const markers: ChartMarker[] = [];
  input.trades.forEach((t, i) => {
    const et = candleTime(t.entryTime);
    const xt = candleTime(t.exitTime);
    if (et !== null) {
      const kind = t.side === 'long' ? 'entry-long' : 'entry-short';
      markers.push({ t: et, p: t.entryPrice, kind, text: input.tradeText(t, 'entry'), trade: i });
    }
    if (xt !== null) {
      const kind = t.pnl >= 0 ? 'exit-win' : 'exit-loss';
      markers.push({ t: xt, p: t.exitPrice, kind, text: input.tradeText(t, 'exit'), trade: i });
    }
  });
  for (const m of input.stats?.markers ?? []) {
    const t = candleTime(m.time);
    if (t !== null) markers.push({ t, p: m.price, kind: 'strategy', text: m.text, trade: -1 });
  }
  markers.sort((a, b) => a.t - b.t);
  const dd = drawdownSeries(input.equity.value, input.initialCash);
  return {
    priceDecimals: pd,
    per,
    bars: n,
    candles,
    equity: snap(bars, per, input.equity.time, input.equity.value, 2, 'equity'),
    drawdown: snap(bars, per, input.equity.time, dd, 3, 'drawdown %'),
    overlays: input.indicators
      .filter((x) => x.placement === 'price')
      .map((x) => perCandle(bars, per, x.values, pd + 2, x.name)),
    panes: input.indicators.filter((x) => x.placement === 'pane').map((x) => perCandle(bars, per, x.values, 4, x.name)),
    strategySeries: Object.entries(input.stats?.series ?? {}).map(([name, s]) =>
      snap(bars, per, s.time, s.value, 6, name),
    ),
    markers,
    priceLines: (input.stats?.priceLines ?? []).map((l) => ({ price: l.price, label: l.label })),
  };
}
