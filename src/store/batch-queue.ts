import { checkCapacity, type OverflowPolicy, type QueueGaugeSource, type QueueOverflow } from '../core/queue-bound.js';

/** Options of a batch queue. */
export interface BatchQueueOptions {
  /** The `queue` label of its depth gauge (default `batch`). */
  name?: string;
  /** Items held before the overflow policy applies (default 50 000). */
  capacity?: number;
  /**
   * Past the bound: `halt` (default) keeps every item and calls `onOverflow` once per crossing (money-relevant rows
   * are never dropped); `drop_oldest` discards the oldest item and counts it.
   */
  policy?: Extract<OverflowPolicy, 'halt' | 'drop_oldest'>;
  /** Called when a `halt` queue goes past its bound (again only after it came back under it). */
  onOverflow?: (o: QueueOverflow) => void;
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
export class BatchQueue<T> implements QueueGaugeSource {
  readonly queue: string;
  readonly capacity: number;
  readonly policy: Extract<OverflowPolicy, 'halt' | 'drop_oldest'>;
  private droppedCount = 0;
  /** True from a `halt` crossing until the queue is back under its bound. */
  private overflowing = false;
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly opts: BatchQueueOptions,
  ) {
    this.queue = opts.name ?? 'batch';
    this.capacity = checkCapacity(this.queue, opts.capacity ?? 50_000);
    this.policy = opts.policy ?? 'halt';
  }

  /** Items discarded by `drop_oldest` since start. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Number of items waiting to be written. */
  get depth(): number {
    return this.items.length;
  }

  /** Queues one item (cheap, synchronous). */
  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    if (this.items.length > this.capacity) this.overflow();
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

  private overflow(): void {
    if (this.policy === 'drop_oldest') {
      this.items.shift();
      this.droppedCount++;
      return;
    }
    if (this.overflowing) return;
    this.overflowing = true;
    this.opts.onOverflow?.({
      queue: this.queue,
      capacity: this.capacity,
      depth: this.items.length,
      policy: this.policy,
    });
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
        if (this.items.length <= this.capacity) this.overflowing = false;
      } catch (err) {
        // Put the batch back in front so nothing acknowledged later overtakes it.
        this.items = batch.concat(this.items);
        if (!this.closed) this.schedule(Math.max(this.opts.flushMs, 250));
        throw err;
      }
    }
  }
}
