import type { ClosedTrade, ClosedTradeExact } from '../core/events.js';
import type { ExactExecution } from '../core/fill.js';
import type { Position, PositionExact } from '../core/position.js';
import { decimalText, type Exact, exact, type Money, type Quantity } from '../core/money.js';
import type { PortfolioView } from '../strategy/types.js';
import { ExactLedger } from './exact-ledger.js';
import { ExactTrips } from './exact-trades.js';
import { StringColumn } from './string-column.js';

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
  /**
   * The exact ledger's role (docs/money.md): `authority` (paper and live) books every fill in decimals and the
   * doubles are read from it after each fill, so they never accumulate float error; `shadow` (a backtest) keeps it
   * beside the doubles to report any divergence; `off` keeps none. Default `shadow`.
   */
  exact?: 'authority' | 'shadow' | 'off';
}

// Numbers kept per closed trade: entry time and price, exit time and price, quantity, fees, pnl, pnlPct.
const TRADE_FIELDS = 8;

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
  /** The same fills booked in exact decimals (null when `exact: 'off'`). */
  readonly exact: ExactLedger | null;
  private readonly exactIsAuthority: boolean;
  /** The round trips in exact decimals (paper and live: the exact ledger is the account), else null. */
  private readonly trips: ExactTrips | null;
  /** Round trips closed (rows of the trade columns). */
  tradeCount = 0;

  // Closed round trips in columns, so closing one allocates nothing during a run; `trades` builds the objects.
  private trSymbol: Int32Array = new Int32Array(64);
  private trDir: Int8Array = new Int8Array(64);
  private trNum: Float64Array = new Float64Array(64 * TRADE_FIELDS);
  private readonly trReason = new StringColumn();
  private readonly trTag = new StringColumn();
  private readonly trExact: (ClosedTradeExact | undefined)[] = [];
  private readonly built: ClosedTrade[] = [];

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
    const role = opts.exact ?? 'shadow';
    this.exactIsAuthority = role === 'authority';
    const multipliers: Exact[] = [];
    for (let i = 0; i < n; i++) multipliers.push(exact(this.mult[i], `${symbols[i]} multiplier`));
    this.exact = role === 'off' ? null : new ExactLedger(n, exact(opts.cash, 'starting cash'), multipliers);
    this.trips = this.exactIsAuthority ? new ExactTrips(n, multipliers) : null;
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
      ...(this.exactIsAuthority && this.exact !== null ? { exact: this.exactPosition(this.exact, s) } : {}),
    };
  }

  // The booked position as decimal text; a flat position has no average (the double reads 0 there too).
  private exactPosition(x: ExactLedger, s: number): PositionExact {
    return {
      quantity: decimalText(x.qty[s]),
      averagePrice: x.qty[s].isZero() ? '0' : decimalText(x.avg[s]),
      realizedPnl: decimalText(x.realizedBySymbol[s]),
      fees: decimalText(x.feesBySymbol[s]),
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
    exactFill?: ExactExecution,
  ): ClosedTrade | null {
    const row = this.book(s, sideSign, quantity, price, fee, time, exitReason, entryTag, exactFill);
    return row < 0 ? null : this.tradeAt(row);
  }

  /** Closed round trips, in closing order (the same array each time, extended as trades close). */
  get trades(): ClosedTrade[] {
    if (this.built.length < this.tradeCount) this.tradeAt(this.tradeCount - 1);
    return this.built;
  }

  /** The closed trade of row `row` (built on first request, with every row before it). */
  tradeAt(row: number): ClosedTrade {
    const built = this.built;
    const num = this.trNum;
    for (let k = built.length; k <= row; k++) {
      const o = k * TRADE_FIELDS;
      const dir = this.trDir[k];
      const tag = this.trTag.get(k);
      const trade: ClosedTrade = {
        strategyId: this.strategyId,
        symbol: this.symbols[this.trSymbol[k]],
        side: dir > 0 ? 'long' : 'short',
        entryTime: num[o],
        entryPrice: num[o + 1],
        exitTime: num[o + 2],
        exitPrice: num[o + 3],
        quantity: num[o + 4],
        fees: num[o + 5],
        pnl: num[o + 6],
        pnlPct: num[o + 7],
        exitReason: this.trReason.get(k) ?? '',
      };
      if (tag !== undefined) trade.entryTag = tag;
      const ex = this.trExact[k];
      if (ex !== undefined) trade.exact = ex;
      built.push(trade);
    }
    return built[row];
  }

  /**
   * `applyFill` without building the trade object: the row of the round trip the fill closed (see `tradeAt`), or
   * -1 when it closed none. `exactFill` (paper and live) is the execution as exact decimals: the exact ledger books
   * its credited quantity, price and fee rather than reading the doubles back.
   */
  book(
    s: number,
    sideSign: number,
    quantity: number,
    price: number,
    fee: number,
    time: number,
    exitReason: string,
    entryTag: string | undefined,
    exactFill?: ExactExecution,
  ): number {
    const x = this.exact;
    if (x === null) return this.bookDouble(s, sideSign, quantity, price, fee, time, exitReason, entryTag);
    // Without exact amounts the double a fill arrives in is read as the decimal it stands for (15 significant
    // digits, docs/money.md).
    const xq = exactFill?.booked ?? exact(quantity, 'fill quantity');
    const xp = exactFill?.price ?? exact(price, 'fill price');
    const xf = exactFill?.fee ?? exact(fee, 'fee');
    const trips = this.trips;
    const qBefore = this.qty[s];
    const held = x.qty[s].abs();
    const row = this.bookDouble(s, sideSign, quantity, price, fee, time, exitReason, entryTag);
    if (trips !== null) this.bookTrip(trips, s, sideSign, qBefore, row, xq, xp, xf, held);
    x.applyFill(s, sideSign > 0 ? 1 : -1, xq, xp, xf);
    if (this.exactIsAuthority) this.readExact(x, s);
    return row;
  }

  // The same step of the round trip in decimals, as the double bookkeeping just classified it (`qBefore`: the
  // position before the fill; `row`: the trip it closed, or -1). A closed trip's doubles become its exact readings.
  private bookTrip(
    trips: ExactTrips,
    s: number,
    sideSign: number,
    qBefore: number,
    row: number,
    quantity: Quantity,
    price: Money,
    fee: Money,
    held: Quantity,
  ): void {
    if (qBefore === 0 || qBefore > 0 === sideSign > 0) {
      if (qBefore === 0) trips.start(s);
      trips.grow(s, quantity, price, fee);
      return;
    }
    const { rest, restFee } = trips.reduce(s, quantity, price, fee, held);
    if (row < 0) return;
    const closed = trips.close(s, qBefore > 0 ? 1 : -1);
    if (closed !== undefined) {
      this.trExact[row] = closed;
      // The percentage is a ratio, not an amount: from the readings, with no second division in decimals.
      this.writeTradeAmounts(
        row,
        Number(closed.entryPrice),
        Number(closed.exitPrice),
        Number(closed.quantity),
        Number(closed.fees),
        Number(closed.pnl),
        this.mult[s],
      );
    }
    // Flipped: the rest of the fill opens the next trip at the fill price.
    if (this.qty[s] !== 0) {
      trips.start(s);
      trips.grow(s, rest, price, restFee);
    }
  }

  // Paper and live: the account is the exact ledger; the doubles are its nearest readings, not running sums.
  private readExact(x: ExactLedger, s: number): void {
    this.cash = x.cash.toNumber();
    this.realizedPnl = x.realizedPnl.toNumber();
    this.feesPaid = x.feesPaid.toNumber();
    this.realizedBySymbol[s] = x.realizedBySymbol[s].toNumber();
    this.feesBySymbol[s] = x.feesBySymbol[s].toNumber();
    if (this.qty[s] !== 0) {
      this.qty[s] = x.qty[s].toNumber();
      this.avg[s] = x.avg[s].toNumber();
    }
  }

  // The double accounting: the whole of it in a backtest, the trade bookkeeping under an exact authority.
  private bookDouble(
    s: number,
    sideSign: number,
    quantity: number,
    price: number,
    fee: number,
    time: number,
    exitReason: string,
    entryTag: string | undefined,
  ): number {
    const m = this.mult[s];
    this.cash -= sideSign * quantity * price * m + fee;
    this.feesPaid += fee;
    this.feesBySymbol[s] += fee;
    const q = this.qty[s];
    if (q === 0 || q > 0 === sideSign > 0) {
      this.grow(s, sideSign, quantity, price, fee, time, entryTag);
      return -1;
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
      return -1;
    }
    const row = this.closeTrade(s, dir, time, exitReason);
    const flip = quantity - closeQty;
    if (flip > QTY_EPS * quantity) this.grow(s, sideSign, flip, price, fee - closeFee, time, entryTag);
    return row;
  }

  /**
   * Books a cash flow of a position that is not a fill (a perpetual's funding payment: positive received, negative
   * paid) into cash and realised P&L of symbol index `s`.
   */
  bookCashFlow(s: number, amount: number): void {
    this.cashFlows += amount;
    const x = this.exact;
    if (x !== null) x.applyCashFlow(s, exact(amount, 'cash flow'));
    if (x !== null && this.exactIsAuthority) {
      this.readExact(x, s);
      return;
    }
    this.cash += amount;
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

  // Ends the open round trip of `s` and records it in the trade columns; returns its row.
  private closeTrade(s: number, dir: number, time: number, exitReason: string): number {
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
    const row = this.tradeCount;
    if (row === this.trSymbol.length) this.growTrades();
    const o = row * TRADE_FIELDS;
    this.trNum[o] = this.tOpenTime[s];
    this.trNum[o + 2] = time;
    this.writeTradeAmounts(row, entryPrice, exitPrice, qty, fees, pnl, m);
    this.trSymbol[row] = s;
    this.trDir[row] = dir > 0 ? 1 : -1;
    this.trReason.push(exitReason);
    this.trTag.push(this.tTag[s]);
    this.tradeCount = row + 1;
    return row;
  }

  // The amounts of trade row `row` and its P&L percentage (of the entry notional at multiplier `m`): the one home of
  // that layout for the double bookkeeping and for the exact readings that replace it on paper and live.
  private writeTradeAmounts(
    row: number,
    entryPrice: number,
    exitPrice: number,
    qty: number,
    fees: number,
    pnl: number,
    m: number,
  ): void {
    const o = row * TRADE_FIELDS;
    const num = this.trNum;
    num[o + 1] = entryPrice;
    num[o + 3] = exitPrice;
    num[o + 4] = qty;
    num[o + 5] = fees;
    num[o + 6] = pnl;
    num[o + 7] = pnl / (entryPrice * qty * m);
  }

  private growTrades(): void {
    const cap = this.trSymbol.length * 2;
    const sym = new Int32Array(cap);
    sym.set(this.trSymbol);
    this.trSymbol = sym;
    const dir = new Int8Array(cap);
    dir.set(this.trDir);
    this.trDir = dir;
    const num = new Float64Array(cap * TRADE_FIELDS);
    num.set(this.trNum);
    this.trNum = num;
  }
}
