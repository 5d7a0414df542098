import type { ClosedTrade } from '../core/events.js';
import type { Position } from '../core/position.js';
import type { PortfolioView } from '../strategy/types.js';

/** Account settings of a portfolio. */
export interface PortfolioOptions {
  /** Starting cash in quote currency. */
  cash: number;
  /** Margin account: may short and borrow up to `leverage` times equity. */
  margin?: boolean;
  /** Leverage of a margin account (1 = no borrowing beyond equity). */
  leverage?: number;
  /** Contract multiplier per symbol index (defaults to 1). */
  multipliers?: readonly number[];
  strategyId?: string;
}

// A position whose size is below this fraction of the traded size is float residue of lot arithmetic: flat.
const QTY_EPS = 1e-9;

/**
 * Cash, positions and P&L of one account, indexed by symbol index so the backtest loop does array reads only.
 * Buying debits cash by the notional, selling credits it (a short in a margin account holds its proceeds as
 * cash); equity is cash plus the marked value of every position. Average-cost accounting: the average price
 * changes only when a position grows; reducing realises (price - average) x quantity.
 * Round trips are recorded as ClosedTrade when a position returns to zero (or flips).
 */
export class Portfolio implements PortfolioView {
  // A number from the start (a bare declaration starts as `undefined`): V8 then updates it in place on each
  // fill instead of allocating a heap number.
  cash = Number.NaN;
  readonly initialCash: number;
  readonly margin: boolean;
  readonly leverage: number;
  readonly symbols: readonly string[];
  readonly strategyId: string;
  /** Signed quantity per symbol. */
  readonly qty: Float64Array;
  readonly avg: Float64Array;
  /** Last marked price per symbol. */
  readonly last: Float64Array;
  readonly mult: Float64Array;
  readonly realizedBySymbol: Float64Array;
  readonly feesBySymbol: Float64Array;
  realizedPnl = 0;
  feesPaid = 0;
  /** Cash flows that are not fills (perpetual funding), also counted in cash and realizedPnl. */
  cashFlows = 0;
  /** Closed round trips, in closing order. */
  readonly trades: ClosedTrade[] = [];

  // Round-trip bookkeeping of the currently open trade per symbol.
  private readonly tOpenTime: Float64Array;
  private readonly tEntryQty: Float64Array;
  private readonly tEntryNotional: Float64Array;
  private readonly tExitQty: Float64Array;
  private readonly tExitNotional: Float64Array;
  private readonly tFees: Float64Array;
  private readonly tTag: (string | undefined)[];
  private readonly openList: Int32Array;
  private openCount = 0;
  private readonly index = new Map<string, number>();

  constructor(symbols: readonly string[], opts: PortfolioOptions) {
    const n = symbols.length;
    this.symbols = symbols;
    this.cash = opts.cash;
    this.initialCash = opts.cash;
    this.margin = opts.margin ?? false;
    this.leverage = opts.leverage ?? 1;
    this.strategyId = opts.strategyId ?? 'default';
    this.qty = new Float64Array(n);
    this.avg = new Float64Array(n);
    this.last = new Float64Array(n).fill(Number.NaN);
    this.mult = new Float64Array(n).fill(1);
    if (opts.multipliers) for (let i = 0; i < n; i++) this.mult[i] = opts.multipliers[i] ?? 1;
    this.realizedBySymbol = new Float64Array(n);
    this.feesBySymbol = new Float64Array(n);
    this.tOpenTime = new Float64Array(n);
    this.tEntryQty = new Float64Array(n);
    this.tEntryNotional = new Float64Array(n);
    this.tExitQty = new Float64Array(n);
    this.tExitNotional = new Float64Array(n);
    this.tFees = new Float64Array(n);
    this.tTag = new Array<string | undefined>(n).fill(undefined);
    this.openList = new Int32Array(n);
    for (let i = 0; i < n; i++) this.index.set(symbols[i], i);
  }

  /** Index of a symbol, -1 when unknown. */
  indexOf(symbol: string): number {
    return this.index.get(symbol) ?? -1;
  }

  /** Marks a symbol at `price` (the bar's close in a backtest). */
  mark(s: number, price: number): void {
    this.last[s] = price;
  }

  /** Cash plus the marked value of every open position. */
  equity(): number {
    let e = this.cash;
    const list = this.openList;
    for (let k = 0; k < this.openCount; k++) {
      const s = list[k];
      e += this.qty[s] * this.last[s] * this.mult[s];
    }
    return e;
  }

  /** Sum of |quantity x price x multiplier| over open positions. */
  grossExposure(): number {
    let g = 0;
    for (let k = 0; k < this.openCount; k++) {
      const s = this.openList[k];
      g += Math.abs(this.qty[s] * this.last[s] * this.mult[s]);
    }
    return g;
  }

  /** Margin held by open positions (gross exposure / leverage; a cash account holds none). */
  marginUsed(): number {
    return this.margin ? this.grossExposure() / this.leverage : 0;
  }

  /** Equity minus margin in use (margin account); cash (cash account). */
  freeMargin(): number {
    return this.margin ? this.equity() - this.marginUsed() : this.cash;
  }

  /** Number of symbols with a non-zero position. */
  get openPositions(): number {
    return this.openCount;
  }

  position(symbol: string): number {
    const s = this.index.get(symbol);
    return s === undefined ? 0 : this.qty[s];
  }

  averagePrice(symbol: string): number {
    const s = this.index.get(symbol);
    return s === undefined ? 0 : this.avg[s];
  }

  unrealizedPnl(symbol: string): number {
    const s = this.index.get(symbol);
    if (s === undefined || this.qty[s] === 0) return 0;
    return (this.last[s] - this.avg[s]) * this.qty[s] * this.mult[s];
  }

  /** Time the open round trip of symbol index `s` started (NaN when flat). */
  openedAt(s: number): number {
    return this.qty[s] === 0 ? Number.NaN : this.tOpenTime[s];
  }

  /** Entry tag of the open round trip of `s`. */
  entryTag(s: number): string | undefined {
    return this.tTag[s];
  }

  /** A snapshot of one position (allocates; for reports, events and strategies that ask). */
  snapshot(s: number): Position {
    return {
      symbol: this.symbols[s],
      strategyId: this.strategyId,
      quantity: this.qty[s],
      averagePrice: this.avg[s],
      realizedPnl: this.realizedBySymbol[s],
      openedAt: this.openedAt(s),
      fees: this.feesBySymbol[s],
    };
  }

  /**
   * Whether the account can pay for a fill: in a cash account a buy that grows a long needs cost + fee <= cash
   * and a sell may not go short; in a margin account the exposure-increasing part needs notional / leverage
   * + fee <= free margin. Reducing a position is always affordable.
   */
  canAfford(s: number, sideSign: number, quantity: number, price: number, fee: number): boolean {
    const q = this.qty[s];
    const reducing = q !== 0 && Math.sign(q) !== sideSign ? Math.min(quantity, Math.abs(q)) : 0;
    const increasing = quantity - reducing;
    if (increasing <= QTY_EPS * quantity) return true;
    const notional = increasing * price * this.mult[s];
    const feePart = (fee * increasing) / quantity;
    if (!this.margin) {
      if (sideSign < 0) return false;
      return notional + feePart <= this.cash * (1 + 1e-12);
    }
    return notional / this.leverage + feePart <= this.freeMargin() * (1 + 1e-12);
  }

  /**
   * Books one execution. `sideSign` is +1 buy / -1 sell. Returns the round trip it closed, if any.
   * `exitReason` labels a trade this fill closes; `entryTag` is kept for a trade it opens.
   */
  applyFill(
    s: number,
    sideSign: number,
    quantity: number,
    price: number,
    fee: number,
    time: number,
    exitReason: string,
    entryTag: string | undefined,
  ): ClosedTrade | null {
    const m = this.mult[s];
    this.cash -= sideSign * quantity * price * m + fee;
    this.feesPaid += fee;
    this.feesBySymbol[s] += fee;
    const q = this.qty[s];
    if (q === 0 || q > 0 === sideSign > 0) {
      this.grow(s, sideSign, quantity, price, fee, time, entryTag);
      return null;
    }
    const absQ = Math.abs(q);
    const closeQty = Math.min(quantity, absQ);
    const closeFee = (fee * closeQty) / quantity;
    const dir = q > 0 ? 1 : -1;
    const pnl = (price - this.avg[s]) * closeQty * dir * m;
    this.realizedPnl += pnl;
    this.realizedBySymbol[s] += pnl;
    this.tExitQty[s] += closeQty;
    this.tExitNotional[s] += price * closeQty;
    this.tFees[s] += closeFee;
    let rest = absQ - closeQty;
    if (rest <= QTY_EPS * absQ) rest = 0;
    if (rest > 0) {
      this.qty[s] = dir * rest;
      return null;
    }
    const trade = this.closeTrade(s, dir, time, exitReason);
    const flip = quantity - closeQty;
    if (flip > QTY_EPS * quantity) this.grow(s, sideSign, flip, price, fee - closeFee, time, entryTag);
    return trade;
  }

  /**
   * Books a cash flow of a position that is not a fill (a perpetual's funding payment: positive received, negative
   * paid) into cash and realised P&L of symbol index `s`.
   */
  bookCashFlow(s: number, amount: number): void {
    this.cash += amount;
    this.cashFlows += amount;
    this.realizedPnl += amount;
    this.realizedBySymbol[s] += amount;
  }

  private grow(
    s: number,
    sideSign: number,
    quantity: number,
    price: number,
    fee: number,
    time: number,
    tag: string | undefined,
  ): void {
    const q = this.qty[s];
    if (q === 0) {
      this.tOpenTime[s] = time;
      this.tEntryQty[s] = 0;
      this.tEntryNotional[s] = 0;
      this.tExitQty[s] = 0;
      this.tExitNotional[s] = 0;
      this.tFees[s] = 0;
      this.tTag[s] = tag;
      this.avg[s] = price;
      this.openList[this.openCount++] = s;
    } else {
      const absQ = Math.abs(q);
      this.avg[s] = (this.avg[s] * absQ + price * quantity) / (absQ + quantity);
    }
    this.qty[s] = q + sideSign * quantity;
    this.tEntryQty[s] += quantity;
    this.tEntryNotional[s] += price * quantity;
    this.tFees[s] += fee;
    if (Number.isNaN(this.last[s])) this.last[s] = price;
  }

  private closeTrade(s: number, dir: number, time: number, exitReason: string): ClosedTrade {
    this.qty[s] = 0;
    const list = this.openList;
    for (let k = 0; k < this.openCount; k++) {
      if (list[k] === s) {
        list[k] = list[--this.openCount];
        break;
      }
    }
    const qty = this.tEntryQty[s];
    const entryPrice = this.tEntryNotional[s] / qty;
    const exitPrice = this.tExitNotional[s] / this.tExitQty[s];
    const m = this.mult[s];
    const fees = this.tFees[s];
    const pnl = (exitPrice - entryPrice) * qty * dir * m - fees;
    const tag = this.tTag[s];
    const trade: ClosedTrade = {
      strategyId: this.strategyId,
      symbol: this.symbols[s],
      side: dir > 0 ? 'long' : 'short',
      entryTime: this.tOpenTime[s],
      entryPrice,
      exitTime: time,
      exitPrice,
      quantity: qty,
      fees,
      pnl,
      pnlPct: pnl / (entryPrice * qty * m),
      exitReason,
    };
    if (tag !== undefined) trade.entryTag = tag;
    this.trades.push(trade);
    return trade;
  }
}
