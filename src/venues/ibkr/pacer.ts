/**
 * Client-side message pacing for the TWS API: IB disconnects a client that sends more than 50 messages a second, so
 * every request goes through a sliding one-second window that holds at most `maxPerSecond` sends.
 */

// The window is a little longer than a second so jitter between our clock and TWS's arrival times cannot put more
// than the limit into one of TWS's seconds.
const WINDOW_MS = 1_050;

/** Runs sends in order, never more than `maxPerSecond` in any one-second window. */
export class MessagePacer {
  private readonly sent: number[] = [];
  private readonly queue: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly maxPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(maxPerSecond >= 1 && maxPerSecond <= 50)) {
      throw new RangeError(`maxMessagesPerSecond must be between 1 and 50 (IB's limit), got ${maxPerSecond}`);
    }
  }

  /** Runs `send` now when the window has room, else when it has; sends keep their order. */
  run(send: () => void): void {
    this.queue.push(send);
    this.drain();
  }

  /** Sends waiting for room in the window. */
  get pending(): number {
    return this.queue.length;
  }

  /** Drops waiting sends (the connection they were for is gone). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drain(): void {
    if (this.timer) return;
    while (this.queue.length > 0) {
      const t = this.now();
      while (this.sent.length > 0 && t - this.sent[0] >= WINDOW_MS) this.sent.shift();
      if (this.sent.length >= this.maxPerSecond) {
        // A little past the oldest send's first second, so the window has surely moved on.
        const wait = Math.max(1, WINDOW_MS - (t - this.sent[0]) + 1);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.drain();
        }, wait);
        return;
      }
      this.sent.push(t);
      const send = this.queue.shift() as () => void;
      send();
    }
  }
}
