import { ValidationError } from '../../core/errors.js';
import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { StatValue, Strategy, StrategyContext, StrategyDefinition, StrategyStatistics } from '../types.js';

/** Grid price levels from `lower` to `upper` inclusive: equal steps (arithmetic) or equal ratios (geometric). */
export function gridLevels(
  lower: number,
  upper: number,
  levels: number,
  spacing: 'arithmetic' | 'geometric',
): number[] {
  const out: number[] = [];
  for (let i = 0; i < levels; i++) {
    const f = i / (levels - 1);
    out.push(spacing === 'geometric' ? lower * (upper / lower) ** f : lower + (upper - lower) * f);
  }
  return out;
}

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

interface GridSnapshot {
  cycles: GridCycle[];
  boughtAt: { price: number; feePerUnit: number; qty: number; time?: number }[];
  paused: boolean;
  pauses: GridPause[];
  stoppedOut: boolean;
}

interface Working {
  level: number;
  side: 'buy' | 'sell';
  /** Quantity still resting (for the capital a resting buy holds). */
  open: number;
}

/**
 * Spot grid (long inventory): a buy limit rests at every level below the price; each executed buy (or part of
 * one) is answered by a sell limit one level up for the executed quantity; each executed sell by a buy limit
 * one level down. Every sell that closes a buy completes a cycle whose profit is recorded. `pause()` cancels
 * the resting orders and keeps the inventory; `resume()` puts them back. A close below `stopLoss` cancels all,
 * closes the inventory and stops the grid.
 */
export class GridStrategy implements Strategy {
  readonly levels: number[];
  readonly cycles: GridCycle[] = [];
  paused = false;
  stoppedOut = false;
  /** Every pause, with its reason. */
  readonly pauses: GridPause[] = [];
  private readonly working = new Map<string, Working>();
  /** Buy price, fee per unit, quantity and time of the first buy of the inventory held at each level. */
  private readonly boughtAt: { price: number; feePerUnit: number; qty: number; time: number }[];
  private started = false;
  /** Fills per level, buys and sells (parts of an order each count). */
  private readonly buyFills: number[];
  private readonly sellFills: number[];
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

  constructor(
    lower: number,
    upper: number,
    count: number,
    spacing: 'arithmetic' | 'geometric',
    private readonly quantity: number,
    private readonly stopLoss: number,
  ) {
    this.levels = gridLevels(lower, upper, count, spacing);
    this.boughtAt = this.levels.map(() => ({ price: 0, feePerUnit: 0, qty: 0, time: 0 }));
    this.buyFills = this.levels.map(() => 0);
    this.sellFills = this.levels.map(() => 0);
  }

  /** Total profit of completed cycles. */
  get cycleProfit(): number {
    let p = 0;
    for (const c of this.cycles) p += c.profit;
    return p;
  }

  onBar(ctx: StrategyContext): void {
    if (!this.stoppedOut) {
      if (this.stopLoss > 0 && ctx.bar.close <= this.stopLoss) this.stopOut(ctx);
      else if (!this.started && !this.paused) {
        this.started = true;
        this.placeInitial(ctx);
      }
    }
    this.record(ctx);
  }

  onFill(ctx: StrategyContext, fill: Readonly<Fill>): void {
    const w = this.working.get(fill.orderId);
    if (w === undefined) return;
    const feePerUnit = fill.fee / fill.quantity;
    if (w.side === 'buy') this.restingBuyCost -= this.levels[w.level] * Math.min(fill.quantity, w.open);
    w.open = Math.max(0, w.open - fill.quantity);
    if (w.side === 'buy') {
      this.inventoryCost += fill.price * fill.quantity;
      this.buyFills[w.level]++;
      const b = this.boughtAt[w.level];
      if (b.qty <= 0) b.time = fill.time;
      b.price = (b.price * b.qty + fill.price * fill.quantity) / (b.qty + fill.quantity);
      b.feePerUnit = (b.feePerUnit * b.qty + feePerUnit * fill.quantity) / (b.qty + fill.quantity);
      b.qty += fill.quantity;
      if (!this.paused) this.place(ctx, w.level + 1, 'sell', fill.quantity);
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
      b.qty -= q;
      if (!this.paused) this.place(ctx, w.level - 1, 'buy', fill.quantity);
    }
  }

  onOrderUpdate(_ctx: StrategyContext, order: Readonly<Order>): void {
    if (
      order.status === 'cancelled' ||
      order.status === 'rejected' ||
      order.status === 'expired' ||
      order.status === 'filled'
    ) {
      const w = this.working.get(order.id);
      if (w?.side === 'buy') this.restingBuyCost -= this.levels[w.level] * w.open;
      this.working.delete(order.id);
    }
  }

  /** Cancels resting grid orders and stops placing new ones; inventory is kept. `reason` is listed in the statistics. */
  pause(ctx: StrategyContext, reason = 'manual'): void {
    if (!this.paused) this.pauses.push({ time: ctx.time, reason, resumedAt: null });
    this.paused = true;
    for (const id of [...this.working.keys()]) ctx.cancel(id);
  }

  /** Re-places the grid: buys below the price for empty levels, sells above for held inventory. */
  resume(ctx: StrategyContext): void {
    if (this.stoppedOut) return;
    const open = this.pauses[this.pauses.length - 1];
    if (this.paused && open && open.resumedAt === null) open.resumedAt = ctx.time;
    this.paused = false;
    this.started = true;
    const price = ctx.bar.close;
    for (let i = 0; i < this.levels.length; i++) {
      const held = this.boughtAt[i].qty;
      if (held > 0 && i + 1 < this.levels.length) this.place(ctx, i + 1, 'sell', held);
      else if (held === 0 && this.levels[i] < price && i + 1 < this.levels.length) {
        this.place(ctx, i, 'buy', this.levelQuantity(ctx, i));
      }
    }
  }

  getState(): unknown {
    return {
      cycles: this.cycles,
      boughtAt: this.boughtAt,
      paused: this.paused,
      stoppedOut: this.stoppedOut,
      pauses: this.pauses,
    };
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
    if (Array.isArray(s.cycles)) this.cycles.splice(0, this.cycles.length, ...s.cycles);
    if (Array.isArray(s.boughtAt)) {
      for (let i = 0; i < s.boughtAt.length && i < this.boughtAt.length; i++)
        Object.assign(this.boughtAt[i], s.boughtAt[i]);
    }
    if (Array.isArray(s.pauses)) this.pauses.splice(0, this.pauses.length, ...s.pauses);
    this.inventoryCost = this.boughtAt.reduce((c, b) => c + b.price * b.qty, 0);
    this.paused = s.paused === true;
    this.stoppedOut = s.stoppedOut === true;
    this.started = true;
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

  private placeInitial(ctx: StrategyContext): void {
    const price = ctx.bar.close;
    this.allocation = 0;
    for (let i = 0; i < this.levels.length - 1; i++) this.allocation += this.levels[i] * this.levelQuantity(ctx, i);
    // The top level only ever holds the sell answering a buy one level down.
    for (let i = 0; i < this.levels.length - 1; i++) {
      if (this.levels[i] < price) this.place(ctx, i, 'buy', this.levelQuantity(ctx, i));
    }
  }

  private levelQuantity(ctx: StrategyContext, level: number): number {
    if (this.quantity > 0) return this.quantity;
    return ctx.stakeQuantity(this.levels[level]) / (this.levels.length - 1);
  }

  private place(ctx: StrategyContext, level: number, side: 'buy' | 'sell', quantity: number): void {
    if (level < 0 || level >= this.levels.length || !(quantity > 0)) return;
    const order = ctx.limit(side, this.levels[level], {
      quantity,
      tag: `grid-${level}`,
      ...(side === 'sell' ? { reduceOnly: true } : {}),
    });
    if (
      order !== null &&
      (order.status === 'submitted' || order.status === 'accepted' || order.status === 'partially_filled')
    ) {
      this.working.set(order.id, { level, side, open: quantity });
      if (side === 'buy') this.restingBuyCost += this.levels[level] * quantity;
    }
  }

  private stopOut(ctx: StrategyContext): void {
    this.stoppedOut = true;
    this.pauses.push({ time: ctx.time, reason: 'stop-loss', resumedAt: null });
    for (const id of [...this.working.keys()]) ctx.cancel(id);
    ctx.close(undefined, 'grid_stop_loss');
    ctx.log(`grid stop-loss: close ${ctx.bar.close} at or below ${this.stopLoss}; grid stopped`, 'warn');
  }
}

/** Grid trading. */
export const grid: StrategyDefinition = {
  name: 'grid',
  description: 'Grid trading between lower and upper with counter-orders after each fill',
  params: [
    { name: 'lower', type: 'float', default: 1, min: 0, description: 'lowest grid price' },
    { name: 'upper', type: 'float', default: 2, min: 0, description: 'highest grid price' },
    {
      name: 'levels',
      type: 'int',
      default: 10,
      min: 2,
      max: 1000,
      step: 1,
      description: 'number of grid levels (> 1)',
    },
    {
      name: 'spacing',
      type: 'enum',
      default: 'arithmetic',
      values: ['arithmetic', 'geometric'],
      description: 'equal price steps or equal ratios',
    },
    {
      name: 'quantity',
      type: 'float',
      default: 0,
      min: 0,
      description: 'units per level (0 = the run stake split evenly over the levels)',
    },
    {
      name: 'stopLoss',
      type: 'float',
      default: 0,
      min: 0,
      description: 'close all and stop at or below this price (0 = off)',
    },
  ],
  validate: (p) => {
    const lower = p.lower as number;
    const upper = p.upper as number;
    if (!(lower > 0)) throw new ValidationError(`strategy grid: lower must be positive, got ${lower}`, 'lower');
    if (!(lower < upper))
      throw new ValidationError(`strategy grid: lower (${lower}) must be below upper (${upper})`, 'lower');
    const sl = p.stopLoss as number;
    if (sl > 0 && sl >= lower) {
      throw new ValidationError(`strategy grid: stopLoss (${sl}) must be below the grid (lower ${lower})`, 'stopLoss');
    }
  },
  create: (p) =>
    new GridStrategy(
      p.lower as number,
      p.upper as number,
      p.levels as number,
      p.spacing as 'arithmetic' | 'geometric',
      p.quantity as number,
      p.stopLoss as number,
    ),
};
