/**
 * The simulator's user-data stream of one account, the ways Binance serves it:
 * - the WebSocket API (`/ws-api/v3`, `userDataStream.subscribe.signature`), which is what ccxt's binance uses for
 *   spot `watchOrders` / `watchMyTrades` / `watchBalance`; events arrive wrapped as `{ subscriptionId, event }`;
 * - the listen-key stream (spot: `POST/PUT/DELETE /api/v3/userDataStream`, then `/ws/<listenKey>`; USDⓈ-M futures:
 *   `POST/PUT/DELETE /fapi/v1/listenKey`, then `/private/ws?listenKey=…`), where a key expires `listenKeyTtlMs`
 *   (Binance: 60 min) after its creation or last keepalive, announced by `listenKeyExpired`.
 * What each order change becomes is the protocol's: spot an `executionReport` and an `outboundAccountPosition`
 * (`spotProtocol`), futures an `ORDER_TRADE_UPDATE` and, after a trade, an `ACCOUNT_UPDATE` (`futures-format.ts`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebSocket } from 'ws';
import { accountPosition, executionReport } from './binance-format.js';
import { BinanceApiError, type SimExchange, type SimExecutionType, type SimOrder, type SimTrade } from './exchange.js';

/** What a user-data stream sends for each order change, and how its listen keys are issued. */
export interface UserDataProtocol {
  /** The events of one order change, in order (`trade` set for TRADE). */
  orderEvents(order: SimOrder, execution: SimExecutionType, trade: SimTrade | undefined, now: number): object[];
  /**
   * Futures: one listen key per account, and a POST while it lives returns it, extended (Binance USDⓈ-M); the PUT
   * needs no key. Spot: each POST makes a new key and the PUT names it.
   */
  singleKey: boolean;
}

/** Binance spot: an `executionReport`, then an `outboundAccountPosition` of the market's two assets. */
export function spotProtocol(exchange: SimExchange): UserDataProtocol {
  return {
    singleKey: false,
    orderEvents(order, execution, trade, now) {
      const report = executionReport(order, execution, trade, now);
      const m = exchange.markets.get(order.symbol);
      return m ? [report, accountPosition(exchange.balances, [m.spec.base, m.spec.quote], now)] : [report];
    },
  };
}

/** Binance's listen key validity without keepalive. */
export const LISTEN_KEY_TTL_MS = 60 * 60_000;

/** Options of `SimUserData`. */
export interface SimUserDataOptions {
  exchange: SimExchange;
  apiKey: string;
  secret: string;
  /** Clock of signature timestamps (the request clock). */
  requestClock: () => number;
  /** Listen key validity after creation or keepalive, on the exchange clock (default 60 min). */
  listenKeyTtlMs?: number;
  /** What order changes become and how keys are issued (default: Binance spot). */
  protocol?: UserDataProtocol;
}

interface WsApiConn {
  ws: WebSocket;
  subscriptions: Set<number>;
}

interface ListenKey {
  expiresAt: number;
  sockets: Set<WebSocket>;
}

/** Per-method request counts of the WebSocket API and listen-key socket totals (tests assert on them). */
export interface UserDataStats {
  subscribes: number;
  listenKeysCreated: number;
  keepalives: number;
  expired: number;
}

/** User-data streams of one simulated account. */
export class SimUserData {
  readonly stats: UserDataStats = { subscribes: 0, listenKeysCreated: 0, keepalives: 0, expired: 0 };
  private readonly wsApi = new Set<WsApiConn>();
  private readonly keys = new Map<string, ListenKey>();
  private readonly ttlMs: number;
  private nextSubscriptionId = 0;
  private readonly protocol: UserDataProtocol;

  constructor(private readonly o: SimUserDataOptions) {
    this.ttlMs = o.listenKeyTtlMs ?? LISTEN_KEY_TTL_MS;
    this.protocol = o.protocol ?? spotProtocol(o.exchange);
    o.exchange.onUpdate((order, execution, trade) =>
      this.push(this.protocol.orderEvents(order, execution, trade, o.exchange.now())),
    );
  }

  /** Open user-data sockets (WebSocket API connections plus listen-key sockets). */
  connections(): number {
    let n = this.wsApi.size;
    for (const k of this.keys.values()) n += k.sockets.size;
    return n;
  }

  /** Active user-data subscriptions over the WebSocket API. */
  subscriptions(): number {
    let n = 0;
    for (const c of this.wsApi) n += c.subscriptions.size;
    return n;
  }

  /** Serves one WebSocket API connection. */
  acceptWsApi(ws: WebSocket): void {
    const conn: WsApiConn = { ws, subscriptions: new Set() };
    this.wsApi.add(conn);
    ws.on('close', () => this.wsApi.delete(conn));
    ws.on('error', () => this.wsApi.delete(conn));
    ws.on('message', (data) => {
      let msg: { id?: unknown; method?: unknown; params?: Record<string, unknown> };
      try {
        msg = JSON.parse(String(data));
      } catch {
        ws.send(JSON.stringify({ id: null, status: 400, error: { code: -1000, msg: 'Malformed request.' } }));
        return;
      }
      const id = msg.id ?? null;
      try {
        const result = this.wsApiCall(conn, String(msg.method), msg.params ?? {});
        ws.send(JSON.stringify({ id, status: 200, result }));
      } catch (err) {
        if (!(err instanceof BinanceApiError)) throw err;
        ws.send(JSON.stringify({ id, status: err.status, error: { code: err.code, msg: err.message } }));
      }
    });
  }

  /** Serves `/ws/<listenKey>`; an unknown or expired key is closed at once, as Binance does. */
  acceptListenKey(ws: WebSocket, listenKey: string): void {
    this.expire();
    const key = this.keys.get(listenKey);
    if (!key) {
      ws.close(1008, 'invalid listen key');
      return;
    }
    key.sockets.add(ws);
    ws.on('close', () => key.sockets.delete(ws));
    ws.on('error', () => key.sockets.delete(ws));
  }

  /**
   * POST of a listen key: a new key valid for the TTL (spot); futures keep one key per account, so while it lives
   * the POST returns it, extended.
   */
  createListenKey(): string {
    this.expire();
    if (this.protocol.singleKey) {
      const live = this.keys.entries().next().value;
      if (live) {
        live[1].expiresAt = this.o.exchange.now() + this.ttlMs;
        return live[0];
      }
    }
    const listenKey = randomBytes(32).toString('base64url').slice(0, 60);
    this.keys.set(listenKey, { expiresAt: this.o.exchange.now() + this.ttlMs, sockets: new Set() });
    this.stats.listenKeysCreated++;
    return listenKey;
  }

  /**
   * PUT of a listen key: extends a live key by the TTL; an expired or unknown key is -1125. Futures name no key (the
   * account's one is meant).
   */
  keepAlive(listenKey: string): void {
    this.expire();
    const key = this.keys.get(this.protocol.singleKey && !listenKey ? this.onlyKey() : listenKey);
    if (!key) throw new BinanceApiError(400, -1125, 'This listenKey does not exist.');
    key.expiresAt = this.o.exchange.now() + this.ttlMs;
    this.stats.keepalives++;
  }

  /** DELETE of a listen key: closes the key and its sockets (futures: the account's key when none is named). */
  closeListenKey(listenKey: string): void {
    const name = this.protocol.singleKey && !listenKey ? this.onlyKey() : listenKey;
    const key = this.keys.get(name);
    if (!key) throw new BinanceApiError(400, -1125, 'This listenKey does not exist.');
    this.keys.delete(name);
    for (const ws of key.sockets) ws.close(1000, 'listen key closed');
  }

  /**
   * Expires keys past their validity on the exchange clock: their sockets get `listenKeyExpired` and are closed.
   * Called on every tick and key operation; returns how many expired.
   */
  expire(): number {
    const now = this.o.exchange.now();
    let n = 0;
    for (const [listenKey, key] of this.keys) {
      if (key.expiresAt > now) continue;
      this.keys.delete(listenKey);
      n++;
      this.stats.expired++;
      const ev = JSON.stringify({ e: 'listenKeyExpired', E: now, listenKey });
      for (const ws of key.sockets) {
        if (ws.readyState === ws.OPEN) ws.send(ev);
        ws.close(1000, 'listen key expired');
      }
    }
    return n;
  }

  /** Fault: terminates every user-data socket at once (no close frame); returns how many. */
  drop(): number {
    let n = 0;
    for (const c of this.wsApi) {
      c.ws.terminate();
      n++;
    }
    this.wsApi.clear();
    for (const k of this.keys.values()) {
      for (const ws of k.sockets) {
        ws.terminate();
        n++;
      }
      k.sockets.clear();
    }
    return n;
  }

  /** The live listen keys (tests end or inspect them). */
  listenKeys(): string[] {
    this.expire();
    return [...this.keys.keys()];
  }

  /** Fault: expires `listenKey` now, as its validity running out would (`listenKeyExpired`, then the close). */
  expireNow(listenKey: string): boolean {
    const key = this.keys.get(listenKey);
    if (!key) return false;
    key.expiresAt = Number.NEGATIVE_INFINITY;
    return this.expire() > 0;
  }

  /**
   * Sends `events` to every subscriber, in order: the order events of each change, and events of the account's own
   * (futures: funding's `ACCOUNT_UPDATE`).
   */
  push(events: readonly object[]): void {
    if (events.length === 0) return;
    const json = events.map((e) => JSON.stringify(e));
    for (const c of this.wsApi) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      for (const subscriptionId of c.subscriptions)
        for (const event of events) c.ws.send(JSON.stringify({ subscriptionId, event }));
    }
    for (const k of this.keys.values())
      for (const ws of k.sockets) if (ws.readyState === ws.OPEN) for (const m of json) ws.send(m);
  }

  private onlyKey(): string {
    return this.keys.keys().next().value ?? '';
  }

  private wsApiCall(conn: WsApiConn, method: string, params: Record<string, unknown>): unknown {
    switch (method) {
      case 'userDataStream.subscribe.signature': {
        this.checkSignature(params);
        const subscriptionId = this.nextSubscriptionId++;
        conn.subscriptions.add(subscriptionId);
        this.stats.subscribes++;
        return { subscriptionId };
      }
      case 'userDataStream.unsubscribe': {
        const id = params.subscriptionId;
        if (id === undefined) conn.subscriptions.clear();
        else conn.subscriptions.delete(Number(id));
        return {};
      }
      case 'ping':
        return {};
      default:
        throw new BinanceApiError(400, -1100, `Unknown method ${method}.`);
    }
  }

  // Binance signs the WebSocket API request's params sorted by key, without `signature`, as a query string.
  private checkSignature(params: Record<string, unknown>): void {
    if (params.apiKey !== this.o.apiKey)
      throw new BinanceApiError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    const signature = String(params.signature ?? '');
    const payload = Object.keys(params)
      .filter((k) => k !== 'signature')
      .sort()
      .map((k) => `${k}=${String(params[k])}`)
      .join('&');
    const expected = Buffer.from(createHmac('sha256', this.o.secret).update(payload).digest('hex'));
    const got = Buffer.from(signature);
    if (expected.length !== got.length || !timingSafeEqual(expected, got))
      throw new BinanceApiError(400, -1022, 'Signature for this request is not valid.');
    const ts = Number(params.timestamp);
    const recvWindow = Math.min(Number(params.recvWindow ?? 5000), 60_000);
    const now = this.o.requestClock();
    if (!Number.isFinite(ts) || ts >= now + 1000 || now - ts > recvWindow)
      throw new BinanceApiError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
  }
}
