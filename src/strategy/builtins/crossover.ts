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

  constructor(
    private readonly makeFast: () => Line,
    private readonly makeSlow: () => Line,
    private readonly allowShort: boolean,
  ) {}

  onStart(ctx: StrategyContext): void {
    const n = ctx.symbols.length;
    this.fast = Array.from({ length: n }, () => this.makeFast());
    this.slow = Array.from({ length: n }, () => this.makeSlow());
    if (this.prev.length !== n) this.prev = new Float64Array(n).fill(Number.NaN);
  }

  onBar(ctx: StrategyContext): void {
    const s = ctx.symbolIndex;
    const c = ctx.bar.close;
    const d = this.fast[s].update(c) - this.slow[s].update(c);
    const prev = this.prev;
    const p = prev[s];
    prev[s] = d;
    // A NaN on either side (warm-up, or the first bar with both lines) fails every comparison below.
    if (d > 0 && p <= 0) {
      if (ctx.position() < 0) ctx.cover();
      ctx.buy();
    } else if (d < 0 && p >= 0) {
      if (ctx.position() > 0) ctx.sell();
      if (this.allowShort) ctx.short();
    }
  }

  /** The last fast-slow difference per symbol; indicators re-warm from history after a restart. */
  getState(): unknown {
    return { prev: Array.from(this.prev) };
  }

  restore(state: unknown): void {
    const prev = (state as { prev?: number[] } | null)?.prev;
    if (Array.isArray(prev)) this.prev = Float64Array.from(prev, (v) => (v === null ? Number.NaN : v));
  }
}
