/**
 * A ring of the most recent event timestamps (epoch ms). Answers "how many events fell inside the last W ms"
 * for any count up to its capacity without allocating, which is what rate limits on the order path need.
 */
export class SlidingWindow {
  private readonly times: Float64Array;
  private head = 0;
  private size = 0;

  /** `capacity` is the largest count any query will ask about (the biggest limit). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`window capacity must be > 0: ${capacity}`);
    this.times = new Float64Array(capacity);
  }

  /** Records one event at `time`. */
  push(time: number): void {
    this.times[this.head] = time;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Time of the k-th most recent event (k=1 is the newest), or -Infinity when fewer than k were recorded. */
  kthMostRecent(k: number): number {
    if (k > this.size || k <= 0) return Number.NEGATIVE_INFINITY;
    return this.times[(this.head - k + this.capacity * 2) % this.capacity];
  }

  /** True when `limit` events already fall inside (now - windowMs, now], so one more would exceed it. */
  isFull(now: number, windowMs: number, limit: number): boolean {
    return this.kthMostRecent(limit) > now - windowMs;
  }

  /** Milliseconds until one more event fits under `limit` per `windowMs` (0 when it fits now). */
  waitTime(now: number, windowMs: number, limit: number): number {
    const t = this.kthMostRecent(limit);
    const wait = t + windowMs - now;
    return Math.max(wait, 0);
  }

  /** Number of recorded events inside (now - windowMs, now] (counts at most `capacity`). */
  countWithin(now: number, windowMs: number): number {
    let n = 0;
    for (let k = 1; k <= this.size; k++) {
      if (this.kthMostRecent(k) > now - windowMs) n++;
      else break;
    }
    return n;
  }

  /** The recorded times, oldest first (for serialisation). */
  toArray(): number[] {
    const out: number[] = [];
    for (let k = this.size; k >= 1; k--) out.push(this.kthMostRecent(k));
    return out;
  }

  /** Forgets every event. */
  clear(): void {
    this.size = 0;
    this.head = 0;
  }
}
