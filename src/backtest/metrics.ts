import type { ClosedTrade } from '../core/events.js';
import { barsPerYear as barsPerYearOf, type Timeframe } from '../core/timeframe.js';

/** One point per bar: cash plus marked-to-market positions, at the bar's time (epoch ms). */
export interface EquityCurve {
  readonly time: Float64Array;
  readonly value: Float64Array;
}

/** Everything computeMetrics needs; it does no I/O and never mutates its input. */
export interface MetricsInput {
  readonly trades: readonly ClosedTrade[];
  readonly equity: EquityCurve;
  readonly initialCash: number;
  /** Bar timeframe, used with `tradingDaysPerYear` to annualise; ignored when `barsPerYear` is given. */
  readonly timeframe?: Timeframe;
  /** Explicit annualisation factor (bars per year); wins over `timeframe`. */
  readonly barsPerYear?: number;
  /** Days a year the market trades: 365 for 24/7 crypto (default), 252 for equities and indices. */
  readonly tradingDaysPerYear?: number;
  /** Annual risk-free rate as a ratio (0.02 = 2 %); 0 by default. */
  readonly riskFreeRate?: number;
  /** Closes of the traded instrument over the same bars, for the buy-and-hold benchmark. */
  readonly benchmark?: { readonly close: Float64Array };
  /** Bars with an open position; computed from the trades when absent. */
  readonly exposureBars?: number;
  /** Where `barsPerYear` came from (reported as `annualisationBasis`); see `annualisation()`. */
  readonly annualisationBasis?: Annualisation['basis'];
}

/** Per-group statistics (one symbol, or one exit reason). `null` where undefined (e.g. no trades). */
export interface GroupStats {
  readonly trades: number;
  /** Share of trades with pnl > 0, in percent. */
  readonly winRatePct: number | null;
  readonly totalPnl: number;
  /** Mean of the trades' `pnlPct`, in percent. */
  readonly avgPnlPct: number | null;
  readonly fees: number;
}

/** Per-symbol breakdown row. */
export interface SymbolStats extends GroupStats {
  readonly symbol: string;
}

/** Per-exit-reason breakdown row. */
export interface ExitReasonStats extends GroupStats {
  readonly exitReason: string;
}

/**
 * The BT-4 metrics. Fields ending in `Pct` are percentages (12.5 = 12.5 %; a trade's `pnlPct` is a ratio and is
 * turned into percent here); money fields are in the quote
 * currency; times are epoch ms; durations are ms unless named `...Bars`. A value that is not defined for the
 * run (Sharpe of a flat curve, profit factor without losses, anything about trades when there are none) is
 * `null`, never NaN or Infinity, so the JSON report stays valid. Definitions: docs/metrics.md.
 */
export interface Metrics {
  readonly initialCash: number;
  readonly finalEquity: number;
  readonly totalReturn: number;
  readonly totalReturnPct: number | null;
  readonly cagrPct: number | null;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly calmar: number | null;
  readonly annualVolatilityPct: number | null;
  readonly maxDrawdownPct: number;
  readonly maxDrawdownAbs: number;
  readonly maxDrawdownPeakTime: number | null;
  readonly maxDrawdownTroughTime: number | null;
  /** Time the max-drawdown episode got back to its peak; null when it never did. */
  readonly maxDrawdownRecoveryTime: number | null;
  /** Longest time under water (peak to recovery, or to the last bar), in ms and in bars. */
  readonly maxDrawdownDurationMs: number;
  readonly maxDrawdownDurationBars: number;
  readonly bars: number;
  readonly startTime: number | null;
  readonly endTime: number | null;
  readonly barsPerYear: number;
  /** Where `barsPerYear` came from: `periods-per-year`, `trading-days`, `calendar-365`, `calendar-252`; null when unknown. */
  readonly annualisationBasis: Annualisation['basis'] | null;
  readonly riskFreeRate: number;
  readonly trades: number;
  readonly longTrades: number;
  readonly shortTrades: number;
  readonly wins: number;
  readonly losses: number;
  readonly winRatePct: number | null;
  /** Sum of the trades' net P&L (after fees). */
  readonly netPnl: number;
  /** Sum of the trades' gross P&L (before fees): `netPnl + totalFees`. */
  readonly grossPnl: number;
  /** Sum of the winning trades' net P&L ("gross" as in the profit factor: before losses are subtracted). */
  readonly grossProfit: number;
  /** Sum of the losing trades' net P&L (negative). */
  readonly grossLoss: number;
  readonly profitFactor: number | null;
  readonly expectancy: number | null;
  readonly expectancyPct: number | null;
  readonly avgWin: number | null;
  readonly avgLoss: number | null;
  readonly avgWinPct: number | null;
  readonly avgLossPct: number | null;
  readonly bestTradePnl: number | null;
  readonly bestTradePct: number | null;
  readonly worstTradePnl: number | null;
  readonly worstTradePct: number | null;
  readonly maxConsecutiveWins: number;
  readonly maxConsecutiveLosses: number;
  readonly avgTradeDurationMs: number | null;
  readonly medianTradeDurationMs: number | null;
  readonly exposureBars: number;
  readonly exposurePct: number | null;
  readonly totalFees: number;
  readonly benchmarkReturnPct: number | null;
  readonly benchmarkCagrPct: number | null;
  readonly benchmarkMaxDrawdownPct: number | null;
  readonly bySymbol: readonly SymbolStats[];
  readonly byExitReason: readonly ExitReasonStats[];
}

/** Length of a calendar year used by CAGR (Julian year, so leap years average out). */
export const YEAR_MS = 365.25 * 86_400_000;

/** Maps NaN and ±Infinity to null: the metrics must serialise to valid JSON. */
function fin(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Resolves the annualisation factor: explicit, from the timeframe, or inferred from the median bar spacing. */
export function resolveBarsPerYear(
  input: Pick<MetricsInput, 'barsPerYear' | 'timeframe' | 'tradingDaysPerYear' | 'equity'>,
): number {
  const days = input.tradingDaysPerYear ?? 365;
  if (input.barsPerYear !== undefined && input.barsPerYear > 0) return input.barsPerYear;
  if (input.timeframe) return barsPerYearOf(input.timeframe, days);
  const t = input.equity.time;
  if (t.length < 2) return days;
  const gaps = new Float64Array(t.length - 1);
  for (let i = 1; i < t.length; i++) gaps[i - 1] = t[i] - t[i - 1];
  gaps.sort();
  const median = gaps[gaps.length >> 1];
  return median > 0 ? (days * 86_400_000) / median : days;
}

/** How a run's metrics are annualised: bars per year and where that figure comes from. */
export interface Annualisation {
  readonly barsPerYear: number;
  /**
   * `periods-per-year` (given explicitly), `trading-days` (given days a year × bars a day of the timeframe),
   * `calendar-365` (the data has weekend bars: a 24/7 market) or `calendar-252` (no weekend bars: a market with
   * trading days; intraday bars count the median number of bars of a trading day).
   */
  readonly basis: 'periods-per-year' | 'trading-days' | 'calendar-365' | 'calendar-252';
}

const DAY_MS = 86_400_000;

/** True when a UTC epoch-ms time falls on a Saturday or a Sunday. */
/**
 * Whether epoch ms `ms` falls on a Saturday or Sunday UTC: `new Date(ms).getUTCDay()` by arithmetic, without a Date
 * per bar (1970-01-01 was a Thursday); a time outside Date's range is no weekend day, as there.
 */
export function isWeekend(ms: number): boolean {
  if (!(ms >= -8.64e15 && ms <= 8.64e15)) return false;
  const day = Math.floor(Math.trunc(ms) / DAY_MS);
  const dow = (((day + 4) % 7) + 7) % 7;
  return dow === 0 || dow === 6;
}

/**
 * Whether a market trades at weekends, read from its bar times: under 7 days of data cannot tell (a 24/7 market
 * is assumed); otherwise a market whose share of weekend bars is below a quarter of a 24/7 market's (2/7) is a
 * trading-day market. A forex week's Sunday-evening open (about 2 % of its bars) stays a trading-day market.
 */
export function tradesWeekends(time: ArrayLike<number>): boolean {
  const n = time.length;
  if (n < 2 || time[n - 1] - time[0] < 7 * DAY_MS) return true;
  let weekend = 0;
  for (let i = 0; i < n; i++) if (isWeekend(time[i])) weekend++;
  return weekend / n >= 2 / 7 / 4;
}

/** Median count of bars per UTC day that has bars (the first and last days, possibly partial, left out). */
function medianBarsPerDay(time: ArrayLike<number>): number {
  const counts: number[] = [];
  let day = Math.floor(time[0] / DAY_MS);
  let count = 0;
  for (let i = 0; i < time.length; i++) {
    const d = Math.floor(time[i] / DAY_MS);
    if (d !== day) {
      counts.push(count);
      day = d;
      count = 0;
    }
    count++;
  }
  const full = counts.length > 2 ? counts.slice(1) : counts.length ? counts : [count];
  full.sort((a, b) => a - b);
  return full[full.length >> 1];
}

/**
 * Annualisation of a run from the data's calendar (docs/metrics.md): an explicit `periodsPerYear` wins; then an
 * explicit `tradingDaysPerYear` × bars a day of the timeframe; otherwise 365 days for data with weekend bars and
 * 252 trading days for data without them (intraday: 252 × the median bars of a trading day).
 */
export function annualisation(
  time: ArrayLike<number>,
  timeframe: Timeframe,
  explicit: { periodsPerYear?: number; tradingDaysPerYear?: number } = {},
): Annualisation {
  if (explicit.periodsPerYear !== undefined && explicit.periodsPerYear > 0) {
    return { barsPerYear: explicit.periodsPerYear, basis: 'periods-per-year' };
  }
  if (explicit.tradingDaysPerYear !== undefined && explicit.tradingDaysPerYear > 0) {
    return { barsPerYear: barsPerYearOf(timeframe, explicit.tradingDaysPerYear), basis: 'trading-days' };
  }
  if (tradesWeekends(time)) return { barsPerYear: barsPerYearOf(timeframe, 365), basis: 'calendar-365' };
  const intraday = timeframe !== '1d' && timeframe !== '1w';
  return {
    barsPerYear: intraday ? 252 * medianBarsPerDay(time) : barsPerYearOf(timeframe, 252),
    basis: 'calendar-252',
  };
}

/** Compound annual growth between two values `spanMs` apart, in percent; null when the span is empty. */
function cagrPct(start: number, end: number, spanMs: number): number | null {
  if (!(spanMs > 0) || !(start > 0)) return null;
  if (end <= 0) return -100;
  return fin(((end / start) ** (YEAR_MS / spanMs) - 1) * 100);
}

interface Drawdown {
  pct: number;
  abs: number;
  peakIdx: number;
  troughIdx: number;
  recoveryIdx: number;
  longestMs: number;
  longestBars: number;
}

/**
 * Drawdowns of a series whose running peak starts at `start` (the initial cash, or the first close). Percent
 * drawdowns are measured from the running peak; the absolute one is the largest peak-minus-value in money.
 */
function drawdowns(values: Float64Array, time: Float64Array, start: number): Drawdown {
  const out: Drawdown = { pct: 0, abs: 0, peakIdx: -1, troughIdx: -1, recoveryIdx: -1, longestMs: 0, longestBars: 0 };
  let peak = start;
  let peakIdx = 0;
  let underSince = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= peak) {
      if (underSince >= 0) {
        closeEpisode(out, time, underSince, i);
        if (out.recoveryIdx < 0 && out.peakIdx === underSince) out.recoveryIdx = i;
        underSince = -1;
      }
      peak = v;
      peakIdx = i;
      continue;
    }
    if (underSince < 0) underSince = peakIdx;
    const dd = peak > 0 ? (peak - v) / peak : 0;
    if (dd > out.pct) {
      out.pct = dd;
      out.peakIdx = peakIdx;
      out.troughIdx = i;
      out.recoveryIdx = -1;
    }
    if (peak - v > out.abs) out.abs = peak - v;
  }
  if (underSince >= 0) closeEpisode(out, time, underSince, values.length - 1);
  return out;
}

function closeEpisode(out: Drawdown, time: Float64Array, from: number, to: number): void {
  const ms = time[to] - time[from];
  if (ms > out.longestMs) out.longestMs = ms;
  if (to - from > out.longestBars) out.longestBars = to - from;
}

/** Bars (equity points) inside at least one trade: entryTime <= t < exitTime, or t == entryTime. */
function countExposure(trades: readonly ClosedTrade[], time: Float64Array): number {
  const n = time.length;
  if (n === 0 || trades.length === 0) return 0;
  const mark = new Uint8Array(n);
  for (const tr of trades) {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (time[mid] < tr.entryTime) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < n && (time[i] < tr.exitTime || time[i] === tr.entryTime); i++) mark[i] = 1;
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += mark[i];
  return count;
}

function groupStats(trades: readonly ClosedTrade[]): GroupStats {
  let wins = 0;
  let pnl = 0;
  let pct = 0;
  let fees = 0;
  for (const t of trades) {
    if (t.pnl > 0) wins++;
    pnl += t.pnl;
    pct += t.pnlPct;
    fees += t.fees;
  }
  const n = trades.length;
  return {
    trades: n,
    winRatePct: n ? (wins / n) * 100 : null,
    totalPnl: pnl,
    avgPnlPct: n ? fin((pct / n) * 100) : null,
    fees,
  };
}

function groupBy(trades: readonly ClosedTrade[], key: (t: ClosedTrade) => string): Map<string, ClosedTrade[]> {
  const map = new Map<string, ClosedTrade[]>();
  for (const t of trades) {
    const k = key(t);
    const list = map.get(k);
    if (list) list.push(t);
    else map.set(k, [t]);
  }
  return new Map([...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Computes every BT-4 metric from a run's trades and equity curve. Pure; conventions in docs/metrics.md. */
export function computeMetrics(input: MetricsInput): Metrics {
  const { equity, initialCash } = input;
  const n = equity.value.length;
  const bpy = resolveBarsPerYear(input);
  const rf = input.riskFreeRate ?? 0;
  const finalEquity = n ? equity.value[n - 1] : initialCash;
  const spanMs = n >= 2 ? equity.time[n - 1] - equity.time[0] : 0;

  // Per-bar simple returns between consecutive equity points (n - 1 of them).
  const rfBar = (1 + rf) ** (1 / bpy) - 1;
  let sum = 0;
  let count = 0;
  for (let i = 1; i < n; i++) {
    const prev = equity.value[i - 1];
    if (prev === 0) continue;
    sum += equity.value[i] / prev - 1;
    count++;
  }
  const mean = count ? sum / count : 0;
  let sq = 0;
  let down = 0;
  for (let i = 1; i < n; i++) {
    const prev = equity.value[i - 1];
    if (prev === 0) continue;
    const r = equity.value[i] / prev - 1;
    sq += (r - mean) ** 2;
    const d = Math.min(0, r - rfBar);
    down += d * d;
  }
  const std = count >= 2 ? Math.sqrt(sq / (count - 1)) : 0;
  const downDev = count >= 1 ? Math.sqrt(down / count) : 0;
  // A flat (or nearly flat: rounding noise) curve has no defined risk-adjusted return.
  const eps = 1e-15;
  const sharpe = std > eps ? fin(((mean - rfBar) / std) * Math.sqrt(bpy)) : null;
  const sortino = downDev > eps ? fin(((mean - rfBar) / downDev) * Math.sqrt(bpy)) : null;

  const dd = drawdowns(equity.value, equity.time, initialCash);
  const cagr = cagrPct(initialCash, finalEquity, spanMs);
  const calmar = cagr !== null && dd.pct > 0 ? fin(cagr / 100 / dd.pct) : null;

  // Trade statistics, in closing order (exit time, then entry time) for the streaks.
  const trades = [...input.trades].sort((a, b) => a.exitTime - b.exitTime || a.entryTime - b.entryTime);
  let longs = 0;
  let wins = 0;
  let losses = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let winPctSum = 0;
  let lossPctSum = 0;
  let pnlSum = 0;
  let pctSum = 0;
  let fees = 0;
  let best = Number.NEGATIVE_INFINITY;
  let worst = Number.POSITIVE_INFINITY;
  let bestPct = Number.NEGATIVE_INFINITY;
  let worstPct = Number.POSITIVE_INFINITY;
  let streakW = 0;
  let streakL = 0;
  let maxW = 0;
  let maxL = 0;
  const durations = new Float64Array(trades.length);
  trades.forEach((t, i) => {
    if (t.side === 'long') longs++;
    pnlSum += t.pnl;
    pctSum += t.pnlPct;
    fees += t.fees;
    if (t.pnl > best) best = t.pnl;
    if (t.pnl < worst) worst = t.pnl;
    if (t.pnlPct > bestPct) bestPct = t.pnlPct;
    if (t.pnlPct < worstPct) worstPct = t.pnlPct;
    durations[i] = t.exitTime - t.entryTime;
    if (t.pnl > 0) {
      wins++;
      grossProfit += t.pnl;
      winPctSum += t.pnlPct;
      streakW++;
      streakL = 0;
    } else if (t.pnl < 0) {
      losses++;
      grossLoss += t.pnl;
      lossPctSum += t.pnlPct;
      streakL++;
      streakW = 0;
    } else {
      streakW = 0;
      streakL = 0;
    }
    if (streakW > maxW) maxW = streakW;
    if (streakL > maxL) maxL = streakL;
  });
  const nt = trades.length;
  durations.sort();
  let durSum = 0;
  for (let i = 0; i < nt; i++) durSum += durations[i];
  const median = nt === 0 ? null : nt % 2 ? durations[nt >> 1] : (durations[nt / 2 - 1] + durations[nt / 2]) / 2;

  const exposureBars = input.exposureBars ?? countExposure(trades, equity.time);

  let benchmarkReturnPct: number | null = null;
  let benchmarkCagrPct: number | null = null;
  let benchmarkMaxDrawdownPct: number | null = null;
  const bench = input.benchmark?.close;
  if (bench && bench.length > 0 && bench[0] > 0) {
    const last = bench[bench.length - 1];
    benchmarkReturnPct = fin((last / bench[0] - 1) * 100);
    const bSpan = bench.length === n ? spanMs : 0;
    benchmarkCagrPct = bSpan > 0 ? cagrPct(bench[0], last, bSpan) : null;
    const bTime = bench.length === n ? equity.time : new Float64Array(bench.length);
    benchmarkMaxDrawdownPct = drawdowns(bench, bTime, bench[0]).pct * 100;
  }

  return {
    initialCash,
    finalEquity,
    totalReturn: finalEquity - initialCash,
    totalReturnPct: initialCash > 0 ? fin((finalEquity / initialCash - 1) * 100) : null,
    cagrPct: cagr,
    sharpe,
    sortino,
    calmar,
    annualVolatilityPct: count >= 2 ? fin(std * Math.sqrt(bpy) * 100) : null,
    maxDrawdownPct: dd.pct * 100,
    maxDrawdownAbs: dd.abs,
    maxDrawdownPeakTime: dd.peakIdx >= 0 ? equity.time[dd.peakIdx] : null,
    maxDrawdownTroughTime: dd.troughIdx >= 0 ? equity.time[dd.troughIdx] : null,
    maxDrawdownRecoveryTime: dd.recoveryIdx >= 0 ? equity.time[dd.recoveryIdx] : null,
    maxDrawdownDurationMs: dd.longestMs,
    maxDrawdownDurationBars: dd.longestBars,
    bars: n,
    startTime: n ? equity.time[0] : null,
    endTime: n ? equity.time[n - 1] : null,
    barsPerYear: bpy,
    annualisationBasis: input.annualisationBasis ?? null,
    riskFreeRate: rf,
    trades: nt,
    longTrades: longs,
    shortTrades: nt - longs,
    wins,
    losses,
    winRatePct: nt ? (wins / nt) * 100 : null,
    netPnl: pnlSum,
    grossPnl: pnlSum + fees,
    grossProfit,
    grossLoss,
    profitFactor: grossLoss < 0 ? fin(grossProfit / -grossLoss) : null,
    expectancy: nt ? fin(pnlSum / nt) : null,
    expectancyPct: nt ? fin((pctSum / nt) * 100) : null,
    avgWin: wins ? grossProfit / wins : null,
    avgLoss: losses ? grossLoss / losses : null,
    avgWinPct: wins ? fin((winPctSum / wins) * 100) : null,
    avgLossPct: losses ? fin((lossPctSum / losses) * 100) : null,
    bestTradePnl: nt ? fin(best) : null,
    bestTradePct: nt ? fin(bestPct * 100) : null,
    worstTradePnl: nt ? fin(worst) : null,
    worstTradePct: nt ? fin(worstPct * 100) : null,
    maxConsecutiveWins: maxW,
    maxConsecutiveLosses: maxL,
    avgTradeDurationMs: nt ? durSum / nt : null,
    medianTradeDurationMs: median,
    exposureBars,
    exposurePct: n ? (exposureBars / n) * 100 : null,
    totalFees: fees,
    benchmarkReturnPct,
    benchmarkCagrPct,
    benchmarkMaxDrawdownPct,
    bySymbol: [...groupBy(trades, (t) => t.symbol)].map(([symbol, list]) => ({ symbol, ...groupStats(list) })),
    byExitReason: [...groupBy(trades, (t) => t.exitReason)].map(([exitReason, list]) => ({
      exitReason,
      ...groupStats(list),
    })),
  };
}
