/**
 * What differs on Kraken behind ccxt's unified calls: Kraken's `cl_ord_id` format, its stop orders (ccxt reports the
 * trigger as `stopLossPrice` and the type as `market`), its trade history pages, and its rate-limit refusal that says
 * nothing of how long to wait.
 */
import { createHash } from 'node:crypto';
import type { Order } from 'ccxt';

/** Trades per `TradesHistory` page (Kraken answers the newest 50 first; `ofs` pages back). */
export const KRAKEN_TRADES_PAGE = 50;

/**
 * How long to wait after Kraken's `EAPI:Rate limit exceeded`: Kraken sends no Retry-After; its private call counter
 * decays by one every 3 s on the starter tier (0.33/s), so one call's worth of room comes back after 3 s.
 */
export const KRAKEN_RATE_LIMIT_WAIT_MS = 3_000;

/**
 * Whether Kraken accepts `id` as a `cl_ord_id`: a long UUID (8-4-4-4-12 hex), a short UUID (32 hex) or free text of at
 * most 18 printable ASCII characters.
 */
export function isKrakenClientOrderId(id: string): boolean {
  if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id)) return true;
  if (/^[0-9a-fA-F]{32}$/.test(id)) return true;
  return id.length > 0 && id.length <= 18 && /^[\x21-\x7e]+$/.test(id);
}

/**
 * The `cl_ord_id` our client order id travels as: itself when Kraken accepts it, else a long UUID made from its
 * SHA-256 (the same id always gives the same UUID, so a repeat, a lookup or a restart finds the same order).
 */
export function krakenClientOrderId(clientOrderId: string): string {
  if (isKrakenClientOrderId(clientOrderId)) return clientOrderId;
  const h = createHash('sha256').update(clientOrderId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * A ccxt kraken order in the unified terms the adapter reads: a stop's trigger (ccxt: `stopLossPrice`, type `market`
 * or `limit`) becomes `triggerPrice`, a `cl_ord_id` we derived becomes our client order id (`ourIds`: Kraken id →
 * ours), and a `closed` order short of its volume is `expired`, not filled.
 */
export function unifiedKrakenOrder(o: Order, ourIds: ReadonlyMap<string, string>): Order {
  const trigger = o.triggerPrice ?? o.stopLossPrice;
  const cid = o.clientOrderId !== undefined ? (ourIds.get(o.clientOrderId) ?? o.clientOrderId) : undefined;
  // Kraken closes an order whose remainder can no longer execute (an IOC) as `closed` too, which ccxt reads as fully
  // filled: short of its volume, it ended without filling, as an expired order does.
  const short = o.status === 'closed' && o.amount !== undefined && (o.filled ?? 0) < o.amount * (1 - 1e-9);
  return {
    ...o,
    ...(trigger ? { triggerPrice: trigger } : {}),
    ...(cid !== undefined ? { clientOrderId: cid } : {}),
    ...(short ? { status: 'expired' } : {}),
  };
}
