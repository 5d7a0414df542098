/**
 * A private feed (orders or fills) read from the exchange's user-data stream, with REST polling only as fallback.
 *
 * Stream up: nothing is polled. Stream down (socket dropped, subscription refused): poll every `pollIntervalMs` and
 * try the stream again with exponential backoff; once it is subscribed again, stop polling and read REST once to
 * reconcile what happened while it was down. The same REST read follows the first subscription, so nothing between
 * the watch call and the exchange's confirmation is lost. The consumer's `deliver` must be idempotent (fills by trade
 * id, orders by state): the stream and the reconciling read may both report the same thing.
 */
import type { Subscription } from '../../core/index.js';

/** Where a feed currently gets its updates. */
export type UserFeedMode = 'stream' | 'poll';

/** Options of `UserFeed`. */
export interface UserFeedOptions<T> {
  /** Resolves once the exchange confirmed the user-data subscription. */
  ready: () => Promise<void>;
  /** Reads the stream; `onError` ends it (a dropped socket). */
  subscribe: (deliver: (v: T) => void, onError: (e: Error) => void) => Subscription;
  /** One REST read: the fallback poll and the reconciliation after (re)subscribing. */
  poll: () => Promise<T>;
  deliver: (v: T) => void;
  pollIntervalMs: number;
  /** First stream retry delay (default 250 ms), doubling up to `retryMaxMs` (default 30 s), with jitter. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** REST poll failures (the stream's own failures only switch to polling). */
  onError?: (e: Error) => void;
  /** Each switch between stream and polling; `cause` is why the stream was left. */
  onMode?: (mode: UserFeedMode, cause?: Error) => void;
  random?: () => number;
}

const toError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/** One subscriber's stream-first feed; `close()` stops both the stream and any polling. */
export class UserFeed<T> implements Subscription {
  private closed = false;
  private mode: UserFeedMode | 'starting' = 'starting';
  /** Bumped whenever a stream is abandoned, so a late error of an old stream changes nothing. */
  private generation = 0;
  private attempt = 0;
  private stream: Subscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: UserFeedOptions<T>) {
    void this.connect();
  }

  /** `stream` or `poll` (`starting` until the first subscription settles). */
  get currentMode(): UserFeedMode | 'starting' {
    return this.mode;
  }

  close(): void {
    this.closed = true;
    this.generation++;
    this.stream?.close();
    this.stream = undefined;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    try {
      await this.o.ready();
    } catch (err) {
      if (!this.closed) this.fallback(toError(err));
      return;
    }
    if (this.closed) return;
    const gen = ++this.generation;
    this.stream = this.o.subscribe(
      (v) => {
        if (!this.closed && gen === this.generation) this.o.deliver(v);
      },
      (err) => {
        if (!this.closed && gen === this.generation) this.fallback(err);
      },
    );
    this.mode = 'stream';
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    // Reconcile: whatever happened before the subscription was confirmed (or while it was down).
    await this.pollOnce();
    if (this.closed || gen !== this.generation) return;
    this.attempt = 0;
    this.o.onMode?.('stream');
  }

  private fallback(cause: Error): void {
    this.generation++;
    const dead = this.stream;
    this.stream = undefined;
    dead?.close();
    if (this.mode !== 'poll') {
      this.mode = 'poll';
      this.o.onMode?.('poll', cause);
      void this.pollLoop();
    }
    if (this.retryTimer) return;
    const base = this.o.retryBaseMs ?? 250;
    const cap = this.o.retryMaxMs ?? 30_000;
    const delay = Math.min(cap, base * 2 ** this.attempt) * (0.5 + (this.o.random ?? Math.random)() / 2);
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private async pollLoop(): Promise<void> {
    this.pollTimer = undefined;
    if (this.closed || this.mode !== 'poll') return;
    await this.pollOnce();
    if (this.closed || this.mode !== 'poll') return;
    this.pollTimer = setTimeout(() => void this.pollLoop(), this.o.pollIntervalMs);
  }

  private async pollOnce(): Promise<void> {
    try {
      const v = await this.o.poll();
      if (!this.closed) this.o.deliver(v);
    } catch (err) {
      if (!this.closed) this.o.onError?.(toError(err));
    }
  }
}
