/**
 * One ccxt watch loop per stream key, shared by every subscriber of that key on one exchange instance.
 *
 * ccxt keeps a single future and a single exchange subscription per channel, so two independent loops on the same
 * channel interfere: unwatching for one of them rejects the other's pending watch and unsubscribes it at the
 * exchange. Here subscribers are reference-counted and only the last close stops the loop and unwatches.
 */
import type { Subscription } from '../../core/index.js';

/** One consumer of a shared stream. */
interface Subscriber<T> {
  deliver: (v: T) => void;
  onError?: (e: Error) => void;
}

/** The single loop behind one key. */
interface Entry<T> {
  readonly key: string;
  readonly subs: Set<Subscriber<T>>;
  /** The loop must stop (last subscriber gone or hub closed). */
  stopped: boolean;
  /** The loop ended on an error: the exchange no longer has the channel, so there is nothing to unwatch. */
  failed: boolean;
  unwatch?: () => unknown;
}

/** How a loop gets its next value and how its channel is given back. */
export interface StreamSource<T> {
  next: () => Promise<T>;
  /** Unsubscribes at the exchange; absent when the exchange cannot. */
  unwatch?: () => unknown;
}

/** Options of `SharedStreams`. */
export interface SharedStreamsOptions {
  /** Awaited before a loop's first `next()` (e.g. loading markets). */
  prepare: () => Promise<void>;
  /** Turns whatever the loop threw into the error subscribers see. */
  mapError: (err: unknown) => Error;
}

const toError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/** Reference-counted watch loops keyed by stream (e.g. `ticker:BTC/USDT`, `ohlcv:BTC/USDT:1m`). */
export class SharedStreams {
  private readonly entries = new Map<string, Entry<unknown>>();
  private readonly unwatching = new Map<string, Promise<void>>();

  constructor(private readonly o: SharedStreamsOptions) {}

  /** Number of live loops (diagnostics and tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Subscribers of `key`'s loop, 0 when none runs. */
  subscribers(key: string): number {
    return this.entries.get(key)?.subs.size ?? 0;
  }

  /**
   * Adds a subscriber to `key`'s loop, starting it with `source` when none runs. The loop ends at its first error,
   * which every current subscriber receives; a later subscribe starts a fresh loop.
   */
  subscribe<T>(
    key: string,
    source: () => StreamSource<T>,
    deliver: (v: T) => void,
    onError?: (e: Error) => void,
  ): Subscription {
    let entry = this.entries.get(key) as Entry<T> | undefined;
    if (!entry || entry.stopped) {
      const src = source();
      entry = { key, subs: new Set(), stopped: false, failed: false, unwatch: src.unwatch };
      this.entries.set(key, entry as Entry<unknown>);
      void this.run(entry, src.next);
    }
    const e = entry;
    const sub: Subscriber<T> = { deliver, onError };
    e.subs.add(sub);
    return { close: () => this.release(e, sub) };
  }

  /**
   * Stops every loop without unwatching (closing the exchange drops its channels), then waits up to `maxWaitMs` for
   * unsubscribes already under way: ccxt sends them behind its throttle and, once the socket is closed, that send
   * fails as an unhandled rejection inside ccxt.
   */
  async close(maxWaitMs = 2_000): Promise<void> {
    for (const e of this.entries.values()) {
      e.stopped = true;
      e.subs.clear();
    }
    this.entries.clear();
    const pending = [...this.unwatching.values()];
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending),
      new Promise<void>((r) => {
        timer = setTimeout(r, maxWaitMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }

  private release<T>(e: Entry<T>, sub: Subscriber<T>): void {
    if (!e.subs.delete(sub) || e.subs.size > 0 || e.stopped) return;
    e.stopped = true;
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    if (!e.failed && e.unwatch) this.unwatch(e.key, e.unwatch);
  }

  private unwatch(key: string, fn: () => unknown): void {
    // Unwatching is best effort: a failure only means the channel keeps sending until the socket closes.
    const p = Promise.resolve()
      .then(fn)
      .then(
        () => undefined,
        () => undefined,
      );
    this.unwatching.set(key, p);
    void p.then(() => {
      if (this.unwatching.get(key) === p) this.unwatching.delete(key);
    });
  }

  private async run<T>(e: Entry<T>, next: () => Promise<T>): Promise<void> {
    try {
      // A new loop right after the last close must not subscribe before that unsubscribe lands, or the unsubscribe
      // would cancel it.
      await this.unwatching.get(e.key);
      await this.o.prepare();
      while (!e.stopped) {
        const v = await next();
        if (e.stopped) break;
        for (const s of e.subs) {
          try {
            s.deliver(v);
          } catch (err) {
            // One subscriber's failure is its own; the others keep their feed.
            s.onError?.(toError(err));
          }
        }
      }
    } catch (err) {
      if (e.stopped) return;
      e.failed = true;
      e.stopped = true;
      if (this.entries.get(e.key) === e) this.entries.delete(e.key);
      const mapped = this.o.mapError(err);
      const subs = [...e.subs];
      e.subs.clear();
      for (const s of subs) s.onError?.(mapped);
    }
  }
}
