/**
 * The Kraken mode's private WebSocket (Kraken spot WebSocket v2, `wss://ws-auth.kraken.com/v2`): a client subscribes
 * to the `executions` channel with a token from `GetWebSocketsToken` and receives every order and execution event
 * of the account from the one matching core. Tokens expire `tokenTtlMs` after they were issued unless a live
 * subscription holds them (Kraken: "the token does not expire once a connection ... is maintained"); a subscribe with
 * an unknown or expired token is refused with `ESession:Invalid session`. The server answers `ping` with `pong` and
 * sends a `heartbeat` every `heartbeatMs` to a connection with a subscription.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { SimExchange, SimExecutionType, SimOrder, SimTrade } from './exchange.js';
import { type ExecutionContext, executionEvents, orderRecord, rfc3339, tradeRecord } from './kraken-executions.js';

/** Kraken's WebSocket token validity before it is used: 15 minutes. */
export const KRAKEN_WS_TOKEN_TTL_MS = 15 * 60_000;
/** Trades a `snap_trades` snapshot carries (Kraken: the last 50). */
const SNAPSHOT_TRADES = 50;
/** Kraken's public channels, which its private host refuses. */
const PUBLIC_CHANNELS = new Set(['ticker', 'book', 'ohlc', 'trade', 'instrument', 'level3']);

/** Options of `KrakenPrivateWs`. */
export interface KrakenPrivateWsOptions {
  exchange: SimExchange;
  /** The execution context of an order (its pair, quote asset and `cl_ord_id`) at `now`. */
  contextOf: (o: SimOrder, now: number) => ExecutionContext;
  /** Token validity before use, on the exchange clock (default 15 min). */
  tokenTtlMs?: number;
  /** Heartbeat period of a subscribed connection (default 1 000 ms, as Kraken; 0 = none). */
  heartbeatMs?: number;
}

interface Token {
  expiresAt: number;
  /** Live subscriptions using it: while any, it does not expire. */
  inUse: number;
}

interface Conn {
  ws: WebSocket;
  /** The token of its `executions` subscription, when subscribed. */
  token: string | undefined;
  sequence: number;
  heartbeat: NodeJS.Timeout | undefined;
}

/** Counts tests assert on. */
export interface KrakenWsStats {
  tokensIssued: number;
  subscribes: number;
  /** Subscribes refused for their token (`ESession:Invalid session`). */
  refused: number;
}

/** The private WebSocket endpoint of one simulated Kraken account. */
export class KrakenPrivateWs {
  readonly stats: KrakenWsStats = { tokensIssued: 0, subscribes: 0, refused: 0 };
  /** Fault: while true, `subscribe` requests get no answer at all (an overloaded venue); they subscribe nothing. */
  ignoreSubscribes = false;
  private readonly tokens = new Map<string, Token>();
  private readonly conns = new Set<Conn>();
  private readonly ttlMs: number;
  private nextConnectionId = 1;

  constructor(private readonly o: KrakenPrivateWsOptions) {
    this.ttlMs = o.tokenTtlMs ?? KRAKEN_WS_TOKEN_TTL_MS;
    o.exchange.onUpdate((order, execution, trade) => this.publish(order, execution, trade));
  }

  /** `GetWebSocketsToken`: a new token and its validity in seconds. */
  issueToken(): { token: string; expires: number } {
    const token = randomBytes(32).toString('base64').replace(/=+$/, '');
    this.tokens.set(token, { expiresAt: this.o.exchange.now() + this.ttlMs, inUse: 0 });
    this.stats.tokensIssued++;
    return { token, expires: Math.round(this.ttlMs / 1000) };
  }

  /** Open private connections. */
  connections(): number {
    return this.conns.size;
  }

  /** Connections subscribed to `executions`. */
  subscriptions(): number {
    let n = 0;
    for (const c of this.conns) if (c.token !== undefined) n++;
    return n;
  }

  /** Serves one connection: the status banner, then requests. */
  accept(ws: WebSocket): void {
    const conn: Conn = { ws, token: undefined, sequence: 0, heartbeat: undefined };
    this.conns.add(conn);
    const gone = () => this.forget(conn);
    ws.on('close', gone);
    ws.on('error', gone);
    this.send(conn, {
      channel: 'status',
      type: 'update',
      data: [{ version: '2.0.10', system: 'online', api_version: 'v2', connection_id: this.nextConnectionId++ }],
    });
    ws.on('message', (data) => this.onMessage(conn, String(data)));
  }

  /** Fault: terminates every private connection at once (no close frame); returns how many. */
  drop(): number {
    const n = this.conns.size;
    for (const c of [...this.conns]) {
      c.ws.terminate();
      this.forget(c);
    }
    return n;
  }

  private forget(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    if (conn.heartbeat) clearInterval(conn.heartbeat);
    this.release(conn);
  }

  // The connection's subscription ends: its token starts ageing again (expired already if its time is up).
  private release(conn: Conn): void {
    if (conn.token === undefined) return;
    const t = this.tokens.get(conn.token);
    if (t) t.inUse--;
    conn.token = undefined;
  }

  private onMessage(conn: Conn, text: string): void {
    const timeIn = rfc3339(this.o.exchange.now());
    let msg: { method?: unknown; params?: Record<string, unknown>; req_id?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      this.send(conn, { error: 'Malformed request', success: false, time_in: timeIn, time_out: timeIn });
      return;
    }
    const method = typeof msg.method === 'string' ? msg.method : undefined;
    const reqId = msg.req_id !== undefined ? { req_id: msg.req_id } : {};
    const params = msg.params ?? {};
    if (method === 'subscribe' && this.ignoreSubscribes) return;
    const out = this.answer(conn, method, params);
    this.send(conn, { ...out.body, ...reqId, time_in: timeIn, time_out: rfc3339(this.o.exchange.now()) });
    out.after?.();
  }

  // The answer to one request, and what follows it (the snapshot after a subscription's acknowledgement).
  private answer(
    conn: Conn,
    method: string | undefined,
    params: Record<string, unknown>,
  ): { body: Record<string, unknown>; after?: () => void } {
    const channel = typeof params.channel === 'string' ? params.channel : undefined;
    const refuse = (error: string, extra: Record<string, unknown> = {}) => ({
      body: { error, method, status: 'error', success: false, ...extra },
    });
    switch (method) {
      case 'ping':
        return { body: { method: 'pong' } };
      case 'subscribe': {
        if (channel !== 'executions') {
          if (channel && PUBLIC_CHANNELS.has(channel))
            return refuse('Public market data subscriptions are unavailable on this endpoint. Try ws.kraken.com');
          return refuse('EGeneral:Invalid arguments:channel');
        }
        const token = typeof params.token === 'string' ? params.token : '';
        if (!this.tokenValid(token)) {
          this.stats.refused++;
          return refuse('ESession:Invalid session', { channel });
        }
        if (conn.token !== undefined) return refuse('Already subscribed', { channel });
        conn.token = token;
        const t = this.tokens.get(token);
        if (t) t.inUse++;
        this.stats.subscribes++;
        const snapOrders = params.snap_orders !== false;
        const snapTrades = params.snap_trades === true;
        const every = this.o.heartbeatMs ?? 1_000;
        if (every > 0 && !conn.heartbeat)
          conn.heartbeat = setInterval(() => this.send(conn, { channel: 'heartbeat' }), every);
        return {
          body: { method, result: { channel, snapshot: snapOrders || snapTrades }, success: true },
          after: () => {
            if (snapOrders || snapTrades) this.snapshot(conn, snapOrders, snapTrades);
          },
        };
      }
      case 'unsubscribe': {
        if (channel !== 'executions' || conn.token === undefined) return refuse('Subscription Not Found', { channel });
        this.release(conn);
        if (conn.heartbeat) clearInterval(conn.heartbeat);
        conn.heartbeat = undefined;
        return { body: { method, result: { channel }, success: true } };
      }
      default:
        // Trading over the socket (add_order, cancel_order...) is not served: orders go through REST.
        return refuse('Event(s) not found');
    }
  }

  // A token is good while it is young or a live subscription holds it.
  private tokenValid(token: string): boolean {
    const t = this.tokens.get(token);
    if (!t) return false;
    if (t.inUse > 0 || t.expiresAt > this.o.exchange.now()) return true;
    this.tokens.delete(token);
    return false;
  }

  // Kraken's snapshot after the subscription: the open orders (`snap_orders`) and the last 50 fills (`snap_trades`).
  private snapshot(conn: Conn, orders: boolean, trades: boolean): void {
    const now = this.o.exchange.now();
    const data: Record<string, unknown>[] = [];
    const ex = this.o.exchange;
    if (orders) for (const o of ex.openOrders()) data.push(orderRecord(o, this.o.contextOf(o, now), 'new'));
    if (trades) {
      const byId = new Map(ex.orders.map((o) => [o.orderId, o]));
      for (const t of ex.trades.slice(-SNAPSHOT_TRADES)) {
        const o = byId.get(t.orderId);
        if (o) data.push(tradeRecord(o, t, this.o.contextOf(o, now)));
      }
    }
    this.send(conn, { channel: 'executions', type: 'snapshot', data, sequence: ++conn.sequence });
  }

  // Each event of the change goes to every subscribed connection as its own message, numbered per connection.
  private publish(order: SimOrder, execution: SimExecutionType, trade: SimTrade | undefined): void {
    const subscribed = [...this.conns].filter((c) => c.token !== undefined);
    if (subscribed.length === 0) return;
    const events = executionEvents(order, execution, trade, this.o.contextOf(order, this.o.exchange.now()));
    for (const c of subscribed)
      for (const e of events)
        this.send(c, { channel: 'executions', type: 'update', data: [e], sequence: ++c.sequence });
  }

  private send(conn: Conn, body: Record<string, unknown>): void {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(JSON.stringify(body));
  }
}
