/** Options of a batch queue. */
export interface BatchQueueOptions {
  /** Flush at most this long after the first queued item (ms). */
  flushMs: number;
  /** Flush as soon as this many items are queued. */
  maxBatch: number;
  /** Called when a flush fails; the items stay queued and are retried on the next flush. */
  onError: (err: unknown) => void;
}

/**
 * Collects items from synchronous publishers and writes them in batches off the caller's stack, so a subscriber
 * never slows the order path. `flush()` resolves once everything queued before the call is durable.
 */
export class BatchQueue<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly opts: BatchQueueOptions,
  ) {}

  /** Number of items waiting to be written. */
  get depth(): number {
    return this.items.length;
  }

  /** Queues one item (cheap, synchronous). */
  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    if (this.items.length >= this.opts.maxBatch) this.schedule(0);
    else if (this.timer === undefined) this.schedule(this.opts.flushMs);
  }

  /** Writes everything queued so far; resolves when it is committed (rejects if the write failed). */
  flush(): Promise<void> {
    this.clearTimer();
    const next = this.running.then(() => this.drain());
    // The chain itself never rejects, so one failure does not poison later flushes.
    this.running = next.catch(() => {});
    return next;
  }

  /** Flushes and stops accepting items. */
  async close(): Promise<void> {
    await this.flush().catch((err) => this.opts.onError(err));
    this.closed = true;
    this.clearTimer();
  }

  private schedule(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err) => this.opts.onError(err));
    }, ms);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async drain(): Promise<void> {
    while (this.items.length > 0) {
      const batch = this.items;
      this.items = [];
      try {
        await this.write(batch);
      } catch (err) {
        // Put the batch back in front so nothing acknowledged later overtakes it.
        this.items = batch.concat(this.items);
        if (!this.closed) this.schedule(Math.max(this.opts.flushMs, 250));
        throw err;
      }
    }
  }
}
