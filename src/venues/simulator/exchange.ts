/** The simulator's authoritative record: balances, orders and trades, with Binance's matching and filter rules. */
import { createRng, type Rng } from './rng.js';
import { isMultiple, r8, SimMarket, type SimMarketSpec } from './market-model.js';

/** An error the simulated Binance returns: HTTP status plus Binance's `{code, msg}` body. */
export class BinanceApiError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, msg: string) {
    super(msg);
    this.status = status;
    this.code = code;
  }
}

/** Minutes behind Binance's average price (PERCENT_PRICE filters, `avgPrice`). */
export const AVG_PRICE_MINS = 5;

/** Binance order status strings. */
export type SimOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
/** Binance order types the simulator supports. */
export type SimOrderType = 'MARKET' | 'LIMIT' | 'STOP_LOSS' | 'STOP_LOSS_LIMIT';

/** An order as the simulator records it. */
export interface SimOrder {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: SimOrderType;
  timeInForce: string;
  price: number;
  stopPrice: number;
  origQty: number;
  executedQty: number;
  cummulativeQuoteQty: number;
  status: SimOrderStatus;
  time: number;
  updateTime: number;
  /** Stop orders become working when triggered. */
  triggered: boolean;
  /** Fault injection: the order never fills beyond this quantity. */
  maxFillQty: number;
  fills: SimTrade[];
  /** Futures: the order may only reduce the position (`reduceOnly=true`). */
  reduceOnly?: boolean;
}

/** One execution as the simulator records it. */
export interface SimTrade {
  id: number;
  orderId: number;
  clientOrderId: string;
  symbol: string;
  price: number;
  qty: number;
  quoteQty: number;
  commission: number;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
  /** Futures: P&L this execution realised by reducing the position (0 on spot and when opening). */
  realizedPnl: number;
}

/** Free and locked amounts of one asset. */
export interface SimBalance {
  free: number;
  locked: number;
}

/** A new-order request after parsing (Binance parameter names). */
export interface NewOrderParams {
  symbol: string;
  side: string;
  type: string;
  quantity?: number;
  price?: number;
  stopPrice?: number;
  timeInForce?: string;
  newClientOrderId?: string;
  /** Futures only: the order may only reduce the position. */
  reduceOnly?: boolean;
}

/**
 * How an exchange's orders reserve and settle funds: spot balances (`SpotBalances`, the default) or a futures
 * account's margin and positions (`futures-account.ts`). The matching stays in `SimExchange`, one engine for both.
 */
export interface SimSettlement {
  /** Checks and reserves what a new order needs; throws BinanceApiError to refuse it (nothing recorded then). */
  reserve(order: SimOrder, market: SimMarket): void;
  /** Releases what the unfilled rest of `order` reserved (cancel, expiry). */
  release(order: SimOrder, market: SimMarket): void;
  /** Books one execution of `qty` at `price`; returns the commission charged, its asset, and any realised P&L. */
  settle(
    order: SimOrder,
    market: SimMarket,
    price: number,
    qty: number,
    maker: boolean,
  ): { commission: number; commissionAsset: string; realizedPnl: number };
}

/** What happened to an order, as Binance's execution type (`x` of an `executionReport`). */
export type SimExecutionType = 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED';

/**
 * Listener for order changes (the server turns them into user-data events): called synchronously at each change, so
 * `order` is its state right then; `trade` is set for `TRADE`.
 */
export type ExchangeListener = (order: SimOrder, execution: SimExecutionType, trade?: SimTrade) => void;

/** Default markets: BTCUSDT and ETHUSDT with Binance-like filters. */
export const DEFAULT_MARKETS: readonly SimMarketSpec[] = [
  {
    symbol: 'BTCUSDT',
    base: 'BTC',
    quote: 'USDT',
    price: 30_000,
    tickSize: 0.01,
    stepSize: 0.00001,
    minQty: 0.00001,
    minNotional: 5,
  },
  {
    symbol: 'ETHUSDT',
    base: 'ETH',
    quote: 'USDT',
    price: 2_000,
    tickSize: 0.01,
    stepSize: 0.0001,
    minQty: 0.0001,
    minNotional: 5,
  },
];

/** Options of the exchange core. */
export interface SimExchangeOptions {
  seed?: number;
  markets?: readonly SimMarketSpec[];
  balances?: Record<string, number>;
  /** Maker and taker fee rate (default 0.001). */
  feeRate?: number;
  /**
   * Which asset pays the fee: `received` (default, Binance: a buy's fee in base, a sell's in quote) or `quote`
   * (Kraken's default `fciq`: every fee in the quote asset, a buy paying cost plus fee).
   */
  feeIn?: 'received' | 'quote';
  /** 1m candles of history generated before now (default 600). */
  historyBars?: number;
  /** How far the simulated venue's clock runs ahead of ours, in ms (negative: behind); ignored with `now`. */
  clockOffsetMs?: number;
  now?: () => number;
  /** How orders reserve and settle funds (default: spot balances of `balances`). */
  settlement?: (exchange: SimExchange) => SimSettlement;
}

/** The exchange core: no I/O; the HTTP server calls it. */
export class SimExchange {
  readonly markets = new Map<string, SimMarket>();
  readonly balances = new Map<string, SimBalance>();
  readonly orders: SimOrder[] = [];
  readonly trades: SimTrade[] = [];
  readonly feeRate: number;
  readonly feeIn: 'received' | 'quote';
  readonly now: () => number;
  /** How far this venue's clock runs ahead of the host's (tests skew it at any time); unused with a custom `now`. */
  clockOffsetMs: number;
  /** Fault hooks the server sets per request. */
  pendingPartialFill: number | undefined;
  private readonly settlement: SimSettlement;
  private readonly listeners: ExchangeListener[] = [];
  private readonly rng: Rng;
  private nextOrderId = 1000;
  private nextTradeId = 5000;

  constructor(opts: SimExchangeOptions = {}) {
    this.clockOffsetMs = opts.clockOffsetMs ?? 0;
    this.now = opts.now ?? (() => Date.now() + this.clockOffsetMs);
    this.rng = createRng(opts.seed ?? 42);
    this.feeRate = opts.feeRate ?? 0.001;
    this.feeIn = opts.feeIn ?? 'received';
    for (const spec of opts.markets ?? DEFAULT_MARKETS) {
      this.markets.set(spec.symbol, new SimMarket(spec, this.rng, this.now(), opts.historyBars ?? 600));
    }
    const balances = opts.balances ?? { USDT: 100_000, BTC: 1, ETH: 10 };
    for (const [asset, free] of Object.entries(balances)) this.balances.set(asset, { free, locked: 0 });
    this.settlement = opts.settlement ? opts.settlement(this) : new SpotBalances(this);
  }

  /** Subscribes to order updates and fills. */
  onUpdate(listener: ExchangeListener): void {
    this.listeners.push(listener);
  }

  /** The market for a Binance symbol id, or -1121 like Binance. */
  market(symbol: string | undefined): SimMarket {
    const m = symbol ? this.markets.get(symbol) : undefined;
    if (!m) throw new BinanceApiError(400, -1121, 'Invalid symbol.');
    return m;
  }

  balance(asset: string): SimBalance {
    let b = this.balances.get(asset);
    if (!b) {
      b = { free: 0, locked: 0 };
      this.balances.set(asset, b);
    }
    return b;
  }

  /** Advances every market by one GBM step and matches resting orders against the new book. */
  tick(dtMs: number): void {
    const now = this.now();
    for (const m of this.markets.values()) {
      m.step(now, dtMs);
      this.matchResting(m);
    }
  }

  /**
   * Moves one market's mid (tests: cross a resting order deterministically). `match: false` only moves it: a test
   * lets the streams print the new price first, then `setPrice` again executes the resting orders it crosses.
   */
  setPrice(symbol: string, price: number, opts: { match?: boolean } = {}): void {
    const m = this.market(symbol);
    m.setMid(price, this.now());
    if (opts.match !== false) this.matchResting(m);
  }

  /** Places an order following Binance's validation order; throws BinanceApiError on rejection. */
  placeOrder(p: NewOrderParams, clientOrderId: string): SimOrder {
    const m = this.market(p.symbol);
    const { spec } = m;
    if (p.side !== 'BUY' && p.side !== 'SELL')
      throw new BinanceApiError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
    const type = p.type as SimOrderType;
    if (!['MARKET', 'LIMIT', 'STOP_LOSS', 'STOP_LOSS_LIMIT'].includes(type))
      throw new BinanceApiError(400, -1116, 'Invalid orderType.');
    const qty = p.quantity;
    if (qty === undefined || !(qty > 0))
      throw new BinanceApiError(
        400,
        -1102,
        "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
      );
    const needsPrice = type === 'LIMIT' || type === 'STOP_LOSS_LIMIT';
    const needsStop = type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT';
    if (needsPrice && !(p.price !== undefined && p.price > 0))
      throw new BinanceApiError(400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
    if (needsPrice && !p.timeInForce)
      throw new BinanceApiError(
        400,
        -1102,
        "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
      );
    if (needsStop && !(p.stopPrice !== undefined && p.stopPrice > 0))
      throw new BinanceApiError(
        400,
        -1102,
        "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
      );
    if (needsPrice && !isMultiple(p.price!, spec.tickSize))
      throw new BinanceApiError(400, -1013, 'Filter failure: PRICE_FILTER');
    if (needsStop && !isMultiple(p.stopPrice!, spec.tickSize))
      throw new BinanceApiError(400, -1013, 'Filter failure: PRICE_FILTER');
    if (qty < spec.minQty - 1e-12 || !isMultiple(qty, spec.stepSize))
      throw new BinanceApiError(400, -1013, 'Filter failure: LOT_SIZE');
    const refPrice = needsPrice ? p.price! : m.last;
    if (qty * refPrice < spec.minNotional) throw new BinanceApiError(400, -1013, 'Filter failure: NOTIONAL');
    const pp = spec.percentPriceBySide;
    if (pp && needsPrice) {
      const avg = this.averagePrice(spec.symbol);
      const [lo, hi] =
        p.side === 'BUY' ? [pp.bidMultiplierDown, pp.bidMultiplierUp] : [pp.askMultiplierDown, pp.askMultiplierUp];
      if (p.price! < avg * lo || p.price! > avg * hi)
        throw new BinanceApiError(400, -1013, 'Filter failure: PERCENT_PRICE_BY_SIDE');
    }
    // Binance: newClientOrderId must be unique among open orders.
    if (
      this.orders.some(
        (o) => o.clientOrderId === clientOrderId && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'),
      )
    ) {
      throw new BinanceApiError(400, -2010, 'Duplicate order sent.');
    }
    if (needsStop) {
      const trig = p.side === 'SELL' ? m.last <= p.stopPrice! : m.last >= p.stopPrice!;
      if (trig) throw new BinanceApiError(400, -2010, 'Stop price would trigger immediately.');
    }
    const side = p.side;
    const now = this.now();
    const partial = this.pendingPartialFill;
    this.pendingPartialFill = undefined;
    const order: SimOrder = {
      orderId: this.nextOrderId++,
      clientOrderId,
      symbol: spec.symbol,
      side,
      type,
      timeInForce: p.timeInForce ?? (needsPrice ? 'GTC' : ''),
      price: needsPrice ? p.price! : 0,
      stopPrice: needsStop ? p.stopPrice! : 0,
      origQty: qty,
      executedQty: 0,
      cummulativeQuoteQty: 0,
      status: 'NEW',
      time: now,
      updateTime: now,
      triggered: !needsStop,
      maxFillQty: partial !== undefined ? r8(Math.floor((qty * partial) / spec.stepSize) * spec.stepSize) : qty,
      fills: [],
      ...(p.reduceOnly ? { reduceOnly: true } : {}),
    };
    this.settlement.reserve(order, m);
    this.orders.push(order);
    // Binance reports NEW first, then each TRADE, then EXPIRED for a remainder that cannot rest.
    this.emit(order, 'NEW');
    if (order.triggered) this.execute(order, m, true);
    return order;
  }

  /** Binance's average price (`GET /api/v3/avgPrice`): volume-weighted over the last 5 one-minute candles. */
  averagePrice(symbol: string): number {
    const m = this.market(symbol);
    const since = this.now() - AVG_PRICE_MINS * 60_000;
    let vol = 0;
    let quote = 0;
    for (let i = m.candles.length - 1; i >= 0 && m.candles[i].time >= since; i--) {
      vol += m.candles[i].volume;
      quote += m.candles[i].quoteVolume;
    }
    return vol > 0 ? quote / vol : m.last;
  }

  /** Finds an order by id or client id (the latest with that client id, as Binance does). */
  findOrder(symbol: string, orderId?: number, clientOrderId?: string): SimOrder | undefined {
    for (let i = this.orders.length - 1; i >= 0; i--) {
      const o = this.orders[i];
      if (o.symbol !== symbol) continue;
      if (orderId !== undefined && o.orderId === orderId) return o;
      if (orderId === undefined && clientOrderId !== undefined && o.clientOrderId === clientOrderId) return o;
    }
    return undefined;
  }

  /** Cancels an open order; -2011 "Unknown order sent." when unknown or already final, like Binance. */
  cancelOrder(symbol: string, orderId?: number, clientOrderId?: string): SimOrder {
    this.market(symbol);
    const o = this.findOrder(symbol, orderId, clientOrderId);
    if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'))
      throw new BinanceApiError(400, -2011, 'Unknown order sent.');
    this.settlement.release(o, this.market(o.symbol));
    o.status = 'CANCELED';
    o.updateTime = this.now();
    this.emit(o, 'CANCELED');
    return o;
  }

  /** Open orders, optionally of one symbol. */
  openOrders(symbol?: string): SimOrder[] {
    return this.orders.filter(
      (o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (!symbol || o.symbol === symbol),
    );
  }

  private emit(order: SimOrder, execution: SimExecutionType, trade?: SimTrade): void {
    for (const l of this.listeners) l(order, execution, trade);
  }

  // Fills `o` against the book as far as its price, fault cap and time in force allow.
  private execute(o: SimOrder, m: SimMarket, taker: boolean): void {
    const isMarket = o.type === 'MARKET' || o.type === 'STOP_LOSS';
    const levels = o.side === 'BUY' ? m.asks : m.bids;
    const limitOk = (px: number) => isMarket || (o.side === 'BUY' ? px <= o.price : px >= o.price);
    if (o.timeInForce === 'FOK') {
      let avail = 0;
      for (const l of levels) if (limitOk(l.price)) avail += l.qty;
      if (avail + 1e-12 < o.origQty || o.maxFillQty < o.origQty) {
        this.finish(o, 'EXPIRED');
        return;
      }
    }
    let bookChanged = false;
    for (const l of levels) {
      const want = r8(Math.min(o.origQty, o.maxFillQty) - o.executedQty);
      if (want <= 0 || !limitOk(l.price)) break;
      const q = Math.min(want, l.qty);
      if (q <= 0) continue;
      l.qty = r8(l.qty - q);
      bookChanged = true;
      // A resting limit that the market crossed fills at its own price (maker); a taker pays the level price.
      this.fill(o, m, taker ? l.price : o.price, q, !taker);
    }
    if (bookChanged) {
      const side = o.side === 'BUY' ? m.asks : m.bids;
      for (let i = side.length - 1; i >= 0; i--) if (side[i].qty <= 0) side.splice(i, 1);
      m.updateId++;
    }
    const done = o.executedQty + 1e-12 >= o.origQty;
    if (done) this.finish(o, 'FILLED');
    else if (isMarket || o.timeInForce === 'IOC') this.finish(o, 'EXPIRED');
    else if (o.executedQty > 0) o.status = 'PARTIALLY_FILLED';
  }

  private finish(o: SimOrder, status: SimOrderStatus): void {
    if (status !== 'FILLED') this.settlement.release(o, this.market(o.symbol));
    o.status = status;
    o.updateTime = this.now();
    if (status === 'EXPIRED' || status === 'CANCELED') this.emit(o, status);
  }

  private fill(o: SimOrder, m: SimMarket, price: number, qty: number, maker: boolean): void {
    const now = this.now();
    const quoteQty = r8(price * qty);
    const isBuy = o.side === 'BUY';
    const { commission, commissionAsset, realizedPnl } = this.settlement.settle(o, m, price, qty, maker);
    o.executedQty = r8(o.executedQty + qty);
    o.cummulativeQuoteQty = r8(o.cummulativeQuoteQty + quoteQty);
    o.updateTime = now;
    const trade: SimTrade = {
      id: this.nextTradeId++,
      orderId: o.orderId,
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      price,
      qty,
      quoteQty,
      commission,
      commissionAsset,
      time: now,
      isBuyer: isBuy,
      isMaker: maker,
      realizedPnl,
    };
    o.fills.push(trade);
    this.trades.push(trade);
    m.recordTrade(now, price, qty);
    if (o.executedQty + 1e-12 >= o.origQty) o.status = 'FILLED';
    else o.status = 'PARTIALLY_FILLED';
    this.emit(o, 'TRADE', trade);
  }

  // Resting orders: stops trigger on the last price, limits fill when the book crosses them.
  private matchResting(m: SimMarket): void {
    for (const o of this.orders) {
      if (o.symbol !== m.spec.symbol || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED')) continue;
      if (!o.triggered) {
        const hit = o.side === 'SELL' ? m.last <= o.stopPrice : m.last >= o.stopPrice;
        if (!hit) continue;
        o.triggered = true;
        this.execute(o, m, true);
        continue;
      }
      if (o.executedQty >= o.maxFillQty) continue;
      const crosses = o.side === 'BUY' ? m.bestAsk() <= o.price : m.bestBid() >= o.price;
      if (!crosses) continue;
      this.execute(o, m, false);
    }
  }
}

/** Spot settlement (Binance spot): orders lock the asset they spend; a fill moves base and quote, the fee in the asset received. */
export class SpotBalances implements SimSettlement {
  constructor(private readonly ex: SimExchange) {}

  reserve(o: SimOrder, m: SimMarket): void {
    const { base, quote } = m.spec;
    if (o.side === 'SELL') {
      const b = this.ex.balance(base);
      if (b.free + 1e-12 < o.origQty)
        throw new BinanceApiError(400, -2010, 'Account has insufficient balance for requested action.');
      b.free = r8(b.free - o.origQty);
      b.locked = r8(b.locked + o.origQty);
      return;
    }
    const q = this.ex.balance(quote);
    // A market buy locks nothing up front, but must be affordable at the current ask (plus a fee paid in quote).
    const cost =
      o.type === 'MARKET' || o.type === 'STOP_LOSS'
        ? o.origQty * m.bestAsk() * this.quoteFeeFactor()
        : o.origQty * this.buyLockPerUnit(o);
    if (q.free + 1e-9 < cost)
      throw new BinanceApiError(400, -2010, 'Account has insufficient balance for requested action.');
    if (o.type === 'LIMIT' || o.type === 'STOP_LOSS_LIMIT') {
      q.free = r8(q.free - cost);
      q.locked = r8(q.locked + cost);
    }
  }

  release(o: SimOrder, m: SimMarket): void {
    const remaining = r8(o.origQty - o.executedQty);
    if (o.side === 'SELL') {
      const b = this.ex.balance(m.spec.base);
      b.locked = r8(b.locked - remaining);
      b.free = r8(b.free + remaining);
    } else if (o.type === 'LIMIT' || o.type === 'STOP_LOSS_LIMIT') {
      const q = this.ex.balance(m.spec.quote);
      q.locked = r8(q.locked - remaining * this.buyLockPerUnit(o));
      q.free = r8(q.free + remaining * this.buyLockPerUnit(o));
    }
  }

  settle(
    o: SimOrder,
    m: SimMarket,
    price: number,
    qty: number,
  ): { commission: number; commissionAsset: string; realizedPnl: number } {
    const { base, quote } = m.spec;
    const quoteQty = r8(price * qty);
    const isBuy = o.side === 'BUY';
    // Binance charges the fee in the asset received (no BNB discount here); Kraken by default in quote.
    const inQuote = this.ex.feeIn === 'quote';
    const commission = r8((isBuy && !inQuote ? qty : quoteQty) * this.ex.feeRate);
    const quoteFee = inQuote && isBuy ? commission : 0;
    const b = this.ex.balance(base);
    const q = this.ex.balance(quote);
    if (isBuy) {
      if (o.type === 'LIMIT' || o.type === 'STOP_LOSS_LIMIT') {
        q.locked = r8(q.locked - qty * this.buyLockPerUnit(o));
        q.free = r8(q.free + qty * this.buyLockPerUnit(o) - quoteQty - quoteFee);
      } else {
        q.free = r8(q.free - quoteQty - quoteFee);
      }
      b.free = r8(b.free + qty - (inQuote ? 0 : commission));
    } else {
      b.locked = r8(b.locked - qty);
      q.free = r8(q.free + quoteQty - commission);
    }
    return { commission, commissionAsset: isBuy && !inQuote ? base : quote, realizedPnl: 0 };
  }

  // What a buy pays per unit beyond its price when the fee is taken in quote (1 when it is taken in the base).
  private quoteFeeFactor(): number {
    return this.ex.feeIn === 'quote' ? 1 + this.ex.feeRate : 1;
  }

  // Quote locked per unit of a resting limit buy: its price, plus the fee when the fee is paid in quote.
  private buyLockPerUnit(o: SimOrder): number {
    return o.price * this.quoteFeeFactor();
  }
}
