/**
 * The grid's configuration as a grid trader writes it (docs/grid.md): the range, the number of levels and their
 * spacing, the money the grid may use (a fixed investment or a share of the capital), the order size per level
 * (equal quote amount or equal base quantity), stop-loss below and take-profit above the range, and what happens
 * while the price is outside the range. Pure: the checks against a venue take its instrument as input.
 */
import { ValidationError } from '../../core/errors.js';
import type { Instrument } from '../../core/instrument.js';
import type { ParamSpec, ParamValues } from '../types.js';

/** How the levels are spaced. */
export type GridSpacing = 'arithmetic' | 'geometric';

/** How the money of the grid is split over its buy levels. */
export type GridSizing = 'quote' | 'base';

/** What the grid does while the price is outside [lower, upper]. */
export type GridOutOfRange = 'hold' | 'pause';

/** A grid's resolved configuration. */
export interface GridConfig {
  lower: number;
  upper: number;
  levels: number;
  spacing: GridSpacing;
  /** Quote currency the grid may use in all (0: not set). */
  investment: number;
  /** Share of the capital the grid may use, 0..1 (0: not set). */
  capitalShare: number;
  /** Equal quote amount per level, or equal base quantity per level. */
  sizing: GridSizing;
  /** Fixed base quantity per level (0: from investment/capitalShare, else the run's stake split over the levels). */
  quantity: number;
  /** Close all and stop at or below this price (0: off). */
  stopLoss: number;
  /** Close all and stop at or above this price (0: off). */
  takeProfit: number;
  outOfRange: GridOutOfRange;
}

/** The grid's parameters (typed, with ranges: the CLI, the config file and the optimiser read them). */
export const GRID_PARAMS: readonly ParamSpec[] = [
  { name: 'lower', type: 'float', default: 1, min: 0, description: 'lowest grid price' },
  { name: 'upper', type: 'float', default: 2, min: 0, description: 'highest grid price' },
  {
    name: 'levels',
    type: 'int',
    default: 10,
    min: 2,
    max: 1000,
    step: 1,
    description: 'number of grid prices from lower to upper inclusive (at least 2)',
  },
  {
    name: 'spacing',
    type: 'enum',
    default: 'arithmetic',
    values: ['arithmetic', 'geometric'],
    description: 'equal price steps or equal ratios',
  },
  {
    name: 'investment',
    type: 'float',
    default: 0,
    min: 0,
    description: 'quote currency the grid may use in all (0 = use capitalShare)',
  },
  {
    name: 'capitalShare',
    type: 'float',
    default: 0,
    min: 0,
    max: 1,
    description: 'share of the capital the grid may use, e.g. 0.75 (0 = the run stake split over the levels)',
  },
  {
    name: 'sizing',
    type: 'enum',
    default: 'quote',
    values: ['quote', 'base'],
    description: 'order size per level: equal quote amount or equal base quantity',
  },
  {
    name: 'quantity',
    type: 'float',
    default: 0,
    min: 0,
    description: 'fixed base units per level (0 = from investment or capitalShare)',
  },
  {
    name: 'stopLoss',
    type: 'float',
    default: 0,
    min: 0,
    description: 'cancel all, sell the inventory and stop at or below this price (0 = off)',
  },
  {
    name: 'takeProfit',
    type: 'float',
    default: 0,
    min: 0,
    description: 'cancel all, sell the inventory and stop at or above this price (0 = off)',
  },
  {
    name: 'outOfRange',
    type: 'enum',
    default: 'hold',
    values: ['hold', 'pause'],
    description:
      'outside [lower, upper]: keep orders and inventory and wait (hold), or cancel the orders until back (pause)',
  },
];

/** The grid's configuration from resolved parameters. */
export function gridConfig(p: ParamValues): GridConfig {
  return {
    lower: p.lower as number,
    upper: p.upper as number,
    levels: p.levels as number,
    spacing: p.spacing as GridSpacing,
    investment: (p.investment as number | undefined) ?? 0,
    capitalShare: (p.capitalShare as number | undefined) ?? 0,
    sizing: ((p.sizing as string | undefined) ?? 'quote') as GridSizing,
    quantity: (p.quantity as number | undefined) ?? 0,
    stopLoss: (p.stopLoss as number | undefined) ?? 0,
    takeProfit: (p.takeProfit as number | undefined) ?? 0,
    outOfRange: ((p.outOfRange as string | undefined) ?? 'hold') as GridOutOfRange,
  };
}

/** Grid price levels from `lower` to `upper` inclusive: equal steps (arithmetic) or equal ratios (geometric). */
export function gridLevels(lower: number, upper: number, levels: number, spacing: GridSpacing): number[] {
  const out: number[] = [];
  for (let i = 0; i < levels; i++) {
    const f = i / (levels - 1);
    out.push(spacing === 'geometric' ? lower * (upper / lower) ** f : lower + (upper - lower) * f);
  }
  return out;
}

const fail = (message: string, field: string): never => {
  throw new ValidationError(`strategy grid: ${message}`, field);
};

/** The checks that need no venue: a range, levels, stop-loss below and take-profit above it. One-line errors. */
export function checkGridConfig(c: GridConfig): void {
  if (!(c.lower > 0)) fail(`lower must be positive, got ${c.lower}`, 'lower');
  if (!(c.lower < c.upper)) fail(`lower (${c.lower}) must be below upper (${c.upper})`, 'lower');
  if (!(Number.isInteger(c.levels) && c.levels >= 2)) fail(`levels must be at least 2, got ${c.levels}`, 'levels');
  if (c.stopLoss > 0 && c.stopLoss >= c.lower) {
    fail(`stopLoss (${c.stopLoss}) must be below the grid (lower ${c.lower})`, 'stopLoss');
  }
  if (c.takeProfit > 0 && c.takeProfit <= c.upper) {
    fail(`takeProfit (${c.takeProfit}) must be above the grid (upper ${c.upper})`, 'takeProfit');
  }
  if (c.investment > 0 && c.capitalShare > 0) {
    fail('set investment or capitalShare, not both', 'investment');
  }
  if (c.quantity > 0 && (c.investment > 0 || c.capitalShare > 0)) {
    fail('set quantity or investment/capitalShare, not both', 'quantity');
  }
}

/** The quote budget of the grid: the investment, or the share of the capital; 0 when neither is set. */
export function gridBudget(c: GridConfig, capital: number): number {
  if (c.investment > 0) return c.investment;
  if (c.capitalShare > 0) return c.capitalShare * capital;
  return 0;
}

/**
 * Base quantity of the buy at each level (the top level holds only sells; its entry is 0). With a budget: equal
 * quote (budget / buy levels at each price) or equal base (budget / sum of the buy prices). With `quantity`: that.
 * Otherwise null (the strategy falls back to the run's stake split over the levels).
 */
export function gridLevelQuantities(c: GridConfig, levels: readonly number[], capital: number): number[] | null {
  const buys = levels.length - 1;
  if (c.quantity > 0) return levels.map((_, i) => (i < buys ? c.quantity : 0));
  const budget = gridBudget(c, capital);
  if (!(budget > 0)) return null;
  if (c.sizing === 'quote') return levels.map((p, i) => (i < buys ? budget / buys / p : 0));
  let sum = 0;
  for (let i = 0; i < buys; i++) sum += levels[i];
  return levels.map((_, i) => (i < buys ? budget / sum : 0));
}

/** Quote the whole grid needs when every buy level is filled: the most inventory it can hold, at cost. */
export function gridAllocation(levels: readonly number[], quantities: readonly number[]): number {
  let a = 0;
  for (let i = 0; i < levels.length - 1; i++) a += levels[i] * quantities[i];
  return a;
}

/**
 * The checks a venue and a capital cap decide (at deployment start): levels no closer than the venue's tick, each
 * level's order no smaller than the venue's minimum notional (and quantity), and the whole grid's possible
 * inventory within the capital. One-line errors naming the parameter.
 */
export function checkGridForVenue(c: GridConfig, inst: Instrument, capital: number): void {
  const levels = gridLevels(c.lower, c.upper, c.levels, c.spacing);
  let minGap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < levels.length; i++) minGap = Math.min(minGap, levels[i] - levels[i - 1]);
  if (minGap < inst.tickSize * (1 - 1e-9)) {
    fail(
      `levels are ${Number(minGap.toPrecision(6))} apart, closer than ${inst.symbol}'s tick size ${inst.tickSize}: use fewer levels or a wider range`,
      'levels',
    );
  }
  const q = gridLevelQuantities(c, levels, capital);
  if (q === null) return;
  for (let i = 0; i < levels.length - 1; i++) {
    const notional = levels[i] * q[i];
    if (inst.minNotional > 0 && notional < inst.minNotional * (1 - 1e-9)) {
      fail(
        `the order at level ${i} (${Number(levels[i].toPrecision(8))}) is worth ${Number(notional.toPrecision(6))}, below ${inst.symbol}'s minimum notional ${inst.minNotional}: invest more or use fewer levels`,
        c.quantity > 0 ? 'quantity' : c.investment > 0 ? 'investment' : 'capitalShare',
      );
    }
    if (q[i] < inst.minQty * (1 - 1e-9)) {
      fail(
        `the order at level ${i} is ${Number(q[i].toPrecision(6))} ${inst.base}, below ${inst.symbol}'s minimum quantity ${inst.minQty}`,
        c.quantity > 0 ? 'quantity' : c.investment > 0 ? 'investment' : 'capitalShare',
      );
    }
  }
  const alloc = gridAllocation(levels, q);
  if (alloc > capital * (1 + 1e-9)) {
    fail(
      `the whole grid can hold ${Number(alloc.toPrecision(8))} of inventory at cost, above the capital ${capital}: lower the investment, quantity or levels`,
      c.quantity > 0 ? 'quantity' : 'investment',
    );
  }
}
