import type { ClosedTrade } from './events.js';
import type { Fill } from './fill.js';
import type { Instrument } from './instrument.js';
import type { OrderIntent, OrderSide, OrderType } from './order.js';
import type { RiskLimitError } from './errors.js';

/** Which mode the kernel runs in. A strategy never sees this; the risk engine and runtime do. */
export type EngineMode = 'backtest' | 'paper' | 'live';

/**
 * Read-only portfolio and market state the risk engine consults. The engine keeps one instance and updates it
 * in place, so checks allocate nothing.
 */
export interface RiskView {
  readonly mode: EngineMode;
  /** Current engine time (simulated in a backtest), epoch ms. */
  now(): number;
  equity(): number;
  cash(): number;
  /** Equity minus margin in use (cash accounts: cash). */
  freeMargin(): number;
  /** Sum over symbols of |quantity x price x multiplier|. */
  grossExposure(): number;
  /** Signed position quantity (0 when flat). */
  positionQuantity(symbol: string): number;
  positionAveragePrice(symbol: string): number;
  /** Notional currently held by one strategy (for its capital cap). */
  strategyExposure(strategyId: string): number;
  lastPrice(symbol: string): number;
  /** ATR(14) of the symbol's primary timeframe; NaN before warm-up. */
  atr(symbol: string): number;
  instrument(symbol: string): Instrument;
  /** Count of open orders of a strategy (all symbols when symbol omitted). */
  openOrderCount(strategyId?: string, symbol?: string): number;
  /** Whether market data for the symbol is stale (live only; always false in a backtest). */
  isStale(symbol: string): boolean;
}

/** What a risk engine may ask the kernel to do: cancel and flatten through the execution engine, never a venue. */
export interface RiskActions {
  cancelAllOrders(reason: string): void;
  /** Sends reduce-only market orders closing every position (or one symbol's). */
  flattenAll(reason: string, symbol?: string): void;
  /** Cancels one order (stale-order timers). */
  cancelOrder(orderId: string, reason: string): void;
}

/**
 * The hook the kernel calls on the order path. The backtest kernel uses a pass-through hook when no rule is
 * configured; `RiskEngine` in src/risk is the real one. `check` is pure and synchronous.
 */
export interface RiskHook {
  /** null = accepted. Reduce-only intents are never blocked by exposure limits. */
  check(intent: OrderIntent, view: RiskView): RiskLimitError | null;
  /**
   * The check's answer without recording anything (no counters, rate windows, duplicate marks or events): the
   * order preview. Absent: the hook cannot preview, and a preview must say so rather than guess.
   */
  preview?(intent: OrderIntent, view: RiskView): RiskLimitError | null;
  afterFill(fill: Fill, view: RiskView): void;
  onTradeClosed(trade: ClosedTrade, view: RiskView): void;
  /** Called on every equity update (each bar in a backtest) when `wantsEquityUpdates` is true. */
  onEquity(view: RiskView): void;
  readonly wantsEquityUpdates: boolean;
  /** Gives the hook the kernel's actions (cancel, flatten). Called once when the engine starts. */
  attach(actions: RiskActions): void;
  /** Starts the stale-order timer of a resting order (the kernel calls it when a limit order is accepted). */
  trackOrder?(order: RiskTrackedOrder): boolean;
  /** Stops an order's stale-order timer (filled, cancelled, rejected or expired). */
  untrackOrder?(orderId: string): void;
  /**
   * Engages the hook's kill switch: blocks new exposure and asks the kernel (RiskActions) to cancel every order
   * and flatten every position. The kernel's `killSwitch` calls it, so there is one kill-switch state.
   */
  killSwitch?(actor: string, reason: string, now?: number): { triggeredAt: number };
  /** Clears the kill switch; false when it was not engaged. */
  recover?(actor: string, now?: number): boolean;
  /** Whether the kill switch or a halt blocks new exposure now. */
  isHalted?(now?: number): boolean;
  /** The engaged kill switch, or null. */
  killSwitchState?(): { at: number; actor: string; reason: string } | null;
}

/** What a stale-order timer needs of an order (an `Order` satisfies it). */
export interface RiskTrackedOrder {
  id: string;
  strategyId: string;
  side: OrderSide;
  type: OrderType;
  createdAt: number;
  reduceOnly?: boolean;
}

/** A hook that accepts everything: a plain backtest measures the strategy alone. */
export const PASS_THROUGH_RISK: RiskHook = {
  check: () => null,
  afterFill: () => {},
  onTradeClosed: () => {},
  onEquity: () => {},
  wantsEquityUpdates: false,
  attach: () => {},
};
