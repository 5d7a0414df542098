import type { Liquidity } from '../core/fill.js';
import { type Instrument, roundToStep } from '../core/instrument.js';
import type { Order } from '../core/order.js';
import type { Clock } from '../engine/clock.js';
import type { BarLike, ExecutionVenue, VenueListener } from '../engine/execution-venue.js';
import { type FeeModel, PercentFeeModel } from './fee-model.js';
import {
  BarFillModel,
  type FillModel,
  NO_PARTICIPATION_CAP,
  type ParticipationModel,
  type RestingState,
} from './fill-model.js';
import { NO_SLIPPAGE, type SlippageModel } from './slippage-model.js';

/** Delay before an order can execute: whole bars after the next one, and/or milliseconds after submission. */
export interface LatencySpec {
  bars?: number;
  ms?: number;
}

/** Reality models of a simulated venue; every one optional. */
export interface SimulatedVenueOptions {
  clock: Clock;
  fill?: FillModel;
  fees?: FeeModel;
  slippage?: SlippageModel;
  participation?: ParticipationModel;
  latency?: LatencySpec;
  /**
   * `next_open` (default): a market order executes at the next bar's open; `close`: at the signal bar's close;
   * `now` (a live venue whose latest bar is the current quote): at once on the latest bar by the fill model's market
   * price and the participation cap, the remainder resting for later bars like any market order. Live only: on
   * historical bars it would fill at the open of a bar whose close the strategy has already seen.
   */
  marketFill?: 'next_open' | 'close' | 'now';
  /** Instruments by symbol, for lot rounding of partial fills. */
  instruments?: readonly Instrument[];
  id?: string;
  /**
   * A buy pays its fee in the asset bought, as Binance spot does: the position grows by what the account is
   * credited (quantity less fee), rounded down to whole lots exactly as the live bridge books it, and the sub-lot
   * rest counts with the fee (docs/live.md, "Parity with the backtest"). Default: fees in quote currency.
   */
  feeInBase?: boolean;
}

/** An order waiting at the venue. */
class Pending {
  triggered = false;
  dead = false;
  constructor(
    readonly order: Order,
    /** The symbol's bar count at submission: executable from bar count `after + 1 + latency bars`. */
    readonly after: number,
    readonly earliest: number,
  ) {}
}

/**
 * The backtest's (and paper trading's) execution venue. Market orders execute at the next bar's open, resting
 * orders when a bar trades through them (gaps at the open), partial fills by the participation cap, prices
 * adjusted by the slippage model (taker fills only), fees by the fee model. Before each fill it asks the
 * account (VenueListener.checkFill) and rejects an order it cannot pay for. Synchronous: all reports happen
 * inside `submit`, `cancel` and `onMarketBar`.
 */
export class SimulatedVenue implements ExecutionVenue {
  readonly id: string;
  private listener: VenueListener | null = null;
  private pending: Pending[][] = [];
  private bars: (BarLike | null)[] = [];
  private barCount: Int32Array = new Int32Array(0);
  private usedVolume: Float64Array = new Float64Array(0);
  /** Bar count whose executions `usedVolume` holds (a `now` market order adds to the current bar's). */
  private usedAt: Int32Array = new Int32Array(0);
  private lots: Float64Array = new Float64Array(0);
  private mults: Float64Array = new Float64Array(0);
  private readonly index = new Map<string, number>();
  private firstSymbol: string | undefined;
  private readonly clock: Clock;
  private readonly fill: FillModel;
  private readonly fees: FeeModel;
  private readonly slippage: SlippageModel;
  private readonly participation: ParticipationModel;
  private readonly latencyBars: number;
  private readonly latencyMs: number;
  private readonly marketAtClose: boolean;
  private readonly marketNow: boolean;
  private readonly instruments: readonly Instrument[];
  private readonly capped: boolean;
  private readonly feeInBase: boolean;
  /** Fees charged over the run. */
  totalFees = 0;

  constructor(opts: SimulatedVenueOptions) {
    this.id = opts.id ?? 'simulated';
    this.clock = opts.clock;
    this.fill = opts.fill ?? new BarFillModel();
    this.fees = opts.fees ?? new PercentFeeModel();
    this.slippage = opts.slippage ?? NO_SLIPPAGE;
    this.participation = opts.participation ?? NO_PARTICIPATION_CAP;
    this.capped = this.participation !== NO_PARTICIPATION_CAP;
    this.latencyBars = Math.max(0, Math.floor(opts.latency?.bars ?? 0));
    this.latencyMs = Math.max(0, opts.latency?.ms ?? 0);
    this.marketAtClose = opts.marketFill === 'close';
    this.marketNow = opts.marketFill === 'now';
    this.instruments = opts.instruments ?? [];
    this.feeInBase = opts.feeInBase === true;
  }

  attach(listener: VenueListener, symbols: readonly string[]): void {
    this.listener = listener;
    const n = symbols.length;
    this.pending = symbols.map(() => []);
    this.bars = new Array<BarLike | null>(n).fill(null);
    this.barCount = new Int32Array(n);
    this.usedVolume = new Float64Array(n);
    this.usedAt = new Int32Array(n);
    this.lots = new Float64Array(n);
    this.mults = new Float64Array(n);
    this.firstSymbol = symbols[0];
    symbols.forEach((s, i) => {
      this.index.set(s, i);
      const inst = this.instruments.find((x) => x.symbol === s);
      this.lots[i] = inst?.lotSize ?? 0;
      this.mults[i] = inst?.multiplier ?? 1;
    });
  }

  submit(order: Order, atPrice?: number): void {
    const l = this.listener!;
    const s = order.symbol === this.firstSymbol ? 0 : this.index.get(order.symbol);
    const now = this.clock.now();
    if (s === undefined) {
      l.onRejected(order, `UNKNOWN_SYMBOL ${order.symbol}`, now);
      return;
    }
    if (atPrice !== undefined) {
      this.execute(order, s, atPrice, order.quantity - order.filledQuantity, 'taker', this.bars[s], true);
      return;
    }
    const bar = this.bars[s];
    if (order.type === 'market' && this.marketAtClose && bar !== null) {
      this.execute(order, s, bar.close, order.quantity, 'taker', bar, true);
      return;
    }
    if (order.type === 'market' && this.marketNow && bar !== null && this.latencyBars === 0 && this.latencyMs === 0) {
      this.submitNow(order, s, bar);
      return;
    }
    // A live venue's updates carry the exchange's clock, which may lag ours: without latency, any later one executes.
    const earliest = this.marketNow && this.latencyMs === 0 ? Number.NEGATIVE_INFINITY : now + this.latencyMs;
    this.pending[s].push(new Pending(order, this.barCount[s], earliest));
    if (order.type !== 'market') l.onAccepted(order, now);
  }

  // A `now` market order: executable on the current bar (sharing its participation room) and every later one.
  private submitNow(order: Order, s: number, bar: BarLike): void {
    const count = this.barCount[s];
    if (this.usedAt[s] !== count) {
      this.usedAt[s] = count;
      this.usedVolume[s] = 0;
    }
    const p = new Pending(order, count - 1, Number.NEGATIVE_INFINITY);
    this.matchAt(p, s, bar, this.fill.marketPrice(order, bar));
    if (!p.dead) this.pending[s].push(p);
  }

  /** The matching state of a resting order (a stop-limit's trigger), for a live venue to save and restore. */
  resting(order: Order): RestingState | undefined {
    const s = this.index.get(order.symbol);
    if (s === undefined) return undefined;
    for (const p of this.pending[s]) if (p.order === order && !p.dead) return p;
    return undefined;
  }

  cancel(order: Order, reason: string): void {
    const s = this.index.get(order.symbol);
    if (s === undefined) return;
    const list = this.pending[s];
    for (let k = 0; k < list.length; k++) {
      const p = list[k];
      if (p.order === order && !p.dead) {
        p.dead = true;
        this.listener!.onCancelled(order, reason, this.clock.now());
        return;
      }
    }
  }

  /** Number of orders resting at the venue (all symbols). */
  get pendingCount(): number {
    let n = 0;
    for (const list of this.pending) for (const p of list) if (!p.dead) n++;
    return n;
  }

  // Called for every bar: kept small so the kernel's call inlines; matching is out of line.
  onMarketBar(s: number, bar: BarLike): void {
    // The kernel passes the same reused bar object every time: store it only when it changes.
    if (this.bars[s] !== bar) this.bars[s] = bar;
    const count = ++this.barCount[s];
    if (this.pending[s].length !== 0) this.matchBar(s, bar, count);
  }

  idle(s: number): boolean {
    return this.pending[s].length === 0;
  }

  skipBars(s: number, bar: BarLike, count: number): void {
    if (this.pending[s].length !== 0) throw new Error(`skipBars: orders rest at symbol ${s}`);
    if (this.bars[s] !== bar) this.bars[s] = bar;
    this.barCount[s] += count;
  }

  // Matches the orders resting at symbol `s` against its new bar (the `count`-th).
  private matchBar(s: number, bar: BarLike, count: number): void {
    const list = this.pending[s];
    const n = list.length;
    this.usedVolume[s] = 0;
    this.usedAt[s] = count;
    let dead = 0;
    for (let k = 0; k < n; k++) {
      const p = list[k];
      if (p.dead) {
        dead++;
        continue;
      }
      if (count <= p.after + this.latencyBars || bar.time < p.earliest) continue;
      const o = p.order;
      // The common case (a resting order the bar does not reach) stays in this loop, without a call.
      const price = o.type === 'market' ? this.fill.marketPrice(o, bar) : this.fill.restingPrice(o, bar, p);
      if (Number.isNaN(price) && o.timeInForce !== 'IOC' && o.timeInForce !== 'FOK') continue;
      this.matchAt(p, s, bar, price);
      if (p.dead) dead++;
    }
    if (dead === list.length) {
      while (list.length > 0) list.pop();
    } else if (dead > 0) {
      let w = 0;
      for (let k = 0; k < list.length; k++) if (!list[k].dead) list[w++] = list[k];
      list.length = w;
    }
  }

  // Executes one order at `price` (NaN: the bar does not reach it), then applies the immediate-or-cancel rule.
  private matchAt(p: Pending, s: number, bar: BarLike, price: number): void {
    const o = p.order;
    if (!Number.isNaN(price)) {
      const liquidity: Liquidity = o.type === 'limit' || o.type === 'stop_limit' ? 'maker' : 'taker';
      let qty = o.quantity - o.filledQuantity;
      if (this.capped) {
        const room = this.participation.maxQuantity(bar) - this.usedVolume[s];
        if (room < qty) qty = this.lots[s] > 0 ? roundToStep(Math.max(0, room), this.lots[s], 'down') : room;
      }
      if (qty > 0) {
        this.usedVolume[s] += qty;
        this.execute(o, s, price, qty, liquidity, bar, false);
        if (o.filledQuantity >= o.quantity * (1 - 1e-12) || o.status === 'rejected' || o.status === 'cancelled') {
          p.dead = true;
        }
      }
    }
    if (!p.dead && (o.timeInForce === 'IOC' || o.timeInForce === 'FOK')) {
      // Immediate-or-cancel orders get one executable bar.
      p.dead = true;
      this.listener!.onCancelled(o, o.timeInForce, bar.time);
    }
  }

  private execute(
    o: Order,
    s: number,
    price: number,
    qty: number,
    liquidity: Liquidity,
    bar: BarLike | null,
    whole: boolean,
  ): void {
    const l = this.listener!;
    const time = this.clock.now();
    const px = liquidity === 'taker' && bar !== null ? this.slippage.apply(o.side, price, qty, bar) : price;
    let fee = this.fees.fee(px * qty * this.mults[s], liquidity);
    let booked = qty;
    if (this.feeInBase && o.side === 'buy') {
      // The fee in the asset bought (the fee model's rate on the quantity), booked in whole lots like the bridge.
      const credited = Math.max(0, qty - this.fees.fee(qty, liquidity));
      const lot = this.lots[s];
      booked = lot > 0 ? Number((Math.floor(credited / lot + 1e-9) * lot).toFixed(12)) : credited;
      fee = (qty - booked) * px * this.mults[s];
    }
    const reason = l.checkFill(o, px, qty, fee);
    if (reason !== null) {
      l.onRejected(o, reason, time);
      return;
    }
    this.totalFees += fee;
    l.onFill(o, px, qty, fee, liquidity, time, booked);
    if (whole && o.filledQuantity < o.quantity * (1 - 1e-12)) l.onCancelled(o, 'UNFILLED_REMAINDER', time);
  }
}
