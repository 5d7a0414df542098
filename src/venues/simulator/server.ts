/** The simulator's loopback HTTP + WebSocket server speaking the subset of Binance spot that ccxt uses. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  INTERVALS,
  klineEvent,
  orderJson,
  s8,
  symbolInfo,
  ticker24h,
  tickerEvent,
  tradeJson,
} from './binance-format.js';
import {
  AVG_PRICE_MINS,
  BinanceApiError,
  type SimExchange,
  SimExchange as SimExchangeClass,
  type SimExchangeOptions,
} from './exchange.js';
import { FaultController } from './faults.js';
import { type ReceivedRequest, RequestIntake, type RequestLogEntry } from './http-intake.js';
import { futuresCcxtUrls, SimFutures, type SimFuturesOptions } from './futures-routes.js';
import type { SimMarket } from './market-model.js';
import { depthAnswer, klinesAnswer, numParam, SPOT_LIMITS } from './market-routes.js';
import { SimUserData } from './user-data.js';

/** Options of `startSimulator`. */
export interface SimulatorOptions extends SimExchangeOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Market model step in ms (default 100); 0 = no timer, prices move only through `tick()` / `setPrice()`. */
  tickIntervalMs?: number;
  /**
   * The clock of `/api/v3/time` and of request signatures' `recvWindow` (default: the exchange's clock, `now`).
   * A test that runs the market on a fast virtual clock (`now`) keeps these on the wall clock, where the client's
   * clock is, so signed requests and clock-drift checks behave as against a real venue.
   */
  requestClock?: () => number;
  /** Credentials the simulator accepts (defaults `sim-key` / `sim-secret`). */
  apiKey?: string;
  secret?: string;
  /** Listen key validity after creation or keepalive, on the exchange clock (default 60 min, as Binance). */
  listenKeyTtlMs?: number;
  /** The USDⓈ-M futures account behind `/fapi/...` (wallet, leverage default, funding rates and interval). */
  futures?: SimFuturesOptions;
}

export type { RequestLogEntry } from './http-intake.js';

/** A running simulator. */
export interface SimulatorHandle {
  /** Base HTTP URL, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /** Market stream URL (`ws://127.0.0.1:54321/stream/ws`), what ccxt calls `urls.api.ws.spot`. */
  readonly wsUrl: string;
  readonly apiKey: string;
  readonly secret: string;
  /** The authoritative record: markets, balances, orders, trades. */
  readonly state: SimExchange;
  /** The USDⓈ-M futures side (`/fapi/...`): its own exchange (same matching engine) and futures account. */
  readonly futures: SimFutures;
  readonly faults: FaultController;
  /** Every HTTP request received, in order. */
  readonly requests: RequestLogEntry[];
  /** Advances the market model `n` steps and pushes stream updates. */
  tick(n?: number): void;
  /**
   * Moves a market's mid price (Binance id, e.g. `BTCUSDT`) and pushes stream updates. `match: false` executes no
   * resting order (a test lets the streams print the price first, then calls again to execute what it crosses).
   */
  setPrice(symbol: string, price: number, opts?: { match?: boolean }): void;
  /** The `urls.api` entries to give a ccxt binance (or binanceusdm) instance so it talks to this simulator. */
  ccxtUrls(): Record<string, unknown>;
  /** Number of open WebSocket connections (market streams and user-data streams). */
  wsConnections(): number;
  /** The user-data streams (WebSocket API subscriptions and listen keys): counts, `expire()`. */
  readonly userData: SimUserData;
  /** HTTP requests received for `method` and `path` (e.g. `GET`, `/api/v3/myTrades`). */
  requestCount(method: string, path: string): number;
  close(): Promise<void>;
}

const PRIVATE = new Set([
  '/api/v3/account',
  '/api/v3/order',
  '/api/v3/openOrders',
  '/api/v3/myTrades',
  '/api/v3/allOrders',
]);

interface Conn {
  ws: WebSocket;
  streams: Set<string>;
}

/** Starts the simulator on 127.0.0.1 and resolves once it listens. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const exchange = new SimExchangeClass(opts);
  const faults = new FaultController();
  const requestClock = opts.requestClock ?? exchange.now;
  const apiKey = opts.apiKey ?? 'sim-key';
  const secret = opts.secret ?? 'sim-secret';
  const intake = new RequestIntake(faults);
  const stream = {
    apiKey,
    secret,
    requestClock,
    ...(opts.listenKeyTtlMs !== undefined ? { listenKeyTtlMs: opts.listenKeyTtlMs } : {}),
  };
  const userData = new SimUserData({ exchange, ...stream });
  const futures = new SimFutures(opts, opts.futures ?? {}, stream);
  const conns = new Set<Conn>();
  const lastBook = new Map<string, { id: number; bids: Map<number, number>; asks: Map<number, number> }>();
  for (const m of exchange.markets.values()) lastBook.set(m.spec.symbol, snapshotBook(m));

  const send = (
    r: ReceivedRequest,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) =>
    intake.send(r, res, status, typeof body === 'string' ? body : JSON.stringify(body), {
      'Content-Type': 'application/json;charset=UTF-8',
      ...headers,
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const r = await intake.receive(req);
    const { url, method, path, body, fault } = r;
    if (fault?.kind === 'status') return send(r, res, fault.status, '<html><body>Service Unavailable</body></html>');
    if (fault?.kind === 'rateLimit') {
      return send(
        r,
        res,
        429,
        { code: -1003, msg: 'Too many requests; current limit of IP is 6000 requests per minute.' },
        { 'Retry-After': String(fault.retryAfterSec) },
      );
    }
    const rawQuery = url.search.startsWith('?') ? url.search.slice(1) : '';
    const params = new URLSearchParams(rawQuery);
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    // Lost on the way in: nothing happens and no answer comes.
    if (fault?.kind === 'hang' && !fault.execute) return intake.hold(r, res);
    let status = 200;
    let out: unknown;
    try {
      if (PRIVATE.has(path) || futures.isPrivate(path))
        checkSigned(req, rawQuery, body, params, apiKey, secret, requestClock);
      // USER_STREAM security: the API key header only, no signature.
      if (
        (path === '/api/v3/userDataStream' || path === '/fapi/v1/listenKey') &&
        req.headers['x-mbx-apikey'] !== apiKey
      )
        throw new BinanceApiError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
      out = route(method, path, params);
    } catch (err) {
      if (!(err instanceof BinanceApiError)) throw err;
      status = err.status;
      out = { code: err.code, msg: err.message };
    }
    // Lost on the way out: the work is done but the answer never comes; the client can only time out.
    if (fault?.kind === 'hang') return intake.hold(r, res);
    broadcast();
    send(r, res, status, out);
  };

  const route = (method: string, path: string, p: URLSearchParams): unknown => {
    const now = exchange.now();
    const num = (k: string) => numParam(p, k);
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /api/v3/ping':
        return {};
      case 'GET /api/v3/time':
        return { serverTime: requestClock() };
      case 'GET /api/v3/exchangeInfo':
        return {
          timezone: 'UTC',
          serverTime: now,
          rateLimits: [
            { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
            { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
          ],
          exchangeFilters: [],
          symbols: [...exchange.markets.values()].map(symbolInfo),
        };
      case 'GET /api/v3/ticker/24hr': {
        const sym = p.get('symbol');
        return sym
          ? ticker24h(exchange.market(sym), now)
          : [...exchange.markets.values()].map((m) => ticker24h(m, now));
      }
      case 'GET /api/v3/ticker/bookTicker': {
        const one = (m: SimMarket) => ({
          symbol: m.spec.symbol,
          bidPrice: s8(m.bestBid()),
          bidQty: s8(m.bids[0]?.qty ?? 0),
          askPrice: s8(m.bestAsk()),
          askQty: s8(m.asks[0]?.qty ?? 0),
        });
        const sym = p.get('symbol');
        return sym ? one(exchange.market(sym)) : [...exchange.markets.values()].map(one);
      }
      case 'GET /api/v3/ticker/price': {
        const sym = p.get('symbol');
        const one = (m: SimMarket) => ({ symbol: m.spec.symbol, price: s8(m.last) });
        return sym ? one(exchange.market(sym)) : [...exchange.markets.values()].map(one);
      }
      case 'GET /api/v3/klines':
        return klinesAnswer(exchange, p, SPOT_LIMITS);
      case 'GET /api/v3/depth':
        return depthAnswer(exchange, p, SPOT_LIMITS);
      case 'GET /api/v3/account':
        return {
          makerCommission: 10,
          takerCommission: 10,
          buyerCommission: 0,
          sellerCommission: 0,
          commissionRates: { maker: '0.00100000', taker: '0.00100000', buyer: '0.00000000', seller: '0.00000000' },
          canTrade: true,
          canWithdraw: false,
          canDeposit: false,
          brokered: false,
          requireSelfTradePrevention: false,
          preventSor: false,
          updateTime: now,
          accountType: 'SPOT',
          balances: [...exchange.balances.entries()].map(([asset, b]) => ({
            asset,
            free: s8(b.free),
            locked: s8(b.locked),
          })),
          permissions: ['SPOT'],
          uid: 1,
        };
      case 'POST /api/v3/order': {
        const rejected = faults.take(method, path, ['reject']);
        if (rejected?.kind === 'reject') throw new BinanceApiError(400, -2010, rejected.message);
        const partial = faults.take(method, path, ['partialFill']);
        if (partial?.kind === 'partialFill') exchange.pendingPartialFill = partial.ratio;
        const clientId = p.get('newClientOrderId') || `sim_${Math.random().toString(36).slice(2, 14)}`;
        const o = exchange.placeOrder(
          {
            symbol: p.get('symbol') ?? '',
            side: p.get('side') ?? '',
            type: p.get('type') ?? '',
            quantity: num('quantity'),
            price: num('price'),
            stopPrice: num('stopPrice'),
            timeInForce: p.get('timeInForce') ?? undefined,
          },
          clientId,
        );
        const resp = p.get('newOrderRespType') ?? 'FULL';
        if (resp === 'ACK')
          return {
            symbol: o.symbol,
            orderId: o.orderId,
            orderListId: -1,
            clientOrderId: o.clientOrderId,
            transactTime: o.time,
          };
        return orderJson(o, resp === 'FULL');
      }
      case 'GET /api/v3/order': {
        const sym = p.get('symbol') ?? undefined;
        exchange.market(sym);
        const id = num('orderId');
        const cid = p.get('origClientOrderId') ?? undefined;
        if (id === undefined && !cid)
          throw new BinanceApiError(
            400,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
          );
        const o = exchange.findOrder(sym!, id, cid);
        if (!o) throw new BinanceApiError(400, -2013, 'Order does not exist.');
        return orderJson(o);
      }
      case 'DELETE /api/v3/order': {
        const sym = p.get('symbol') ?? '';
        const id = num('orderId');
        const cid = p.get('origClientOrderId') ?? undefined;
        if (id === undefined && !cid)
          throw new BinanceApiError(
            400,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
          );
        return orderJson(exchange.cancelOrder(sym, id, cid));
      }
      case 'GET /api/v3/openOrders': {
        const sym = p.get('symbol') ?? undefined;
        if (sym) exchange.market(sym);
        return exchange.openOrders(sym).map((o) => orderJson(o));
      }
      case 'GET /api/v3/allOrders': {
        const m = exchange.market(p.get('symbol') ?? undefined);
        return exchange.orders.filter((o) => o.symbol === m.spec.symbol).map((o) => orderJson(o));
      }
      case 'GET /api/v3/myTrades': {
        const m = exchange.market(p.get('symbol') ?? undefined);
        const start = num('startTime');
        const end = num('endTime');
        const fromId = num('fromId');
        const orderId = num('orderId');
        const limit = Math.min(num('limit') ?? 500, 1000);
        return exchange.trades
          .filter(
            (t) =>
              t.symbol === m.spec.symbol &&
              (start === undefined || t.time >= start) &&
              (end === undefined || t.time <= end) &&
              (fromId === undefined || t.id >= fromId) &&
              (orderId === undefined || t.orderId === orderId),
          )
          .slice(0, limit)
          .map(tradeJson);
      }
      case 'GET /api/v3/avgPrice': {
        const m = exchange.market(p.get('symbol') ?? undefined);
        return { mins: AVG_PRICE_MINS, price: s8(exchange.averagePrice(m.spec.symbol)), closeTime: now };
      }
      case 'POST /api/v3/userDataStream':
        return { listenKey: userData.createListenKey() };
      case 'PUT /api/v3/userDataStream':
        userData.keepAlive(p.get('listenKey') ?? '');
        return {};
      case 'DELETE /api/v3/userDataStream':
        userData.closeListenKey(p.get('listenKey') ?? '');
        return {};
      default:
        if (path.startsWith('/fapi/')) return futures.route(method, path, p, requestClock());
        throw new BinanceApiError(404, -1000, `Unknown endpoint ${method} ${path}`);
    }
  };

  // Depth diffs carry absolute quantities (0 = level removed), sequenced by U/u as Binance does.
  const depthEvent = (m: SimMarket, now: number): Record<string, unknown> | undefined => {
    const prev = lastBook.get(m.spec.symbol)!;
    if (prev.id === m.updateId) return undefined;
    const cur = snapshotBook(m);
    const diff = (a: Map<number, number>, b: Map<number, number>) => {
      const out: string[][] = [];
      for (const [px, q] of b) if (a.get(px) !== q) out.push([s8(px), s8(q)]);
      for (const px of a.keys()) if (!b.has(px)) out.push([s8(px), '0.00000000']);
      return out;
    };
    const ev = {
      e: 'depthUpdate',
      E: now,
      s: m.spec.symbol,
      U: prev.id + 1,
      u: m.updateId,
      b: diff(prev.bids, cur.bids),
      a: diff(prev.asks, cur.asks),
    };
    lastBook.set(m.spec.symbol, cur);
    return ev;
  };

  const broadcast = () => {
    const now = exchange.now();
    const depth = new Map<string, Record<string, unknown> | undefined>();
    for (const m of exchange.markets.values()) depth.set(m.spec.symbol, depthEvent(m, now));
    for (const c of conns) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      for (const stream of c.streams) {
        const [lower, kind] = stream.split('@');
        const m = exchange.markets.get(lower.toUpperCase());
        if (!m) continue;
        let ev: Record<string, unknown> | undefined;
        if (kind === 'ticker') ev = tickerEvent(m, now);
        else if (kind === 'miniTicker') {
          const t = tickerEvent(m, now);
          ev = { e: '24hrMiniTicker', E: now, s: t.s, c: t.c, o: t.o, h: t.h, l: t.l, v: t.v, q: t.q };
        } else if (kind === 'depth') ev = depth.get(m.spec.symbol);
        else if (kind === 'bookTicker') {
          ev = {
            u: m.updateId,
            s: m.spec.symbol,
            b: s8(m.bestBid()),
            B: s8(m.bids[0]?.qty ?? 0),
            a: s8(m.bestAsk()),
            A: s8(m.asks[0]?.qty ?? 0),
          };
        } else if (kind?.startsWith('kline_')) {
          const interval = kind.slice(6);
          const ms = INTERVALS[interval];
          const last = ms ? m.candlesFor(ms, undefined, undefined, 1)[0] : undefined;
          if (last) ev = klineEvent(m, last, interval, ms, now);
        }
        if (ev) c.ws.send(JSON.stringify(ev));
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: -1000, msg: `simulator error: ${(err as Error).message}` }));
      }
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const wsUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = wsUrl.pathname;
    // Futures user data: `/fstream/private/ws?listenKey=…` (what ccxt builds from `…/fstream/ws`) or `/fstream/ws/<key>`.
    const futuresKey = futuresListenKey(path, wsUrl.searchParams);
    const userStream = path === '/ws-api/v3' || path.startsWith('/ws/') || futuresKey !== undefined;
    if (!path.startsWith('/stream/ws') && !userStream) {
      socket.destroy();
      return;
    }
    if (userStream && faults.refuseWebSockets) {
      // An outage of the user-data service: the upgrade itself fails, as behind a load balancer with no backend.
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (faults.refuseWebSockets) {
        ws.close(1013, 'try again later');
        return;
      }
      if (path === '/ws-api/v3') return userData.acceptWsApi(ws);
      if (futuresKey !== undefined) return futures.userData.acceptListenKey(ws, futuresKey);
      if (userStream) return userData.acceptListenKey(ws, decodeURIComponent(path.slice('/ws/'.length)));
      const conn: Conn = { ws, streams: new Set() };
      conns.add(conn);
      ws.on('close', () => conns.delete(conn));
      ws.on('error', () => conns.delete(conn));
      ws.on('message', (data) => {
        let msg: { method?: string; params?: unknown; id?: unknown };
        try {
          msg = JSON.parse(String(data));
        } catch {
          ws.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' } }));
          return;
        }
        const streams = Array.isArray(msg.params) ? msg.params.map(String) : [];
        if (msg.method === 'SUBSCRIBE') for (const s of streams) conn.streams.add(normaliseStream(s));
        else if (msg.method === 'UNSUBSCRIBE') for (const s of streams) conn.streams.delete(normaliseStream(s));
        else if (msg.method === 'LIST_SUBSCRIPTIONS') {
          ws.send(JSON.stringify({ result: [...conn.streams], id: msg.id }));
          return;
        } else {
          ws.send(
            JSON.stringify({ error: { code: 2, msg: `Invalid request: unknown method ${msg.method}` }, id: msg.id }),
          );
          return;
        }
        ws.send(JSON.stringify({ result: null, id: msg.id }));
      });
    });
  });
  faults.setUserDataDropHandler(() => userData.drop() + futures.userData.drop());
  faults.setDropHandler(() => {
    let n = userData.drop() + futures.userData.drop();
    for (const c of conns) {
      c.ws.terminate();
      n++;
    }
    conns.clear();
    return n;
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  // ccxt's binance tells spot from futures streams by `/stream` in the URL (the real host is stream.binance.com).
  const wsUrl = `ws://127.0.0.1:${port}/stream/ws`;

  const interval = opts.tickIntervalMs ?? 100;
  const timer =
    interval > 0
      ? setInterval(() => {
          exchange.tick(interval);
          futures.tick(interval);
          userData.expire();
          futures.userData.expire();
          broadcast();
        }, interval)
      : undefined;

  return {
    url,
    wsUrl,
    apiKey,
    secret,
    state: exchange,
    futures,
    faults,
    requests: intake.requests,
    tick(n = 1) {
      for (let i = 0; i < n; i++) {
        exchange.tick(interval || 100);
        futures.tick(interval || 100);
      }
      userData.expire();
      futures.userData.expire();
      broadcast();
    },
    setPrice(symbol, price, opts) {
      exchange.setPrice(symbol, price, opts);
      broadcast();
    },
    ccxtUrls: () => ccxtUrlsFor(url),
    wsConnections: () => conns.size + userData.connections() + futures.userData.connections(),
    userData,
    requestCount: (method, path) => intake.count(path, method),
    async close() {
      if (timer) clearInterval(timer);
      for (const c of conns) c.ws.terminate();
      conns.clear();
      userData.drop();
      futures.userData.drop();
      intake.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The listen key of a futures user-data socket URL, undefined for any other path.
function futuresListenKey(path: string, query: URLSearchParams): string | undefined {
  if (path === '/fstream/private/ws') return query.get('listenKey') ?? '';
  if (path.startsWith('/fstream/ws/')) return decodeURIComponent(path.slice('/fstream/ws/'.length));
  return undefined;
}

// ccxt subscribes `btcusdt@depth@100ms`; the update speed suffix does not change what we send.
function normaliseStream(s: string): string {
  const parts = s.toLowerCase().split('@');
  return parts.slice(0, 2).join('@');
}

function snapshotBook(m: SimMarket): { id: number; bids: Map<number, number>; asks: Map<number, number> } {
  return {
    id: m.updateId,
    bids: new Map(m.bids.map((l) => [l.price, l.qty])),
    asks: new Map(m.asks.map((l) => [l.price, l.qty])),
  };
}

/**
 * The `urls.api` entries that point ccxt's binance (spot) or binanceusdm (futures) at a simulator listening at `url`:
 * REST, the market streams, the spot WebSocket API and the futures user-data stream (ccxt derives
 * `/fstream/private/ws?listenKey=…` from `…/fstream/ws`).
 */
export function ccxtUrlsFor(url: string): Record<string, unknown> {
  const host = new URL(url).host;
  // ccxt's binance tells spot from futures streams by `/stream` in the URL (the real host is stream.binance.com).
  const ws = `ws://${host}/stream/ws`;
  return {
    public: `${url}/api/v3`,
    private: `${url}/api/v3`,
    v1: `${url}/api/v1`,
    sapi: `${url}/sapi/v1`,
    ...futuresCcxtUrls(url),
    ws: { spot: ws, margin: ws, future: `ws://${host}/fstream/ws`, 'ws-api': { spot: `ws://${host}/ws-api/v3` } },
  };
}

// Binance: HMAC-SHA256 of totalParams (query string + body, without the signature) with the secret, hex.
function checkSigned(
  req: IncomingMessage,
  rawQuery: string,
  body: string,
  params: URLSearchParams,
  apiKey: string,
  secret: string,
  now: () => number,
): void {
  if (req.headers['x-mbx-apikey'] !== apiKey) {
    throw new BinanceApiError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
  }
  const signature = params.get('signature');
  if (!signature)
    throw new BinanceApiError(
      400,
      -1102,
      "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    );
  const strip = (s: string) => s.replace(/(^|&)signature=[^&]*/, '').replace(/^&/, '');
  const payload = strip(rawQuery) + strip(body);
  const expected = createHmac('sha256', secret).update(payload).digest('hex');
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new BinanceApiError(400, -1022, 'Signature for this request is not valid.');
  }
  const ts = Number(params.get('timestamp'));
  if (!params.get('timestamp') || !Number.isFinite(ts)) {
    throw new BinanceApiError(
      400,
      -1102,
      "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    );
  }
  const recvWindow = Math.min(Number(params.get('recvWindow') ?? 5000), 60_000);
  const server = now();
  if (ts >= server + 1000 || server - ts > recvWindow) {
    throw new BinanceApiError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
  }
}
