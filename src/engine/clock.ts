/** A source of "now" in epoch ms. The kernel reads time only through this, so a backtest replays history. */
export interface Clock {
  now(): number;
}

/** A clock the backtest (or a replay) moves forward bar by bar. */
export class SimulatedClock implements Clock {
  // Initialised here, not only in the constructor: a class field declared bare starts as `undefined`, which
  // makes V8 keep it as a tagged field and box every `set` (one heap number per backtest bar) into garbage.
  private t = Number.NaN;

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Sets the time; never moves backwards (merged multi-symbol feeds may repeat a timestamp). */
  set(time: number): void {
    if (time > this.t) this.t = time;
  }

  /** Forces the time, even backwards (a fresh run on the same clock). */
  reset(time: number): void {
    this.t = time;
  }
}

/** Wall-clock time for paper and live trading. */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
}
