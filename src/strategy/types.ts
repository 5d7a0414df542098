import type { BarColumns, Tick } from '../core/bar.js';
import type { Fill } from '../core/fill.js';
import type { Instrument } from '../core/instrument.js';
import type { Order, OrderSide, TimeInForce } from '../core/order.js';
import type { Timeframe } from '../core/timeframe.js';

/** The current bar as a strategy sees it (a reused object: read it, do not keep it). */
export interface BarView {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Row of this bar in its symbol's data. */
  readonly index: number;
}

/** Field names of a bar series. */
export type SeriesField = 'time' | 'open' | 'high' | 'low' | 'close' | 'volume';

/** Read-only bars up to now; `ago` 0 is the latest closed bar, reads outside the window give NaN. */
export interface HistoryView {
  readonly length: number;
  get(field: SeriesField, ago?: number): number;
  time(ago?: number): number;
  open(ago?: number): number;
  high(ago?: number): number;
  low(ago?: number): number;
  close(ago?: number): number;
  volume(ago?: number): number;
  /** A copy of the visible part of one column, oldest first (allocates). */
  toArray(field: SeriesField): Float64Array;
}

/** Read-only view of the account a strategy and the risk engine see. */
export interface PortfolioView {
  readonly cash: number;
  equity(): number;
  /** Signed quantity of the position in `symbol` (0 when flat). */
  position(symbol: string): number;
  averagePrice(symbol: string): number;
  unrealizedPnl(symbol: string): number;
  readonly realizedPnl: number;
  readonly feesPaid: number;
}

/** The type of one strategy parameter. */
export type ParamType = 'int' | 'float' | 'bool' | 'enum';

/** A parameter value. */
export type ParamValue = number | boolean | string;

/** Resolved parameter values by name. */
export type ParamValues = Readonly<Record<string, ParamValue>>;

/** One typed parameter: validated by the CLI (`--param k=v`) and searched by the optimiser within its range. */
export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly default: ParamValue;
  /** Inclusive bounds (int/float). */
  readonly min?: number;
  readonly max?: number;
  /** Suggested search step for the optimiser. */
  readonly step?: number;
  /** Allowed values (enum). */
  readonly values?: readonly string[];
  readonly description: string;
}

/** What data a strategy needs; checked before a run starts (missing -> ValidationError naming it). */
export interface StrategyRequirements {
  /** Extra numeric columns the data file must carry (e.g. `enter_long`). */
  readonly columns?: readonly string[];
  /** Optional extra text columns used when present (e.g. `enter_tag`). */
  readonly optionalTextColumns?: readonly string[];
  /** Higher timeframes the strategy reads through `ctx.history(symbol, tf)`. */
  readonly timeframes?: readonly Timeframe[];
}

/** Options of the order helpers. */
export interface OrderOptions {
  /** Defaults to the symbol of the current bar. */
  symbol?: string;
  /** Defaults to the run's stake sizing (entries) or the whole position (exits). */
  quantity?: number;
  tag?: string;
  timeInForce?: TimeInForce;
  /** Idempotency key: an id already used is not placed again. */
  clientOrderId?: string;
  reduceOnly?: boolean;
}

/** Levels a strategy can log at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What a strategy sees and can do. One context object per run, reused across bars; the same in backtest,
 * paper and live. Order methods return the order (or null when nothing was placed: a rejected or redundant
 * intent); the order then changes state as the venue reports, through `onOrderUpdate`/`onFill`.
 */
export interface StrategyContext {
  readonly strategyId: string;
  /** Current time (simulated in a backtest), epoch ms. */
  readonly time: number;
  /** Symbol of the bar being delivered. */
  readonly symbol: string;
  /** Index of `symbol` in `symbols` (handy for per-symbol state arrays). */
  readonly symbolIndex: number;
  readonly symbols: readonly string[];
  /** Base timeframe of the data. */
  readonly timeframe: Timeframe;
  /** Current (just closed) bar of `symbol`: a reused view, do not keep references across bars. */
  readonly bar: BarView;
  readonly params: ParamValues;
  readonly portfolio: PortfolioView;
  /** Read-only history of a symbol (default: current) at a timeframe (default: base); never the future. */
  history(symbol?: string, timeframe?: Timeframe): HistoryView;
  /** Value of an extra numeric data column at the current bar (NaN when absent). */
  value(column: string, ago?: number, symbol?: string): number;
  /** Value of an extra text data column at the current bar. */
  text(column: string, ago?: number, symbol?: string): string | undefined;
  /** Signed position quantity (0 when flat). */
  position(symbol?: string): number;
  /** Open orders of this strategy (optionally one symbol's). Allocates: not for every bar. */
  openOrders(symbol?: string): readonly Readonly<Order>[];
  /** Market buy: opens or adds to a long. Without a quantity, sized by the run's stake. */
  buy(opts?: OrderOptions): Order | null;
  /** Market sell closing a long (all of it unless `quantity` says less). */
  sell(opts?: OrderOptions): Order | null;
  /** Market sell opening a short (refused unless shorting is allowed). */
  short(opts?: OrderOptions): Order | null;
  /** Market buy closing a short. */
  cover(opts?: OrderOptions): Order | null;
  /** Closes whatever position the symbol has. */
  close(symbol?: string, tag?: string): Order | null;
  limit(side: OrderSide, price: number, opts?: OrderOptions): Order | null;
  stop(side: OrderSide, stopPrice: number, opts?: OrderOptions): Order | null;
  stopLimit(side: OrderSide, stopPrice: number, price: number, opts?: OrderOptions): Order | null;
  cancel(orderId: string): void;
  /** Quantity the run's stake buys at `price` (rounded down to the lot). */
  stakeQuantity(price: number, symbol?: string): number;
  log(message: string, level?: LogLevel): void;
}

/**
 * A strategy: any object with some of these hooks. Hooks run synchronously; a hook that throws stops the
 * strategy (the engine publishes `strategy.error.v1` with the bar time) but never the engine.
 */
export interface Strategy {
  onStart?(ctx: StrategyContext): void;
  onBar?(ctx: StrategyContext): void;
  onTick?(ctx: StrategyContext, tick: Tick): void;
  onOrderUpdate?(ctx: StrategyContext, order: Readonly<Order>): void;
  onFill?(ctx: StrategyContext, fill: Readonly<Fill>): void;
  onStop?(ctx: StrategyContext): void;
  /** Serialisable state, so a restarted strategy resumes where it stopped. */
  getState?(): unknown;
  restore?(state: unknown): void;
  /** The strategy's own statistics, asked once at the end of a backtest and put into its result (JSON, CSV, HTML). */
  statistics?(): StrategyStatistics;
  /**
   * Backtests only, after `onStart`: the whole bar columns of each symbol (in `ctx.symbols` order), known in advance
   * there. The strategy computes from them what it can, causally (row i reads rows <= i only), and returns per
   * symbol the ascending rows on which `onBar` may place, change or cancel an order, or null for "any row". On the
   * other rows the engine may skip `onBar` when nothing else needs the bar (no resting order, no exit rule watching
   * a position, no per-bar listener); `onBar` is still called on them at times and must then act as it would have.
   * Paper and live never call it: `onBar` there sees every bar.
   */
  precompute?(series: readonly BarColumns[]): readonly (Int32Array | null)[];
  /**
   * Pause (operator, breaker, kill switch): cancel the strategy's resting orders and place none until `resume`;
   * `reason` is recorded. Strategies without it cannot be paused.
   */
  pause?(ctx: StrategyContext, reason: string): void;
  /** Resume after `pause`: put the resting orders back. */
  resume?(ctx: StrategyContext): void;
  /** Whether the strategy is paused now (status, the control API). */
  isPaused?(): boolean;
  /**
   * Startup reconciliation of resting orders (after the runtime's own): `open` are the deployment's open venue
   * orders. The strategy places the orders its state expects and the venue lacks, and says which open orders it
   * keeps (tracked from now on) and which it does not know (the runtime cancels those).
   */
  reconcile?(ctx: StrategyContext, open: readonly Readonly<Order>[]): StrategyReconcileResult;
  /** Why the strategy stopped itself (e.g. a grid's stop-loss), or null while it runs: the runtime alerts once. */
  selfStopReason?(): string | null;
}

/** What a strategy's startup reconciliation did and found. */
export interface StrategyReconcileResult {
  /** Open venue orders that are the strategy's (kept and tracked). */
  readonly kept: readonly Readonly<Order>[];
  /** Open venue orders the strategy does not know (the runtime cancels them). */
  readonly unknown: readonly Readonly<Order>[];
  /** One line per order placed again because the venue lacked it. */
  readonly replaced: readonly string[];
}

/** A cell of a statistics table or a figure of the summary: plain JSON values. */
export type StatValue = number | string | boolean | null;

/**
 * What a strategy publishes into a backtest result. Every part is optional; the reports render each generically
 * (the summary as label/value rows, tables as tables, series as a chart, price lines and markers on the candles).
 */
export interface StrategyStatistics {
  /** Headline figures, in display order: label -> value (shown in the CLI summary and the HTML report). */
  readonly summary?: Readonly<Record<string, StatValue>>;
  /** Named tables, e.g. one row per grid cycle. */
  readonly tables?: Readonly<
    Record<string, { readonly columns: readonly string[]; readonly rows: readonly (readonly StatValue[])[] }>
  >;
  /** Named time series (epoch ms), e.g. inventory over time; drawn under the price chart, synchronised with it. */
  readonly series?: Readonly<Record<string, { readonly time: readonly number[]; readonly value: readonly number[] }>>;
  /** Horizontal price lines drawn on the candles, e.g. the grid's levels. */
  readonly priceLines?: readonly { readonly price: number; readonly label: string }[];
  /** Markers on the candles at a time (and price), e.g. each completed grid cycle. */
  readonly markers?: readonly { readonly time: number; readonly price: number; readonly text: string }[];
}

/** A named, parameterised strategy that the registry, the CLI and the optimiser can build. */
export interface StrategyDefinition {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  readonly requires?: StrategyRequirements;
  /** Cross-parameter checks (e.g. fast < slow); throws ValidationError. */
  validate?(params: ParamValues): void;
  create(params: ParamValues): Strategy;
  /** The indicators the strategy trades on, as `indicators` specs (`sma:10`, `rsi:14`), drawn in the HTML report. */
  chartIndicators?(params: ParamValues): readonly string[];
  /**
   * Checks a venue and capital decide (tick size, minimum notional, the capital the whole strategy may tie up),
   * run when a deployment starts; throws ValidationError with a one-line message naming the parameter.
   */
  checkVenue?(
    params: ParamValues,
    venue: { readonly instruments: readonly Instrument[]; readonly capital: number },
  ): void;
}
