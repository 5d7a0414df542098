/**
 * Maximum (or minimum) over the last `period` values with a monotonic deque kept in preallocated typed arrays:
 * amortised O(1) per push, no allocation. Used by Stochastic and Donchian.
 */
export class RollingExtreme {
  readonly period: number;
  private readonly values: Float64Array;
  private readonly seqs: Float64Array;
  private readonly sign: number;
  private head = 0;
  private size = 0;
  private seq = 0;

  /** `max` true tracks the maximum, false the minimum. */
  constructor(period: number, max: boolean) {
    this.period = period;
    this.values = new Float64Array(period);
    this.seqs = new Float64Array(period);
    this.sign = max ? 1 : -1;
  }

  /** Adds a value and returns the extreme of the last `period` values (including this one). */
  push(x: number): number {
    const cap = this.period;
    const seq = ++this.seq;
    // Drop entries that left the window, then entries the new value dominates; at most period-1 remain.
    while (this.size > 0 && this.seqs[this.head] <= seq - cap) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.size--;
    }
    const s = this.sign;
    while (this.size > 0) {
      const back = (this.head + this.size - 1) % cap;
      if (s * this.values[back] > s * x) break;
      this.size--;
    }
    const slot = (this.head + this.size) % cap;
    this.values[slot] = x;
    this.seqs[slot] = seq;
    this.size++;
    return this.values[this.head];
  }

  /** Number of values pushed so far. */
  get count(): number {
    return this.seq;
  }

  /** Forgets all values. */
  reset(): void {
    this.head = 0;
    this.size = 0;
    this.seq = 0;
  }
}
