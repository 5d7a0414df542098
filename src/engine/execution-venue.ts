import type { ExactExecution, Liquidity } from '../core/fill.js';
import type { Order } from '../core/order.js';

/** The current bar of one symbol as the kernel sees it (a reused object; fields are overwritten each bar). */
/** Tag of the protective stop orders the live runtime keeps on the venue (RISK-3): the run spec's stop-loss. */
export const PROTECTIVE_STOP_TAG = 'protective_stop';

export interface BarLike {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * What an execution venue reports back to the kernel. In a backtest the simulated venue calls these
 * synchronously inside `submit`/`onMarketBar`; a live adapter bridge calls them when the broker's messages
 * arrive.
 */
export interface VenueListener {
  /** The venue accepted a resting (limit/stop) order. */
  onAccepted(order: Order, time: number): void;
  /**
   * A (partial) execution. `fee` is in quote currency. `booked` is the quantity the account really received when
   * the venue took its fee in the asset bought (spot: a buy of 0.01 BTC credits 0.00999); the order advances by
   * `quantity`, the position by `booked` (default `quantity`). `exact` (paper and live: the bridge) is the same
   * execution in exact decimals: the order's running sums and the account are then booked from it, not the doubles.
   */
  onFill(
    order: Order,
    price: number,
    quantity: number,
    fee: number,
    liquidity: Liquidity,
    time: number,
    booked?: number,
    exact?: ExactExecution,
  ): void;
  onCancelled(order: Order, reason: string, time: number): void;
  onRejected(order: Order, reason: string, time: number): void;
  /**
   * Why this execution cannot happen (`INSUFFICIENT_FUNDS`: cost plus fee above available cash or free margin;
   * `REDUCE_ONLY`: it would grow a position), or null when it can. Simulated venues ask before every fill and
   * reject/cancel the order with that reason; a broker checks this itself.
   */
  checkFill(order: Order, price: number, quantity: number, fee: number): string | null;
}

/**
 * The execution venue port of the kernel: the only thing the ExecutionEngine talks to. The backtest uses the
 * SimulatedVenue, paper trading the same simulated venue on live bars, live trading a bridge over a core
 * `Venue` adapter.
 */
export interface ExecutionVenue {
  readonly id: string;
  /** Called once by the engine before the first order; `symbols` fixes the symbol index order. */
  attach(listener: VenueListener, symbols: readonly string[]): void;
  /**
   * Places an order. `atPrice` asks a simulated venue to execute a market order now at that price (exits
   * evaluated against the current bar, end-of-data closes); a live bridge ignores it and sends a market order.
   */
  submit(order: Order, atPrice?: number): void;
  cancel(order: Order, reason: string): void;
  /**
   * Simulated venues match resting orders against each new bar of a symbol. Absent on live bridges, whose
   * fills arrive from the broker.
   */
  onMarketBar?(symbolIndex: number, bar: BarLike): void;
  /** Simulated venues: true when no order rests at the symbol, so a new bar would match nothing. */
  idle?(symbolIndex: number): boolean;
  /**
   * Simulated venues, while `idle`: `count` bars of the symbol passed, the latest being `bar` — what `count` calls of
   * `onMarketBar` would do when nothing rests (the backtest's sparse loop skips bars on which nothing can happen).
   */
  skipBars?(symbolIndex: number, bar: BarLike, count: number): void;
}
