import type { Tick } from '../core/bar.js';
import { RiskLimitError } from '../core/errors.js';
import type { ClosedTrade, EventBus, EventMap, EventName, RiskCheckInputs } from '../core/events.js';
import { type ExactExecution, type Fill, fillDecimals, type Liquidity } from '../core/fill.js';
import { decimalsOf, type Instrument, roundToStep, stepUnits } from '../core/instrument.js';
import type { Order, OrderIntent, OrderSide } from '../core/order.js';
import { DEFAULT_STAKE, type StakeSpec } from '../core/run-spec.js';
import { type EngineMode, PASS_THROUGH_RISK, type RiskActions, type RiskHook } from '../core/risk-port.js';
import type { Timeframe } from '../core/timeframe.js';
import {
  compileExits,
  ExitDecision,
  type ExitRules,
  ExitState,
  evaluateExits,
  exitSignalAllowed,
} from '../risk/exits.js';
import type { ParamValues, Strategy, StrategyReconcileResult } from '../strategy/types.js';
import { type Clock, SimulatedClock } from './clock.js';
import { EngineContext, stakeRefusalDetail } from './context.js';
import { InProcessEventBus } from './event-bus.js';
import { ExecutionEngine, type ExecutionSink } from './execution-engine.js';
import { type ExecutionVenue, PROTECTIVE_STOP_TAG } from './execution-venue.js';
import { FillLog } from './fill-log.js';
import type { SymbolFeed } from './market-data.js';
import { Portfolio } from './portfolio.js';
import { type AtrLike, EngineRiskView } from './risk-view.js';

// tsx compiles each use of an imported function to a getter call: the per-order sizing calls these copies.
const lotDecimals = decimalsOf;
const lotUnits = stepUnits;
const roundLot = roundToStep;

/** How entries are sized when a strategy does not give a quantity; defined with the run spec in core. */
export type { StakeSpec } from '../core/run-spec.js';

/** A rejection or breaker decision recorded for the run's report. */
export interface RiskEvent {
  time: number;
  code: string;
  detail: string;
  /** The risk engine runs in dry-run mode (RISK-9): the rejection was reported and the order still placed. */
  dryRun?: boolean;
}

/** What a kill switch did: orders cancelled, closing orders sent, ms from trigger to the last dispatched order. */
export interface KillSwitchReport {
  cancelled: number;
  closing: number;
  elapsedMs: number;
}

/** A strategy failure the engine caught. */
export interface StrategyFailure {
  time: number;
  hook: string;
  message: string;
}

/** Log sink of the engine and of `ctx.log`. */
export type EngineLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, time: number) => void;

/** Everything an Engine needs; the same shape for backtest, paper and live. */
export interface EngineOptions {
  mode: EngineMode;
  strategy: Strategy;
  strategyId?: string;
  params?: ParamValues;
  /** One feed per symbol, all at the base `timeframe`; their order is the symbol index order. */
  feeds: readonly SymbolFeed[];
  timeframe: Timeframe;
  /** Instrument per feed (lot size for stake rounding, multiplier for P&L). */
  instruments: readonly Instrument[];
  venue: ExecutionVenue;
  clock: Clock;
  bus?: EventBus;
  risk?: RiskHook;
  cash: number;
  margin?: boolean;
  leverage?: number;
  /** Default: 95% of available cash. */
  stake?: StakeSpec;
  /** Fee rate used to estimate the cash a pending close frees for a same-bar re-entry, and by break-even. */
  feeRate?: number;
  allowShort?: boolean;
  exits?: ExitRules;
  /** One open position per symbol: `buy()`/`short()` while in a position do nothing (default true). */
  oneOpenPositionPerSymbol?: boolean;
  /** Most trades open at once across the symbols (Freqtrade's `max_open_trades`); entries beyond do nothing. */
  maxOpenTrades?: number;
  /** Rows to preallocate for the equity curve (the backtest passes the exact count). */
  equityCapacity?: number;
  /**
   * The equity curve's times when they are known up front (a single-symbol backtest: the bars' times, one point
   * per bar). The engine then writes only equity values; `recordEquity` must be called with these times in order.
   */
  equityTimes?: Float64Array;
  /** Builds the ATR(14) the risk view keeps for symbols a risk rule asks about. */
  atrFactory?: () => AtrLike;
  log?: EngineLog;
  /**
   * Prefix of the correlation id each intent without one gets (`<prefix><n>`), so its risk decision, order, venue
   * messages and fills share one id. The live runtime passes one unique per deployment and run; unset, an order's
   * id serves as its correlation id (a backtest pays nothing).
   */
  correlationPrefix?: string;
  /** Keep every fill in `fillLog` (a backtest result lists them); off by default. */
  recordFills?: boolean;
  /**
   * When exits execute (a simulation setting; live is what the runtime does by nature):
   * `intrabar` (default, Freqtrade's backtesting): every exit rule fills at its price within the bar;
   * `live`: as a live deployment trades — the fixed stop-loss, which the runtime keeps on the venue as a protective
   * stop, fills within the bar at its price (or the open on a gap); every other exit rule (ROI, trailing stop,
   * break-even, take-profit) is decided on the closed bar and fills at the next bar's open, like the exit signal.
   */
  exitTiming?: ExitTiming;
  /**
   * A backtest's exact ledger kept beside its doubles, fill by fill: `shadow`, or `off` (default: the runner checks
   * a result against an exact ledger replayed from its fill log when the result is read, off the hot loop).
   */
  exactLedger?: 'shadow' | 'off';
}

/** When exit rules execute in a simulation (see `EngineOptions.exitTiming`). */
export type ExitTiming = 'intrabar' | 'live';

const QTY_EPS = 1e-9;

/**
 * The kernel: one Engine for backtest, paper and live. It routes market data to the strategy, sends every
 * order intent through the risk hook and the execution engine to the venue port, books fills in the portfolio,
 * evaluates exits, records equity, and keeps going when a strategy throws (that strategy is stopped).
 * In a backtest the runner calls `onBar` for each bar in time order and the simulated venue answers
 * synchronously; live adapters call the same methods as their events arrive.
 */
export class Engine implements ExecutionSink, RiskActions {
  readonly mode: EngineMode;
  readonly strategyId: string;
  readonly portfolio: Portfolio;
  readonly exec: ExecutionEngine;
  readonly riskView: EngineRiskView;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly feeds: readonly SymbolFeed[];
  readonly instruments: readonly Instrument[];
  readonly ctx: EngineContext;
  // Rejections in time order; stake refusals recorded quietly wait in `refusals` until `riskEvents` is read.
  private readonly events: RiskEvent[] = [];
  private readonly refusals = new StakeRefusals();
  readonly strategyFailures: StrategyFailure[] = [];
  /** Equity curve: the first `equityLength` rows are valid. */
  equityTime: Float64Array;
  equityValue: Float64Array;
  equityLength = 0;
  /** Non-null while halted (kill switch or a caller's halt): only exposure-reducing orders pass. */
  haltCode: string | null = null;
  /** True once the strategy threw (or was stopped); its hooks are no longer called. */
  strategyStopped = false;
  fills = 0;
  /** Every fill in order, when `recordFills` is set; null otherwise. */
  readonly fillLog: FillLog | null;

  readonly stake: StakeSpec;
  readonly allowShort: boolean;
  readonly oneOpenPositionPerSymbol: boolean;
  /** Infinity when the run sets no limit. */
  readonly maxOpenTrades: number;
  readonly feeRate: number;
  readonly exits: ExitRules;
  /** 10^decimals of each symbol's lot size (0 when the lot needs more than 15 decimals). */
  private readonly lotScale: Float64Array;
  private readonly strategy: Strategy;
  private readonly risk: RiskHook;
  private readonly riskIsPassThrough: boolean;
  /** The hook's `wantsEquityUpdates`, read once (a per-bar read of an interface property is not free). */
  private readonly riskWantsEquity: boolean;
  private readonly exitStates: ExitState[];
  private readonly decision = new ExitDecision();
  private readonly liveExitTiming: boolean;
  private readonly symbolIndex = new Map<string, number>();
  private readonly firstSymbol: string | undefined;
  private readonly log: EngineLog;
  private readonly hasOnBar: boolean;
  private readonly hasOnFill: boolean;
  private readonly hasOnOrderUpdate: boolean;
  private readonly simClock: SimulatedClock | null;
  /** The venue when it matches orders against bars (simulated venues), else null. */
  private readonly barVenue: ExecutionVenue | null;
  private fillSeq = 0;
  private started = false;
  private riskAttached = false;
  /** True inside `flatten`: closes count only open closing market orders as pending. */
  private flattening = false;
  /** The hook keeps stale-order timers: resting limit orders are tracked and untracked. */
  private readonly tracksOrders: boolean;
  /** Set while a kill switch or an emergency flatten runs: what it did and when it last dispatched an order. */
  private flattenRun: {
    cancelled: number;
    closing: number;
    lastDispatch: number;
    cancelledAll: boolean;
    flattened: boolean;
  } | null = null;
  /** Backtests decide once, at start, whether anyone listens to per-bar equity events. */
  private equitySubscribed = false;
  /** False while `equityTime` is the caller's array of known times (never written). */
  private ownEquityTime: boolean;
  /** Backtests: per symbol, the rows on which the strategy's `onBar` may act (`Strategy.precompute`), else null. */
  private wakeRows: readonly (Int32Array | null)[] | null = null;
  // Assigned last in the constructor: the hot fields above keep their in-object slots.
  private readonly correlationPrefix: string | null;
  private signalSeq: number;

  constructor(opts: EngineOptions) {
    this.mode = opts.mode;
    this.strategy = opts.strategy;
    this.strategyId = opts.strategyId ?? 'strategy';
    this.feeds = opts.feeds;
    this.instruments = opts.instruments;
    this.clock = opts.clock;
    this.simClock = opts.clock instanceof SimulatedClock ? opts.clock : null;
    this.barVenue = typeof opts.venue.onMarketBar === 'function' ? opts.venue : null;
    this.bus = opts.bus ?? new InProcessEventBus();
    this.risk = opts.risk ?? PASS_THROUGH_RISK;
    this.riskIsPassThrough = this.risk === PASS_THROUGH_RISK;
    this.riskWantsEquity = this.risk.wantsEquityUpdates;
    this.tracksOrders =
      !this.riskIsPassThrough &&
      typeof this.risk.trackOrder === 'function' &&
      typeof this.risk.untrackOrder === 'function';
    this.stake = opts.stake ?? DEFAULT_STAKE;
    this.allowShort = opts.allowShort ?? false;
    this.oneOpenPositionPerSymbol = opts.oneOpenPositionPerSymbol ?? true;
    this.maxOpenTrades = opts.maxOpenTrades ?? Number.POSITIVE_INFINITY;
    this.feeRate = opts.feeRate ?? 0;
    this.exits = opts.exits ?? compileExits(undefined, this.feeRate, { leverage: opts.leverage ?? 1 });
    this.liveExitTiming = opts.exitTiming === 'live';
    this.log = opts.log ?? (() => {});
    const symbols = opts.feeds.map((f) => f.symbol);
    this.firstSymbol = symbols[0];
    for (let i = 0; i < symbols.length; i++) this.symbolIndex.set(symbols[i], i);
    this.portfolio = new Portfolio(symbols, {
      cash: opts.cash,
      margin: opts.margin ?? false,
      leverage: opts.leverage ?? 1,
      multipliers: opts.instruments.map((i) => i.multiplier),
      strategyId: this.strategyId,
      // Paper and live book money exactly; a backtest keeps doubles and the exact ledger as a check beside them.
      exact: this.mode === 'backtest' ? (opts.exactLedger ?? 'off') : 'authority',
    });
    this.exec = new ExecutionEngine(opts.venue, this.clock, this.bus, this);
    this.riskView = new EngineRiskView(
      this.mode,
      this.clock,
      this.portfolio,
      this.exec,
      opts.feeds,
      opts.instruments,
      this.strategyId,
      opts.atrFactory,
    );
    this.exitStates = symbols.map(() => new ExitState());
    this.lotScale = Float64Array.from(opts.instruments, (inst) => {
      const d = lotDecimals(inst.lotSize);
      return d <= 15 ? 10 ** d : 0;
    });
    const cap = Math.max(16, opts.equityCapacity ?? 1024);
    this.ownEquityTime = opts.equityTimes === undefined;
    this.equityTime = opts.equityTimes ?? new Float64Array(cap);
    this.equityValue = new Float64Array(Math.max(cap, this.equityTime.length));
    this.hasOnBar = typeof opts.strategy.onBar === 'function';
    this.hasOnFill = typeof opts.strategy.onFill === 'function';
    this.hasOnOrderUpdate = typeof opts.strategy.onOrderUpdate === 'function';
    this.ctx = new EngineContext(this, symbols, opts.timeframe, opts.params ?? {});
    this.exec.attach(symbols);
    this.correlationPrefix = opts.correlationPrefix ?? null;
    this.fillLog = opts.recordFills ? new FillLog(symbols) : null;
    this.signalSeq = 0;
  }

  /** Rejections (risk, funds) in time order. */
  get riskEvents(): RiskEvent[] {
    if (this.refusals.count > 0) this.refusals.flushInto(this.events, this.feeds);
    return this.events;
  }

  private pushRisk(event: RiskEvent): void {
    if (this.refusals.count > 0) this.refusals.flushInto(this.events, this.feeds);
    this.events.push(event);
  }

  /**
   * An entry whose stake buys no whole lot of symbol `s` at `price`: recorded as its time and price when nobody
   * listens for the refusal (a backtest), its text written when `riskEvents` is read — formatting a price and keeping
   * one object per refusal was a large part of a long losing backtest's time. False when the refusal must be
   * recorded in full now (listeners, live correlation ids): the caller then uses `reject`.
   */
  refuseStakeQuietly(s: number, price: number): boolean {
    if (
      this.correlationPrefix !== null ||
      this.bus.hasSubscribers('risk.checked.v1') ||
      this.bus.hasSubscribers('risk.rejected.v1')
    ) {
      return false;
    }
    this.refusals.add(this.clock.now(), s, price);
    return true;
  }

  /** Index of a symbol; throws for a symbol the run does not trade. */
  indexOf(symbol: string): number {
    const s = this.symbolIndex.get(symbol);
    if (s === undefined) throw new RiskLimitError('INVALID_ORDER', `symbol ${symbol} is not part of this run`);
    return s;
  }

  /** Attaches the risk hook and runs the strategy's onStart. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.equitySubscribed = this.bus.hasSubscribers('equity.updated.v1');
    this.attachRisk();
    this.emit('strategy.started.v1', this.strategyId, { strategyId: this.strategyId });
    if (this.strategy.onStart) this.guard('onStart', this.strategy.onStart, this.strategy);
    if (this.mode === 'backtest' && typeof this.strategy.precompute === 'function' && !this.strategyStopped) {
      try {
        this.wakeRows = this.strategy.precompute(this.feeds.map((f) => f.columns));
      } catch (err) {
        this.failStrategy('precompute', err);
      }
    }
  }

  /**
   * Delivers row `i` of feed `s`: the venue matches resting orders against it, exits are evaluated, the
   * position is marked at the close and the strategy sees the closed bar.
   */
  onBar(s: number, i: number): void {
    const feed = this.feeds[s];
    feed.advance(i);
    const bar = feed.bar;
    if (this.simClock !== null) this.simClock.set(bar.time);
    if (this.exec.timersActive) this.exec.checkTimers(bar.time);
    const venue = this.barVenue;
    if (venue !== null) venue.onMarketBar!(s, bar);
    const pf = this.portfolio;
    if (this.exits.active && pf.qty[s] !== 0) {
      if (evaluateExits(this.exits, this.exitStates[s], bar, 0, this.decision)) {
        this.exitPosition(s, this.decision.reason, this.decision.price);
      }
    }
    pf.last[s] = bar.close;
    if (this.hasOnBar && !this.strategyStopped) {
      const ctx = this.ctx;
      ctx.bar = bar;
      ctx.symbol = feed.symbol;
      ctx.symbolIndex = s;
      ctx.time = bar.time;
      try {
        this.strategy.onBar!(ctx);
      } catch (err) {
        this.failStrategy('onBar', err);
      }
    }
  }

  /**
   * The single-symbol backtest loop: every row of feed 0 in order, each exactly `onBar(0, i)` followed by
   * `recordEquity(time)`, with the run's fixed references (columns, bar view, venue, portfolio arrays,
   * context, strategy) held in locals so the per-bar step is a handful of loads and stores.
   * Returns the number of bars that ended with an open position.
   */
  runSingleFeed(): number {
    const feed = this.feeds[0];
    const c = feed.columns;
    const n = c.length;
    const time = c.time;
    const close = c.close;
    const bar = feed.bar;
    const sym = feed.symbol;
    const clock = this.simClock;
    const exec = this.exec;
    const venue = this.barVenue;
    const pf = this.portfolio;
    const qty = pf.qty;
    const last = pf.last;
    const mult0 = pf.mult[0];
    const exits = this.exits;
    const exitState = this.exitStates[0];
    const decision = this.decision;
    const ctx = this.ctx;
    const strategy = this.strategy;
    const hasOnBar = this.hasOnBar;
    // Nobody listens to per-bar equity (backtest, no equity rule, no subscriber): the curve write is inline.
    const plainEquity = this.mode === 'backtest' && !this.riskWantsEquity && !this.equitySubscribed;
    let eqTime = this.equityTime;
    let eqValue = this.equityValue;
    let ownTime = this.ownEquityTime;
    let exposure = 0;
    // Sparse: the strategy said on which rows its onBar may act; a run of other rows on which nothing else can
    // happen (no order rests, no exit rule watches a position, no timer runs) only extends the equity curve.
    const wake = this.wakeRows?.[0] ?? null;
    const sparse =
      plainEquity && wake !== null && venue !== null && venue.idle !== undefined && venue.skipBars !== undefined;
    const wakeCount = wake === null ? 0 : wake.length;
    let w = 0;
    for (let i = 0; i < n; i++) {
      // Whether the strategy may act on this row (sparse: a row it named; it is not called on the others).
      let acts = true;
      if (sparse) {
        while (w < wakeCount && wake![w] < i) w++;
        const next = w < wakeCount && hasOnBar && !this.strategyStopped ? wake![w] : n;
        acts = next === i;
        const k = this.equityLength;
        const end = Math.min(next, i + Math.min(eqValue.length, eqTime.length) - k);
        if (end > i && venue!.idle!(0) && !(exits.active && qty[0] !== 0) && !(exec.timersArmed && exec.timersActive)) {
          this.skipRows(i, end, k, eqTime, eqValue, ownTime);
          if (pf.openPositions > 0) exposure += end - i;
          i = end - 1;
          continue;
        }
      }
      // feed.advance(i), spelled out: the bar view reads row i of the columns.
      const t = time[i];
      const px = close[i];
      feed.cursor = i;
      bar.index = i;
      if (clock !== null) clock.set(t);
      if (exec.timersArmed && exec.timersActive) exec.checkTimers(t);
      if (venue !== null) venue.onMarketBar!(0, bar);
      if (exits.active && qty[0] !== 0 && evaluateExits(exits, exitState, bar, 0, decision)) {
        this.exitPosition(0, decision.reason, decision.price);
      }
      last[0] = px;
      if (acts && hasOnBar && !this.strategyStopped) {
        // Same values every bar of a single-feed run: compare instead of storing (no write barrier).
        if (ctx.bar !== bar) ctx.bar = bar;
        if (ctx.symbol !== sym) ctx.symbol = sym;
        ctx.symbolIndex = 0;
        ctx.time = t;
        try {
          strategy.onBar!(ctx);
        } catch (err) {
          this.failStrategy('onBar', err);
        }
      }
      const k = this.equityLength;
      let openCount = pf.openPositions;
      if (plainEquity && k < eqValue.length && k < eqTime.length) {
        // recordEquity(t) without listeners. Portfolio.equity() with the one symbol: the cash, plus
        // qty x last x multiplier while it is open (the same operations in the same order).
        if (ownTime) eqTime[k] = t;
        eqValue[k] = openCount === 0 ? pf.cash : pf.cash + qty[0] * last[0] * mult0;
        this.equityLength = k + 1;
      } else {
        this.recordEquity(t);
        eqTime = this.equityTime;
        eqValue = this.equityValue;
        ownTime = this.ownEquityTime;
        openCount = pf.openPositions;
      }
      if (openCount > 0) exposure++;
    }
    return exposure;
  }

  // Rows [from, end) of feed 0 on which nothing can happen (runSingleFeed's sparse loop): their equity points, the
  // same values the per-bar step writes, then the state that step leaves after row end - 1 (bar view, clock,
  // venue bar count, last price).
  private skipRows(
    from: number,
    end: number,
    k: number,
    eqTime: Float64Array,
    eqValue: Float64Array,
    ownTime: boolean,
  ): void {
    const feed = this.feeds[0];
    const c = feed.columns;
    const close = c.close;
    const pf = this.portfolio;
    const cash = pf.cash;
    const at = k - from;
    // A loop, not TypedArray#fill: that runs in the runtime's C++ and showed in the profile.
    if (pf.openPositions === 0) for (let j = k, e = k + end - from; j < e; j++) eqValue[j] = cash;
    else {
      const q = pf.qty[0];
      const mult = pf.mult[0];
      for (let j = from; j < end; j++) eqValue[at + j] = cash + q * close[j] * mult;
    }
    if (ownTime) eqTime.set(c.time.subarray(from, end), k);
    this.equityLength = k + end - from;
    const lastRow = end - 1;
    feed.cursor = lastRow;
    feed.bar.index = lastRow;
    if (this.simClock !== null) this.simClock.set(c.time[lastRow]);
    this.barVenue!.skipBars!(0, feed.bar, end - from);
    pf.last[0] = close[lastRow];
  }

  /** Delivers a tick to the strategy (live and paper); marks the symbol at the last price. */
  onTick(tick: Tick): void {
    const s = this.symbolIndex.get(tick.symbol);
    if (s === undefined) return;
    this.portfolio.last[s] = tick.last;
    const onTick = this.strategy.onTick;
    if (onTick === undefined || this.strategyStopped) return;
    this.ctx.time = tick.time;
    this.ctx.symbol = tick.symbol;
    this.ctx.symbolIndex = s;
    try {
      onTick.call(this.strategy, this.ctx, tick);
    } catch (err) {
      this.failStrategy('onTick', err);
    }
  }

  /** Appends one point to the equity curve (once per timestamp) and feeds the risk hook's equity rules. */
  recordEquity(time: number): void {
    let k = this.equityLength;
    if (k === this.equityValue.length || k === this.equityTime.length) this.growEquity();
    const eq = this.portfolio.equity();
    if (this.ownEquityTime) this.equityTime[k] = time;
    this.equityValue[k++] = eq;
    this.equityLength = k;
    if (this.riskWantsEquity) this.risk.onEquity(this.riskView);
    if (this.mode === 'backtest' ? this.equitySubscribed : this.bus.hasSubscribers('equity.updated.v1')) {
      this.emit('equity.updated.v1', this.strategyId, {
        equity: eq,
        cash: this.portfolio.cash,
        strategyId: this.strategyId,
      });
    }
  }

  /**
   * Ends a run: cancels open orders (an entry signalled on the last bar never fills), closes every position at
   * its last price with exit reason `end_of_data`, and runs the strategy's onStop.
   */
  finish(reason = 'end_of_data'): void {
    this.exec.cancelAll(reason);
    for (let s = 0; s < this.feeds.length; s++) {
      const q = this.portfolio.qty[s];
      if (q === 0) continue;
      this.submitIntent(
        {
          strategyId: this.strategyId,
          symbol: this.feeds[s].symbol,
          side: q > 0 ? 'sell' : 'buy',
          type: 'market',
          quantity: Math.abs(q),
          reduceOnly: true,
          source: 'exit',
          tag: reason,
        },
        this.portfolio.last[s],
      );
    }
    if (this.strategy.onStop && !this.strategyStopped) this.guard('onStop', this.strategy.onStop, this.strategy);
    this.emit('strategy.stopped.v1', this.strategyId, { strategyId: this.strategyId, reason });
  }

  /**
   * The one order path: halted check (only exposure-reducing orders pass), reduce-only trimming, the risk
   * hook's check, then the execution engine. Returns the order, or null when nothing was placed.
   * `atPrice` makes a simulated venue execute now at that price (exits, end of data).
   */
  submitIntent(intent: OrderIntent, atPrice?: number): Order | null {
    if (this.correlationPrefix !== null && intent.correlationId === undefined) this.correlate(intent);
    const s = this.slot(intent.symbol);
    if (s === undefined) {
      this.recordRisk(intent, 'INVALID_ORDER', `symbol ${intent.symbol} is not part of this run`);
      return null;
    }
    if (intent.reduceOnly === true) {
      const q = this.portfolio.qty[s];
      const sideSign = intent.side === 'buy' ? 1 : -1;
      const room = Math.abs(q) - this.pendingReduce(s, this.flattening);
      if (q === 0 || Math.sign(q) === sideSign || room <= QTY_EPS * Math.abs(q)) return null;
      if (intent.quantity > room) intent.quantity = room;
    } else if (this.haltCode !== null) {
      this.recordRisk(intent, this.haltCode, 'trading is halted: only exposure-reducing orders are accepted');
      return null;
    }
    const err = this.riskIsPassThrough ? null : this.risk.check(intent, this.riskView);
    if (err !== null) {
      // Dry-run (RISK-9) reports and lets through, except the kill switch: that is an action, not a rule.
      const dry = err.dryRun === true && err.reason !== 'KILL_SWITCH';
      this.recordRisk(intent, err.reason, err.detail, err.limit, err.actual, dry);
      if (!dry) return null;
    } else if (!this.riskIsPassThrough && this.bus.hasSubscribers('risk.checked.v1')) {
      this.publishChecked(intent, s, undefined);
    }
    return this.exec.submit(intent, atPrice);
  }

  /**
   * What {@link submitIntent} would decide for this intent now, without placing it or recording anything: null
   * when it would pass, else the refusal's code and detail. `PREVIEW_UNAVAILABLE` when the risk hook cannot
   * preview (a guess could promise an order that the real check refuses).
   */
  previewIntent(intent: OrderIntent): { code: string; detail: string } | null {
    if (this.slot(intent.symbol) === undefined) {
      return { code: 'INVALID_ORDER', detail: `symbol ${intent.symbol} is not part of this run` };
    }
    if (intent.reduceOnly !== true && this.haltCode !== null) {
      return { code: this.haltCode, detail: 'trading is halted: only exposure-reducing orders are accepted' };
    }
    if (this.riskIsPassThrough) return null;
    if (!this.risk.preview) {
      return { code: 'PREVIEW_UNAVAILABLE', detail: 'this risk hook cannot preview an order; place it to check' };
    }
    const err = this.risk.preview(intent, this.riskView);
    return err === null ? null : { code: err.reason, detail: err.detail };
  }

  /** Quantity the stake buys of symbol `s` at `price`, rounded down to the lot. */
  stakeQuantity(s: number, price: number): number {
    if (!(price > 0)) return 0;
    const pf = this.portfolio;
    const inst = this.instruments[s];
    let amount: number;
    if (this.stake.kind === 'amount') {
      amount = this.stake.value;
    } else {
      // A close issued on this bar frees its proceeds (cash) or its margin for a same-bar re-entry.
      const q = pf.qty[s];
      const closing = q !== 0 && this.pendingReduce(s) >= Math.abs(q) * (1 - QTY_EPS);
      const value = closing ? Math.abs(q) * pf.last[s] * inst.multiplier : 0;
      const avail = pf.margin
        ? (pf.freeMargin() + value / pf.leverage) * pf.leverage
        : pf.cash + (q > 0 ? value * (1 - this.feeRate) : 0);
      amount = (Math.max(0, avail) * this.stake.value) / 100;
      // Freqtrade's "unlimited" stake: the free cash shared among the free trade slots.
      if (this.stake.perFreeSlot && this.maxOpenTrades !== Number.POSITIVE_INFINITY) {
        amount /= Math.max(1, this.maxOpenTrades - this.openTrades());
      }
    }
    const lot = inst.lotSize;
    const units = lotUnits(amount / (price * inst.multiplier), lot, 'down');
    if (units <= 0) return 0;
    // Same value as roundLot(..., 'down') without its string round trip: units x lot at the lot's decimals.
    const scale = this.lotScale[s];
    return scale > 0 ? Math.round(units * lot * scale) / scale : roundLot(units * lot, lot, 'down');
  }

  /** Remaining quantity of open reduce-only orders of symbol `s` (market orders only when `marketOnly`). */
  pendingReduce(s: number, marketOnly = false): number {
    const open = this.exec.openOrders();
    if (open.length === 0) return 0;
    const sym = this.feeds[s].symbol;
    let n = 0;
    for (let k = 0; k < open.length; k++) {
      const o = open[k];
      if (o.reduceOnly && o.symbol === sym && (!marketOnly || o.type === 'market')) n += o.quantity - o.filledQuantity;
    }
    return n;
  }

  /** Trades open or being opened: symbols with a position or an open entry order (for `maxOpenTrades`). */
  openTrades(): number {
    const pf = this.portfolio;
    let n = 0;
    for (let s = 0; s < this.feeds.length; s++) {
      if (pf.qty[s] !== 0 || this.hasOpenEntry(s, 'buy') || this.hasOpenEntry(s, 'sell')) n++;
    }
    return n;
  }

  /** Whether an exposure-increasing market order of `side` is still open for symbol `s`. */
  hasOpenEntry(s: number, side: OrderSide): boolean {
    const open = this.exec.openOrders();
    if (open.length === 0) return false;
    const sym = this.feeds[s].symbol;
    for (let k = 0; k < open.length; k++) {
      const o = open[k];
      if (!o.reduceOnly && o.side === side && o.type === 'market' && o.symbol === sym) return true;
    }
    return false;
  }

  /** Stops the strategy's hooks (positions stay under the exit rules and are closed at the end). */
  stopStrategy(reason: string): void {
    if (this.strategyStopped) return;
    this.strategyStopped = true;
    this.emit('strategy.stopped.v1', this.strategyId, { strategyId: this.strategyId, reason });
  }

  // ---- pausing a strategy (operator, breakers, kill switch) ----

  /** Whether the strategy can be paused (it has a `pause` hook). */
  get pausable(): boolean {
    return typeof this.strategy.pause === 'function' && typeof this.strategy.resume === 'function';
  }

  /** Whether the strategy says it is paused (false for one that cannot be paused). */
  get strategyPaused(): boolean {
    return this.strategy.isPaused?.() === true;
  }

  /** Pauses the strategy (its resting orders cancelled, none placed until `resumeStrategy`); false if it cannot. */
  pauseStrategy(reason: string): boolean {
    if (!this.pausable || this.strategyStopped) return false;
    const strategy = this.strategy;
    this.guard('pause', (ctx) => strategy.pause?.(ctx, reason), strategy);
    return true;
  }

  /** Resumes a paused strategy (its resting orders placed again); false if it cannot be paused. */
  resumeStrategy(): boolean {
    if (!this.pausable || this.strategyStopped) return false;
    const strategy = this.strategy;
    this.guard('resume', (ctx) => strategy.resume?.(ctx), strategy);
    return true;
  }

  /**
   * The strategy's startup reconciliation of its resting orders (`Strategy.reconcile`), or null when it has none.
   * The orders it keeps become this run's open orders (cancels, the kill switch and stale timers reach them).
   */
  reconcileStrategy(open: readonly Order[]): StrategyReconcileResult | null {
    const hook = this.strategy.reconcile;
    if (typeof hook !== 'function' || this.strategyStopped) return null;
    let result: StrategyReconcileResult | null = null;
    const strategy = this.strategy;
    this.guard(
      'reconcile',
      (ctx) => {
        result = hook.call(strategy, ctx, open);
      },
      strategy,
    );
    const r = result as StrategyReconcileResult | null;
    if (r !== null) for (const o of r.kept) this.exec.adopt(o as Order);
    return r;
  }

  // ---- kill switch and halts (the risk engine's override path) ----

  /**
   * Kill switch (RISK-6), the one entry point: engages the risk hook's kill switch (so its checks refuse every
   * order that adds exposure), cancels every open order and closes every position with reduce-only market
   * orders through the execution engine, and halts until `recover`. `elapsedMs` runs from the trigger to the
   * last dispatched order (cancel or close), also published in `killswitch.completed.v1`.
   */
  killSwitch(actor: string, reason: string): KillSwitchReport {
    const t0 = performance.now();
    this.haltCode = 'KILL_SWITCH';
    const run = { cancelled: 0, closing: 0, lastDispatch: t0, cancelledAll: false, flattened: false };
    const outer = this.flattenRun;
    this.flattenRun = run;
    try {
      const hook = this.risk;
      if (typeof hook.killSwitch === 'function') {
        // The hook publishes killswitch.triggered.v1 and calls back cancelAllOrders and flattenAll.
        this.attachRisk();
        hook.killSwitch(actor, reason, this.clock.now());
      } else {
        this.pushRisk({ time: this.clock.now(), code: 'KILL_SWITCH', detail: `engaged by ${actor}: ${reason}` });
        this.emit('killswitch.triggered.v1', this.strategyId, { actor, reason });
      }
      // A hook that did not call back (or none) still gets the whole kill switch.
      if (!run.cancelledAll) this.cancelAllOrders(`kill switch: ${reason}`);
      if (!run.flattened) this.flatten(`kill switch: ${reason}`, undefined);
    } finally {
      this.flattenRun = outer;
    }
    const out: KillSwitchReport = {
      cancelled: run.cancelled,
      closing: run.closing,
      elapsedMs: run.lastDispatch - t0,
    };
    this.emit('killswitch.completed.v1', this.strategyId, out);
    return out;
  }

  /** True while the kill switch is engaged here or in the risk hook. */
  get killSwitchEngaged(): boolean {
    return this.haltCode === 'KILL_SWITCH' || (this.risk.killSwitchState?.() ?? null) !== null;
  }

  /** True while the engine or the risk hook blocks new exposure (kill switch, halt, breaker). */
  get halted(): boolean {
    return this.haltCode !== null || this.risk.isHalted?.(this.clock.now()) === true;
  }

  /** Leaves the halted state (after a kill switch or `halt`), in the risk hook too. */
  recover(actor: string): void {
    this.haltCode = null;
    // A hook that held the kill switch publishes killswitch.recovered.v1 itself.
    const hookRecovered = this.risk.recover?.(actor, this.clock.now()) === true;
    if (!hookRecovered) this.emit('killswitch.recovered.v1', this.strategyId, { actor });
  }

  /** Halts new exposure with a reason code (e.g. a restored kill switch) until `recover`. */
  halt(code: string): void {
    this.haltCode = code;
  }

  // ---- RiskActions ----

  /** Cancels every open order (kill switch, emergency breaker). */
  cancelAllOrders(reason: string): void {
    const run = this.flattenRun;
    const n = this.exec.cancelAll(reason);
    if (run !== null) {
      run.cancelled += n;
      run.cancelledAll = true;
      if (n > 0) run.lastDispatch = performance.now();
    }
  }

  /**
   * Closes every position (or one symbol's) with reduce-only market orders through the execution engine. While
   * the hook's kill switch is engaged the orders are kill-switch orders (exit reason `kill_switch`) and the
   * engine halts; otherwise the exit reason is `reason` (the emergency breaker passes its code).
   */
  flattenAll(reason: string, symbol?: string): void {
    if (this.flattenRun === null && (this.risk.killSwitchState?.() ?? null) !== null) {
      // The hook's kill switch was pressed directly: it is the same kill switch, so the engine halts too.
      this.haltCode = 'KILL_SWITCH';
    }
    this.flatten(reason, symbol);
  }

  /** Cancels one order (stale-order timers). */
  cancelOrder(orderId: string, reason: string): void {
    this.exec.cancel(orderId, reason);
  }

  // ---- ExecutionSink ----

  onOrderUpdate(order: Order): void {
    if (this.tracksOrders && order.type === 'limit') this.trackStale(order);
    if (this.hasOnOrderUpdate && !this.strategyStopped && order.strategyId === this.strategyId) {
      try {
        this.strategy.onOrderUpdate!(this.ctx, order);
      } catch (err) {
        this.failStrategy('onOrderUpdate', err);
      }
    }
    if (order.status === 'rejected' || (order.status === 'cancelled' && order.reason === 'INSUFFICIENT_FUNDS')) {
      const reason = order.reason ?? 'REJECTED';
      if (reason === 'INSUFFICIENT_FUNDS' || reason === 'VENUE_RATE_LIMIT') {
        this.pushRisk({
          time: order.updatedAt,
          code: reason,
          detail: `${order.side} ${order.quantity} ${order.symbol} (${order.type}) ${order.id}`,
        });
      }
    }
  }

  onOrderFill(
    order: Order,
    price: number,
    quantity: number,
    fee: number,
    liquidity: Liquidity,
    time: number,
    executed = quantity,
    exact?: ExactExecution,
  ): void {
    const s = this.slot(order.symbol);
    if (s === undefined) return;
    const pf = this.portfolio;
    const before = pf.qty[s];
    const sideSign = order.side === 'buy' ? 1 : -1;
    // The round trip's row: its object is built only for a risk hook or a listener (else when the result is read).
    const tradeRow = pf.book(s, sideSign, quantity, price, fee, time, exitReasonOf(order), order.tag, exact);
    this.fills++;
    if (this.fillLog !== null) {
      this.fillLog.push(time, s, order.side, price, quantity, fee, order.type, order.tag, liquidity);
    }
    if (this.bus.hasSubscribers('position.changed.v1')) {
      this.emit('position.changed.v1', order.correlationId, { position: pf.snapshot(s) });
    }
    const after = pf.qty[s];
    const st = this.exitStates[s];
    if (after === 0) st.reset();
    else if (before === 0 || Math.sign(before) !== Math.sign(after)) {
      // A market order executes at the bar's open, so exits watch the rest of that bar; an intrabar fill
      // (limit, stop, exit at a price) starts being watched on the next bar.
      const activeFrom = order.type === 'market' && order.source === 'strategy' ? time : time + 1;
      st.open(after > 0 ? 1 : -1, pf.avg[s], time, activeFrom);
    } else if (Math.abs(after) > Math.abs(before)) st.reprice(pf.avg[s]);
    const needFill = !this.riskIsPassThrough || this.hasOnFill || this.bus.hasSubscribers('fill.executed.v1');
    if (needFill) {
      const fill: Fill = {
        id: `f${++this.fillSeq}`,
        orderId: order.id,
        clientOrderId: order.clientOrderId,
        strategyId: order.strategyId,
        symbol: order.symbol,
        side: order.side,
        price,
        quantity,
        fee,
        liquidity,
        time,
        correlationId: order.correlationId,
      };
      if (executed !== quantity) fill.executedQuantity = executed;
      if (exact !== undefined) fill.exact = fillDecimals(exact);
      this.emit('fill.executed.v1', order.correlationId, { fill });
      if (!this.riskIsPassThrough) this.risk.afterFill(fill, this.riskView);
      if (this.hasOnFill && !this.strategyStopped && order.strategyId === this.strategyId) {
        try {
          this.strategy.onFill!(this.ctx, fill);
        } catch (err) {
          this.failStrategy('onFill', err);
        }
      }
    }
    if (tradeRow >= 0 && (!this.riskIsPassThrough || this.bus.hasSubscribers('trade.closed.v1'))) {
      this.tradeClosed(pf.tradeAt(tradeRow));
    }
  }

  checkFill(order: Order, price: number, quantity: number, fee: number): string | null {
    const s = this.slot(order.symbol);
    if (s === undefined) return 'INVALID_ORDER';
    const pf = this.portfolio;
    const sideSign = order.side === 'buy' ? 1 : -1;
    if (order.reduceOnly) {
      const q = pf.qty[s];
      // exitProfitOnly: a strategy's close executes only when the position's profit ratio at its price is above
      // the offset (Freqtrade's exit_profit_only); exits of the exit rules and the risk engine always pass.
      if (
        this.exits.exitProfitOnly &&
        order.source === 'strategy' &&
        order.type === 'market' &&
        !exitSignalAllowed(this.exits, this.exitStates[s], price)
      ) {
        return 'EXIT_PROFIT_ONLY';
      }
      return q !== 0 && Math.sign(q) !== sideSign && quantity <= Math.abs(q) * (1 + QTY_EPS) ? null : 'REDUCE_ONLY';
    }
    return pf.canAfford(s, sideSign, quantity, price, fee) ? null : 'INSUFFICIENT_FUNDS';
  }

  /**
   * The strategy asked for an entry in the direction it already holds (Freqtrade: the entry signal is set while
   * a trade is open); the next bar's exit evaluation sees it (`ignoreRoiIfEntrySignal`).
   */
  noteEntrySignal(s: number, dir: number): void {
    const st = this.exitStates[s];
    if (st.dir === dir) st.enterSignal = true;
  }

  // ---- internals ----

  // Symbol index of an order's symbol (undefined when not traded here); a single-symbol run skips the map.
  private slot(symbol: string): number | undefined {
    return symbol === this.firstSymbol ? 0 : this.symbolIndex.get(symbol);
  }

  // Stale-order timers (RISK-5) run on resting limit orders: from acceptance to their end.
  private trackStale(order: Order): void {
    const st = order.status;
    if (st === 'accepted') this.risk.trackOrder!(order);
    else if (st === 'filled' || st === 'cancelled' || st === 'rejected' || st === 'expired') {
      this.risk.untrackOrder!(order.id);
    }
  }

  // The hook gets the kernel's actions once: at start, or earlier when the kill switch is pressed before it.
  private attachRisk(): void {
    if (this.riskAttached) return;
    this.riskAttached = true;
    this.risk.attach(this);
  }

  private exitPosition(s: number, reason: string, rulePrice: number): void {
    // Live timing: only the venue-kept stop fills within the bar; other rules go out as a market order (next open).
    const price = this.liveExitTiming && !this.decision.fixedStop ? undefined : rulePrice;
    const pf = this.portfolio;
    const q = pf.qty[s];
    const sym = this.feeds[s].symbol;
    // Resting reduce-only orders (e.g. a take-profit limit) would double the close: cancel them first.
    const open = this.exec.openOrders();
    for (let k = open.length - 1; k >= 0; k--) {
      const o = open[k];
      if (o?.reduceOnly && o.symbol === sym) this.exec.cancel(o.id, reason);
    }
    this.submitIntent(
      {
        strategyId: this.strategyId,
        symbol: sym,
        side: q > 0 ? 'sell' : 'buy',
        type: 'market',
        quantity: Math.abs(q),
        reduceOnly: true,
        source: 'exit',
        tag: reason,
      },
      price,
    );
  }

  // The override path of the kill switch and the emergency breaker: reduce-only market orders through the one
  // order path, where only exposure-reducing orders pass. Whole-book flattens follow a cancelAllOrders; resting
  // closes being cancelled (asynchronously on a live venue) are not counted, open closing market orders are.
  private flatten(reason: string, symbol: string | undefined): number {
    const kill = this.haltCode === 'KILL_SWITCH';
    const run = this.flattenRun;
    if (run !== null && symbol === undefined) run.flattened = true;
    let n = 0;
    this.flattening = true;
    try {
      for (let s = 0; s < this.feeds.length; s++) {
        const sym = this.feeds[s].symbol;
        const q = this.portfolio.qty[s];
        if (q === 0 || (symbol !== undefined && sym !== symbol)) continue;
        if (symbol !== undefined) this.cancelRestingCloses(s, reason);
        const quantity = Math.abs(q) - this.pendingReduce(s, true);
        if (quantity <= QTY_EPS * Math.abs(q)) continue;
        const order = this.submitIntent({
          strategyId: this.strategyId,
          symbol: sym,
          side: q > 0 ? 'sell' : 'buy',
          type: 'market',
          quantity,
          reduceOnly: true,
          source: kill ? 'kill_switch' : 'exit',
          tag: kill ? 'kill_switch' : reason,
        });
        if (order !== null) {
          n++;
          if (run !== null) {
            run.closing++;
            run.lastDispatch = performance.now();
          }
        }
      }
    } finally {
      this.flattening = false;
    }
    return n;
  }

  // Resting reduce-only orders (take-profit, stop) of symbol `s` would double a market close: cancel them.
  private cancelRestingCloses(s: number, reason: string): void {
    const open = this.exec.openOrders();
    const sym = this.feeds[s].symbol;
    for (let k = open.length - 1; k >= 0; k--) {
      const o = open[k];
      if (o?.reduceOnly && o.type !== 'market' && o.symbol === sym) this.exec.cancel(o.id, reason);
    }
  }

  private tradeClosed(trade: ClosedTrade): void {
    if (!this.riskIsPassThrough) this.risk.onTradeClosed(trade, this.riskView);
    this.emit('trade.closed.v1', trade.symbol, { trade });
  }

  private recordRisk(
    intent: OrderIntent,
    code: string,
    detail: string,
    limit?: number | string,
    actual?: number | string,
    dryRun = false,
  ): void {
    const time = this.clock.now();
    this.pushRisk(
      dryRun ? { time, code, detail: `dry run, order placed anyway: ${detail}`, dryRun: true } : { time, code, detail },
    );
    if (this.correlationPrefix !== null && intent.correlationId === undefined) this.correlate(intent);
    if (this.bus.hasSubscribers('risk.checked.v1')) {
      const finding = {
        code,
        detail,
        ...(limit !== undefined ? { limit } : {}),
        ...(actual !== undefined ? { actual } : {}),
        ...(dryRun ? { dryRun: true } : {}),
      };
      this.publishChecked(intent, this.slot(intent.symbol), finding);
    }
    if (this.bus.hasSubscribers('risk.rejected.v1')) {
      this.bus.publish({
        name: 'risk.rejected.v1',
        time,
        correlationId: intent.correlationId ?? `${intent.strategyId}:${intent.symbol}:${time}`,
        source: 'engine',
        payload: {
          intent,
          code,
          detail,
          ...(limit !== undefined ? { limit } : {}),
          ...(actual !== undefined ? { actual } : {}),
          ...(dryRun ? { dryRun: true } : {}),
        },
      });
    }
  }

  // Gives an intent its signal's correlation id (live: unique per deployment and run).
  private correlate(intent: OrderIntent): void {
    intent.correlationId = `${this.correlationPrefix}${++this.signalSeq}`;
  }

  // risk.checked.v1: the decision (accepted, or the finding that blocked or, in dry-run, only flagged it) with what
  // it saw: equity, cash, the symbol's position and price, open orders, the engine's halt.
  private publishChecked(
    intent: OrderIntent,
    s: number | undefined,
    finding: Omit<EventMap['risk.checked.v1'], 'intent' | 'accepted' | 'inputs'> | undefined,
  ): void {
    const time = this.clock.now();
    const pf = this.portfolio;
    const inputs: RiskCheckInputs = {
      equity: pf.equity(),
      cash: pf.cash,
      openOrders: this.exec.openOrders().length,
      ...(s !== undefined ? { position: pf.qty[s], price: pf.last[s] } : {}),
      ...(this.haltCode !== null ? { halt: this.haltCode } : {}),
    };
    const accepted = finding === undefined || finding.dryRun === true;
    this.bus.publish({
      name: 'risk.checked.v1',
      time,
      correlationId: intent.correlationId ?? `${intent.strategyId}:${intent.symbol}:${time}`,
      source: 'risk',
      payload: { intent: { ...intent }, accepted, ...finding, inputs },
    });
  }

  private failStrategy(hook: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const time = this.clock.now();
    this.strategyFailures.push({ time, hook, message });
    this.log(
      'error',
      `strategy ${this.strategyId} threw in ${hook} at ${new Date(time).toISOString()}: ${message}`,
      time,
    );
    this.emit('strategy.error.v1', this.strategyId, { strategyId: this.strategyId, barTime: time, message });
    this.stopStrategy(`error in ${hook}: ${message}`);
  }

  private guard(hook: string, fn: (ctx: EngineContext) => void, self: Strategy): void {
    try {
      fn.call(self, this.ctx);
    } catch (err) {
      this.failStrategy(hook, err);
    }
  }

  private emit<N extends EventName>(name: N, correlationId: string, payload: EventMap[N]): void {
    if (!this.bus.hasSubscribers(name)) return;
    this.bus.publish({ name, time: this.clock.now(), correlationId, source: 'engine', payload });
  }

  private growEquity(): void {
    const cap = Math.max(this.equityTime.length, this.equityValue.length) * 2;
    const t = new Float64Array(cap);
    const v = new Float64Array(cap);
    t.set(this.equityTime.subarray(0, this.equityLength));
    v.set(this.equityValue.subarray(0, this.equityLength));
    this.equityTime = t;
    this.equityValue = v;
    this.ownEquityTime = true;
  }

  /** Writes a log line on behalf of the strategy. */
  writeLog(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.log(level, message, this.clock.now());
  }

  /** Records a rejection decided outside the risk hook (e.g. a stake too small to buy one lot). */
  reject(intent: OrderIntent, code: string, detail: string): void {
    this.recordRisk(intent, code, detail);
  }
}

/** The exit reason a closing order gives its round trip. */
function exitReasonOf(order: Order): string {
  if (order.source === 'strategy') return 'exit_signal';
  // The venue-side protective stop is the run spec's stop-loss executed by the venue: the same exit as a backtest's.
  if (order.tag === PROTECTIVE_STOP_TAG) return 'stop_loss';
  if (order.source === 'exit') return order.tag ?? 'exit';
  return order.source;
}

/** Stake refusals in columns (time, symbol, price), turned into risk events when they are read. */
class StakeRefusals {
  count = 0;
  private time = new Float64Array(64);
  private price = new Float64Array(64);
  private symbol = new Int32Array(64);

  add(time: number, s: number, price: number): void {
    const k = this.count;
    if (k === this.time.length) this.grow();
    this.time[k] = time;
    this.price[k] = price;
    this.symbol[k] = s;
    this.count = k + 1;
  }

  /** Appends the refusals as risk events (the text `reject` gives them) and forgets them. */
  flushInto(events: RiskEvent[], feeds: readonly SymbolFeed[]): void {
    for (let k = 0; k < this.count; k++) {
      events.push({
        time: this.time[k],
        code: 'INSUFFICIENT_FUNDS',
        detail: stakeRefusalDetail(feeds[this.symbol[k]].symbol, this.price[k]),
      });
    }
    this.count = 0;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap);
    t.set(this.time);
    this.time = t;
    const p = new Float64Array(cap);
    p.set(this.price);
    this.price = p;
    const s = new Int32Array(cap);
    s.set(this.symbol);
    this.symbol = s;
  }
}
