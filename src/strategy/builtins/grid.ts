import type { Fill } from '../../core/fill.js';
import { isTerminal, type Order } from '../../core/order.js';
import type {
  StatValue,
  Strategy,
  StrategyContext,
  StrategyDefinition,
  StrategyReconcileResult,
  StrategyStatistics,
} from '../types.js';
import {
  checkGridConfig,
  checkGridForVenue,
  GRID_PARAMS,
  type GridConfig,
  gridAllocation,
  gridConfig,
  gridLevelQuantities,
  gridLevels,
} from './grid-config.js';

export { gridLevels } from './grid-config.js';

/** One completed buy-low/sell-high cycle of a grid. */
export interface GridCycle {
  buyLevel: number;
  buyPrice: number;
  sellPrice: number;
  quantity: number;
  /** (sell - buy) x quantity minus both fees. */
  profit: number;
  /** Time of the sell that completed the cycle (epoch ms). */
  time: number;
  /** Time of the buy the cycle started with (epoch ms); absent in state saved before it was kept. */
  openedAt?: number;
}

/** A pause of the grid: when, why, and when it resumed (null while still paused). */
export interface GridPause {
  time: number;
  reason: string;
  resumedAt: number | null;
}

/** Most points a statistics time series keeps (evenly thinned, last point kept), so long runs stay small. */
const MAX_SERIES_POINTS = 2000;

/** Keeps at most `max` evenly spaced points of parallel arrays, always the last one. */
function thin(time: readonly number[], value: readonly number[], max: number): { time: number[]; value: number[] } {
  const n = time.length;
  if (n <= max) return { time: [...time], value: [...value] };
  const step = Math.ceil(n / max);
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < n; i += step) {
    t.push(time[i]);
    v.push(value[i]);
  }
  if (t[t.length - 1] !== time[n - 1]) {
    t.push(time[n - 1]);
    v.push(value[n - 1]);
  }
  return { time: t, value: v };
}

/** One resting order of the grid, keyed by the client order id the grid gave it (`g<level><b|s><seq>`). */
export interface GridOrder {
  key: string;
  level: number;
  side: 'buy' | 'sell';
  /** Quantity asked. */
  quantity: number;
  /** Quantity still resting. */
  open: number;
  /** The order's id in this run ('' for an order restored from state and not yet seen on the venue). */
  id: string;
  /** A cancel was asked (pause, stop): no longer counted as resting when the grid is put back. */
  cancelling?: boolean;
}

interface GridSnapshot {
  cycles: GridCycle[];
  boughtAt: { price: number; feePerUnit: number; qty: number; time?: number; gross?: number }[];
  paused: boolean;
  pauses: GridPause[];
  stoppedOut: boolean;
  stopReason?: string | null;
  started?: boolean;
  levels?: number[];
  orders?: GridOrder[];
  seq?: number;
  pending?: { level: number; side: 'buy' | 'sell'; quantity: number }[];
  quantities?: number[] | null;
  allocation?: number;
  buyFills?: number[];
  sellFills?: number[];
}

const EPS = 1e-12;

/** A quantity scaled by a ratio, without the float noise of the division (12 decimals). */
const roundQty = (q: number): number => Number(q.toFixed(12));

/**
 * Spot grid (long inventory): a buy limit rests at every level below the price; each executed buy (or part of
 * one) is answered by a sell limit one level up for the executed quantity; each executed sell by a buy limit
 * one level down. Every sell that closes a buy completes a cycle whose profit is recorded. `pause()` cancels
 * the resting orders and keeps the inventory; `resume()` puts them back. A close at or below `stopLoss` (at or
 * above `takeProfit`) cancels all, closes the inventory and stops the grid. Every order carries a client order id
 * the grid chose (`g<level><b|s><seq>`), kept in its state, so a restarted grid knows its orders on the venue.
 */
export class GridStrategy implements Strategy {
  readonly levels: number[];
  readonly cycles: GridCycle[] = [];
  paused = false;
  stoppedOut = false;
  /** Every pause, with its reason. */
  readonly pauses: GridPause[] = [];
  /** The grid's resting orders by key. */
  private readonly orders = new Map<string, GridOrder>();
  private seq = 0;
  /** Counter-orders the order path refused (order budget, a halt): placed again on the next bars, none lost. */
  private pending: { level: number; side: 'buy' | 'sell'; quantity: number }[] = [];
  /** Why the grid stopped itself (stop-loss, take-profit), null while it runs. */
  private stopReason: string | null = null;
  /**
   * Buy price, fee per unit, quantity held and time of the first buy of the inventory at each level; `gross` is what
   * the venue executed for it (more than held when a buy's fee is taken in the base asset): the buy answering its
   * sale is that size, so the grid does not shrink by a fee every cycle.
   */
  private readonly boughtAt: { price: number; feePerUnit: number; qty: number; time: number; gross: number }[];
  private started = false;
  /** Fills per level, buys and sells (parts of an order each count). */
  private readonly buyFills: number[];
  private readonly sellFills: number[];
  /** Base quantity of the buy at each level, fixed when the grid starts; null: the run's stake at each placement. */
  private quantities: number[] | null = null;
  /** Capital the whole grid needs when every buy level is filled (quote currency); 0 until the grid starts. */
  private allocation = 0;
  /** Per bar: time, inventory, unrealised P&L of the inventory, capital in use (inventory cost + resting buys). */
  private readonly seriesTime: number[] = [];
  private readonly seriesInventory: number[] = [];
  private readonly seriesUnrealised: number[] = [];
  private readonly seriesCapital: number[] = [];
  private maxCapital = 0;
  /** Cost of the inventory held, and the quote the resting buys would spend: kept as fills and orders change. */
  private inventoryCost = 0;
  private restingBuyCost = 0;

  constructor(private readonly config: GridConfig) {
    this.levels = gridLevels(config.lower, config.upper, config.levels, config.spacing);
    this.boughtAt = this.levels.map(() => ({ price: 0, feePerUnit: 0, qty: 0, time: 0, gross: 0 }));
    this.buyFills = this.levels.map(() => 0);
    this.sellFills = this.levels.map(() => 0);
  }

  /** Total profit of completed cycles. */
  get cycleProfit(): number {
    let p = 0;
    for (const c of this.cycles) p += c.profit;
    return p;
  }

  /** Resting orders of the grid (a copy), e.g. for status and tests. */
  restingOrders(): GridOrder[] {
    return [...this.orders.values()].map((o) => ({ ...o }));
  }

  /** Base quantity of the buy at each level (null until started when sized by the run's stake). */
  levelQuantities(): readonly number[] | null {
    return this.quantities;
  }

  onBar(ctx: StrategyContext): void {
    if (this.stoppedOut) this.sellOut(ctx);
    else {
      const close = ctx.bar.close;
      const c = this.config;
      const outside = close < c.lower || close > c.upper;
      if (c.stopLoss > 0 && close <= c.stopLoss) this.stopOut(ctx, 'stop-loss', `at or below ${c.stopLoss}`);
      else if (c.takeProfit > 0 && close >= c.takeProfit)
        this.stopOut(ctx, 'take-profit', `at or above ${c.takeProfit}`);
      else if (!this.started) {
        if (!this.paused && !(c.outOfRange === 'pause' && outside)) this.start(ctx);
      } else if (this.pending.length > 0 && !this.paused) {
        this.retryPending(ctx);
      }
      if (this.started && !this.stoppedOut && c.outOfRange === 'pause') {
        if (outside && !this.paused) this.pause(ctx, 'out of range');
        else if (!outside && this.paused && this.pauses[this.pauses.length - 1]?.reason === 'out of range') {
          this.resume(ctx);
        }
      }
    }
    this.record(ctx);
  }

  onFill(ctx: StrategyContext, fill: Readonly<Fill>): void {
    const key = this.keyOf(fill.clientOrderId);
    const w = key === undefined ? undefined : this.orders.get(key);
    if (w === undefined) return;
    const feePerUnit = fill.fee / fill.quantity;
    if (w.side === 'buy') this.restingBuyCost -= this.levels[w.level] * Math.min(fill.quantity, w.open);
    w.open = Math.max(0, w.open - fill.quantity);
    const answer = !this.paused && !this.stoppedOut;
    if (w.side === 'buy') {
      this.inventoryCost += fill.price * fill.quantity;
      this.buyFills[w.level]++;
      const b = this.boughtAt[w.level];
      if (b.qty <= 0) b.time = fill.time;
      b.price = (b.price * b.qty + fill.price * fill.quantity) / (b.qty + fill.quantity);
      b.feePerUnit = (b.feePerUnit * b.qty + feePerUnit * fill.quantity) / (b.qty + fill.quantity);
      b.qty += fill.quantity;
      b.gross += fill.executedQuantity ?? fill.quantity;
      if (answer) this.place(ctx, w.level + 1, 'sell', fill.quantity);
    } else {
      this.sellFills[w.level]++;
      const b = this.boughtAt[w.level - 1];
      const q = Math.min(fill.quantity, b.qty);
      this.cycles.push({
        buyLevel: w.level - 1,
        buyPrice: b.price,
        sellPrice: fill.price,
        quantity: q,
        profit: (fill.price - b.price) * q - (b.feePerUnit + feePerUnit) * q,
        time: fill.time,
        openedAt: b.time,
      });
      this.inventoryCost -= b.price * q;
      // The buy answering this sale is the size of the buy that was sold (executed, not credited).
      const ratio = b.qty > 0 && b.gross > b.qty ? b.gross / b.qty : 1;
      b.gross = b.qty - q > EPS ? b.gross - q * ratio : 0;
      b.qty -= q;
      if (answer) this.place(ctx, w.level - 1, 'buy', ratio === 1 ? fill.quantity : roundQty(fill.quantity * ratio));
    }
  }

  onOrderUpdate(ctx: StrategyContext, order: Readonly<Order>): void {
    const key = this.keyOf(order.clientOrderId);
    const w = key === undefined ? undefined : this.orders.get(key);
    if (w === undefined || key === undefined) return;
    if (isTerminal(order.status)) {
      // A restored order that ended on the venue without filling, not by the grid's cancel (someone cancelled it
      // while the runtime was down): still wanted, so it stays for startup reconciliation to place again.
      if (w.id === '' && order.status !== 'filled' && !w.cancelling && !this.paused && !this.stoppedOut) return;
      this.drop(key);
      if (this.stoppedOut) this.sellOut(ctx);
      return;
    }
    if (w.id === '') w.id = order.id;
    const open = Math.max(0, order.quantity - order.filledQuantity);
    if (w.side === 'buy') this.restingBuyCost += this.levels[w.level] * (open - w.open);
    w.open = open;
  }

  isPaused(): boolean {
    return this.paused;
  }

  selfStopReason(): string | null {
    return this.stopReason;
  }

  /** Cancels resting grid orders and stops placing new ones; inventory is kept. `reason` is listed in the statistics. */
  pause(ctx: StrategyContext, reason = 'manual'): void {
    if (!this.paused) this.pauses.push({ time: ctx.time, reason, resumedAt: null });
    this.paused = true;
    this.cancelAll(ctx);
  }

  /**
   * Puts the grid back: a sell one level up for the inventory held at each level (less what already rests there),
   * a buy at each empty level below the price that has none resting. Nothing after a stop-loss or take-profit.
   */
  resume(ctx: StrategyContext): void {
    if (this.stoppedOut) return;
    const open = this.pauses[this.pauses.length - 1];
    if (this.paused && open && open.resumedAt === null) open.resumedAt = ctx.time;
    this.paused = false;
    this.pending = [];
    if (!this.started) {
      this.start(ctx);
      return;
    }
    const price = ctx.bar.close;
    const n = this.levels.length;
    for (let i = 0; i + 1 < n; i++) {
      const held = this.boughtAt[i].qty;
      if (held > EPS) {
        const missing = held - this.resting(i + 1, 'sell');
        if (missing > EPS) this.place(ctx, i + 1, 'sell', missing);
      } else if (this.levels[i] < price && this.resting(i, 'buy') <= EPS) {
        this.place(ctx, i, 'buy', this.levelQuantity(ctx, i));
      }
    }
  }

  /**
   * After a restart: keeps the open venue orders whose key the state holds, places again the state's orders the
   * venue lacks, and returns the rest as unknown (also every order while paused or stopped: the grid rests none).
   */
  reconcile(ctx: StrategyContext, open: readonly Readonly<Order>[]): StrategyReconcileResult {
    const kept: Readonly<Order>[] = [];
    const unknown: Readonly<Order>[] = [];
    const replaced: string[] = [];
    const seen = new Set<string>();
    for (const o of open) {
      const key = this.keyOf(o.clientOrderId);
      const seq = key === undefined ? Number.NaN : Number(key.slice(key.search(/[bs]/) + 1));
      if (Number.isFinite(seq) && seq > this.seq) this.seq = seq;
      if (key === undefined || seen.has(key) || this.paused || this.stoppedOut) {
        if (key !== undefined && !seen.has(key)) this.drop(key);
        unknown.push(o);
        continue;
      }
      seen.add(key);
      const w = this.orders.get(key) as GridOrder;
      w.id = o.id;
      w.cancelling = false;
      const left = Math.max(0, o.quantity - o.filledQuantity);
      if (w.side === 'buy') this.restingBuyCost += this.levels[w.level] * (left - w.open);
      w.open = left;
      kept.push(o);
    }
    for (const [key, w] of [...this.orders]) {
      if (seen.has(key) || w.id !== '') continue;
      this.drop(key);
      if (this.paused || this.stoppedOut || !(w.open > EPS)) continue;
      if (this.place(ctx, w.level, w.side, w.open)) {
        replaced.push(`level ${w.level} ${w.side} ${w.open} @ ${this.levels[w.level]} (was ${key})`);
      }
    }
    return { kept, unknown, replaced };
  }

  getState(): unknown {
    const snap: GridSnapshot = {
      cycles: this.cycles,
      boughtAt: this.boughtAt,
      paused: this.paused,
      stoppedOut: this.stoppedOut,
      stopReason: this.stopReason,
      pauses: this.pauses,
      started: this.started,
      levels: this.levels,
      orders: [...this.orders.values()],
      seq: this.seq,
      pending: this.pending,
      quantities: this.quantities,
      allocation: this.allocation,
      buyFills: this.buyFills,
      sellFills: this.sellFills,
    };
    return snap;
  }

  /**
   * The grid's statistics for the backtest result: cycles and the profit of each, average cycle time, fills per
   * level, inventory / unrealised P&L / capital in use over time (at most 2000 points each), capital in use
   * against the allocation, pauses and why; the levels as price lines and each cycle as a marker.
   */
  statistics(): StrategyStatistics {
    const n = this.cycles.length;
    const profit = this.cycleProfit;
    const timed = this.cycles.filter((c) => c.openedAt !== undefined && c.openedAt > 0);
    const avgCycleMs = timed.length
      ? timed.reduce((s, c) => s + (c.time - (c.openedAt as number)), 0) / timed.length
      : null;
    const last = this.seriesTime.length - 1;
    const stopped = this.pauses.some((p) => p.reason === 'stop-loss');
    const summary: Record<string, StatValue> = {
      'grid levels': this.levels.length,
      'cycles completed': n,
      'cycle profit (net of fees)': profit,
      'average cycle profit': n ? profit / n : null,
      'average cycle time (h)': avgCycleMs === null ? null : avgCycleMs / 3_600_000,
      'buy fills': this.buyFills.reduce((a, b) => a + b, 0),
      'sell fills': this.sellFills.reduce((a, b) => a + b, 0),
      'inventory at end': last >= 0 ? this.seriesInventory[last] : 0,
      'unrealised P&L at end': last >= 0 ? this.seriesUnrealised[last] : 0,
      allocation: this.allocation,
      'max capital in use': this.maxCapital,
      'max capital in use (% of allocation)': this.allocation > 0 ? (this.maxCapital / this.allocation) * 100 : null,
      'times paused': this.pauses.length,
      'stopped by stop-loss': stopped,
    };
    const cycleRows: StatValue[][] = this.cycles.map((c, i) => [
      i + 1,
      c.buyLevel,
      c.buyPrice,
      c.sellPrice,
      c.quantity,
      c.profit,
      c.openedAt && c.openedAt > 0 ? new Date(c.openedAt).toISOString() : null,
      new Date(c.time).toISOString(),
      c.openedAt && c.openedAt > 0 ? (c.time - c.openedAt) / 3_600_000 : null,
    ]);
    return {
      summary,
      tables: {
        cycles: {
          columns: ['#', 'buy level', 'buy price', 'sell price', 'quantity', 'profit', 'opened', 'closed', 'hours'],
          rows: cycleRows,
        },
        levels: {
          columns: ['level', 'price', 'buy fills', 'sell fills'],
          rows: this.levels.map((p, i) => [i, p, this.buyFills[i], this.sellFills[i]]),
        },
        pauses: {
          columns: ['paused at', 'reason', 'resumed at'],
          rows: this.pauses.map((p) => [
            new Date(p.time).toISOString(),
            p.reason,
            p.resumedAt === null ? null : new Date(p.resumedAt).toISOString(),
          ]),
        },
      },
      series: {
        inventory: thin(this.seriesTime, this.seriesInventory, MAX_SERIES_POINTS),
        'unrealised P&L': thin(this.seriesTime, this.seriesUnrealised, MAX_SERIES_POINTS),
        'capital in use': thin(this.seriesTime, this.seriesCapital, MAX_SERIES_POINTS),
      },
      priceLines: this.levels.map((p, i) => ({ price: p, label: `grid ${i}` })),
      markers: this.cycles.map((c, i) => ({
        time: c.time,
        price: c.sellPrice,
        text: `cycle ${i + 1}: ${c.buyPrice} -> ${c.sellPrice}, profit ${c.profit.toFixed(4)}`,
      })),
    };
  }

  restore(state: unknown): void {
    const s = state as Partial<GridSnapshot> | null;
    if (!s) return;
    const changed =
      Array.isArray(s.levels) &&
      (s.levels.length !== this.levels.length ||
        s.levels.some((p, i) => Math.abs(p - this.levels[i]) > 1e-9 * Math.abs(this.levels[i])));
    if (changed) {
      // A changed grid: the saved inventory and orders belong to other levels; keep only the history.
      if (Array.isArray(s.cycles)) this.cycles.splice(0, this.cycles.length, ...s.cycles);
      return;
    }
    if (Array.isArray(s.cycles)) this.cycles.splice(0, this.cycles.length, ...s.cycles);
    if (Array.isArray(s.boughtAt)) {
      for (let i = 0; i < s.boughtAt.length && i < this.boughtAt.length; i++) {
        const b = s.boughtAt[i];
        Object.assign(this.boughtAt[i], b, { gross: b.gross ?? b.qty });
      }
    }
    if (Array.isArray(s.pauses)) this.pauses.splice(0, this.pauses.length, ...s.pauses);
    for (const [k, arr] of [
      [this.buyFills, s.buyFills],
      [this.sellFills, s.sellFills],
    ] as const) {
      if (Array.isArray(arr)) for (let i = 0; i < arr.length && i < k.length; i++) k[i] = arr[i];
    }
    this.orders.clear();
    this.restingBuyCost = 0;
    for (const o of s.orders ?? []) {
      // Not yet seen on the venue in this run: startup reconciliation says whether it still rests.
      this.orders.set(o.key, { ...o, id: '', cancelling: false });
      if (o.side === 'buy') this.restingBuyCost += this.levels[o.level] * o.open;
    }
    this.seq = s.seq ?? 0;
    this.pending = Array.isArray(s.pending) ? [...s.pending] : [];
    this.quantities = s.quantities ?? null;
    this.allocation = s.allocation ?? 0;
    this.inventoryCost = this.boughtAt.reduce((c, b) => c + b.price * b.qty, 0);
    this.paused = s.paused === true;
    this.stoppedOut = s.stoppedOut === true;
    this.stopReason = s.stopReason ?? null;
    this.started = s.started ?? true;
  }

  /** One point of the statistics series: inventory, its unrealised P&L and the capital in use. */
  private record(ctx: StrategyContext): void {
    const cost = Math.max(0, this.inventoryCost) + Math.max(0, this.restingBuyCost);
    if (cost > this.maxCapital) this.maxCapital = cost;
    this.seriesTime.push(ctx.time);
    this.seriesInventory.push(ctx.position());
    this.seriesUnrealised.push(ctx.portfolio.unrealizedPnl(ctx.symbol));
    this.seriesCapital.push(cost);
  }

  /**
   * Places the first buys (every level below the price). Started once a placement went through or none was needed:
   * while the runtime warms up, order calls place nothing and the grid starts on the first live bar.
   */
  private start(ctx: StrategyContext): void {
    const price = ctx.bar.close;
    if (this.quantities === null) {
      this.quantities = gridLevelQuantities(this.config, this.levels, ctx.portfolio.equity());
    }
    let placed = 0;
    let wanted = 0;
    this.allocation = 0;
    for (let i = 0; i < this.levels.length - 1; i++) this.allocation += this.levels[i] * this.levelQuantity(ctx, i);
    if (this.quantities !== null) this.allocation = gridAllocation(this.levels, this.quantities);
    // The top level only ever holds the sell answering a buy one level down.
    const refused: { level: number; side: 'buy'; quantity: number }[] = [];
    for (let i = 0; i < this.levels.length - 1; i++) {
      if (this.levels[i] < price && this.resting(i, 'buy') <= EPS) {
        wanted++;
        const q = this.levelQuantity(ctx, i);
        if (this.place(ctx, i, 'buy', q)) placed++;
        else refused.push({ level: i, side: 'buy', quantity: q });
      }
    }
    if (placed > 0 || wanted === 0) {
      this.started = true;
      // Some went through, so the order path is open: the refused ones (order budget) are placed on later bars.
      this.pending.push(...refused);
    }
  }

  private levelQuantity(ctx: StrategyContext, level: number): number {
    if (this.quantities !== null) return this.quantities[level];
    return ctx.stakeQuantity(this.levels[level]) / (this.levels.length - 1);
  }

  /** Quantity resting at a level on one side (orders being cancelled do not count). */
  private resting(level: number, side: 'buy' | 'sell'): number {
    let q = 0;
    for (const o of this.orders.values()) if (o.level === level && o.side === side && !o.cancelling) q += o.open;
    return q;
  }

  /** The grid key of a client order id: the id itself (this run) or its tail after the runtime's prefix. */
  private keyOf(clientOrderId: string): string | undefined {
    if (this.orders.has(clientOrderId)) return clientOrderId;
    const tail = clientOrderId.slice(clientOrderId.lastIndexOf('-') + 1);
    return this.orders.has(tail) ? tail : undefined;
  }

  private drop(key: string): void {
    const w = this.orders.get(key);
    if (w === undefined) return;
    if (w.side === 'buy') this.restingBuyCost -= this.levels[w.level] * w.open;
    this.orders.delete(key);
  }

  /** Places one grid order; false when nothing was placed (refused, or the runtime is still warming up). */
  private place(ctx: StrategyContext, level: number, side: 'buy' | 'sell', quantity: number): boolean {
    if (level < 0 || level >= this.levels.length || !(quantity > 0)) return false;
    const key = `g${level}${side === 'buy' ? 'b' : 's'}${++this.seq}`;
    // Known before the order exists: its state is saved with its write-ahead, and a synchronous fill finds it.
    this.orders.set(key, { key, level, side, quantity, open: quantity, id: '' });
    if (side === 'buy') this.restingBuyCost += this.levels[level] * quantity;
    const order = ctx.limit(side, this.levels[level], {
      quantity,
      tag: `grid-${level}`,
      clientOrderId: key,
      ...(side === 'sell' ? { reduceOnly: true } : {}),
    });
    const refused = order === null || order.status === 'rejected';
    if (order === null) this.drop(key);
    const w = this.orders.get(key);
    if (w !== undefined && order !== null) w.id = order.id;
    // Once running, a refused order is wanted still: kept to be placed again (before start, start() retries).
    // A sell the position does not cover would open a short: refused for good, not pending.
    const coverable = side === 'buy' || ctx.position() >= quantity * (1 - 1e-9);
    if (refused && coverable && this.started && !this.paused && !this.stoppedOut) {
      this.pending.push({ level, side, quantity });
    }
    return !refused;
  }

  /** Places the refused orders again (those refused again stay pending). */
  private retryPending(ctx: StrategyContext): void {
    const todo = this.pending;
    this.pending = [];
    for (const p of todo) {
      // A sell only for inventory still held at the level below (a stop or a manual sale may have taken it).
      if (p.side === 'sell' && !(this.boughtAt[p.level - 1]?.qty > EPS)) continue;
      this.place(ctx, p.level, p.side, p.quantity);
    }
  }

  private cancelAll(ctx: StrategyContext): void {
    this.pending = [];
    for (const w of [...this.orders.values()]) {
      w.cancelling = true;
      if (w.id !== '') ctx.cancel(w.id);
    }
  }

  private stopOut(ctx: StrategyContext, reason: 'stop-loss' | 'take-profit', rule: string): void {
    this.stoppedOut = true;
    this.stopReason = `grid ${reason}: close ${ctx.bar.close} ${rule}; resting orders cancelled, inventory sold, grid stopped`;
    this.pauses.push({ time: ctx.time, reason, resumedAt: null });
    this.cancelAll(ctx);
    this.sellOut(ctx);
    ctx.log(this.stopReason, 'warn');
  }

  /**
   * After a stop: sells the inventory once no grid order rests (a resting sell still holds the position: live, the
   * cancels are answered later, and the sale follows the last one). Repeated while anything is held.
   */
  private sellOut(ctx: StrategyContext): void {
    if (this.orders.size > 0 || !(ctx.position() > 0)) return;
    const last = this.pauses[this.pauses.length - 1]?.reason;
    ctx.close(undefined, last === 'take-profit' ? 'grid_take_profit' : 'grid_stop_loss');
  }
}

/** Grid trading. */
export const grid: StrategyDefinition = {
  name: 'grid',
  description: 'Grid trading between lower and upper with counter-orders after each fill',
  params: GRID_PARAMS,
  validate: (p) => checkGridConfig(gridConfig(p)),
  checkVenue: (p, venue) => {
    for (const inst of venue.instruments) checkGridForVenue(gridConfig(p), inst, venue.capital);
  },
  create: (p) => new GridStrategy(gridConfig(p)),
};
