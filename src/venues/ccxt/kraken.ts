/**
 * What differs on Kraken behind ccxt's unified calls: Kraken's `cl_ord_id` format, its stop orders (ccxt reports the
 * trigger as `stopLossPrice` and the type as `market`), its trade history pages, its rate-limit refusal that says
 * nothing of how long to wait, and its private WebSocket v2 (`executions`): a confirmed subscription and whole orders
 * from its partial events.
 */
import { createHash } from 'node:crypto';
import ccxt, { type Exchange, type Order } from 'ccxt';

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

// ---- Kraken's private WebSocket v2: the `executions` channel behind ccxt's watchOrders / watchMyTrades ----

/** ccxt's subscription key of the `executions` channel (one per connection, shared by orders and trades). */
const EXECUTIONS = 'executions';

/** Our record of the `executions` subscription on ccxt's connection: confirmed once Kraken acknowledged it. */
interface ExecutionsSubscription {
  reqId: number;
  confirmed: boolean;
}

interface WsClient {
  subscriptions: Record<string, unknown>;
  futures: Record<string, Promise<unknown>>;
  future(hash: string): Promise<unknown>;
  resolve(result: unknown, hash: string): unknown;
  send(message: unknown): Promise<unknown>;
  /** Settles once the socket is open (ccxt may delay a redial by its own backoff). */
  connected: Promise<unknown>;
  /** The socket (the `ws` package's WebSocket in Node). */
  connection?: { terminate?: () => void; close?: () => void };
}

/** The parts of ccxt's pro kraken the subscription uses (not in ccxt's typings). */
interface KrakenPro {
  urls: { api: { ws?: { private?: string; privateV2?: string } } };
  clients: Record<string, WsClient | undefined>;
  authenticate(): Promise<string>;
  requestId(): number;
  watch(url: string, hash: string, message: unknown, subscribeHash: string, subscription: unknown): Promise<unknown>;
  handleMessage(client: WsClient, message: Record<string, unknown> | undefined): void;
}

const isExecutionsSubscription = (v: unknown): v is ExecutionsSubscription =>
  typeof v === 'object' && v !== null && typeof (v as ExecutionsSubscription).reqId === 'number';

const pro = (ex: Exchange) => ex as unknown as KrakenPro;
const privateV2 = (ex: Exchange) => pro(ex).urls.api.ws?.privateV2 ?? '';

/**
 * Makes a Kraken subscribe acknowledgement resolve the request that sent it (ccxt's kraken ignores a successful
 * `{ method: 'subscribe', success: true, req_id }`; a refusal it already rejects by `req_id`). Install on a new
 * instance, before it opens a socket: ccxt binds the handler to each connection when it creates it.
 */
export function hookKrakenSubscribeAcks(ex: Exchange): void {
  const k = pro(ex);
  const handle = k.handleMessage.bind(k);
  k.handleMessage = (client, message) => {
    if (message?.method === 'subscribe' && message.success === true && typeof message.req_id === 'number') {
      const sub = client.subscriptions[EXECUTIONS];
      if (isExecutionsSubscription(sub) && sub.reqId === message.req_id) sub.confirmed = true;
      client.resolve(message, String(message.req_id));
    }
    handle(client, message);
  };
}

/** Whether ccxt's current private connection carries an `executions` subscription Kraken acknowledged. */
export function krakenExecutionsConfirmed(ex: Exchange): boolean {
  const sub = pro(ex).clients?.[privateV2(ex)]?.subscriptions[EXECUTIONS];
  return isExecutionsSubscription(sub) && sub.confirmed;
}

/**
 * Subscribes Kraken's `executions` channel and resolves once Kraken acknowledged it: a token from
 * `GetWebSocketsToken` (through `call`, the adapter's request budget), then `subscribe` with the open orders as a
 * snapshot (Kraken sends an order's whole record once; later events carry only what changed, so the snapshot is what
 * makes an order placed before the subscription readable) and no trade snapshot (the REST read after subscribing
 * reconciles fills). Kraken refuses a token it no longer honours with `ESession:Invalid session` (ccxt reuses its
 * token for 15 minutes, also after a reconnect): the token is forgotten so the next attempt asks for a new one. A
 * refusal, or no acknowledgement within `timeoutMs` of the socket opening (ccxt delays a redial by its own backoff),
 * drops the connection, so the next attempt starts on a new one (a late acknowledgement would leave a subscription
 * ccxt no longer knows of).
 */
export async function subscribeKrakenExecutions(
  ex: Exchange,
  call: (fn: () => Promise<string>) => Promise<string>,
  timeoutMs: number,
): Promise<void> {
  const k = pro(ex);
  const url = privateV2(ex);
  const existing = k.clients?.[url]?.subscriptions[EXECUTIONS];
  if (isExecutionsSubscription(existing)) {
    if (!existing.confirmed) await k.clients[url]?.future(String(existing.reqId));
    return;
  }
  const token = await call(() => k.authenticate());
  const reqId = k.requestId();
  const sub: ExecutionsSubscription = { reqId, confirmed: false };
  const message = {
    method: 'subscribe',
    params: { channel: EXECUTIONS, token, snap_orders: true, snap_trades: false },
    req_id: reqId,
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    // The subscribe is sent here, not by ccxt's watch: ccxt sends it behind its throttle without handling a failed
    // send, which on a socket closed meanwhile would be an unhandled rejection.
    const acked = k.watch(url, String(reqId), undefined, EXECUTIONS, sub);
    const client = k.clients?.[url];
    // A failed dial rejects `acked`; the wait for the acknowledgement starts once the socket is open.
    await Promise.race([client?.connected, acked]);
    await client?.send(message);
    await Promise.race([
      acked,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ccxt.RequestTimeout(`kraken: no answer to the executions subscription in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    const client = k.clients?.[url];
    if (client?.subscriptions[EXECUTIONS] === sub) delete client.subscriptions[EXECUTIONS];
    // ccxt's own close() only closes a socket of the class it expects; terminating it makes ccxt drop the connection.
    if (client?.connection?.terminate) client.connection.terminate();
    else client?.connection?.close?.();
    if (/ESession:Invalid session/.test(err instanceof Error ? err.message : String(err))) forgetKrakenToken(ex);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// ccxt caches the WebSocket token on its (never connected) v1 private client; dropping it makes the next subscription
// ask for a new one.
function forgetKrakenToken(ex: Exchange): void {
  const url = pro(ex).urls.api.ws?.private;
  const client = url ? pro(ex).clients?.[url] : undefined;
  if (client) delete client.subscriptions.authenticated;
}

// Kraken's v2 order status in ccxt's terms.
const WS_STATUS: Record<string, Order['status']> = {
  pending_new: 'open',
  new: 'open',
  partially_filled: 'open',
  filled: 'closed',
  canceled: 'canceled',
  expired: 'expired',
};

/**
 * Kraken's `executions` order events folded into whole orders. Kraken sends an order's whole record once (its
 * `pending_new` event, or the subscription's snapshot) and afterwards only what changed (`new`, `filled`,
 * `canceled`... with the order id), which ccxt's cache cannot join (it files an event by its symbol, which only the
 * first carries): this keeps each order's raw state and merges every event into it.
 */
export class KrakenExecutionOrders {
  private readonly raw = new Map<string, Record<string, unknown>>();
  private readonly created = new Map<string, number>();
  /**
   * Events already folded. ccxt's `watchOrders` returns as many of its newest entries as it had appends, and an event
   * that replaced an entry counts too: an older entry can come back, and folded again it would undo what followed.
   */
  private readonly folded = new WeakSet<object>();

  /**
   * Folds the order updates ccxt's `watchOrders` returned (each one's `info` is the raw event) and returns the
   * orders they changed as ccxt orders. An order never seen whole (no symbol yet) is left out; an order that ended
   * is forgotten once reported.
   */
  fold(updates: readonly Order[]): Order[] {
    const changed = new Set<string>();
    for (const u of updates) {
      const info = (u.info ?? {}) as Record<string, unknown>;
      const id = typeof info.order_id === 'string' ? info.order_id : undefined;
      if (id === undefined || this.folded.has(info)) continue;
      this.folded.add(info);
      this.raw.set(id, { ...(this.raw.get(id) ?? {}), ...info });
      if (!this.created.has(id)) this.created.set(id, Date.parse(String(info.timestamp ?? '')) || Date.now());
      changed.add(id);
    }
    const out: Order[] = [];
    for (const id of changed) {
      const r = this.raw.get(id) ?? {};
      if (typeof r.symbol !== 'string') continue;
      const o = this.orderOf(id, r);
      out.push(o);
      if (o.status !== 'open') {
        this.raw.delete(id);
        this.created.delete(id);
      }
    }
    return out;
  }

  private orderOf(id: string, r: Record<string, unknown>): Order {
    const num = (k: string) => (r[k] === undefined || r[k] === null ? undefined : Number(r[k]));
    const type = String(r.order_type ?? '');
    const stop = num('stop_price') ?? 0;
    const amount = num('order_qty');
    const filled = num('cum_qty') ?? 0;
    const average = num('avg_price');
    const order = {
      id,
      clientOrderId: typeof r.cl_ord_id === 'string' ? r.cl_ord_id : undefined,
      symbol: String(r.symbol),
      side: r.side === 'sell' ? 'sell' : 'buy',
      // ccxt's REST kraken reports a stop as market / limit with its trigger: the same here.
      type: type === 'stop-loss' ? 'market' : type === 'stop-loss-limit' ? 'limit' : type,
      price: num('limit_price'),
      ...(stop > 0 ? { triggerPrice: stop } : {}),
      amount,
      filled,
      remaining: amount !== undefined ? amount - filled : undefined,
      cost: num('cum_cost'),
      average: average !== undefined && average > 0 ? average : undefined,
      status: WS_STATUS[String(r.order_status)],
      timestamp: this.created.get(id),
      lastUpdateTimestamp: Date.parse(String(r.timestamp ?? '')) || undefined,
      info: r,
    };
    return order as unknown as Order;
  }
}
