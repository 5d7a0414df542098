/**
 * Resilience for venues (VENUE-6, DATA-4): bounded retries with backoff and full jitter for retryable errors only,
 * order placement that never blindly re-sends, streams that resubscribe, and a decorator applying all of it.
 */
import {
  type Bar,
  type OrderBook,
  type OrderChanges,
  type OrderRef,
  type Subscription,
  type Ticker,
  type Timeframe,
  type Venue,
  type VenueCapabilities,
  VenueError,
  type VenueFill,
  type VenueOrder,
  type VenueOrderRequest,
} from '../core/index.js';
import { venueCallContext } from './call-context.js';

/** Codes of errors this module raises itself. */
export const RESILIENCE_CODES = {
  exhausted: 'VENUE_RETRIES_EXHAUSTED',
  unknownState: 'VENUE_ORDER_UNKNOWN_STATE',
  /** A placement's retries were stopped (the kill switch) and the venue has no such order: it was never placed. */
  aborted: 'VENUE_PLACEMENT_ABORTED',
} as const;

/** Options of `withRetry`. Defaults follow VENUE-6: at most 5 attempts within 30 s. */
export interface RetryOptions {
  maxAttempts?: number;
  maxElapsedMs?: number;
  /** First backoff step; attempt n waits up to baseMs * 2^(n-1) (default 250). */
  baseMs?: number;
  /** Cap of one backoff step (default 10,000). */
  maxDelayMs?: number;
  /** Full jitter (a uniform draw in [0, step]) unless false. */
  jitter?: boolean;
  isRetryable?: (err: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Called before each wait (logging, metrics). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Names the operation in the give-up message. */
  label?: string;
}

/** True for a VenueError marked retryable. */
export function isRetryableVenueError(err: unknown): boolean {
  return err instanceof VenueError && err.retryable;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The wait before attempt `attempt + 1`: exponential step, full jitter, never shorter than the venue asked. */
export function backoffDelay(attempt: number, err: unknown, o: RetryOptions = {}): number {
  const step = Math.min(o.maxDelayMs ?? 10_000, (o.baseMs ?? 250) * 2 ** (attempt - 1));
  const d = o.jitter === false ? step : (o.random ?? Math.random)() * step;
  const asked = err instanceof VenueError ? err.retryAfterMs : undefined;
  return asked !== undefined ? Math.max(d, asked) : d;
}

/**
 * Runs `fn`, retrying retryable failures with backoff until it succeeds, `maxAttempts` is reached or the next wait
 * would pass `maxElapsedMs`. Non-retryable errors are thrown at once, unchanged.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const maxAttempts = o.maxAttempts ?? 5;
  const maxElapsed = o.maxElapsedMs ?? 30_000;
  const isRetryable = o.isRetryable ?? isRetryableVenueError;
  const sleep = o.sleep ?? realSleep;
  const now = o.now ?? Date.now;
  const start = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      const delay = backoffDelay(attempt, err, o);
      const elapsed = now() - start;
      if (attempt >= maxAttempts || elapsed + delay > maxElapsed) {
        const why =
          attempt >= maxAttempts
            ? `${attempt} attempts`
            : `${attempt} attempts (next wait would pass ${maxElapsed} ms)`;
        throw new VenueError(
          `${o.label ?? 'venue call'}: gave up after ${why} in ${Math.round(elapsed)} ms: ${(err as Error).message}`,
          {
            retryable: false,
            code: RESILIENCE_CODES.exhausted,
            venue: err instanceof VenueError ? err.venue : undefined,
            cause: err,
          },
        );
      }
      o.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}

/** Options of `placeOrderSafely`. */
export interface PlaceOrderOptions extends RetryOptions {
  /** Wait after an ambiguous failure before looking the order up, so an in-flight order can land (default 500). */
  settleMs?: number;
  /** Stops the retries (default: the call context's signal); never cuts a lookup short. */
  signal?: AbortSignal;
}

/**
 * Places an order without ever creating a duplicate: after a retryable failure (timeout, 5xx, 429) the outcome is
 * unknown, so it looks the client order id up first and re-sends only when the venue has never seen it. When the
 * lookup itself cannot be done, or the venue has no client ids, it stops with VENUE_ORDER_UNKNOWN_STATE for
 * reconciliation instead of guessing.
 */
export async function placeOrderSafely(
  venue: Venue,
  request: VenueOrderRequest,
  o: PlaceOrderOptions = {},
): Promise<VenueOrder> {
  const maxAttempts = o.maxAttempts ?? 5;
  const maxElapsed = o.maxElapsedMs ?? 30_000;
  const sleep = o.sleep ?? realSleep;
  const now = o.now ?? Date.now;
  const isRetryable = o.isRetryable ?? isRetryableVenueError;
  const start = now();
  const ref: OrderRef = { symbol: request.symbol, clientOrderId: request.clientOrderId };
  const unknown = (detail: string, cause: unknown) =>
    new VenueError(`order ${request.clientOrderId} (${request.symbol}): ${detail}; reconcile before trading on`, {
      retryable: false,
      venue: venue.id,
      code: RESILIENCE_CODES.unknownState,
      cause,
    });
  const signal = o.signal ?? venueCallContext().signal;
  const aborted = (failure: unknown) =>
    new VenueError(`place ${request.clientOrderId}: stopped before a re-send (the venue has no such order)`, {
      retryable: false,
      venue: venue.id,
      code: RESILIENCE_CODES.aborted,
      cause: failure,
    });
  for (let attempt = 1; ; attempt++) {
    let failure: unknown;
    if (signal?.aborted && attempt === 1) throw aborted(undefined);
    try {
      return await venue.placeOrder(request);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      failure = err;
    }
    if (!venue.capabilities.clientOrderIds)
      throw unknown('placement outcome unknown and the venue has no client order ids', failure);
    await sleep(o.settleMs ?? 500);
    let existing: VenueOrder | null;
    try {
      existing = await withRetry(() => venue.fetchOrder(ref), {
        ...o,
        label: `look up ${request.clientOrderId}`,
        maxElapsedMs: Math.max(1, maxElapsed - (now() - start)),
      });
    } catch (err) {
      throw unknown('placement outcome unknown and the lookup failed', err);
    }
    if (existing) return existing;
    if (signal?.aborted) throw aborted(failure);
    const delay = backoffDelay(attempt, failure, o);
    const elapsed = now() - start;
    if (attempt >= maxAttempts || elapsed + delay > maxElapsed) {
      throw new VenueError(
        `place ${request.clientOrderId}: gave up after ${attempt} attempts in ${Math.round(elapsed)} ms (the venue has no such order): ${(failure as Error).message}`,
        { retryable: false, venue: venue.id, code: RESILIENCE_CODES.exhausted, cause: failure },
      );
    }
    o.onRetry?.(failure, attempt, delay);
    await abortableSleep(sleep, delay, signal);
    if (signal?.aborted) {
      // The last attempt may still land while we waited: look once more before calling it never placed.
      const late = await venue.fetchOrder(ref).catch(() => undefined);
      if (late) return late;
      if (late === undefined) throw unknown('placement stopped and the final lookup failed', failure);
      throw aborted(failure);
    }
  }
}

/** Sleeps `ms`, or less when `signal` aborts first. */
function abortableSleep(sleep: (ms: number) => Promise<void>, ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done);
    void sleep(ms).then(done);
  });
}

/** Options of `ReconnectingStream`. */
export interface ReconnectOptions {
  /** First resubscribe delay (default 500 ms), doubling per failed try up to `maxDelayMs` (default 30,000). */
  baseMs?: number;
  maxDelayMs?: number;
  jitter?: boolean;
  random?: () => number;
  /** Mark the stream stale when no data arrived for this long (0 = only on errors). */
  staleAfterMs?: number;
  /** Called once when the stream goes stale (error or silence). */
  onStale?: (err: Error | undefined) => void;
  /** Called when data flows again after being stale. */
  onResumed?: () => void;
  /** Called for every underlying error (logging). */
  onError?: (err: Error) => void;
}

/**
 * Keeps a subscription alive: on error it reports stale, closes the dead subscription and subscribes again with
 * backoff, forever, until `close()`. The first data after a gap reports resumed.
 */
export class ReconnectingStream<T> implements Subscription {
  private current: Subscription | undefined;
  private closed = false;
  private stale = false;
  private failures = 0;
  private lastData = Date.now();
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** How many times the stream was (re)subscribed. */
  subscriptions = 0;

  constructor(
    private readonly open: (deliver: (v: T) => void, onError: (e: Error) => void) => Subscription,
    private readonly deliver: (v: T) => void,
    private readonly o: ReconnectOptions = {},
  ) {
    this.subscribe();
    const staleAfter = o.staleAfterMs ?? 0;
    if (staleAfter > 0) {
      this.watchdog = setInterval(
        () => {
          if (!this.stale && Date.now() - this.lastData > staleAfter) this.markStale(undefined);
        },
        Math.max(10, Math.floor(staleAfter / 4)),
      );
    }
  }

  /** True while no data is flowing. */
  get isStale(): boolean {
    return this.stale;
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.current?.close();
    this.current = undefined;
  }

  private subscribe(): void {
    if (this.closed) return;
    this.subscriptions++;
    let dead = false;
    const sub = this.open(
      (v) => {
        if (this.closed || dead) return;
        this.lastData = Date.now();
        this.failures = 0;
        if (this.stale) {
          this.stale = false;
          this.o.onResumed?.();
        }
        this.deliver(v);
      },
      (err) => {
        if (this.closed || dead) return;
        dead = true;
        this.o.onError?.(err);
        this.markStale(err);
        sub.close();
        this.failures++;
        const step = Math.min(this.o.maxDelayMs ?? 30_000, (this.o.baseMs ?? 500) * 2 ** (this.failures - 1));
        const delay = this.o.jitter === false ? step : (this.o.random ?? Math.random)() * step;
        this.retryTimer = setTimeout(() => this.subscribe(), delay);
      },
    );
    this.current = sub;
  }

  private markStale(err: Error | undefined): void {
    if (this.stale) return;
    this.stale = true;
    this.o.onStale?.(err);
  }
}

/** Options of `ResilientVenue`. */
export interface ResilientVenueOptions {
  retry?: RetryOptions;
  place?: PlaceOrderOptions;
  reconnect?: Omit<ReconnectOptions, 'onStale' | 'onResumed'>;
  /** A stream went stale; `stream` names it (e.g. `ticker:BTC/USDT`) so the engine can block entries on it. */
  onStale?: (stream: string, err: Error | undefined) => void;
  onResumed?: (stream: string) => void;
}

/** A Venue decorator: retries reads, places orders safely, never retries modify, and reconnects streams. */
export class ResilientVenue implements Venue {
  readonly id: string;
  readonly capabilities: VenueCapabilities;

  constructor(
    readonly inner: Venue,
    private readonly o: ResilientVenueOptions = {},
  ) {
    this.id = inner.id;
    this.capabilities = inner.capabilities;
  }

  private retry<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.o.retry, label: `${this.id} ${label}` });
  }

  connect(): Promise<void> {
    return this.retry('connect', () => this.inner.connect());
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  fetchInstruments() {
    return this.retry('fetchInstruments', () => this.inner.fetchInstruments());
  }
  fetchBalances() {
    return this.retry('fetchBalances', () => this.inner.fetchBalances());
  }
  fetchPositions() {
    return this.retry('fetchPositions', () => this.inner.fetchPositions());
  }
  placeOrder(request: VenueOrderRequest): Promise<VenueOrder> {
    return placeOrderSafely(this.inner, request, { ...this.o.retry, ...this.o.place });
  }
  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    let retried = false;
    try {
      return await withRetry(() => this.inner.cancelOrder(ref), {
        ...this.o.retry,
        label: `${this.id} cancelOrder`,
        onRetry: (e, a, d) => {
          retried = true;
          this.o.retry?.onRetry?.(e, a, d);
        },
      });
    } catch (err) {
      // A cancel that landed before its answer was lost looks like "unknown order" on the retry: report the final state.
      if (retried && err instanceof VenueError && !err.retryable) {
        const final = await this.retry('fetchOrder', () => this.inner.fetchOrder(ref));
        if (final && final.status !== 'accepted' && final.status !== 'partially_filled' && final.status !== 'submitted')
          return final;
      }
      throw err;
    }
  }
  modifyOrder(ref: OrderRef, changes: OrderChanges) {
    // Not idempotent: a blind retry could apply twice; the caller reconciles instead.
    return this.inner.modifyOrder(ref, changes);
  }
  fetchOrder(ref: OrderRef) {
    return this.retry('fetchOrder', () => this.inner.fetchOrder(ref));
  }
  fetchOpenOrders(symbol?: string) {
    return this.retry('fetchOpenOrders', () => this.inner.fetchOpenOrders(symbol));
  }
  fetchFills(symbol?: string, since?: number) {
    return this.retry('fetchFills', () => this.inner.fetchFills(symbol, since));
  }
  fetchTicker(symbol: string) {
    return this.retry('fetchTicker', () => this.inner.fetchTicker(symbol));
  }
  fetchCandles(symbol: string, timeframe: Timeframe, since?: number, limit?: number) {
    return this.retry('fetchCandles', () => this.inner.fetchCandles(symbol, timeframe, since, limit));
  }
  fetchOrderBook(symbol: string, depth?: number) {
    return this.retry('fetchOrderBook', () => this.inner.fetchOrderBook(symbol, depth));
  }
  fetchServerTime() {
    return this.retry('fetchServerTime', () => this.inner.fetchServerTime());
  }

  private reconnecting<T>(
    name: string,
    open: (d: (v: T) => void, e: (err: Error) => void) => Subscription,
    deliver: (v: T) => void,
    onError?: (e: Error) => void,
  ) {
    return new ReconnectingStream<T>(open, deliver, {
      ...this.o.reconnect,
      onError,
      onStale: (err) => this.o.onStale?.(name, err),
      onResumed: () => this.o.onResumed?.(name),
    });
  }

  watchTicker(symbol: string, onTicker: (t: Ticker) => void, onError?: (e: Error) => void): Subscription {
    return this.reconnecting(`ticker:${symbol}`, (d, e) => this.inner.watchTicker(symbol, d, e), onTicker, onError);
  }
  watchCandles(
    symbol: string,
    timeframe: Timeframe,
    onBar: (b: Bar, closed: boolean) => void,
    onError?: (e: Error) => void,
  ): Subscription {
    return this.reconnecting<[Bar, boolean]>(
      `candles:${symbol}:${timeframe}`,
      (d, e) => this.inner.watchCandles(symbol, timeframe, (b, c) => d([b, c]), e),
      ([b, c]) => onBar(b, c),
      onError,
    );
  }
  watchOrderBook(symbol: string, onBook: (b: OrderBook) => void, onError?: (e: Error) => void): Subscription {
    return this.reconnecting(`book:${symbol}`, (d, e) => this.inner.watchOrderBook(symbol, d, e), onBook, onError);
  }
  watchOrders(onOrder: (o: VenueOrder) => void, onError?: (e: Error) => void): Subscription {
    return this.reconnecting('orders', (d, e) => this.inner.watchOrders(d, e), onOrder, onError);
  }
  watchFills(onFill: (f: VenueFill) => void, onError?: (e: Error) => void): Subscription {
    return this.reconnecting('fills', (d, e) => this.inner.watchFills(d, e), onFill, onError);
  }
}
