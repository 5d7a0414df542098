/**
 * A private feed (orders or fills) read from the exchange's user-data stream, with REST polling only as fallback.
 *
 * Stream up: nothing is polled. Stream down (socket dropped, subscription refused): poll every `pollIntervalMs` and
 * try the stream again with exponential backoff; once it is subscribed again, stop polling and read REST once to
 * reconcile what happened while it was down. The same REST read follows the first subscription, so nothing between
 * the watch call and the exchange's confirmation is lost. Until that first subscription is confirmed (`starting`)
 * the feed polls too, silently: the stream is not up yet, and a fill made meanwhile (the first order of a runtime
 * placed while the exchange had not answered the subscribe) is reported at the next poll rather than whenever the
 * confirmation comes, or never when it does not. The consumer's `deliver` must be idempotent (fills by trade id,
 * orders by state): the stream, a poll in flight and the reconciling read may all report the same thing.
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
  /** A polling loop runs (its timer is set or its read is in flight). */
  private polling = false;

  constructor(private readonly o: UserFeedOptions<T>) {
    // Poll until the stream is confirmed (`starting` is not `stream`); the first poll waits one period, as the
    // reconciling read follows a quick confirmation anyway.
    this.polling = true;
    this.pollTimer = setTimeout(() => void this.pollLoop(), this.o.pollIntervalMs);
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
    if (this.pollTimer) {
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
      this.polling = false;
    }
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
      this.startPolling();
    }
    if (this.retryTimer) return;
    const base = this.o.retryBaseMs ?? 250;
    const cap = this.o.retryMaxMs ?? 30_000;
    const delay = Math.min(cap, base * 2 ** this.attempt) * (0.5 + (this.o.random ?? Math.random)() / 2);
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  // One polling loop at a time, running while the stream is not up (`starting` or `poll`).
  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    void this.pollLoop();
  }

  private async pollLoop(): Promise<void> {
    this.pollTimer = undefined;
    if (!this.closed && this.mode !== 'stream') await this.pollOnce();
    if (this.closed || this.mode === 'stream') {
      this.polling = false;
      return;
    }
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
