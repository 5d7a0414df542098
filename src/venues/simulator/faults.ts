/** Fault injection for the simulator: tests arm faults, the server consumes them per request. */

/** Which requests a fault applies to: HTTP method and path (e.g. `/api/v3/order`); omitted = any. */
export interface FaultMatch {
  method?: string;
  path?: string;
}

/** One armed fault; `times` counts down as requests consume it. */
export type FaultRule =
  | ({ kind: 'status'; status: number; times: number } & FaultMatch)
  | ({ kind: 'rateLimit'; retryAfterSec: number; times: number } & FaultMatch)
  | ({ kind: 'hang'; execute: boolean; times: number } & FaultMatch)
  | ({ kind: 'reject'; message: string; times: number } & FaultMatch)
  | ({ kind: 'partialFill'; ratio: number; times: number } & FaultMatch);

/** Binance's order placement endpoint, where placement faults apply unless told otherwise. */
const BINANCE_ORDER: FaultMatch = { method: 'POST', path: '/api/v3/order' };

/** Controls the simulator's faults; all methods may be called at any time from a test. */
export class FaultController {
  /** Added delay before every HTTP request is handled, in ms. */
  latencyMs = 0;
  /** A further delay drawn uniformly from [0, latencyJitterMs] per request (a slow, uneven network). */
  latencyJitterMs = 0;
  /** While true, new WebSocket connections are closed at once (a feed outage that lasts). */
  refuseWebSockets = false;
  private rules: FaultRule[] = [];
  private dropHandler: (() => number) | undefined;
  private userDataDropHandler: (() => number) | undefined;

  /** Next `times` matching requests answer with HTTP `status` (5xx: a venue outage). */
  failNext(times: number, status = 503, match: FaultMatch = {}): this {
    this.rules.push({ kind: 'status', status, times, ...match });
    return this;
  }

  /** Next `times` matching requests answer 429 with `Retry-After: retryAfterSec`. */
  rateLimitNext(times: number, retryAfterSec = 1, match: FaultMatch = {}): this {
    this.rules.push({ kind: 'rateLimit', retryAfterSec, times, ...match });
    return this;
  }

  /**
   * Next `times` matching requests never get an answer (the client times out). With `execute`, the request is
   * still carried out — the dangerous case where an order is live but the client does not know.
   */
  hangNext(times: number, execute: boolean, match: FaultMatch = {}): this {
    this.rules.push({ kind: 'hang', execute, times, ...match });
    return this;
  }

  /**
   * Next `times` order placements are rejected with `message` (Binance: -2010; the Kraken mode: `EOrder:<message>`);
   * `match` is the placement endpoint (default Binance's; the Kraken mode's is `POST /0/private/AddOrder`).
   */
  rejectNextOrders(times: number, message = 'Order rejected by the venue.', match: FaultMatch = BINANCE_ORDER): this {
    this.rules.push({ kind: 'reject', message, times, ...match });
    return this;
  }

  /** Next `times` order placements fill at most `ratio` of their quantity (rest stays open or expires). */
  partialFillNext(times: number, ratio: number, match: FaultMatch = BINANCE_ORDER): this {
    this.rules.push({ kind: 'partialFill', ratio, times, ...match });
    return this;
  }

  /** Terminates only the user-data sockets (WebSocket API and listen-key streams); returns how many. */
  dropUserDataStreams(): number {
    return this.userDataDropHandler ? this.userDataDropHandler() : 0;
  }

  /** Closes every open WebSocket connection now; returns how many were dropped. */
  dropWebSockets(): number {
    return this.dropHandler ? this.dropHandler() : 0;
  }

  /** The delay of the next request: the fixed latency plus its jitter. */
  nextLatencyMs(): number {
    return this.latencyMs + (this.latencyJitterMs > 0 ? Math.random() * this.latencyJitterMs : 0);
  }

  /** Disarms every fault and clears latency and refusal. */
  reset(): void {
    this.rules = [];
    this.latencyMs = 0;
    this.latencyJitterMs = 0;
    this.refuseWebSockets = false;
  }

  /** Faults still armed (for assertions). */
  pending(): readonly FaultRule[] {
    return this.rules;
  }

  /** @internal the server registers how to drop sockets. */
  setDropHandler(fn: () => number): void {
    this.dropHandler = fn;
  }

  /** @internal the server registers how to drop user-data sockets. */
  setUserDataDropHandler(fn: () => number): void {
    this.userDataDropHandler = fn;
  }

  /** @internal takes the first armed fault matching this request, consuming one use. */
  take(method: string, path: string, kinds: readonly FaultRule['kind'][]): FaultRule | undefined {
    const i = this.rules.findIndex(
      (r) => kinds.includes(r.kind) && (!r.method || r.method === method) && (!r.path || r.path === path),
    );
    if (i < 0) return undefined;
    const rule = this.rules[i];
    rule.times--;
    if (rule.times <= 0) this.rules.splice(i, 1);
    return rule;
  }
}
