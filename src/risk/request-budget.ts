import { SlidingWindow } from './sliding-window.js';

/**
 * Requests per minute a venue tolerates before throttling us, by venue type (RISK-5): IG documents 30/min; a real
 * exchange through ccxt gets 1 200 calls (Binance spot allows 6 000 request weight a minute, most calls weigh
 * 1–20); the loopback simulator (and the paper venue on its data) advertises 6 000 requests a minute.
 */
export const VENUE_REQUEST_DEFAULTS: Readonly<Record<string, number>> = {
  ig: 30,
  ccxt: 1_200,
  simulator: 6_000,
  paper: 6_000,
};

/** Share of the budget ordinary calls leave to urgent ones (the kill switch): 10%, at least one request. */
export const URGENT_RESERVE = 0.1;

/**
 * A venue request budget for the execution engine: at most `limit` requests in any `windowMs` sliding window
 * (exact, unlike a token bucket, which lets a full burst through right after a refill). Time is the engine
 * clock, so a backtest spends simulated time, not wall time.
 */
export class RequestBudget {
  private readonly window: SlidingWindow;
  /** What ordinary calls may use; the rest of `limit` is kept for urgent ones. */
  readonly ordinaryLimit: number;

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
  ) {
    if (!Number.isInteger(limit) || limit <= 0) throw new RangeError(`request budget limit must be > 0: ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`request budget window must be > 0 ms: ${windowMs}`);
    this.window = new SlidingWindow(limit);
    this.ordinaryLimit = limit > 1 ? Math.min(limit - 1, Math.floor(limit * (1 - URGENT_RESERVE))) : 1;
  }

  /**
   * Takes one request slot at `now` when one is free; false (nothing taken) when the budget is spent. Ordinary
   * calls stop at `ordinaryLimit`; urgent ones (the kill switch) may use the whole limit.
   */
  tryAcquire(now: number, urgent = false): boolean {
    if (this.window.isFull(now, this.windowMs, urgent ? this.limit : this.ordinaryLimit)) return false;
    this.window.push(now);
    return true;
  }

  /** Milliseconds to wait from `now` until `tryAcquire` would succeed (0 = now). */
  waitTime(now: number, urgent = false): number {
    return this.window.waitTime(now, this.windowMs, urgent ? this.limit : this.ordinaryLimit);
  }

  /** Requests used inside the window ending at `now`. */
  used(now: number): number {
    return this.window.countWithin(now, this.windowMs);
  }
}

/**
 * The budget for one venue: an explicit `venueRequestsPerMinute` wins, then the venue type's known default;
 * undefined when neither applies (the venue's own client throttles).
 */
export function requestBudgetFor(venueType: string, venueRequestsPerMinute?: number): RequestBudget | undefined {
  const limit = venueRequestsPerMinute ?? VENUE_REQUEST_DEFAULTS[venueType];
  return limit === undefined ? undefined : new RequestBudget(limit, 60_000);
}
