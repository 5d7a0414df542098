import type { BarColumns } from '../core/bar.js';
import { ValidationError } from '../core/errors.js';
import type { ClosedTrade, EventBus } from '../core/events.js';
import type { FillRecord } from '../core/fill.js';
import { defineInstrument, type Instrument } from '../core/instrument.js';
import type { RiskConfig } from '../core/config.js';
import { DEFAULT_STAKE, specFees } from '../core/run-spec.js';
import type { RiskHook } from '../core/risk-port.js';
import type { Timeframe } from '../core/timeframe.js';
import { SimulatedClock } from '../engine/clock.js';
import type { Engine, EngineLog, ExitTiming, RiskEvent, StakeSpec, StrategyFailure } from '../engine/engine.js';
import { buildKernel } from '../engine/kernel.js';
import { SymbolFeed } from '../engine/market-data.js';
import type { Portfolio } from '../engine/portfolio.js';
import { Atr } from '../indicators/index.js';
import type { ExitConfig } from '../risk/exits.js';
import { resolveParams } from '../strategy/params.js';
import { getStrategy } from '../strategy/registry.js';
import type { ParamValue, ParamValues, Strategy, StrategyDefinition, StrategyStatistics } from '../strategy/types.js';
import { PercentFeeModel } from './fee-model.js';
import { VolumeParticipation } from './fill-model.js';
import { tradeFingerprint } from './fingerprint.js';
import { exactLedgerOfFills, type LedgerDivergence, ledgerDivergence } from './ledger-divergence.js';
import { annualisation, computeMetrics, type EquityCurve, type Metrics } from './metrics.js';
import { buildRiskHook } from './risk-wiring.js';
import { type LatencySpec, SimulatedVenue } from './simulated-venue.js';
import { type SlippageSpec, slippageFromSpec } from './slippage-model.js';
import type { FillLog } from '../engine/fill-log.js';

/** The engine's log callback, as a backtest's caller passes it (`BacktestOptions.log`). */
export type { EngineLog } from '../engine/engine.js';

/** One symbol's bars for a run. */
export interface BacktestData {
  symbol: string;
  columns: BarColumns;
  timeframe: Timeframe;
  /** Precision and multiplier; default: a spot instrument with the run's lot size. */
  instrument?: Instrument;
}

/** Everything a backtest needs. Pure input: no files, no environment. */
export interface BacktestOptions {
  /** One symbol or several (merged by time; all at the same base timeframe). */
  data: BacktestData | readonly BacktestData[];
  /** A registered name, a definition, or a ready strategy object (then `params` are not validated). */
  strategy: string | StrategyDefinition | Strategy;
  params?: Readonly<Record<string, ParamValue>>;
  /** Starting cash (default 100000). */
  cash?: number;
  /** Fee rate for maker and taker (default 0.001 = 0.1%). */
  fee?: number;
  /** Separate maker/taker rates; win over `fee`. */
  fees?: { maker: number; taker: number };
  /** Default: 95% of available cash. */
  stake?: StakeSpec;
  /** Lot size of the default instrument (default 1e-8). */
  lot?: number;
  allowShort?: boolean;
  /** Margin account (shorting and borrowing); `allowShort` alone implies a margin account at leverage 1. */
  margin?: boolean;
  leverage?: number;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
  exits?: ExitConfig;
  /** Most trades open at once across the symbols (Freqtrade's `max_open_trades`); no limit when absent. */
  maxOpenTrades?: number;
  /** A ready risk hook (one per run: a risk engine keeps state). Wins over `riskConfig`/`riskDefaults`. */
  risk?: RiskHook;
  /** The config file's `risk` section: only the rules it names apply (unless `riskDefaults`). */
  riskConfig?: RiskConfig;
  /** Merge `riskConfig` over the live risk defaults (`--risk-defaults`). */
  riskDefaults?: boolean;
  slippage?: SlippageSpec;
  /** Largest share of a bar's volume one symbol's orders may take (partial fills); off when absent. */
  participation?: number;
  latency?: LatencySpec;
  marketFill?: 'next_open' | 'close';
  /**
   * When exit rules execute: `intrabar` (default, Freqtrade's rules) or `live`, the live runtime's timing (the
   * venue-kept stop-loss within the bar, other exit rules at the next open): replaying a live period (docs/live.md).
   */
  exitTiming?: ExitTiming;
  /**
   * The asset a spot buy pays its fee in: `quote` (default) or `base`, as Binance spot charges it; the position is
   * then what the account was credited, in whole lots, as the live bridge books it (docs/live.md).
   */
  feeAsset?: 'quote' | 'base';
  /** Days per year for annualising metrics; default: from the data's calendar (252 without weekend bars, else 365). */
  tradingDaysPerYear?: number;
  /** Bars per year for annualising metrics (`--periods-per-year`); wins over `tradingDaysPerYear`. */
  periodsPerYear?: number;
  strategyId?: string;
  bus?: EventBus;
  log?: EngineLog;
  /** Milliseconds spent loading the data (reported in timing; the runner does not load). */
  loadMs?: number;
}

/** Run timing: `barsPerSecond` = bars / engine run time (loading excluded). */
export type BacktestTiming = {
  loadMs: number;
  runMs: number;
  metricsMs: number;
  bars: number;
  barsPerSecond: number;
};

/** What a backtest produces; satisfies the reports' ReportInput. */
export interface BacktestResult {
  strategy: string;
  params: ParamValues;
  symbols: string[];
  timeframe: Timeframe;
  trades: ClosedTrade[];
  equity: EquityCurve;
  metrics: Metrics;
  fingerprint: string;
  timing: BacktestTiming;
  riskEvents: RiskEvent[];
  strategyErrors: StrategyFailure[];
  orders: number;
  fills: number;
  /** Every fill in execution order: time, side, price, quantity, fee, order type and tag. */
  fillRecords: FillRecord[];
  /** What the strategy published through `statistics()`; null when it publishes nothing. */
  strategyStats: StrategyStatistics | null;
  fees: number;
  finalEquity: number;
  /**
   * Where the run's double ledger parts from the exact ledger kept beside it, by half a cent or more (docs/money.md);
   * absent when they agree, which the property test in src/engine/exact-ledger.test.ts says is every run it draws.
   */
  ledgerDivergence?: LedgerDivergence;
  /** The settings of the run, echoed into reports. */
  config: Record<string, unknown>;
}

// Checked when first read (an exact ledger replayed from the fill log, off the hot loop), so a run nobody reads it
// of (an optimiser trial) pays nothing; undefined when the ledgers agree, so the JSON of an agreeing run is unchanged.
function lazyLedgerDivergence(pf: Portfolio, fills: FillLog | null): () => LedgerDivergence | undefined {
  let done = false;
  let d: LedgerDivergence | undefined;
  return () => {
    if (!done) {
      d = ledgerDivergence(pf, fills === null ? pf.exact : exactLedgerOfFills(pf, fills)) ?? undefined;
      done = true;
    }
    return d;
  };
}

function isStrategyObject(x: BacktestOptions['strategy']): x is Strategy {
  return typeof x === 'object' && !('create' in x && 'params' in x && 'name' in x);
}

function lowerBound(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows with from <= time <= to as views over the same memory (no copy). */
export function windowColumns(c: BarColumns, from?: number, to?: number): BarColumns {
  if (from === undefined && to === undefined) return c;
  const a = from === undefined ? 0 : lowerBound(c.time, from);
  const b = to === undefined ? c.length : lowerBound(c.time, to + 1);
  const sub = (x: Float64Array): Float64Array => x.subarray(a, Math.max(a, b));
  const out: BarColumns = {
    length: Math.max(0, b - a),
    time: sub(c.time),
    open: sub(c.open),
    high: sub(c.high),
    low: sub(c.low),
    close: sub(c.close),
    volume: sub(c.volume),
    ...(c.extra ? { extra: Object.fromEntries(Object.entries(c.extra).map(([k, v]) => [k, sub(v)])) } : {}),
    ...(c.extraText
      ? { extraText: Object.fromEntries(Object.entries(c.extraText).map(([k, v]) => [k, v.slice(a, b)])) }
      : {}),
  };
  return out;
}

/** Checks that every data set carries the columns the strategy declares (ValidationError naming the column). */
export function checkRequirements(def: StrategyDefinition, data: readonly BacktestData[]): void {
  for (const col of def.requires?.columns ?? []) {
    for (const d of data) {
      if (d.columns.extra?.[col] === undefined) {
        throw new ValidationError(
          `strategy ${def.name} needs data column "${col}", which the data of ${d.symbol} does not have`,
          col,
        );
      }
    }
  }
}

/**
 * Runs one backtest: builds the kernel (SimulatedClock, SimulatedVenue, Engine with the risk hook), replays
 * the bars in time order (several symbols merged by time, ties in symbol order), closes what is open at the
 * end (`end_of_data`), then computes metrics and the trade fingerprint. Pure: same input, same result.
 */
export function runBacktest(options: BacktestOptions): BacktestResult {
  const rawData = Array.isArray(options.data) ? options.data : [options.data as BacktestData];
  if (rawData.length === 0) throw new ValidationError('backtest needs at least one data set', 'data');
  const timeframe = rawData[0].timeframe;
  for (const d of rawData) {
    if (d.timeframe !== timeframe) {
      throw new ValidationError(
        `all symbols of a run need the same base timeframe (${rawData[0].symbol} is ${timeframe}, ${d.symbol} is ${d.timeframe})`,
        'timeframe',
      );
    }
  }
  const data = rawData.map((d) => ({ ...d, columns: windowColumns(d.columns, options.from, options.to) }));
  const totalBars = data.reduce((n, d) => n + d.columns.length, 0);
  if (totalBars === 0) throw new ValidationError('no bars in the selected range', 'from');

  let strategy: Strategy;
  let params: ParamValues = {};
  let strategyName: string;
  if (typeof options.strategy === 'string' || !isStrategyObject(options.strategy)) {
    const def = typeof options.strategy === 'string' ? getStrategy(options.strategy) : options.strategy;
    params = resolveParams(def, options.params ?? {});
    checkRequirements(def, data);
    strategy = def.create(params);
    strategyName = def.name;
  } else {
    strategy = options.strategy;
    strategyName = options.strategyId ?? 'custom';
  }

  const cash = options.cash ?? 100_000;
  const fees = specFees(options);
  const allowShort = options.allowShort ?? false;
  const margin = options.margin ?? allowShort;
  const leverage = options.leverage ?? 1;
  if (!(cash > 0)) throw new ValidationError(`cash must be positive, got ${cash}`, 'cash');
  if (!(leverage >= 1)) throw new ValidationError(`leverage must be at least 1, got ${leverage}`, 'leverage');
  if (leverage > 1 && !margin) throw new ValidationError('leverage needs a margin account (--margin)', 'leverage');
  const lot = options.lot ?? 1e-8;
  const instruments = data.map((d) => d.instrument ?? defineInstrument({ symbol: d.symbol, lotSize: lot }));
  const clock = new SimulatedClock(data[0].columns.length > 0 ? data[0].columns.time[0] : 0);
  const venue = new SimulatedVenue({
    clock,
    fees: new PercentFeeModel(fees.maker, fees.taker),
    slippage: slippageFromSpec(options.slippage),
    ...(options.participation !== undefined ? { participation: new VolumeParticipation(options.participation) } : {}),
    ...(options.latency ? { latency: options.latency } : {}),
    ...(options.marketFill ? { marketFill: options.marketFill } : {}),
    ...(options.feeAsset === 'base' ? { feeInBase: true } : {}),
    instruments,
  });
  const feeds = data.map((d) => new SymbolFeed(d.symbol, d.columns, timeframe));
  const risk = options.risk ?? buildRiskHook(options.riskConfig, options.riskDefaults ?? false, options.bus);
  const engine = buildKernel(
    {
      ...(options.stake ? { stake: options.stake } : {}),
      fees,
      allowShort,
      ...(options.exits ? { exits: options.exits } : {}),
      ...(options.maxOpenTrades !== undefined ? { maxOpenTrades: options.maxOpenTrades } : {}),
    },
    {
      mode: 'backtest',
      strategy,
      strategyId: options.strategyId ?? strategyName,
      params,
      feeds,
      timeframe,
      instruments,
      venue,
      clock,
      ...(options.bus ? { bus: options.bus } : {}),
      risk,
      cash,
      margin,
      leverage,
      equityCapacity: totalBars,
      // One equity point per bar: a single symbol's curve shares the bars' time column (nothing to write).
      ...(feeds.length === 1 ? { equityTimes: data[0].columns.time } : {}),
      atrFactory: () => new Atr(14),
      recordFills: true,
      ...(options.log ? { log: options.log } : {}),
      ...(options.exitTiming ? { exitTiming: options.exitTiming } : {}),
    },
  );

  const t0 = performance.now();
  engine.start();
  const exposureBars = feeds.length === 1 ? engine.runSingleFeed() : runMerged(engine, feeds);
  engine.finish('end_of_data');
  // The end-of-data closes happen at the last close: refresh the last equity point to the settled cash.
  if (engine.equityLength > 0) engine.equityValue[engine.equityLength - 1] = engine.portfolio.equity();
  const runMs = performance.now() - t0;
  const strategyStats = collectStatistics(strategy, engine.strategyFailures, engine.clock.now());

  const trades = engine.portfolio.trades;
  const fillLog = engine.fillLog;
  const divergence = lazyLedgerDivergence(engine.portfolio, fillLog);
  const equity: EquityCurve = {
    time: engine.equityTime.subarray(0, engine.equityLength),
    value: engine.equityValue.subarray(0, engine.equityLength),
  };
  const t1 = performance.now();
  const annual = annualisation(equity.time, timeframe, {
    ...(options.periodsPerYear !== undefined ? { periodsPerYear: options.periodsPerYear } : {}),
    ...(options.tradingDaysPerYear !== undefined ? { tradingDaysPerYear: options.tradingDaysPerYear } : {}),
  });
  const metrics = computeMetrics({
    trades,
    equity,
    initialCash: cash,
    timeframe,
    barsPerYear: annual.barsPerYear,
    annualisationBasis: annual.basis,
    ...(feeds.length === 1 ? { benchmark: { close: data[0].columns.close } } : {}),
    exposureBars,
  });
  const fingerprint = tradeFingerprint(trades);
  const metricsMs = performance.now() - t1;

  return {
    strategy: strategyName,
    params,
    symbols: data.map((d) => d.symbol),
    timeframe,
    trades,
    equity,
    metrics,
    fingerprint,
    timing: {
      loadMs: options.loadMs ?? 0,
      runMs,
      metricsMs,
      bars: totalBars,
      barsPerSecond: runMs > 0 ? totalBars / (runMs / 1000) : 0,
    },
    riskEvents: mergeRiskEvents(engine.riskEvents, risk),
    strategyErrors: engine.strategyFailures,
    orders: engine.exec.ordersCreated,
    fills: engine.fills,
    // Built from the engine's columnar fill log when first read: a run whose fills nobody lists builds none.
    get fillRecords(): FillRecord[] {
      return fillLog === null ? [] : fillLog.records();
    },
    strategyStats,
    fees: engine.portfolio.feesPaid,
    finalEquity: engine.portfolio.equity(),
    get ledgerDivergence(): LedgerDivergence | undefined {
      return divergence();
    },
    config: {
      strategy: strategyName,
      params,
      symbols: data.map((d) => d.symbol),
      timeframe,
      cash,
      fees,
      stake: options.stake ?? DEFAULT_STAKE,
      lot,
      allowShort,
      margin,
      leverage,
      ...(options.from !== undefined ? { from: options.from } : {}),
      ...(options.to !== undefined ? { to: options.to } : {}),
      ...(options.exits ? { exits: options.exits } : {}),
      ...(options.maxOpenTrades !== undefined ? { maxOpenTrades: options.maxOpenTrades } : {}),
      ...(options.slippage ? { slippage: options.slippage } : {}),
      ...(options.participation !== undefined ? { participation: options.participation } : {}),
      ...(options.latency ? { latency: options.latency } : {}),
      ...(options.exitTiming ? { exitTiming: options.exitTiming } : {}),
      ...(options.feeAsset ? { feeAsset: options.feeAsset } : {}),
      ...(options.riskConfig ? { risk: options.riskConfig } : {}),
      ...(options.riskDefaults ? { riskDefaults: true } : {}),
      ...(options.tradingDaysPerYear !== undefined ? { tradingDaysPerYear: options.tradingDaysPerYear } : {}),
      ...(options.periodsPerYear !== undefined ? { periodsPerYear: options.periodsPerYear } : {}),
    },
  };
}

// A strategy's statistics hook runs once after the run; if it throws, the run keeps its result and the error is
// listed with the strategy's other failures.
function collectStatistics(strategy: Strategy, failures: StrategyFailure[], time: number): StrategyStatistics | null {
  if (typeof strategy.statistics !== 'function') return null;
  try {
    return strategy.statistics() ?? null;
  } catch (err) {
    failures.push({ time, hook: 'statistics', message: err instanceof Error ? err.message : String(err) });
    return null;
  }
}

// Rejections are recorded by the engine; a risk engine that keeps its own log (breaker trips, kill switch)
// adds its non-rejection entries, in time order.
function mergeRiskEvents(own: RiskEvent[], risk: RiskHook | undefined): RiskEvent[] {
  const log = (risk as { riskEvents?: () => readonly { time: number; kind?: string; code: string; detail: string }[] })
    ?.riskEvents;
  if (typeof log !== 'function') return own;
  const extra = log
    .call(risk)
    .filter((e) => e.kind !== 'rejected')
    .map((e) => ({ time: e.time, code: e.code, detail: e.detail }));
  if (extra.length === 0) return own;
  return [...own, ...extra].sort((a, b) => a.time - b.time);
}

// Several symbols: a k-way merge by time over the feeds' cursors (no allocation per bar).
function runMerged(engine: Engine, feeds: readonly SymbolFeed[]): number {
  const k = feeds.length;
  const next = new Int32Array(k);
  const pf = engine.portfolio;
  let exposure = 0;
  for (;;) {
    let t = Number.POSITIVE_INFINITY;
    for (let s = 0; s < k; s++) {
      const c = feeds[s].columns;
      if (next[s] < c.length && c.time[next[s]] < t) t = c.time[next[s]];
    }
    if (t === Number.POSITIVE_INFINITY) break;
    for (let s = 0; s < k; s++) {
      const c = feeds[s].columns;
      if (next[s] < c.length && c.time[next[s]] === t) engine.onBar(s, next[s]++);
    }
    engine.recordEquity(t);
    if (pf.openPositions > 0) exposure++;
  }
  return exposure;
}
