import { ValidationError } from '../../core/errors.js';
import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { Strategy, StrategyContext, StrategyDefinition } from '../types.js';

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
  time: number;
}

interface GridSnapshot {
  cycles: GridCycle[];
  boughtAt: { price: number; feePerUnit: number; qty: number }[];
  paused: boolean;
  stoppedOut: boolean;
}

interface Working {
  level: number;
  side: 'buy' | 'sell';
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
  private readonly working = new Map<string, Working>();
  /** Buy price and fee per unit of inventory bought at each level (for per-cycle profit). */
  private readonly boughtAt: { price: number; feePerUnit: number; qty: number }[];
  private started = false;

  constructor(
    lower: number,
    upper: number,
    count: number,
    spacing: 'arithmetic' | 'geometric',
    private readonly quantity: number,
    private readonly stopLoss: number,
  ) {
    this.levels = gridLevels(lower, upper, count, spacing);
    this.boughtAt = this.levels.map(() => ({ price: 0, feePerUnit: 0, qty: 0 }));
  }

  /** Total profit of completed cycles. */
  get cycleProfit(): number {
    let p = 0;
    for (const c of this.cycles) p += c.profit;
    return p;
  }

  onBar(ctx: StrategyContext): void {
    if (this.stoppedOut) return;
    if (this.stopLoss > 0 && ctx.bar.close <= this.stopLoss) {
      this.stopOut(ctx);
      return;
    }
    if (!this.started && !this.paused) {
      this.started = true;
      this.placeInitial(ctx);
    }
  }

  onFill(ctx: StrategyContext, fill: Readonly<Fill>): void {
    const w = this.working.get(fill.orderId);
    if (w === undefined) return;
    const feePerUnit = fill.fee / fill.quantity;
    if (w.side === 'buy') {
      const b = this.boughtAt[w.level];
      b.price = (b.price * b.qty + fill.price * fill.quantity) / (b.qty + fill.quantity);
      b.feePerUnit = (b.feePerUnit * b.qty + feePerUnit * fill.quantity) / (b.qty + fill.quantity);
      b.qty += fill.quantity;
      if (!this.paused) this.place(ctx, w.level + 1, 'sell', fill.quantity);
    } else {
      const b = this.boughtAt[w.level - 1];
      const q = Math.min(fill.quantity, b.qty);
      this.cycles.push({
        buyLevel: w.level - 1,
        buyPrice: b.price,
        sellPrice: fill.price,
        quantity: q,
        profit: (fill.price - b.price) * q - (b.feePerUnit + feePerUnit) * q,
        time: fill.time,
      });
      b.qty -= q;
      if (!this.paused) this.place(ctx, w.level - 1, 'buy', fill.quantity);
    }
  }

  onOrderUpdate(_ctx: StrategyContext, order: Readonly<Order>): void {
    if (order.status === 'cancelled' || order.status === 'rejected' || order.status === 'filled') {
      this.working.delete(order.id);
    }
  }

  /** Cancels resting grid orders and stops placing new ones; inventory is kept. */
  pause(ctx: StrategyContext): void {
    this.paused = true;
    for (const id of [...this.working.keys()]) ctx.cancel(id);
  }

  /** Re-places the grid: buys below the price for empty levels, sells above for held inventory. */
  resume(ctx: StrategyContext): void {
    if (this.stoppedOut) return;
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
    return { cycles: this.cycles, boughtAt: this.boughtAt, paused: this.paused, stoppedOut: this.stoppedOut };
  }

  restore(state: unknown): void {
    const s = state as Partial<GridSnapshot> | null;
    if (!s) return;
    if (Array.isArray(s.cycles)) this.cycles.splice(0, this.cycles.length, ...s.cycles);
    if (Array.isArray(s.boughtAt)) {
      for (let i = 0; i < s.boughtAt.length && i < this.boughtAt.length; i++)
        Object.assign(this.boughtAt[i], s.boughtAt[i]);
    }
    this.paused = s.paused === true;
    this.stoppedOut = s.stoppedOut === true;
    this.started = true;
  }

  private placeInitial(ctx: StrategyContext): void {
    const price = ctx.bar.close;
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
      this.working.set(order.id, { level, side });
    }
  }

  private stopOut(ctx: StrategyContext): void {
    this.stoppedOut = true;
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
