/** The ccxt adapter (VENUE-2): any ccxt exchange by id behind the core `Venue` interface. */
import ccxt, { type Exchange, type Market, type OHLCV, type Order, type Trade } from 'ccxt';
import {
  type Balance,
  type Bar,
  ConfigError,
  type Instrument,
  isOpen,
  type OrderBook,
  type OrderRef,
  type Position,
  type Subscription,
  type Ticker,
  type Timeframe,
  ValidationError,
  type Venue,
  type VenueCapabilities,
  VenueError,
  type VenueFill,
  type VenueOrder,
  type VenueOrderRequest,
} from '../../core/index.js';
import { venueCallContext } from '../call-context.js';
import type { RequestBudget } from '../request-budget.js';
import { orderAmountTexts, toBar, toInstrument, toOrderBook, toTicker, toVenueFill, toVenueOrder } from './convert.js';
import { mapCcxtError, VENUE_CODES } from './errors.js';
import {
  CcxtFutures,
  type CcxtFuturesOptions,
  type FundingPayment,
  type FundingRate,
  type FuturesPosition,
  ourSymbol,
} from './futures.js';
import { actualOrderIdOf, handedOver, isAlgoId, isAlgoOrder, rawAlgoId, withAlgoId } from './futures-stops.js';
import {
  type FundingEvent,
  fundingEventsOf,
  futuresUserStreamReady,
  unrefListenKeyKeepalive,
} from './futures-stream.js';
import {
  hookKrakenSubscribeAcks,
  KRAKEN_RATE_LIMIT_WAIT_MS,
  KRAKEN_TRADES_PAGE,
  KrakenExecutionOrders,
  krakenClientOrderId,
  krakenExecutionsConfirmed,
  subscribeKrakenExecutions,
  unifiedKrakenOrder,
} from './kraken.js';
import { checkFilters, checkPercentPrice, percentPriceBand } from './market-filters.js';
import { SharedStreams, type StreamSource } from './shared-streams.js';
import { UserFeed, type UserFeedMode } from './user-feed.js';

/**
 * Exchanges whose ccxt sandbox mode points at a real testnet. Others (kraken spot, coinbase, kucoin) have none, and
 * ccxt's setSandboxMode would leave their URLs empty, so we refuse instead of failing later in a confusing way.
 */
export const SANDBOX_EXCHANGES: readonly string[] = ['binance', 'bybit', 'okx', 'bitmex'];

/** Options of the ccxt adapter. */
export interface CcxtVenueOptions {
  /** ccxt exchange id, e.g. `binance`, `kraken`. */
  exchange: string;
  apiKey?: string;
  secret?: string;
  password?: string;
  /** Use the exchange's testnet (only for SANDBOX_EXCHANGES). */
  sandbox?: boolean;
  /** Entries merged into ccxt's `urls.api` (tests point REST and `ws` at the simulator). */
  urls?: Record<string, unknown>;
  /** Extra ccxt `options`, merged over our defaults. */
  options?: Record<string, unknown>;
  /** ccxt's own rate limiter (default true). */
  enableRateLimit?: boolean;
  /** Override ccxt's per-request spacing in ms (tests use a small value). */
  rateLimitMs?: number;
  /** ccxt's request timeout in ms (default 10,000). */
  timeoutMs?: number;
  /** Our request budget on top of ccxt's limiter; any object with tryAcquire/waitTime. */
  budget?: RequestBudget;
  /** Longest we wait for the budget before failing with a retryable VENUE_BUDGET error (default 5,000 ms). */
  budgetMaxWaitMs?: number;
  /** REST polling period for streams the exchange does not push, and for orders/fills (default 1,000 ms). */
  pollIntervalMs?: number;
  /** Executions per page of `fetchFills` (default 1 000, Binance's maximum). */
  fillsPageSize?: number;
  /** Symbols to scan when a call needs one but none is given (fills, order polling). */
  symbols?: string[];
  /** Force REST polling for market data even where ccxt pro has WebSocket support. */
  disableStreaming?: boolean;
  /**
   * Read orders and fills from the user-data stream where we know how to confirm its subscription (`binance`,
   * `kraken`), with REST polling only while it is down (default true; false: always poll). `disableStreaming` turns it
   * off too, unless `userStream` is `true`: then orders and fills stream while market data is polled.
   */
  userStream?: boolean;
  /** First delay before re-subscribing a dropped user-data stream (default 250 ms, doubling up to 30 s). */
  userStreamRetryMs?: number;
  /**
   * Longest wait for the exchange to confirm the user-data subscription (default 10,000 ms); past it the socket is
   * closed and the feeds poll, as when it drops, until a new subscription is confirmed.
   */
  userStreamTimeoutMs?: number;
  /** Called when an order or fill feed switches between the user-data stream and REST polling. */
  onUserStream?: (feed: 'orders' | 'fills', mode: UserFeedMode, cause?: Error) => void;
  /**
   * Futures mode (on for `binanceusdm`, Binance USDⓈ-M perpetuals): positions, leverage and margin mode set at
   * connect on `symbols`, reduce-only orders, funding, the free-margin floor. Market data and orders are polled.
   */
  futures?: CcxtFuturesOptions;
  now?: () => number;
}

/** ccxt exchanges whose markets are USDⓈ-M perpetuals: the adapter runs in futures mode for them. */
export const FUTURES_EXCHANGES: readonly string[] = ['binanceusdm'];

// Per-exchange tweaks for the calls we make.
const EXCHANGE_DEFAULTS: Record<string, Record<string, unknown>> = {
  // We trade spot only: skip futures/margin market loads and the private currencies call.
  binance: {
    fetchMarkets: { types: ['spot'] },
    fetchMargins: false,
    fetchCurrencies: false,
    fetchOpenOrders: { warnWithoutSymbol: false },
  },
  // USDⓈ-M perpetuals only; no spot or wallet calls. Each user-data socket ccxt opens would otherwise read the
  // positions over REST (a snapshot for watchPositions, which we do not use) and leave its promise unhandled.
  binanceusdm: {
    fetchMarkets: { types: ['linear'] },
    fetchMargins: false,
    fetchCurrencies: false,
    fetchOpenOrders: { warnWithoutSymbol: false },
    watchPositions: { fetchPositionsSnapshot: false },
  },
};
// Exchanges that look an order up (and cancel it) by client order id in one request.
const CLIENT_ID_LOOKUP = new Set(['binance', 'binanceusdm']);
/**
 * How to wait for a user-data subscription to be confirmed, per exchange. Without a confirmation, a fill between the
 * reconciling REST read and the subscription would be missed, so only exchanges listed here stream orders and fills.
 * ccxt's binance subscribes spot user data over the WebSocket API (`userDataStream.subscribe.signature`; no listen
 * key, so nothing to keep alive); called first, `authenticate` resolves once the exchange answered the subscribe.
 * Kraken: a token over REST (`call`: through the request budget), then the `executions` subscription on its private
 * WebSocket v2, acknowledged by `req_id` (`kraken.ts`).
 * Binance USDⓈ-M streams on a listen key (`futures-stream.ts`).
 */
const USER_STREAM_READY: Record<
  string,
  (ex: Exchange, call: <T>(fn: () => Promise<T>) => Promise<T>, timeoutMs: number) => Promise<unknown>
> = {
  binance: (ex) => {
    const done = (ex as unknown as { authenticate(p: Record<string, unknown>): Promise<unknown> }).authenticate({
      type: 'spot',
    });
    // ccxt creates a future for concurrent subscribers before it sends the subscribe, and rejects it when the
    // connection fails; with no concurrent subscriber nobody awaits it, and it would surface as an unhandled rejection.
    const url = (ex.urls as { api?: { ws?: { 'ws-api'?: { spot?: string } } } }).api?.ws?.['ws-api']?.spot;
    const client = url
      ? (ex.clients as Record<string, { futures?: Record<string, Promise<unknown>> }>)[url]
      : undefined;
    client?.futures?.['authenticate:signature:spot']?.catch(() => undefined);
    return done;
  },
  kraken: (ex, call, timeoutMs) => subscribeKrakenExecutions(ex, call, timeoutMs),
  binanceusdm: (ex) => futuresUserStreamReady(ex),
};
/** How long to wait after a rate-limit refusal that carries no Retry-After, per exchange. */
const RATE_LIMIT_WAIT_MS: Record<string, number> = { kraken: KRAKEN_RATE_LIMIT_WAIT_MS };
// Binance's default watchTicker stream is the mini ticker, which has no bid/ask.
const WATCH_TICKER_PARAMS: Record<string, Record<string, unknown>> = { binance: { name: 'ticker' } };

type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Futures: the params of a call on a stop at the Algo Service, by its raw algo id or (none) by our client id.
function algoParams(ref: OrderRef, rawId: string | undefined): Record<string, unknown> {
  return rawId !== undefined ? { trigger: true } : { trigger: true, clientOrderId: ref.clientOrderId };
}

/** A `Venue` over one ccxt exchange instance. */
export class CcxtVenue implements Venue {
  readonly id: string;
  readonly capabilities: VenueCapabilities;
  /** The ccxt instance (exposed for diagnostics and tests). */
  readonly exchange: Exchange;
  private readonly opts: CcxtVenueOptions;
  private readonly now: () => number;
  private readonly streaming: boolean;
  private readonly clientIds = new Map<string, string>();
  /** Kraken: the `cl_ord_id` each of our client order ids travels as → our id (see `kraken.ts`). */
  private readonly krakenIds = new Map<string, string>();
  private readonly touchedSymbols = new Set<string>();
  private readonly subs = new Set<{ closed: boolean }>();
  /** Client order ids this instance has sent: a repeat is looked up before it could become a second order. */
  private readonly sentClientIds = new Set<string>();
  /** Futures: client ids of the stops this instance placed (they live at the Algo Service, not the order book). */
  private readonly algoClientIds = new Set<string>();
  /** Futures: venue order ids whose client id a fill poll already looked up. */
  private readonly lookedUpOrders = new Set<string>();
  /** Order pollers of `watchOrders`; placements are added to each so orders that never rest still get reported. */
  private readonly orderTrackers = new Set<Map<string, string>>();
  /** WebSocket loops, one per channel, shared by all its subscribers (ccxt has one future per channel). */
  private readonly streams: SharedStreams;
  /** Whether orders and fills come from the user-data stream first (else REST polling only). */
  readonly userStreaming: boolean;
  /** The pending or settled user-data subscription, shared by every feed; cleared when a feed sees it drop. */
  private userReady: Promise<void> | undefined;
  private readonly userFeeds = new Set<UserFeed<unknown>>();
  /** Kraken: whole orders from the `executions` channel's partial events. */
  private readonly krakenOrders = new KrakenExecutionOrders();
  private readonly lastPrices = new Map<string, number>();
  /** Futures mode: positions, leverage, margin mode, funding (undefined on spot). */
  private readonly futures: CcxtFutures | undefined;
  private connected = false;

  constructor(opts: CcxtVenueOptions) {
    const id = opts.exchange;
    const pro = ccxt.pro as unknown as Record<string, ExchangeClass | undefined>;
    const rest = ccxt as unknown as Record<string, ExchangeClass | undefined>;
    const Cls = (pro[id] ?? (ccxt.exchanges.includes(id) ? rest[id] : undefined)) as ExchangeClass | undefined;
    if (!Cls) throw new ConfigError('venue.exchange', `unknown ccxt exchange "${id}"`);
    if (opts.sandbox && !SANDBOX_EXCHANGES.includes(id)) {
      throw new ConfigError(
        'venue.sandbox',
        `${id} has no testnet that ccxt supports (sandbox works for: ${SANDBOX_EXCHANGES.join(', ')}); use the paper venue instead`,
      );
    }
    this.opts = opts;
    this.id = id;
    this.now = opts.now ?? Date.now;
    const ex = new Cls({
      apiKey: opts.apiKey,
      secret: opts.secret,
      password: opts.password,
      enableRateLimit: opts.enableRateLimit ?? true,
      // ccxt sizes its limiter from rateLimit when it is built: set afterwards, the spacing stayed the exchange's.
      ...(opts.rateLimitMs !== undefined ? { rateLimit: opts.rateLimitMs } : {}),
      timeout: opts.timeoutMs ?? 10_000,
      options: { ...(EXCHANGE_DEFAULTS[id] ?? {}), ...(opts.options ?? {}) },
    });
    if (opts.sandbox) ex.setSandboxMode(true);
    // Kraken's subscribe acknowledgement confirms the user-data stream; ccxt's kraken ignores it.
    if (id === 'kraken' && typeof (ex as unknown as { handleMessage?: unknown }).handleMessage === 'function')
      hookKrakenSubscribeAcks(ex);
    if (id === 'kraken') {
      // Kraken refuses a nonce not above the last it saw: two calls in one millisecond would share ccxt's ms nonce.
      let last = 0;
      const msNonce = ex.nonce.bind(ex);
      ex.nonce = () => {
        last = Math.max(last + 1, Number(msNonce()));
        return last;
      };
    }
    if (opts.budget !== undefined) {
      // Kill switch calls skip ccxt's spacing queue, where they would wait behind every poll already queued: our
      // request budget — the venue's limit, with a reserve kept for them — paces them instead.
      const throttle = ex.throttle.bind(ex);
      ex.throttle = (cost?: number) => (venueCallContext().urgent === true ? Promise.resolve() : throttle(cost));
    }
    if (opts.urls) {
      const api = (ex.urls as { api?: Record<string, unknown> }).api ?? {};
      (ex.urls as { api?: Record<string, unknown> }).api = { ...api, ...opts.urls };
    }
    this.exchange = ex;
    this.streams = new SharedStreams({
      prepare: () => this.connect(),
      mapError: (err) => mapCcxtError(err, this.id),
    });
    const has = ex.has as Record<string, boolean | string | undefined>;
    const futures = opts.futures !== undefined || FUTURES_EXCHANGES.includes(id);
    this.futures = futures ? new CcxtFutures(ex, id, opts.futures ?? {}, (fn) => this.call(fn)) : undefined;
    // Futures market data is polled over REST (its WebSocket streams are left out: docs/venues.md); futures orders
    // and fills have the user-data stream.
    this.streaming = !futures && !opts.disableStreaming && !!has.ws && !!has.watchTicker;
    // `userStream: true` streams orders and fills even where market data is polled (the Kraken mode serves none).
    this.userStreaming =
      (this.streaming || (!!has.ws && (opts.userStream === true || (futures && !opts.disableStreaming)))) &&
      opts.userStream !== false &&
      !!USER_STREAM_READY[id] &&
      !!has.watchOrders &&
      !!has.watchMyTrades &&
      !!opts.apiKey;
    // ccxt keeps the futures listen key alive on a plain timer, which would hold a finished process open.
    if (this.userStreaming && futures) unrefListenKeyKeepalive(ex);
    this.capabilities = {
      // Binance futures' stops rest at its Algo Service (`/fapi/v1/algoOrder`, see futures-stops.ts).
      stopOrders: futures || !!(has.createStopLimitOrder || has.createStopOrder || has.createTriggerOrder),
      modifyOrder: false,
      streaming: this.streaming,
      positions: futures,
      clientOrderIds: true,
    };
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    // ccxt refuses plain ws:// URLs (the simulator) until its http agent is loaded.
    await this.exchange.loadHttpProxyAgent();
    await this.call(() => this.exchange.loadMarkets());
    // Leverage and margin mode before any order: an order placed at the venue's old leverage would hold other margin.
    await this.futures?.configure(this.opts.symbols ?? []);
    this.connected = true;
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.closed = true;
    this.subs.clear();
    this.orderTrackers.clear();
    for (const f of this.userFeeds) f.close();
    this.userFeeds.clear();
    // Lets unsubscribes already sent behind ccxt's throttle land before the socket goes away.
    await this.streams.close();
    // Closing rejects every future ccxt holds; one nobody awaits yet (kraken's WebSocket token flight, awaited only
    // after its REST answer) would be an unhandled rejection, a crash in Node. Its own awaiter still sees the error.
    const clients = (this.exchange.clients ?? {}) as Record<string, { futures?: Record<string, unknown> } | undefined>;
    for (const client of Object.values(clients))
      for (const f of Object.values(client?.futures ?? {})) if (f instanceof Promise) f.catch(() => undefined);
    try {
      await this.exchange.close();
    } catch {
      // closing an instance that never opened a socket may throw; nothing is left to release
    }
  }

  async fetchInstruments(): Promise<Instrument[]> {
    await this.connect();
    const out: Instrument[] = [];
    const markets = (this.exchange.markets ?? {}) as Record<string, Market | undefined>;
    for (const m of Object.values(markets)) {
      if (!m || m.active === false) continue;
      const inst = toInstrument(m, Number(this.exchange.precisionMode));
      if (!inst) continue;
      if (this.futures) {
        inst.symbol = ourSymbol(inst.symbol);
        const rate = this.futures.marginRate(inst.symbol);
        if (rate !== undefined) inst.marginRate = rate;
      }
      out.push(inst);
    }
    return out;
  }

  async fetchBalances(): Promise<Balance[]> {
    await this.connect();
    const b = await this.call(() => this.exchange.fetchBalance());
    const out: Balance[] = [];
    const total = (b.total ?? {}) as unknown as Record<string, number | undefined>;
    const free = (b.free ?? {}) as unknown as Record<string, number | undefined>;
    const used = (b.used ?? {}) as unknown as Record<string, number | undefined>;
    for (const asset of Object.keys(total)) {
      out.push({ asset, free: free[asset] ?? 0, used: used[asset] ?? 0, total: total[asset] ?? 0 });
    }
    return out;
  }

  async fetchPositions(): Promise<Position[]> {
    // Spot venues report balances, not positions (capabilities.positions is false).
    if (!this.futures) return [];
    return this.fetchFuturesPositions();
  }

  /** True in futures mode (a futures exchange such as binanceusdm): positions, leverage, funding. */
  get futuresMode(): boolean {
    return this.futures !== undefined;
  }

  /** Futures mode: open positions with leverage, margin mode, liquidation price, mark and unrealised P&L. */
  async fetchFuturesPositions(): Promise<FuturesPosition[]> {
    await this.connect();
    return this.requireFutures('fetchFuturesPositions').positions();
  }

  /** Futures mode: the coming funding rate and time of a perpetual, and its mark price. */
  async fetchFundingRate(symbol: string): Promise<FundingRate> {
    await this.connect();
    return this.requireFutures('fetchFundingRate').fundingRate(symbol);
  }

  /**
   * Futures mode: funding payments booked on the account since `since` (positive received, negative paid), over
   * `symbol` or the symbols this venue trades.
   */
  async fetchFundingPayments(since?: number, symbol?: string): Promise<FundingPayment[]> {
    await this.connect();
    return this.requireFutures('fetchFundingPayments').fundingPayments(this.scanSymbols(symbol), since);
  }

  private requireFutures(what: string): CcxtFutures {
    if (!this.futures)
      throw new VenueError(`${this.id}: ${what} needs futures mode (a futures exchange such as binanceusdm)`, {
        retryable: false,
        venue: this.id,
        code: VENUE_CODES.notSupported,
      });
    return this.futures;
  }

  async placeOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    await this.connect();
    const market = this.marketOf(req.symbol);
    if (!market)
      throw new VenueError(`${this.id}: unknown symbol ${req.symbol}`, {
        retryable: false,
        venue: this.id,
        code: VENUE_CODES.badSymbol,
      });
    await this.checkOrderFilters(req, market);
    const ccxtType = req.type === 'market' || req.type === 'stop' ? 'market' : 'limit';
    // Amounts leave as exact decimal strings on the market's grid: ccxt formats strings without a float step.
    const texts = orderAmountTexts(toInstrument(market, Number(this.exchange.precisionMode)), {
      side: req.side,
      type: req.type,
      quantity: req.quantity,
      ...(ccxtType === 'limit' && req.price !== undefined ? { price: req.price } : {}),
      ...(req.stopPrice !== undefined && (req.type === 'stop' || req.type === 'stop_limit')
        ? { stopPrice: req.stopPrice }
        : {}),
      ...(req.exact !== undefined ? { exact: req.exact } : {}),
    });
    const kraken = this.id === 'kraken';
    const params: Record<string, unknown> = { clientOrderId: this.venueClientId(req.clientOrderId) };
    if (req.timeInForce && req.type !== 'market' && req.type !== 'stop')
      params.timeInForce = req.timeInForce === 'DAY' ? 'GTC' : req.timeInForce;
    // ccxt's kraken reads a stop's trigger from `stopLossPrice` (a buy stop-loss triggers at or above it).
    if (texts.triggerPrice !== undefined) params[kraken ? 'stopLossPrice' : 'triggerPrice'] = texts.triggerPrice;
    if (req.reduceOnly && market.contract) params.reduceOnly = true;
    const algo = this.futures !== undefined && texts.triggerPrice !== undefined;
    // Binance triggers a futures stop on the last contract price unless told to use the mark price.
    if (algo) params.workingType = this.opts.futures?.stopTrigger === 'mark' ? 'MARK_PRICE' : 'CONTRACT_PRICE';
    if (this.futures && !req.reduceOnly) await this.checkMarginFloor(req, market);
    // ccxt's typings say number, but its formatting (amountToPrecision, priceToPrecision) takes decimal strings.
    const amount = texts.amount as unknown as number;
    const price = texts.price as unknown as number | undefined;
    // Binance accepts a client id again once its order is closed, so re-sending an id we already sent (a retry
    // after a lost answer, a restarted strategy step) could fill twice: return the order the venue has instead.
    if (this.sentClientIds.has(req.clientOrderId)) {
      const existing = await this.fetchOrder({ symbol: req.symbol, clientOrderId: req.clientOrderId });
      if (existing) return existing;
    }
    this.sentClientIds.add(req.clientOrderId);
    if (algo) this.algoClientIds.add(req.clientOrderId);
    this.touchedSymbols.add(req.symbol);
    try {
      const o = await this.call(() => this.exchange.createOrder(req.symbol, ccxtType, req.side, amount, price, params));
      // Kraken answers AddOrder with the txid and a description only: the state (filled, resting) needs a query.
      const placed = kraken && o.id ? await this.placedKrakenOrder(o, req) : undefined;
      const v = placed ?? this.remember(o, req.clientOrderId);
      for (const tracked of this.orderTrackers) tracked.set(v.venueOrderId, v.symbol);
      return v;
    } catch (err) {
      // Idempotency: a duplicate client id means the venue already has this order; return it instead of failing.
      if (err instanceof VenueError && err.code === VENUE_CODES.duplicateOrder) {
        const existing = await this.fetchOrder({ symbol: req.symbol, clientOrderId: req.clientOrderId });
        if (existing) return existing;
      }
      throw err;
    }
  }

  // Futures: the free-margin floor on the venue's own figures, for an order that may open exposure.
  private async checkMarginFloor(req: VenueOrderRequest, market: NonNullable<Market>): Promise<void> {
    const rate = this.futures?.marginRate(req.symbol);
    if (!this.futures || rate === undefined) return;
    const price = req.price ?? this.lastPrices.get(req.symbol) ?? (await this.fetchTicker(req.symbol)).last;
    const margin = req.quantity * price * (market.contractSize ?? 1) * rate;
    this.futures.checkMarginFloor(
      await this.fetchBalances(),
      market.settle ?? market.quote,
      margin,
      `${req.side} ${req.quantity} ${req.symbol}`,
    );
  }

  // The state of a Kraken order just placed; when the query fails, the placement's answer (status `submitted`).
  private async placedKrakenOrder(o: Order, req: VenueOrderRequest): Promise<VenueOrder | undefined> {
    try {
      return (
        (await this.fetchOrder({ symbol: req.symbol, venueOrderId: String(o.id), clientOrderId: req.clientOrderId })) ??
        undefined
      );
    } catch {
      return undefined;
    }
  }

  // The client order id as the venue carries it (Kraken: its `cl_ord_id` format), remembered for the way back.
  private venueClientId(clientOrderId: string): string {
    if (this.id !== 'kraken') return clientOrderId;
    const k = krakenClientOrderId(clientOrderId);
    this.krakenIds.set(k, clientOrderId);
    return k;
  }

  // The market's filters, checked before sending: a violating order is refused here, with the filter's name.
  private async checkOrderFilters(req: VenueOrderRequest, market: NonNullable<Market>): Promise<void> {
    const inst = toInstrument(market, Number(this.exchange.precisionMode));
    if (!inst) return;
    inst.symbol = req.symbol;
    const limitPrice = req.type === 'limit' || req.type === 'stop_limit' ? req.price : undefined;
    const refuse = (reason: string) =>
      new VenueError(`${this.id}: ${req.side} ${req.quantity} ${req.symbol} refused before sending: ${reason}`, {
        retryable: false,
        venue: this.id,
        code: VENUE_CODES.invalidOrder,
      });
    const last = this.lastPrices.get(req.symbol);
    const reason = checkFilters(inst, {
      side: req.side,
      quantity: req.quantity,
      ...(limitPrice !== undefined ? { price: limitPrice } : {}),
      ...(req.stopPrice !== undefined && (req.type === 'stop' || req.type === 'stop_limit')
        ? { stopPrice: req.stopPrice }
        : {}),
      ...(last !== undefined ? { referencePrice: last } : {}),
    });
    if (reason) throw refuse(reason);
    const band = percentPriceBand(market);
    if (!band || limitPrice === undefined) return;
    const avg = await this.averagePrice(market);
    const outside = avg > 0 ? checkPercentPrice(band, req.side, limitPrice, avg) : null;
    if (outside) throw refuse(outside);
  }

  // The price a percent-price filter is relative to: Binance's average price, else the last trade.
  private async averagePrice(market: NonNullable<Market>): Promise<number> {
    const ex = this.exchange as unknown as Record<string, unknown>;
    if (this.id === 'binance' && typeof ex.publicGetAvgPrice === 'function') {
      const get = ex.publicGetAvgPrice as (p: Record<string, unknown>) => Promise<{ price?: string }>;
      const r = await this.call(() => get.call(this.exchange, { symbol: market.id }));
      return Number(r.price ?? 0);
    }
    return (await this.fetchTicker(market.symbol)).last;
  }

  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    await this.connect();
    if (this.id === 'kraken') return this.cancelKrakenOrder(ref);
    if (this.futures) {
      const cid = ref.clientOrderId;
      if (isAlgoId(ref.venueOrderId) || (!ref.venueOrderId && cid !== undefined && this.algoClientIds.has(cid)))
        return this.cancelAlgoOrder(ref);
      try {
        return await this.cancelPlainOrder(ref);
      } catch (err) {
        // A client id this instance did not place (a restart): it may name a stop resting at the Algo Service.
        if (ref.venueOrderId || !(err instanceof VenueError && err.code === VENUE_CODES.orderNotFound)) throw err;
        return this.cancelAlgoOrder(ref);
      }
    }
    return this.cancelPlainOrder(ref);
  }

  // Futures: cancels a stop at the Algo Service, by its `algo-` id or its client id; its state comes from a fetch.
  private async cancelAlgoOrder(ref: OrderRef): Promise<VenueOrder> {
    const rawId =
      ref.venueOrderId !== undefined && isAlgoId(ref.venueOrderId) ? rawAlgoId(ref.venueOrderId) : undefined;
    await this.call(() => this.exchange.cancelOrder(rawId ?? '', ref.symbol, algoParams(ref, rawId)));
    return this.stateAfterCancel(ref, `stop ${ref.venueOrderId ?? ref.clientOrderId}`);
  }

  // A venue that answers a cancel without the order's state: it comes from a fetch, and an order gone by then is
  // a non-retryable not-found naming `what`.
  private async stateAfterCancel(ref: OrderRef, what: string): Promise<VenueOrder> {
    const after = await this.fetchOrder(ref);
    if (!after)
      throw new VenueError(`${this.id}: ${what} not found after cancelling it`, {
        retryable: false,
        venue: this.id,
        code: VENUE_CODES.orderNotFound,
      });
    return after;
  }

  private async cancelPlainOrder(ref: OrderRef): Promise<VenueOrder> {
    const params: Record<string, unknown> = {};
    let id = ref.venueOrderId;
    if (!id && ref.clientOrderId) {
      if (CLIENT_ID_LOOKUP.has(this.id)) params.clientOrderId = ref.clientOrderId;
      else {
        const found = await this.fetchOrder(ref);
        if (!found)
          throw new VenueError(`${this.id}: order ${ref.clientOrderId} not found`, {
            retryable: false,
            venue: this.id,
            code: VENUE_CODES.orderNotFound,
          });
        id = found.venueOrderId;
      }
    }
    const o = await this.call(() => this.exchange.cancelOrder(id as string, ref.symbol, params));
    const v = this.remember(o, ref.clientOrderId);
    // Some venues answer a cancel with a partial order; the full state comes from a fetch.
    if (v.status !== 'cancelled' && v.status !== 'filled' && v.status !== 'expired') {
      return (
        (await this.fetchOrder({ symbol: ref.symbol, venueOrderId: v.venueOrderId })) ?? { ...v, status: 'cancelled' }
      );
    }
    return v;
  }

  // Kraken cancels by txid or by `cl_ord_id` and answers only a count: the order's state comes from a query after.
  private async cancelKrakenOrder(ref: OrderRef): Promise<VenueOrder> {
    const id = ref.venueOrderId;
    if (!id && !ref.clientOrderId) throw new ValidationError('cancelOrder needs venueOrderId or clientOrderId', 'ref');
    const params: Record<string, unknown> = id ? {} : { clientOrderId: this.venueClientId(ref.clientOrderId ?? '') };
    await this.call(() => this.exchange.cancelOrder(id ?? '', ref.symbol, params));
    return this.stateAfterCancel(ref, `order ${id ?? ref.clientOrderId}`);
  }

  async modifyOrder(): Promise<VenueOrder> {
    throw new VenueError(`${this.id}: modifyOrder is not supported by the ccxt adapter; cancel and place again`, {
      retryable: false,
      venue: this.id,
      code: VENUE_CODES.notSupported,
    });
  }

  async fetchOrder(ref: OrderRef): Promise<VenueOrder | null> {
    await this.connect();
    if (!this.futures) return this.fetchPlainOrder(ref);
    if (ref.venueOrderId !== undefined && isAlgoId(ref.venueOrderId))
      return this.fetchAlgoOrder(ref, rawAlgoId(ref.venueOrderId));
    const plain = await this.fetchPlainOrder(ref);
    // By client id: a stop not triggered yet is found at the Algo Service only.
    if (plain || ref.venueOrderId || !ref.clientOrderId) return plain;
    return this.fetchAlgoOrder(ref, undefined);
  }

  /**
   * Futures: a stop at the Algo Service, by algo id or (none given) by client id. Untriggered, it is the stop; once
   * handed over, the matching engine's order it placed is what it reports (with the fills), so the caller learns
   * that order's id.
   */
  private async fetchAlgoOrder(ref: OrderRef, rawId: string | undefined): Promise<VenueOrder | null> {
    let o: Order;
    try {
      o = await this.call(() =>
        this.exchange.fetchOrder(rawId ?? (undefined as unknown as string), ref.symbol, algoParams(ref, rawId)),
      );
    } catch (err) {
      if (err instanceof VenueError && err.code === VENUE_CODES.orderNotFound) return null;
      throw err;
    }
    if (!handedOver(o)) return this.remember(o, ref.clientOrderId);
    const actual = actualOrderIdOf(o);
    const cid = o.clientOrderId ?? ref.clientOrderId;
    // TRIGGERING: on its way to the matching engine, not filled yet.
    if (actual === undefined) return { ...this.remember(o, cid), status: 'accepted' };
    if (cid) this.clientIds.set(`#${actual}`, cid);
    return this.fetchPlainOrder({ symbol: ref.symbol, venueOrderId: actual, ...(cid ? { clientOrderId: cid } : {}) });
  }

  private async fetchPlainOrder(ref: OrderRef): Promise<VenueOrder | null> {
    // Kraken: the id our client id travels as, known again after a restart (it is derived, not stored).
    if (ref.clientOrderId) this.venueClientId(ref.clientOrderId);
    try {
      if (ref.venueOrderId)
        return this.remember(
          await this.call(() => this.exchange.fetchOrder(ref.venueOrderId as string, ref.symbol)),
          ref.clientOrderId,
        );
      if (!ref.clientOrderId) throw new ValidationError('fetchOrder needs venueOrderId or clientOrderId', 'ref');
      if (CLIENT_ID_LOOKUP.has(this.id)) {
        const cid = ref.clientOrderId;
        return this.remember(
          await this.call(() =>
            this.exchange.fetchOrder(undefined as unknown as string, ref.symbol, { clientOrderId: cid }),
          ),
          cid,
        );
      }
      // Kraken filters open and closed orders by `cl_ord_id` itself.
      const byId = this.id === 'kraken' ? { clientOrderId: this.venueClientId(ref.clientOrderId) } : {};
      // Generic path: look through open then closed orders for the client id.
      const open = await this.call(() => this.exchange.fetchOpenOrders(ref.symbol, undefined, undefined, byId));
      const closed = (this.exchange.has as Record<string, unknown>).fetchClosedOrders
        ? await this.call(() => this.exchange.fetchClosedOrders(ref.symbol, undefined, undefined, byId))
        : [];
      const venueCid = this.id === 'kraken' ? this.venueClientId(ref.clientOrderId) : ref.clientOrderId;
      const hit = [...open, ...closed].find((o) => o.clientOrderId === venueCid);
      return hit ? this.remember(hit, ref.clientOrderId) : null;
    } catch (err) {
      if (err instanceof VenueError && err.code === VENUE_CODES.orderNotFound) return null;
      // Kraken's QueryOrders answers a txid it does not know with `EOrder:Invalid order`.
      if (this.id === 'kraken' && err instanceof VenueError && /EOrder:Invalid order/.test(err.message)) return null;
      throw err;
    }
  }

  async fetchOpenOrders(symbol?: string): Promise<VenueOrder[]> {
    await this.connect();
    const list = await this.call(() => this.exchange.fetchOpenOrders(symbol));
    // Futures: the stops resting untriggered at the Algo Service are open orders too.
    const stops = this.futures
      ? await this.call(() => this.exchange.fetchOpenOrders(symbol, undefined, undefined, { trigger: true }))
      : [];
    return [...list, ...stops].map((o) => this.remember(o));
  }

  /**
   * Every execution since `since`, page by page: a venue answers at most one page (Binance: 500 by default), and a
   * reconciliation that read only the first would miss the rest. The next page starts at the last time seen;
   * executions at that same time are de-duplicated by trade id.
   */
  async fetchFills(symbol?: string, since?: number): Promise<VenueFill[]> {
    await this.connect();
    if (this.id === 'kraken') return this.fetchKrakenFills(symbol, since);
    const out: VenueFill[] = [];
    const pageSize = this.opts.fillsPageSize ?? 1_000;
    for (const s of this.scanSymbols(symbol)) {
      const seen = new Set<string>();
      let from = since;
      for (;;) {
        const page = await this.call(() => this.exchange.fetchMyTrades(s, from, pageSize));
        let added = 0;
        let last = from ?? 0;
        for (const t of page) {
          const f = this.fillOf(t, this.clientIds.get(`#${t.order}`));
          last = Math.max(last, f.time);
          if (seen.has(f.venueTradeId)) continue;
          seen.add(f.venueTradeId);
          out.push(f);
          added++;
        }
        // A short page is the last; a full page of nothing new (all at one millisecond) cannot advance either.
        if (page.length < pageSize || added === 0) break;
        from = last;
      }
    }
    if (this.futures) await this.attributeFills(out);
    return out.sort((a, b) => a.time - b.time);
  }

  /**
   * Futures: Binance's trade list has no client ids. A fill of an order this instance never saw (a stop that
   * triggered, an order placed before a restart) gets its client id from one look-up of its order, so the bridge
   * can book it to ours.
   */
  private async attributeFills(fills: VenueFill[]): Promise<void> {
    for (const f of fills) {
      if (f.clientOrderId) continue;
      const key = `#${f.venueOrderId}`;
      if (!this.clientIds.has(key) && !this.lookedUpOrders.has(f.venueOrderId)) {
        this.lookedUpOrders.add(f.venueOrderId);
        await this.fetchPlainOrder({ symbol: f.symbol, venueOrderId: f.venueOrderId });
      }
      const cid = this.clientIds.get(key);
      if (cid) f.clientOrderId = cid;
    }
  }

  /**
   * Kraken's trade history is one list for every pair, newest first, 50 a page: pages back by offset (`ofs`) until a
   * short page. A trade that arrives meanwhile shifts the pages by one, so a trade may be read twice (kept once by id)
   * but none is skipped.
   */
  private async fetchKrakenFills(symbol: string | undefined, since: number | undefined): Promise<VenueFill[]> {
    const wanted = new Set(this.scanSymbols(symbol));
    const byId = new Map<string, VenueFill>();
    for (let ofs = 0; ; ofs += KRAKEN_TRADES_PAGE) {
      const page = await this.call(() => this.exchange.fetchMyTrades(undefined, since, undefined, { ofs }));
      for (const t of page) {
        if (!wanted.has(t.symbol ?? '')) continue;
        const f = toVenueFill(t, this.clientIds.get(`#${t.order}`));
        byId.set(f.venueTradeId, f);
      }
      if (page.length < KRAKEN_TRADES_PAGE) break;
    }
    return [...byId.values()].sort((a, b) => a.time - b.time);
  }

  async fetchTicker(symbol: string): Promise<Ticker> {
    await this.connect();
    return this.noteTicker(toTicker(await this.call(() => this.exchange.fetchTicker(symbol)), symbol));
  }

  // The last price seen per symbol: a market order's notional is checked against it without a request.
  private noteTicker(t: Ticker): Ticker {
    if (t.last > 0) this.lastPrices.set(t.symbol, t.last);
    return t;
  }

  async fetchCandles(symbol: string, timeframe: Timeframe, since?: number, limit?: number): Promise<Bar[]> {
    await this.connect();
    const rows = await this.call(() => this.exchange.fetchOHLCV(symbol, timeframe, since, limit));
    return rows.map(toBar);
  }

  async fetchOrderBook(symbol: string, depth = 20): Promise<OrderBook> {
    await this.connect();
    return toOrderBook(await this.call(() => this.exchange.fetchOrderBook(symbol, depth)), symbol, depth);
  }

  async fetchServerTime(): Promise<number> {
    await this.connect();
    const t = await this.call(() => this.exchange.fetchTime());
    if (t === undefined || t === null)
      throw new VenueError(`${this.id}: no server time`, {
        retryable: true,
        venue: this.id,
        code: VENUE_CODES.network,
      });
    return t;
  }

  watchTicker(symbol: string, onTicker: (t: Ticker) => void, onError?: (e: Error) => void): Subscription {
    const params = WATCH_TICKER_PARAMS[this.id] ?? {};
    if (!this.streaming) return this.poll(() => this.fetchTicker(symbol), onTicker, onError);
    return this.streams.subscribe(
      `ticker:${symbol}`,
      () => ({
        next: async () => {
          const first = await this.exchange.watchTicker(symbol, params);
          // ccxt resolves only the call waiting when a message arrives: a second ticker in the same socket read
          // just replaces its cache, and on a quiet market nothing may follow it for long (the parity test waited a
          // minute for a bar's opening price). The cache holds the newest; deliver that one.
          const latest = (this.exchange.tickers as Record<string, typeof first | undefined>)[first.symbol ?? symbol];
          return this.noteTicker(toTicker(latest ?? first, symbol));
        },
        unwatch: this.unwatcher('unWatchTicker', () => this.exchange.unWatchTicker(symbol, params)),
      }),
      onTicker,
      onError,
    );
  }

  watchCandles(
    symbol: string,
    timeframe: Timeframe,
    onBar: (b: Bar, closed: boolean) => void,
    onError?: (e: Error) => void,
  ): Subscription {
    let lastTime = -1;
    let lastRow: OHLCV | undefined;
    // A candle is closed once a newer one appears; the venue's own `closed` flag is not in ccxt's OHLCV rows.
    const deliver = (rows: OHLCV[]) => {
      const latest = rows[rows.length - 1];
      if (!latest) return;
      if (lastTime >= 0 && (latest[0] ?? 0) > lastTime) {
        const prev = rows.find((r) => r[0] === lastTime) ?? lastRow;
        if (prev) onBar(toBar(prev), true);
      }
      lastTime = latest[0] ?? 0;
      lastRow = latest;
      onBar(toBar(latest), false);
    };
    if (!this.streaming || !(this.exchange.has as Record<string, unknown>).watchOHLCV) {
      return this.poll(
        () => this.call(() => this.exchange.fetchOHLCV(symbol, timeframe, undefined, 2)),
        deliver,
        onError,
      );
    }
    // The loop is shared; the closed-candle bookkeeping above is this subscriber's own.
    return this.streams.subscribe(
      `ohlcv:${symbol}:${timeframe}`,
      () => ({
        next: () => this.exchange.watchOHLCV(symbol, timeframe),
        unwatch: this.unwatcher('unWatchOHLCV', () => this.exchange.unWatchOHLCV(symbol, timeframe)),
      }),
      deliver,
      onError,
    );
  }

  watchOrderBook(symbol: string, onBook: (b: OrderBook) => void, onError?: (e: Error) => void): Subscription {
    if (!this.streaming || !(this.exchange.has as Record<string, unknown>).watchOrderBook) {
      return this.poll(() => this.fetchOrderBook(symbol), onBook, onError);
    }
    return this.streams.subscribe(
      `book:${symbol}`,
      () => ({
        next: async () => toOrderBook(await this.exchange.watchOrderBook(symbol), symbol, 50),
        unwatch: this.unwatcher('unWatchOrderBook', () => this.exchange.unWatchOrderBook(symbol)),
      }),
      onBook,
      onError,
    );
  }

  /**
   * Order updates: from the user-data stream where the venue has one (REST polling only while it is down, and once
   * to reconcile after each subscription), else polled over REST (open orders, then a fetch of any order that left
   * the open list and of every placement of this instance).
   */
  watchOrders(onOrder: (o: VenueOrder) => void, onError?: (e: Error) => void): Subscription {
    const seen = new Map<string, string>();
    // Orders to follow until final: every open one, plus every placement of this instance (a market order may
    // never show up as open).
    const tracked = new Map<string, string>();
    this.orderTrackers.add(tracked);
    const emit = (o: VenueOrder) => {
      if (!isOpen(o.status)) tracked.delete(o.venueOrderId);
      const key = `${o.status}|${o.filledQuantity}`;
      if (seen.get(o.venueOrderId) === key) return;
      seen.set(o.venueOrderId, key);
      onOrder(o);
    };
    const deliver = (orders: VenueOrder[]) => {
      for (const o of orders) emit(o);
    };
    const pollOnce = async () => {
      const open = await this.fetchOpenOrders();
      const openIds = new Set(open.map((o) => o.venueOrderId));
      for (const o of open) tracked.set(o.venueOrderId, o.symbol);
      const gone: VenueOrder[] = [];
      for (const [id, symbol] of tracked) {
        if (openIds.has(id)) continue;
        const final = await this.fetchOrder({ symbol, venueOrderId: id });
        // A placement that landed after the open list was read is still open: keep following it.
        if (!final || !isOpen(final.status)) tracked.delete(id);
        if (final) gone.push(final);
      }
      return [...open, ...gone];
    };
    if (!this.userStreaming) return this.poll(pollOnce, deliver, onError, () => this.orderTrackers.delete(tracked));
    return this.userFeed<VenueOrder[]>(
      'orders',
      () => ({
        next: async () => {
          if (this.id === 'kraken') {
            this.requireKrakenExecutions();
            return this.krakenOrders.fold(await this.exchange.watchOrders()).map((o) => this.remember(o));
          }
          return (
            (await this.exchange.watchOrders())
              // A triggered stop's own updates say nothing of fills: the engine order it placed reports them.
              .filter((o) => !(this.futures && isAlgoOrder(o) && handedOver(o)))
              .map((o) => this.remember(o))
          );
        },
        unwatch: this.unwatcher('unWatchOrders', () => this.exchange.unWatchOrders()),
      }),
      pollOnce,
      deliver,
      onError,
      () => this.orderTrackers.delete(tracked),
    );
  }

  /**
   * Executions: from the user-data stream where the venue has one (REST only while it is down, and once to
   * reconcile after each subscription), else polled over REST (my trades per symbol since the last one seen).
   * Each trade id is delivered once, whichever path saw it first.
   */
  watchFills(onFill: (f: VenueFill) => void, onError?: (e: Error) => void): Subscription {
    const seen = new Set<string>();
    let since = this.now();
    const deliver = (fills: VenueFill[]) => {
      for (const f of fills) {
        if (seen.has(f.venueTradeId)) continue;
        seen.add(f.venueTradeId);
        since = Math.max(since, f.time);
        onFill(f);
      }
    };
    const pollOnce = () => this.fetchFills(undefined, since);
    if (!this.userStreaming) return this.poll(pollOnce, deliver, onError);
    return this.userFeed<VenueFill[]>(
      'fills',
      () => ({
        next: async () => {
          if (this.id === 'kraken') this.requireKrakenExecutions();
          return (await this.exchange.watchMyTrades()).map((t) => {
            this.touchedSymbols.add(t.symbol ?? '');
            // The stream's execution report carries the client id even before the placement's answer arrived.
            return this.fillOf(t, this.clientIds.get(`#${t.order}`) ?? this.streamedClientId(t));
          });
        },
        unwatch: this.unwatcher('unWatchMyTrades', () => this.exchange.unWatchMyTrades()),
      }),
      pollOnce,
      deliver,
      onError,
    );
  }

  /**
   * Futures mode with the user-data stream: calls `onFunding` for each funding payment the stream announces
   * (`ACCOUNT_UPDATE`, reason FUNDING_FEE). A prompt only: the payment's income id comes from the REST history
   * (`fetchFundingPayments`), and two account updates in one socket read keep only the newer for ccxt, so the
   * booker's own polling stays the guarantee. Without the stream nothing is delivered.
   */
  watchFunding(onFunding: (e: FundingEvent) => void, onError?: (e: Error) => void): Subscription {
    if (!this.futures || !this.userStreaming) return { close: () => undefined };
    return this.userFeed<FundingEvent[]>(
      'funding',
      () => ({ next: async () => fundingEventsOf((await this.exchange.watchBalance()).info) }),
      // While the stream is down the booker's own polling reads the payments: nothing to poll here.
      async () => [],
      (events) => {
        for (const e of events) onFunding(e);
      },
      onError,
    );
  }

  // A stream-first feed: the shared user-data watch loop of `kind`, with `pollOnce` as fallback and reconciliation.
  private userFeed<T>(
    kind: 'orders' | 'fills' | 'funding',
    source: () => StreamSource<T>,
    pollOnce: () => Promise<T>,
    deliver: (v: T) => void,
    onError: ((e: Error) => void) | undefined,
    onClose?: () => void,
  ): Subscription {
    let used: Promise<void> | undefined;
    const feed = new UserFeed<T>({
      ready: () => {
        used = this.userStreamReady();
        return used;
      },
      subscribe: (next, fail) =>
        this.streams.subscribe(`user:${kind}`, source, next, (err) => {
          // The subscription went with the socket: the next feed to retry must subscribe again.
          if (this.userReady === used) this.userReady = undefined;
          fail(err);
        }),
      poll: pollOnce,
      deliver,
      pollIntervalMs: this.opts.pollIntervalMs ?? 1_000,
      retryBaseMs: this.opts.userStreamRetryMs ?? 250,
      ...(onError ? { onError } : {}),
      onMode: (mode, cause) => {
        if (kind !== 'funding') this.opts.onUserStream?.(kind, mode, cause);
      },
    });
    this.userFeeds.add(feed as UserFeed<unknown>);
    return {
      close: () => {
        feed.close();
        this.userFeeds.delete(feed as UserFeed<unknown>);
        onClose?.();
      },
    };
  }

  // The client order id in a streamed execution: Binance's report `c`; Kraken's `cl_ord_id`, back to ours.
  private streamedClientId(t: Trade): string | undefined {
    const info = t.info as Record<string, unknown> | undefined;
    if (this.id === 'kraken')
      return typeof info?.cl_ord_id === 'string' ? (this.krakenIds.get(info.cl_ord_id) ?? info.cl_ord_id) : undefined;
    return typeof info?.c === 'string' ? info.c : undefined;
  }

  // Kraken: ccxt would open a new connection on its own after a drop, unconfirmed (and without the snapshot): end the
  // stream instead, so the feed subscribes again, confirmed, and reconciles.
  private requireKrakenExecutions(): void {
    if (!krakenExecutionsConfirmed(this.exchange))
      throw new ccxt.NetworkError('kraken: the executions subscription is gone (connection closed)');
  }

  // One user-data subscription for all feeds of this instance (single flight), confirmed by the exchange.
  private userStreamReady(): Promise<void> {
    if (!this.userReady) {
      const ready = USER_STREAM_READY[this.id];
      const p = this.connect().then(async () => {
        const limitMs = this.opts.userStreamTimeoutMs ?? 10_000;
        let timer: NodeJS.Timeout | undefined;
        // An answer that never comes (lost, or a hung socket) must not leave the feeds waiting on it for ever.
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.dropUserSocket();
            reject(
              new VenueError(`${this.id}: user-data subscription not confirmed within ${limitMs} ms`, {
                retryable: true,
                venue: this.id,
                code: VENUE_CODES.network,
              }),
            );
          }, limitMs);
        });
        try {
          // The exchange's own wait (Kraken's acknowledgement) gets the same limit: a longer one (the REST
          // `timeoutMs`) would keep an abandoned subscribe pending on the old socket, which a retry then waits on.
          await Promise.race([ready?.(this.exchange, (fn) => this.call(fn), limitMs), timeout]);
        } catch (err) {
          throw err instanceof VenueError ? err : mapCcxtError(err, this.id);
        } finally {
          clearTimeout(timer);
        }
      });
      this.userReady = p;
      p.catch(() => {
        if (this.userReady === p) this.userReady = undefined;
      });
    }
    return this.userReady;
  }

  // Closes the user-data socket: ccxt forgets its subscription state with it, so the next attempt subscribes afresh
  // (ccxt raises its "subscribed" flag before the exchange confirms, so a retry on the same socket would not).
  private dropUserSocket(): void {
    const url = (this.exchange.urls as { api?: { ws?: { 'ws-api'?: { spot?: string } } } }).api?.ws?.['ws-api']?.spot;
    const client = url ? (this.exchange.clients as Record<string, { close(): unknown } | undefined>)[url] : undefined;
    if (!client) return;
    void Promise.resolve()
      .then(() => client.close())
      .catch(() => undefined);
  }

  // Every REST call goes through our budget, then ccxt (with its own limiter), and errors come out as VenueError.
  // Kill switch calls (an urgent call context) draw on the budget's reserve, so they never wait behind polling.
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    const budget = this.opts.budget;
    if (budget) {
      const maxWait = this.opts.budgetMaxWaitMs ?? 5_000;
      const urgent = venueCallContext().urgent === true;
      for (;;) {
        if (budget.tryAcquire(this.now(), urgent)) break;
        const wait = budget.waitTime(this.now(), urgent);
        if (wait > maxWait) {
          throw new VenueError(`${this.id}: request budget exhausted for ${wait} ms`, {
            retryable: true,
            venue: this.id,
            code: VENUE_CODES.budget,
            retryAfterMs: wait,
          });
        }
        await sleep(Math.max(1, wait));
      }
    }
    try {
      return await fn();
    } catch (err) {
      const mapped = mapCcxtError(
        err,
        this.id,
        this.exchange.last_response_headers as Record<string, unknown> | undefined,
      );
      const wait = RATE_LIMIT_WAIT_MS[this.id];
      if (mapped.code !== VENUE_CODES.rateLimit || mapped.retryAfterMs !== undefined || wait === undefined)
        throw mapped;
      throw new VenueError(mapped.message, {
        retryable: true,
        venue: this.id,
        code: mapped.code,
        cause: err,
        retryAfterMs: wait,
      });
    }
  }

  // Futures venues name contracts `BTC/USDT:USDT`; ours is `BTC/USDT` on every venue.
  private marketOf(symbol: string): Market | undefined {
    const markets = this.exchange.markets as Record<string, Market | undefined>;
    if (!this.futures) return markets[symbol];
    return markets[symbol] ?? Object.values(markets).find((m) => m?.contract && ourSymbol(m.symbol) === symbol);
  }

  private fillOf(t: Trade, clientOrderId?: string): VenueFill {
    const f = toVenueFill(t, clientOrderId);
    if (this.futures) f.symbol = ourSymbol(f.symbol);
    return f;
  }

  private remember(order: Order, clientOrderId?: string): VenueOrder {
    let o = order;
    if (this.futures && isAlgoOrder(o)) {
      o = withAlgoId(o);
      const actual = actualOrderIdOf(order);
      const cid = order.clientOrderId ?? clientOrderId;
      if (actual !== undefined && cid) this.clientIds.set(`#${actual}`, cid);
    }
    const v = toVenueOrder(this.id === 'kraken' ? unifiedKrakenOrder(o, this.krakenIds) : o, clientOrderId);
    if (this.futures) v.symbol = ourSymbol(v.symbol);
    if (v.clientOrderId) this.clientIds.set(`#${v.venueOrderId}`, v.clientOrderId);
    this.touchedSymbols.add(v.symbol);
    return v;
  }

  private scanSymbols(symbol?: string): string[] {
    if (symbol) return [symbol];
    const set = new Set([...(this.opts.symbols ?? []), ...this.touchedSymbols]);
    if (set.size > 0) return [...set];
    const all = Object.keys(this.exchange.markets ?? {});
    if (all.length <= 20) return all;
    throw new ValidationError(`${this.id}: fetchFills needs a symbol (or the venue's \`symbols\` option)`, 'symbol');
  }

  // The exchange's unwatch call when it has one; without it the loop just stops reading and the socket keeps the channel.
  private unwatcher(name: string, fn: () => unknown): (() => unknown) | undefined {
    return (this.exchange.has as Record<string, unknown>)[name] ? fn : undefined;
  }

  // A REST polling loop for what the venue does not push; errors are reported and polling continues.
  private poll<T>(
    fetch: () => Promise<T>,
    deliver: (v: T) => void,
    onError?: (e: Error) => void,
    onClose?: () => void,
  ): Subscription {
    const state = { closed: false };
    this.subs.add(state);
    const period = this.opts.pollIntervalMs ?? 1_000;
    let timer: NodeJS.Timeout | undefined;
    const run = async () => {
      if (state.closed) return;
      try {
        const v = await fetch();
        if (!state.closed) deliver(v);
      } catch (err) {
        if (!state.closed) onError?.(err instanceof Error ? err : new Error(String(err)));
      }
      if (!state.closed) timer = setTimeout(run, period);
    };
    void run();
    return {
      close: () => {
        state.closed = true;
        this.subs.delete(state);
        if (timer) clearTimeout(timer);
        onClose?.();
      },
    };
  }
}
