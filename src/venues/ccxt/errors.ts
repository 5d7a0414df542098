/** Maps ccxt's error classes onto VenueError: retryable for transport and throttling, fatal for the rest. */
import ccxt from 'ccxt';
import { VenueError } from '../../core/index.js';

/** Stable VenueError codes the ccxt adapter produces. */
export const VENUE_CODES = {
  timeout: 'VENUE_TIMEOUT',
  rateLimit: 'VENUE_RATE_LIMIT',
  unavailable: 'VENUE_UNAVAILABLE',
  network: 'VENUE_NETWORK',
  invalidOrder: 'VENUE_INVALID_ORDER',
  insufficientFunds: 'VENUE_INSUFFICIENT_FUNDS',
  auth: 'VENUE_AUTH',
  badSymbol: 'VENUE_BAD_SYMBOL',
  orderNotFound: 'VENUE_ORDER_NOT_FOUND',
  duplicateOrder: 'VENUE_DUPLICATE_ORDER',
  clock: 'VENUE_CLOCK',
  notSupported: 'VENUE_NOT_SUPPORTED',
  rejected: 'VENUE_REJECTED',
  budget: 'VENUE_BUDGET',
  /** A reduce-only order that would open, grow or flip a position (Binance -2022). */
  reduceOnlyRejected: 'VENUE_REDUCE_ONLY_REJECTED',
} as const;

/**
 * Turns anything ccxt throws into a VenueError. `retryAfterMs` comes from the last response's Retry-After header
 * (ccxt keeps it on the instance; with concurrent calls it may belong to a sibling request, so it is a hint only).
 */
export function mapCcxtError(err: unknown, venue: string, headers?: Record<string, unknown>): VenueError {
  if (err instanceof VenueError) return err;
  const message = `${venue}: ${err instanceof Error ? err.message : String(err)}`;
  const make = (code: string, retryable: boolean, retryAfterMs?: number) =>
    new VenueError(message, { retryable, venue, code, cause: err, retryAfterMs });
  // Order matters: ccxt's classes form a hierarchy (RateLimitExceeded < DDoSProtection < NetworkError).
  if (err instanceof ccxt.RequestTimeout) return make(VENUE_CODES.timeout, true);
  if (err instanceof ccxt.DDoSProtection || err instanceof ccxt.RateLimitExceeded) {
    return make(VENUE_CODES.rateLimit, true, retryAfter(headers));
  }
  if (err instanceof ccxt.ExchangeNotAvailable) return make(VENUE_CODES.unavailable, true, retryAfter(headers));
  // ccxt's InvalidNonce (a stale timestamp or nonce) is a NetworkError: named for what it is, and retryable as before,
  // since a re-signed request carries a fresh one (a request delayed in a queue); a clock that stays off fails every
  // attempt until the retries run out.
  if (err instanceof ccxt.InvalidNonce) return make(VENUE_CODES.clock, true);
  if (err instanceof ccxt.NetworkError) return make(VENUE_CODES.network, true);
  if (err instanceof ccxt.OrderNotFound) return make(VENUE_CODES.orderNotFound, false);
  // Binance futures: "ReduceOnly Order is rejected." (ccxt calls it InvalidOrder or ExchangeError by endpoint).
  if (err instanceof ccxt.ExchangeError && /"code":\s*-2022\b/.test(message))
    return make(VENUE_CODES.reduceOnlyRejected, false);
  // Binance futures' "Margin is insufficient." (-2019) is not an InsufficientFunds on every ccxt endpoint.
  if (err instanceof ccxt.InsufficientFunds || (err instanceof ccxt.ExchangeError && /"code":\s*-2019\b/.test(message)))
    return make(VENUE_CODES.insufficientFunds, false);
  if (err instanceof ccxt.DuplicateOrderId || (err instanceof ccxt.InvalidOrder && /duplicate/i.test(message))) {
    return make(VENUE_CODES.duplicateOrder, false);
  }
  if (err instanceof ccxt.InvalidOrder) return make(VENUE_CODES.invalidOrder, false);
  // Binance's order filters (LOT_SIZE, NOTIONAL, PRICE_FILTER...) come back as -1013, which ccxt calls BadRequest.
  if (err instanceof ccxt.ExchangeError && /Filter failure/i.test(message))
    return make(VENUE_CODES.invalidOrder, false);
  if (err instanceof ccxt.AuthenticationError || err instanceof ccxt.PermissionDenied)
    return make(VENUE_CODES.auth, false);
  if (err instanceof ccxt.BadSymbol) return make(VENUE_CODES.badSymbol, false);
  if (err instanceof ccxt.NotSupported) return make(VENUE_CODES.notSupported, false);
  return make(VENUE_CODES.rejected, false);
}

function retryAfter(headers: Record<string, unknown> | undefined): number | undefined {
  const raw = headers?.['Retry-After'] ?? headers?.['retry-after'];
  if (raw === undefined || raw === null) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(String(raw));
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
