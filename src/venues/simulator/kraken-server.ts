/**
 * The simulator's Kraken-speaking mode: a loopback HTTP server speaking the part of Kraken's spot REST API that ccxt's
 * `kraken` class calls for our venue methods, and Kraken's private WebSocket v2 (`executions`, authenticated by a
 * `GetWebSocketsToken` token), over the same matching core (`SimExchange`) as the Binance mode.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { isKrakenClientOrderId } from '../ccxt/kraken.js';
import { BinanceApiError, SimExchange, type SimExchangeOptions, type SimOrder } from './exchange.js';
import { FaultController } from './faults.js';
import { RequestIntake, type RequestLogEntry } from './http-intake.js';
import { v2Asset } from './kraken-executions.js';
import {
  assetJson,
  assetPairJson,
  KRAKEN_ASSETS,
  KRAKEN_BALANCES,
  KRAKEN_MARKETS,
  KRAKEN_PAGE,
  KrakenApiError,
  type KrakenAssetSpec,
  type KrakenPairSpec,
  krakenError,
  ohlcRow,
  orderIdOf,
  orderJson,
  orderTxid,
  price,
  tickerJson,
  tradeJson,
  tradeTxid,
  vol,
} from './kraken-format.js';
import { KrakenPrivateWs } from './kraken-ws.js';

/** Options of `startKrakenSimulator`. */
export interface KrakenSimulatorOptions extends Omit<SimExchangeOptions, 'markets' | 'feeIn'> {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Pairs (default XXBTZUSD and XETHZUSD); balances are keyed by asset id (`ZUSD`, `XXBT`). */
  markets?: readonly KrakenPairSpec[];
  /** Assets the pairs use (default XXBT, XETH, ZUSD). */
  assets?: readonly KrakenAssetSpec[];
  /** Market model step in ms (default 100); 0 = prices move only through `tick()` / `setPrice()`. */
  tickIntervalMs?: number;
  /** The clock of `/0/public/Time` (default: the exchange's clock). */
  requestClock?: () => number;
  /** API key and its base64 secret the simulator accepts (defaults `kraken-sim-key` and a fixed base64 secret). */
  apiKey?: string;
  secret?: string;
  /**
   * Kraken's per-key nonce window (default 0, Kraken's default): a nonce must be above the highest seen, or with a
   * window, above (highest − window) and not used before. Clients that send requests concurrently need a window.
   */
  nonceWindow?: number;
  /** WebSocket token validity before use, on the exchange clock (default 15 min, as Kraken). */
  wsTokenTtlMs?: number;
  /** Heartbeat period of a subscribed private WebSocket (default 1 000 ms; 0 = none). */
  wsHeartbeatMs?: number;
}

/** A running Kraken-speaking simulator. */
export interface KrakenSimulatorHandle {
  /** Base URL, e.g. `http://127.0.0.1:54321` (ccxt appends `/0/public/...`). */
  readonly url: string;
  readonly apiKey: string;
  /** The base64 API secret. */
  readonly secret: string;
  /** The matching core: markets by pair id, balances by asset id, orders, trades. */
  readonly state: SimExchange;
  readonly faults: FaultController;
  /** Every HTTP request received, in order. */
  readonly requests: RequestLogEntry[];
  /** Advances the market model `n` steps. */
  tick(n?: number): void;
  /** Moves a pair's mid price (pair id, e.g. `XXBTZUSD`). */
  setPrice(pair: string, price: number): void;
  /** The private WebSocket v2 URL (`ws://127.0.0.1:<port>/v2`, Kraken's `wss://ws-auth.kraken.com/v2`). */
  readonly wsUrl: string;
  /** The private WebSocket: tokens issued, subscriptions, connections. */
  readonly ws: KrakenPrivateWs;
  /** The `urls.api` entries to give a ccxt kraken instance so it talks to this simulator (REST and `ws`). */
  ccxtUrls(): Record<string, unknown>;
  /** HTTP requests received for `path` (e.g. `/0/private/TradesHistory`). */
  requestCount(path: string): number;
  close(): Promise<void>;
}

const DEFAULT_SECRET = Buffer.from('tradeforge-kraken-simulator-secret').toString('base64');
const OHLC_INTERVALS = new Set([1, 5, 15, 30, 60, 240, 1440, 10080, 21600]);
/** Kraken returns at most this many OHLC rows. */
const OHLC_MAX = 720;
const PRIVATE = '/0/private/';
const PUBLIC = '/0/public/';
/** Path of the private WebSocket v2. */
const WS_PATH = '/v2';
/** Core client id prefix of an order placed without `cl_ord_id`. */
const NO_CLIENT_ID = 'krakensim-';

/** The private WebSocket v2 URL of a Kraken simulator at `url`. */
export function krakenWsUrl(url: string): string {
  return `${url.replace(/^http/, 'ws')}${WS_PATH}`;
}

/**
 * The `urls.api` entries that point ccxt's kraken at a Kraken simulator at `url`: REST (ccxt appends `/0/public/...`)
 * and the private WebSocket. ccxt's `ws.private` (v1, never connected: nothing upgrades there) only keys its token
 * cache, and it subscribes over `privateV2`; the public sockets are left out, as the simulator serves no market data
 * over WebSocket.
 */
export function krakenCcxtUrls(url: string): Record<string, unknown> {
  // As on Kraken, v1's private URL is the host and v2's adds `/v2`: the token cache outlives a v2 connection.
  return { public: url, private: url, ws: { private: url.replace(/^http/, 'ws'), privateV2: krakenWsUrl(url) } };
}

/** Starts the Kraken-speaking simulator on 127.0.0.1 and resolves once it listens. */
export async function startKrakenSimulator(opts: KrakenSimulatorOptions = {}): Promise<KrakenSimulatorHandle> {
  const pairs = opts.markets ?? KRAKEN_MARKETS;
  const assets = opts.assets ?? KRAKEN_ASSETS;
  const exchange = new SimExchange({
    ...opts,
    markets: pairs,
    balances: opts.balances ?? KRAKEN_BALANCES,
    feeRate: opts.feeRate ?? 0.0026,
    feeIn: 'quote',
  });
  const faults = new FaultController();
  const requestClock = opts.requestClock ?? exchange.now;
  const apiKey = opts.apiKey ?? 'kraken-sim-key';
  const secret = opts.secret ?? DEFAULT_SECRET;
  const secretBytes = Buffer.from(secret, 'base64');
  const nonceWindow = opts.nonceWindow ?? 0;
  const intake = new RequestIntake(faults);
  const pairById = new Map(pairs.map((p) => [p.symbol, p]));
  const pairByAlt = new Map(pairs.map((p) => [p.altname, p]));
  const assetById = new Map(assets.map((a) => [a.id, a]));
  let highestNonce = -1;
  const usedNonces = new Set<number>();

  const pairOf = (name: string | null | undefined): KrakenPairSpec => {
    const p = name ? (pairById.get(name) ?? pairByAlt.get(name)) : undefined;
    if (!p) throw new KrakenApiError('EQuery:Unknown asset pair');
    return p;
  };
  const pairOfOrder = (o: SimOrder): KrakenPairSpec => pairOf(o.symbol);
  // The `cl_ord_id` an order was placed with (Kraken echoes it only when one was given); an order placed without one
  // carries a core client id Kraken never shows.
  const clientIdOf = (o: SimOrder): string | undefined =>
    o.clientOrderId.startsWith(NO_CLIENT_ID) ? undefined : o.clientOrderId;
  const privateWs = new KrakenPrivateWs({
    exchange,
    contextOf: (o, now) => {
      const pair = pairOfOrder(o);
      return {
        pair,
        quoteAsset: v2Asset(assetById.get(pair.quote)?.altname ?? pair.quote),
        clientOrderId: clientIdOf(o),
        now,
      };
    },
    ...(opts.wsTokenTtlMs !== undefined ? { tokenTtlMs: opts.wsTokenTtlMs } : {}),
    ...(opts.wsHeartbeatMs !== undefined ? { heartbeatMs: opts.wsHeartbeatMs } : {}),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const r = await intake.receive(req);
    const { url, method, path, body, fault } = r;
    // Kraken sits behind a CDN: an outage is an HTML 5xx page.
    if (fault?.kind === 'status')
      return intake.send(r, res, fault.status, '<html><body>Service Unavailable</body></html>', {
        'Content-Type': 'text/html',
      });
    if (fault?.kind === 'hang' && !fault.execute) return intake.hold(r, res);
    let out: { error: string[]; result?: unknown };
    try {
      // Kraken refuses over its limit inside the envelope with HTTP 200, and says nothing of how long to wait.
      if (fault?.kind === 'rateLimit') throw new KrakenApiError('EAPI:Rate limit exceeded');
      const params = new URLSearchParams(url.search);
      if (path.startsWith(PRIVATE)) {
        if (method !== 'POST') throw new KrakenApiError('EGeneral:Invalid arguments');
        checkSigned(req, path, body);
        for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
        out = { error: [], result: privateRoute(path.slice(PRIVATE.length), params, method, path) };
      } else if (path.startsWith(PUBLIC)) {
        for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
        out = { error: [], result: publicRoute(path.slice(PUBLIC.length), params) };
      } else {
        throw new KrakenApiError('EGeneral:Unknown method');
      }
    } catch (err) {
      if (err instanceof KrakenApiError) out = { error: [err.message] };
      else if (err instanceof BinanceApiError) out = { error: [krakenError(err)] };
      else throw err;
    }
    // The work is done but the answer never comes.
    if (fault?.kind === 'hang') return intake.hold(r, res);
    intake.send(r, res, 200, JSON.stringify(out), { 'Content-Type': 'application/json; charset=utf-8' });
  };

  // Kraken: API-Sign = base64(HMAC-SHA512(base64-decoded secret, path + SHA256(nonce + POST body))); nonce increasing.
  const checkSigned = (req: IncomingMessage, path: string, body: string): void => {
    if (req.headers['api-key'] !== apiKey) throw new KrakenApiError('EAPI:Invalid key');
    const sign = req.headers['api-sign'];
    const nonceRaw = new URLSearchParams(body).get('nonce') ?? '';
    const digest = createHash('sha256')
      .update(nonceRaw + body)
      .digest();
    const expected = createHmac('sha512', secretBytes)
      .update(Buffer.concat([Buffer.from(path), digest]))
      .digest();
    const given = Buffer.from(typeof sign === 'string' ? sign : '', 'base64');
    // Kraken answers a wrong signature as it answers a wrong key.
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new KrakenApiError('EAPI:Invalid key');
    const nonce = Number(nonceRaw);
    if (!/^\d+$/.test(nonceRaw) || !Number.isSafeInteger(nonce)) throw new KrakenApiError('EAPI:Invalid nonce');
    const fresh =
      nonce > highestNonce || (nonceWindow > 0 && nonce > highestNonce - nonceWindow && !usedNonces.has(nonce));
    if (!fresh) throw new KrakenApiError('EAPI:Invalid nonce');
    highestNonce = Math.max(highestNonce, nonce);
    if (nonceWindow > 0) {
      usedNonces.add(nonce);
      for (const n of usedNonces) if (n <= highestNonce - nonceWindow) usedNonces.delete(n);
    }
  };

  const num = (p: URLSearchParams, k: string): number | undefined => {
    const v = p.get(k);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new KrakenApiError(`EGeneral:Invalid arguments:${k}`);
    return n;
  };

  const publicRoute = (name: string, p: URLSearchParams): unknown => {
    const now = exchange.now();
    switch (name) {
      case 'Time': {
        const t = requestClock();
        return { unixtime: Math.floor(t / 1000), rfc1123: new Date(t).toUTCString() };
      }
      case 'SystemStatus':
        return { status: 'online', timestamp: new Date(requestClock()).toISOString() };
      case 'Assets':
        return Object.fromEntries(assets.map((a) => [a.id, assetJson(a)]));
      case 'AssetPairs': {
        const wanted = p.get('pair');
        const list = wanted ? wanted.split(',').map(pairOf) : pairs;
        return Object.fromEntries(list.map((pair) => [pair.symbol, assetPairJson(pair, exchange.feeRate)]));
      }
      case 'Ticker': {
        const wanted = p.get('pair');
        const list = wanted ? wanted.split(',').map(pairOf) : pairs;
        return Object.fromEntries(list.map((pair) => [pair.symbol, tickerJson(exchange.market(pair.symbol), now)]));
      }
      case 'OHLC': {
        const pair = pairOf(p.get('pair'));
        const interval = num(p, 'interval') ?? 1;
        if (!OHLC_INTERVALS.has(interval)) throw new KrakenApiError('EGeneral:Invalid arguments');
        const since = num(p, 'since');
        const ms = interval * 60_000;
        const rows = exchange
          .market(pair.symbol)
          .candlesFor(ms, since !== undefined ? since * 1000 : undefined, undefined, Number.MAX_SAFE_INTEGER)
          .slice(-OHLC_MAX);
        const last = rows.length > 1 ? rows[rows.length - 2].time : (rows[0]?.time ?? now);
        return { [pair.symbol]: rows.map((c) => ohlcRow(pair, c)), last: Math.floor(last / 1000) };
      }
      case 'Depth': {
        const pair = pairOf(p.get('pair'));
        const m = exchange.market(pair.symbol);
        const count = Math.min(num(p, 'count') ?? 100, 500);
        const ts = Math.floor(now / 1000);
        const side = (levels: { price: number; qty: number }[]) =>
          levels.slice(0, count).map((l) => [price(pair, l.price), vol(l.qty), ts]);
        return { [pair.symbol]: { asks: side(m.asks), bids: side(m.bids) } };
      }
      default:
        throw new KrakenApiError('EGeneral:Unknown method');
    }
  };

  const findOrder = (txid: string): SimOrder | undefined => {
    const id = orderIdOf(txid);
    return id === undefined ? undefined : exchange.orders.find((o) => o.orderId === id);
  };
  const isOpen = (o: SimOrder) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
  const byClientId = (p: URLSearchParams) => {
    const cid = p.get('cl_ord_id');
    return (o: SimOrder) => cid === null || clientIdOf(o) === cid;
  };
  const ordersJson = (list: SimOrder[], withTrades: boolean) =>
    Object.fromEntries(
      list.map((o) => [orderTxid(o.orderId), orderJson(o, pairOfOrder(o), clientIdOf(o), withTrades)]),
    );

  const privateRoute = (name: string, p: URLSearchParams, method: string, path: string): unknown => {
    switch (name) {
      case 'Balance':
        return Object.fromEntries(
          [...exchange.balances.entries()].map(([asset, b]) => [asset, (b.free + b.locked).toFixed(10)]),
        );
      case 'BalanceEx':
        return Object.fromEntries(
          [...exchange.balances.entries()].map(([asset, b]) => [
            asset,
            { balance: (b.free + b.locked).toFixed(10), hold_trade: b.locked.toFixed(10) },
          ]),
        );
      case 'AddOrder':
        return addOrder(p, method, path);
      case 'GetWebSocketsToken':
        return privateWs.issueToken();
      case 'CancelOrder': {
        const txid = p.get('txid');
        const cid = p.get('cl_ord_id');
        const o = txid ? findOrder(txid) : cid ? exchange.openOrders().find(byClientId(p)) : undefined;
        if (!o || !isOpen(o)) throw new KrakenApiError('EOrder:Unknown order');
        exchange.cancelOrder(o.symbol, o.orderId);
        return { count: 1 };
      }
      case 'OpenOrders': {
        const withTrades = p.get('trades') === 'true';
        return { open: ordersJson(exchange.openOrders().filter(byClientId(p)).reverse(), withTrades) };
      }
      case 'ClosedOrders': {
        const start = num(p, 'start');
        const end = num(p, 'end');
        const ofs = num(p, 'ofs') ?? 0;
        const closed = exchange.orders
          .filter(
            (o) =>
              !isOpen(o) &&
              byClientId(p)(o) &&
              (start === undefined || o.updateTime / 1000 > start) &&
              (end === undefined || o.updateTime / 1000 <= end),
          )
          .reverse();
        return {
          closed: ordersJson(closed.slice(ofs, ofs + KRAKEN_PAGE), p.get('trades') === 'true'),
          count: closed.length,
        };
      }
      case 'QueryOrders': {
        const ids = (p.get('txid') ?? '').split(',').filter((s) => s !== '');
        if (ids.length === 0 || ids.length > 50) throw new KrakenApiError('EGeneral:Invalid arguments:txid');
        const found = ids.map(findOrder);
        if (found.some((o) => o === undefined)) throw new KrakenApiError('EOrder:Invalid order');
        return ordersJson(found as SimOrder[], p.get('trades') === 'true');
      }
      case 'TradesHistory': {
        const start = num(p, 'start');
        const end = num(p, 'end');
        const ofs = num(p, 'ofs') ?? 0;
        const trades = exchange.trades
          .filter((t) => (start === undefined || t.time / 1000 > start) && (end === undefined || t.time / 1000 <= end))
          .reverse();
        const page = trades.slice(ofs, ofs + KRAKEN_PAGE);
        const orders = new Map(exchange.orders.map((o) => [o.orderId, o]));
        return {
          trades: Object.fromEntries(
            page.map((t) => [tradeTxid(t.id), tradeJson(t, orders.get(t.orderId), pairOf(t.symbol))]),
          ),
          count: trades.length,
        };
      }
      default:
        throw new KrakenApiError('EGeneral:Unknown method');
    }
  };

  const addOrder = (p: URLSearchParams, method: string, path: string): unknown => {
    const pair = pairOf(p.get('pair'));
    const side = p.get('type');
    if (side !== 'buy' && side !== 'sell') throw new KrakenApiError('EGeneral:Invalid arguments:type');
    const ordertype = p.get('ordertype') ?? '';
    const volume = num(p, 'volume');
    if (volume === undefined || !(volume > 0)) throw new KrakenApiError('EGeneral:Invalid arguments:volume');
    if (volume < pair.minQty - 1e-12) throw new KrakenApiError('EOrder:Order minimum not met');
    const oflags = (p.get('oflags') ?? '').split(',').filter((f) => f !== '');
    // The simulator charges every fee in quote (`fciq`, Kraken's default): other fee or volume flags are refused.
    if (oflags.some((f) => f !== 'fciq' && f !== 'post')) throw new KrakenApiError('EGeneral:Invalid arguments:oflags');
    const cid = p.get('cl_ord_id') ?? undefined;
    if (cid !== undefined && !isKrakenClientOrderId(cid))
      throw new KrakenApiError('EGeneral:Invalid arguments:cl_ord_id');
    if (cid !== undefined && exchange.openOrders().some((o) => clientIdOf(o) === cid))
      throw new KrakenApiError('EOrder:Duplicate order');
    const tif = (p.get('timeinforce') ?? 'GTC').toUpperCase();
    if (tif !== 'GTC' && tif !== 'IOC') throw new KrakenApiError('EGeneral:Invalid arguments:timeinforce');
    const px = num(p, 'price');
    const px2 = num(p, 'price2');
    const core: Record<string, { type: string; price?: number; stopPrice?: number }> = {
      market: { type: 'MARKET' },
      limit: { type: 'LIMIT', ...(px !== undefined ? { price: px } : {}) },
      'stop-loss': { type: 'STOP_LOSS', ...(px !== undefined ? { stopPrice: px } : {}) },
      'stop-loss-limit': {
        type: 'STOP_LOSS_LIMIT',
        ...(px !== undefined ? { stopPrice: px } : {}),
        ...(px2 !== undefined ? { price: px2 } : {}),
      },
    };
    const shape = core[ordertype];
    if (!shape) throw new KrakenApiError('EGeneral:Invalid arguments:ordertype');
    const rejected = faults.take(method, path, ['reject']);
    if (rejected?.kind === 'reject') throw new KrakenApiError(`EOrder:${rejected.message}`);
    const partial = faults.take(method, path, ['partialFill']);
    if (partial?.kind === 'partialFill') exchange.pendingPartialFill = partial.ratio;
    const o = exchange.placeOrder(
      {
        symbol: pair.symbol,
        side: side.toUpperCase(),
        type: shape.type,
        quantity: volume,
        ...(shape.price !== undefined ? { price: shape.price } : {}),
        ...(shape.stopPrice !== undefined ? { stopPrice: shape.stopPrice } : {}),
        ...(shape.type === 'LIMIT' || shape.type === 'STOP_LOSS_LIMIT' ? { timeInForce: tif } : {}),
      },
      // The core wants a unique id among open orders; an order without cl_ord_id gets one Kraken never shows.
      cid ?? `${NO_CLIENT_ID}${exchange.orders.length}-${Math.random().toString(36).slice(2, 10)}`,
    );
    const json = orderJson(o, pair, cid, false);
    return { descr: { order: (json.descr as { order: string }).order }, txid: [orderTxid(o.orderId)] };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: [`EGeneral:Internal error: ${(err as Error).message}`] }));
      }
    });
  });
  // The private WebSocket v2 at `/v2` (Kraken: `wss://ws-auth.kraken.com/v2`); nothing else upgrades.
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== WS_PATH) {
      socket.destroy();
      return;
    }
    if (faults.refuseWebSockets) {
      // An outage of the WebSocket service: the upgrade itself fails, as behind a load balancer with no backend.
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => privateWs.accept(ws));
  });
  faults.setUserDataDropHandler(() => privateWs.drop());
  faults.setDropHandler(() => privateWs.drop());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const interval = opts.tickIntervalMs ?? 100;
  const timer = interval > 0 ? setInterval(() => exchange.tick(interval), interval) : undefined;

  return {
    url,
    wsUrl: krakenWsUrl(url),
    ws: privateWs,
    apiKey,
    secret,
    state: exchange,
    faults,
    requests: intake.requests,
    tick(n = 1) {
      for (let i = 0; i < n; i++) exchange.tick(interval || 100);
    },
    setPrice(pair, mid) {
      exchange.setPrice(pair, mid);
    },
    ccxtUrls: () => krakenCcxtUrls(url),
    requestCount: (path) => intake.count(path),
    async close() {
      if (timer) clearInterval(timer);
      privateWs.drop();
      intake.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
