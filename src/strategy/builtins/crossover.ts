import type { BarColumns } from '../../core/bar.js';
import { type CrossingSink, Sma } from '../../indicators/sma.js';
import type { ParamSpec, Strategy, StrategyContext } from '../types.js';

/** A streaming line a crossover compares (an SMA, an EMA, a MACD line...). */
export interface Line {
  update(x: number): number;
}

/** Parameter shared by the directional built-ins. */
export const ALLOW_SHORT_PARAM: ParamSpec = {
  name: 'allowShort',
  type: 'bool',
  default: false,
  description: 'also trade the opposite side: short on a bearish signal (needs a run that allows shorting)',
};

/**
 * Trades the sign change of `fast - slow` on each symbol's closes: a cross up buys (covering a short first),
 * a cross down sells the long (and shorts when allowed). The first bar on which both lines exist only sets
 * the reference: a position is opened on a cross, never on a state.
 */
export class CrossoverStrategy implements Strategy {
  private fast: Line[] = [];
  private slow: Line[] = [];
  private prev: Float64Array = new Float64Array(0);
  /** Backtests: each symbol's crosses found in advance by `precompute` (null: streaming, paper and live). */
  private plans: CrossPlan[] | null = null;

  constructor(
    private readonly makeFast: () => Line,
    private readonly makeSlow: () => Line,
    private readonly allowShort: boolean,
  ) {}

  onStart(ctx: StrategyContext): void {
    const n = ctx.symbols.length;
    // Pair by pair: a pair may share state built by makeFast for the makeSlow right after it (MACD's signal line).
    this.fast = [];
    this.slow = [];
    for (let s = 0; s < n; s++) {
      this.fast.push(this.makeFast());
      this.slow.push(this.makeSlow());
    }
    if (this.prev.length !== n) this.prev = new Float64Array(n).fill(Number.NaN);
    this.plans = null;
  }

  /**
   * Runs both lines over each symbol's closes once, with fresh lines and the same updates `onBar` makes, and keeps
   * the rows where `fast - slow` changes sign: the only rows on which this strategy places an order.
   */
  precompute(series: readonly BarColumns[]): Int32Array[] {
    this.plans = series.map((c) => planCrosses(c.close, c.length, this.makeFast(), this.makeSlow()));
    return this.plans.map((p) => p.rows.subarray(0, p.count));
  }

  onBar(ctx: StrategyContext): void {
    const s = ctx.symbolIndex;
    let up: boolean;
    let down: boolean;
    const plans = this.plans;
    if (plans !== null) {
      // The engine delivers rows in order, some of them without a cross: find this row among the planned ones.
      const plan = plans[s];
      const row = ctx.bar.index;
      let k = plan.next;
      while (k < plan.count && plan.rows[k] < row) k++;
      plan.next = k;
      if (k === plan.count || plan.rows[k] !== row) return;
      plan.next = k + 1;
      up = plan.up[k] === 1;
      down = !up;
    } else {
      const c = ctx.bar.close;
      const d = this.fast[s].update(c) - this.slow[s].update(c);
      const prev = this.prev;
      const p = prev[s];
      prev[s] = d;
      // A NaN on either side (warm-up, or the first bar with both lines) fails every comparison below.
      up = d > 0 && p <= 0;
      down = !up && d < 0 && p >= 0;
    }
    if (up) {
      if (ctx.position() < 0) ctx.cover();
      ctx.buy();
    } else if (down) {
      if (ctx.position() > 0) ctx.sell();
      if (this.allowShort) ctx.short();
    }
  }

  /** The last fast-slow difference per symbol; indicators re-warm from history after a restart. */
  getState(): unknown {
    const plans = this.plans;
    // After a precomputed backtest the state is the difference at each symbol's last row.
    if (plans !== null) return { prev: plans.map((p) => (Number.isNaN(p.last) ? null : p.last)) };
    return { prev: Array.from(this.prev) };
  }

  restore(state: unknown): void {
    const prev = (state as { prev?: number[] } | null)?.prev;
    if (Array.isArray(prev)) this.prev = Float64Array.from(prev, (v) => (v === null ? Number.NaN : v));
  }
}

/** One symbol's crosses: `rows[k]` (ascending) crossed up when `up[k]` is 1, down otherwise. */
interface CrossPlan {
  rows: Int32Array;
  up: Uint8Array;
  count: number;
  /** Where `onBar`'s search resumes (rows are delivered in order). */
  next: number;
  /** fast - slow at the last row. */
  last: number;
}

/** The crosses found so far, grown by doubling. */
class CrossList implements CrossingSink {
  rows = new Int32Array(1024);
  up = new Uint8Array(1024);
  count = 0;

  push(row: number, isUp: boolean): void {
    if (this.count === this.rows.length) {
      const rows = new Int32Array(this.count * 2);
      rows.set(this.rows);
      this.rows = rows;
      const up = new Uint8Array(this.count * 2);
      up.set(this.up);
      this.up = up;
    }
    this.rows[this.count] = row;
    this.up[this.count++] = isUp ? 1 : 0;
  }
}

// The crosses of fast - slow over close[0..n), by the comparison `onBar` makes on each difference and the one
// before it. Two SMAs run in one specialised pass (Sma.differenceCrossings), other lines row by row.
function planCrosses(close: Float64Array, n: number, fast: Line, slow: Line): CrossPlan {
  const list = new CrossList();
  let p = Number.NaN;
  if (fast instanceof Sma && slow instanceof Sma) {
    p = Sma.differenceCrossings(fast, slow, close, n, list);
  } else {
    for (let i = 0; i < n; i++) {
      const c = close[i];
      const d = fast.update(c) - slow.update(c);
      if (d > 0 && p <= 0) list.push(i, true);
      else if (d < 0 && p >= 0) list.push(i, false);
      p = d;
    }
  }
  return { rows: list.rows, up: list.up, count: list.count, next: 0, last: p };
}
