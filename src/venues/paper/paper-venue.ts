/** The paper venue (VENUE-5): a paper account on live market data, matched by the backtester's own SimulatedVenue. */
import { type FeeModel, PercentFeeModel } from '../../backtest/fee-model.js';
import {
  BarFillModel,
  type FillModel,
  type ParticipationModel,
  VolumeParticipation,
} from '../../backtest/fill-model.js';
import { SimulatedVenue } from '../../backtest/simulated-venue.js';
import { NO_SLIPPAGE, type SlippageModel } from '../../backtest/slippage-model.js';
import {
  type Balance,
  type Bar,
  checkOrderSize,
  type Instrument,
  isOpen,
  type Liquidity,
  type Order,
  type OrderBook,
  type OrderChanges,
  type OrderRef,
  type OrderSide,
  type OrderStatus,
  type Position,
  roundPrice,
  roundQuantity,
  type Subscription,
  type Ticker,
  type Timeframe,
  transitionOrder,
  ValidationError,
  validateIntent,
  type Venue,
  type VenueCapabilities,
  modificationTerms,
  VenueError,
  type VenueFill,
  type VenueOrder,
  type VenueOrderRequest,
} from '../../core/index.js';
import { quantisePrice, quantiseQuantity } from '../../core/money.js';
import type { VenueListener } from '../../engine/execution-venue.js';
import { type ReconnectOptions, ReconnectingStream } from '../resilience.js';
import { Ledger } from './ledger.js';
import {
  KnownVolumeParticipation,
  QuoteBarFillModel,
  QuoteFillModel,
  SymbolBook,
  setFlat,
  type TakerBar,
} from './live-bars.js';
import { SaveGate, type SaveSnapshot } from './save-gate.js';
import { type PaperOrderState, type PaperState, parsePaperState } from './state.js';

/** The market-data half of a Venue: what the paper venue reads live prices from (e.g. a keyless CcxtVenue). */
export type MarketDataSource = Pick<
  Venue,
  | 'fetchInstruments'
  | 'fetchTicker'
  | 'fetchCandles'
  | 'fetchOrderBook'
  | 'fetchServerTime'
  | 'watchTicker'
  | 'watchCandles'
  | 'watchOrderBook'
> &
  Partial<Pick<Venue, 'connect' | 'close'>>;

/** Stable VenueError codes of the paper venue (the ccxt adapter's strings where the meaning is the same). */
export const PAPER_CODES = {
  insufficientFunds: 'INSUFFICIENT_FUNDS',
  invalidOrder: 'VENUE_INVALID_ORDER',
  badSymbol: 'VENUE_BAD_SYMBOL',
  orderNotFound: 'VENUE_ORDER_NOT_FOUND',
  orderNotOpen: 'VENUE_ORDER_NOT_OPEN',
  notSupported: 'VENUE_NOT_SUPPORTED',
} as const;

/** Options of the paper venue. Only `market` and `balances` are required. */
export interface PaperVenueOptions {
  /** Venue id (default `paper`); prefixes venue order and trade ids. */
  id?: string;
  /** Where live prices come from; market-data calls are delegated to it. */
  market: MarketDataSource;
  /** Starting totals per asset, e.g. `{ USDT: 10_000 }`. */
  balances: Record<string, number>;
  /** Fee rate for both sides (default 0.001) or maker/taker rates; builds the backtest's PercentFeeModel. */
  feeRate?: number | { maker: number; taker: number };
  /** A backtest FeeModel; overrides `feeRate`. */
  fees?: FeeModel;
  /** A backtest SlippageModel for taker fills (default none). */
  slippage?: SlippageModel;
  /** A backtest FillModel (default BarFillModel, the backtester's default). */
  fillModel?: FillModel;
  /** Largest share (0..1] of each market update's traded volume our orders of one symbol may take (partial fills). */
  partialFillParticipation?: number;
  /** Epoch-ms clock (default Date.now); stamps orders and fills. */
  clock?: () => number;
  /** A streamed quote older than this is refreshed over REST before a market order fills (default 2,000 ms). */
  maxQuoteAgeMs?: number;
  /** Close the market source in `close()` (default false: the caller owns it). */
  closeMarket?: boolean;
  /** Resubscribe policy for the price streams (the resilience module's ReconnectingStream). */
  reconnect?: Omit<ReconnectOptions, 'onError'>;
  /** Errors of the internal price streams (they reconnect by themselves), of order/fill watchers and of saves. */
  onError?: (err: Error) => void;
  /**
   * Saves the whole account (`getState`) after every change, atomically (e.g. one key of the runtime's store).
   * Watchers, order answers and reads then report a change only once it is saved, so a crash never loses a fill
   * anyone was told of; restore the saved state with `restore` before `connect`.
   */
  save?: SaveSnapshot<PaperState>;
  /**
   * Fills and finished orders kept, reported and saved (default 200); older ones are dropped, as an exchange's
   * history is limited, so the account saved on every change stays small. Open orders are always kept.
   */
  history?: number;
}

/** An order of the paper account and the funds it has locked. */
class PaperOrder {
  constructor(
    readonly order: Order,
    readonly reserveAsset: string,
    public reserved: number,
  ) {}
}

const EPS = 1e-12;

function toVenueOrder(o: Order): VenueOrder {
  return {
    venueOrderId: o.venueOrderId ?? o.id,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    status: o.status,
    quantity: o.quantity,
    filledQuantity: o.filledQuantity,
    averagePrice: o.averageFillPrice,
    ...(o.price !== undefined ? { price: o.price } : {}),
    ...(o.stopPrice !== undefined ? { stopPrice: o.stopPrice } : {}),
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

/**
 * A Venue that trades a paper account on live prices: a thin live adapter around the backtester's own matching engine
 * (SimulatedVenue, as NautilusTrader's sandbox reuses its simulated exchange), fed one bar per live update. So market,
 * limit, stop and stop-limit orders, partial fills, fees and slippage follow the same code as in a backtest:
 * - market orders fill at once at the current quote (ask for buys, bid for sells, through the fill model's market
 *   price and the slippage model; the engine's `now` market fill), the live stand-in for the backtest's "next open";
 * - limit, stop and stop-limit orders rest and are matched on every later ticker, seen as a bar whose four prices are
 *   `last`; limit and stop-limit fills are maker, the rest taker; the participation cap takes a share of each
 *   update's traded volume.
 * This adapter keeps the account: spot reservations (buys reserve quote, sells base), fees in the quote asset, ids,
 * the Venue API, and, with `save`, a durable snapshot of it all after every change.
 */
export class PaperVenue implements Venue {
  readonly id: string;
  readonly capabilities: VenueCapabilities = {
    stopOrders: true,
    modifyOrder: true,
    streaming: true,
    positions: false,
    clientOrderIds: true,
  };
  private readonly market: MarketDataSource;
  private readonly fill: FillModel;
  private readonly fees: FeeModel;
  private readonly slippage: SlippageModel;
  private readonly participation: ParticipationModel | undefined;
  private readonly clock: () => number;
  private readonly maxQuoteAgeMs: number;
  private readonly opts: PaperVenueOptions;
  private ledger: Ledger;
  private nextId = 1;
  private readonly orders = new Map<string, PaperOrder>();
  private readonly byClient = new Map<string, PaperOrder>();
  /** The open orders by the engine's Order object (the engine reports fills on it). */
  private readonly working = new Map<Order, PaperOrder>();
  private fills: VenueFill[] = [];
  /** Finished orders, oldest first (the first to be dropped beyond `history`). */
  private finished: PaperOrder[] = [];
  private readonly history: number;
  private readonly placing = new Map<string, Promise<VenueOrder>>();
  private readonly books = new Map<string, SymbolBook>();
  private instruments = new Map<string, Instrument>();
  /** The matching engine, built once the instruments are known. */
  private engine: SimulatedVenue | undefined;
  private readonly symbolIndex = new Map<string, number>();
  private readonly gate: SaveGate<PaperState> | undefined;
  private readonly orderWatchers = new Set<{ on: (o: VenueOrder) => void; err?: (e: Error) => void }>();
  private readonly fillWatchers = new Set<{ on: (f: VenueFill) => void; err?: (e: Error) => void }>();
  private readonly tickerWatchers = new Map<string, Set<{ on: (t: Ticker) => void; err?: (e: Error) => void }>>();
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(opts: PaperVenueOptions) {
    this.opts = opts;
    this.id = opts.id ?? 'paper';
    this.market = opts.market;
    this.fill = opts.fillModel ?? new BarFillModel();
    const rate = opts.feeRate ?? 0.001;
    this.fees =
      opts.fees ??
      (typeof rate === 'number' ? new PercentFeeModel(rate, rate) : new PercentFeeModel(rate.maker, rate.taker));
    this.slippage = opts.slippage ?? NO_SLIPPAGE;
    const p = opts.partialFillParticipation;
    if (p !== undefined && !(p > 0 && p <= 1)) {
      throw new ValidationError(
        `paper venue: partialFillParticipation must be in (0, 1], got ${p}`,
        'partialFillParticipation',
      );
    }
    this.participation =
      p !== undefined && p < 1 ? new KnownVolumeParticipation(new VolumeParticipation(p)) : undefined;
    this.clock = opts.clock ?? Date.now;
    this.history = opts.history ?? 200;
    if (!(Number.isInteger(this.history) && this.history > 0)) {
      throw new ValidationError(`paper venue: history must be a positive integer, got ${opts.history}`, 'history');
    }
    this.maxQuoteAgeMs = opts.maxQuoteAgeMs ?? 2_000;
    for (const [asset, amount] of Object.entries(opts.balances)) {
      if (!Number.isFinite(amount) || amount < 0) {
        throw new ValidationError(
          `paper venue: balance of ${asset} must be a non-negative number, got ${amount}`,
          `balances.${asset}`,
        );
      }
    }
    this.ledger = new Ledger(opts.balances);
    if (opts.save) {
      this.gate = new SaveGate(
        () => this.getState(),
        opts.save,
        (e) => this.opts.onError?.(new Error(`${this.id}: saving the paper account failed: ${e.message}`)),
      );
    }
  }

  async connect(): Promise<void> {
    if (this.closed) throw this.error('venue is closed', PAPER_CODES.notSupported);
    if (!this.connecting) {
      this.connecting = (async () => {
        await this.market.connect?.();
        const list = await this.market.fetchInstruments();
        this.instruments = new Map(list.map((i) => [i.symbol, i]));
        this.attachEngine();
      })();
      this.connecting.catch(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    // An owned source goes first: closing it ends its streams at once, so ours need no unsubscribe message (ccxt
    // would otherwise queue one behind its throttle and fail on the closed socket as an unhandled rejection).
    if (this.opts.closeMarket) await this.market.close?.();
    for (const b of this.books.values()) {
      b.sub?.close();
      b.sub = undefined;
    }
    await this.gate?.saved();
    this.orderWatchers.clear();
    this.fillWatchers.clear();
    this.tickerWatchers.clear();
  }

  /** Subscribes to live prices of `symbol` now (orders subscribe their symbol by themselves). */
  async track(symbol: string): Promise<void> {
    await this.connect();
    this.subscribe(this.bookFor(symbol));
  }

  /** The latest ticker the venue matched against, if any. */
  lastQuote(symbol: string): Ticker | undefined {
    return this.books.get(symbol)?.quote;
  }

  /** Resolves when every change so far is saved (immediately without `save`). */
  async saved(): Promise<void> {
    await this.gate?.saved();
  }

  fetchInstruments(): Promise<Instrument[]> {
    return this.market.fetchInstruments();
  }

  async fetchBalances(): Promise<Balance[]> {
    await this.gate?.saved();
    return this.ledger.balances();
  }

  /** Spot account: holdings are balances, so no positions (capabilities.positions is false), as on ccxt spot. */
  async fetchPositions(): Promise<Position[]> {
    return [];
  }

  placeOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    const known = req.clientOrderId ? this.byClient.get(req.clientOrderId) : undefined;
    if (known) return this.answer(known.order);
    const inflight = this.placing.get(req.clientOrderId);
    if (inflight) return inflight;
    const p = this.place(req).finally(() => this.placing.delete(req.clientOrderId));
    if (req.clientOrderId) this.placing.set(req.clientOrderId, p);
    return p;
  }

  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    await this.connect();
    const p = this.find(ref);
    if (!p) throw this.error(`order ${ref.venueOrderId ?? ref.clientOrderId} not found`, PAPER_CODES.orderNotFound);
    // Cancelling a finished order is a no-op: the caller sees the final state (e.g. filled before the cancel).
    if (isOpen(p.order.status)) this.engine?.cancel(p.order, 'CANCELLED');
    // An open order the engine does not hold (never the case once connected) is cancelled here.
    if (isOpen(p.order.status)) this.finish(p, 'cancelled', 'CANCELLED');
    return this.answer(p.order);
  }

  async modifyOrder(ref: OrderRef, changes: OrderChanges): Promise<VenueOrder> {
    const x = modificationTerms(changes, this.id);
    await this.connect();
    const p = this.find(ref);
    if (!p) throw this.error(`order ${ref.venueOrderId ?? ref.clientOrderId} not found`, PAPER_CODES.orderNotFound);
    const o = p.order;
    if (!isOpen(o.status)) throw this.error(`order ${o.clientOrderId} is ${o.status}`, PAPER_CODES.orderNotOpen);
    if (o.type === 'market') throw this.error('a market order cannot be modified', PAPER_CODES.invalidOrder);
    const inst = this.bookFor(o.symbol).inst;
    // The new terms onto the instrument's grid in exact decimals by the rules of docs/money.md (the quantity toward
    // zero, a limit price to the passive side, a trigger away from the market); the simulation keeps their doubles.
    const quantity = x.quantity !== undefined ? quantiseQuantity(inst, x.quantity).toNumber() : o.quantity;
    const price = x.price !== undefined ? quantisePrice(inst, x.price, o.side, 'limit').toNumber() : o.price;
    const stopPrice =
      x.stopPrice !== undefined ? quantisePrice(inst, x.stopPrice, o.side, 'stop').toNumber() : o.stopPrice;
    this.validate({ ...o, quantity, price, stopPrice });
    if (!(quantity > o.filledQuantity + EPS)) {
      throw this.error(`quantity ${quantity} must exceed the filled ${o.filledQuantity}`, PAPER_CODES.invalidOrder);
    }
    const refPx = o.type === 'stop' ? stopPrice! : price!;
    this.checkSize(inst, quantity, refPx);
    const remaining = quantity - o.filledQuantity;
    const need = this.reservation(inst, o.side, remaining, refPx);
    this.ledger.release(p.reserveAsset, p.reserved);
    if (!this.ledger.reserve(p.reserveAsset, need)) {
      this.ledger.reserve(p.reserveAsset, p.reserved);
      throw this.insufficient(p.reserveAsset, need);
    }
    p.reserved = need;
    // The engine matches the same Order object, so the new terms apply from the next update.
    if (stopPrice !== o.stopPrice) {
      const state = this.engine?.resting(o);
      if (state) state.triggered = false;
    }
    o.quantity = quantity;
    if (price !== undefined) o.price = price;
    if (stopPrice !== undefined) o.stopPrice = stopPrice;
    o.updatedAt = this.clock();
    this.emitOrder(o);
    return this.answer(o);
  }

  async fetchOrder(ref: OrderRef): Promise<VenueOrder | null> {
    await this.gate?.saved();
    const p = this.find(ref);
    return p ? toVenueOrder(p.order) : null;
  }

  async fetchOpenOrders(symbol?: string): Promise<VenueOrder[]> {
    await this.gate?.saved();
    const out: VenueOrder[] = [];
    for (const p of this.orders.values()) {
      if (isOpen(p.order.status) && (symbol === undefined || p.order.symbol === symbol))
        out.push(toVenueOrder(p.order));
    }
    return out;
  }

  async fetchFills(symbol?: string, since?: number): Promise<VenueFill[]> {
    await this.gate?.saved();
    return this.fills
      .filter((f) => (symbol === undefined || f.symbol === symbol) && (since === undefined || f.time >= since))
      .map((f) => ({ ...f }));
  }

  fetchTicker(symbol: string): Promise<Ticker> {
    return this.market.fetchTicker(symbol);
  }

  fetchCandles(symbol: string, timeframe: Timeframe, since?: number, limit?: number): Promise<Bar[]> {
    return this.market.fetchCandles(symbol, timeframe, since, limit);
  }

  fetchOrderBook(symbol: string, depth?: number): Promise<OrderBook> {
    return this.market.fetchOrderBook(symbol, depth);
  }

  fetchServerTime(): Promise<number> {
    return this.market.fetchServerTime();
  }

  /**
   * Shares the venue's own price stream of `symbol` (one source subscription per symbol, kept until close), so a
   * strategy sees exactly the tickers the matcher used, after the fills they caused, as in the backtest.
   */
  watchTicker(symbol: string, onTicker: (t: Ticker) => void, onError?: (e: Error) => void): Subscription {
    const w = { on: onTicker, err: onError };
    let set = this.tickerWatchers.get(symbol);
    if (!set) {
      set = new Set();
      this.tickerWatchers.set(symbol, set);
    }
    set.add(w);
    this.track(symbol).catch((err: unknown) => {
      if (set.has(w)) onError?.(err instanceof Error ? err : new Error(String(err)));
    });
    return { close: () => set.delete(w) };
  }

  watchCandles(
    symbol: string,
    timeframe: Timeframe,
    onBar: (b: Bar, closed: boolean) => void,
    onError?: (e: Error) => void,
  ): Subscription {
    return this.market.watchCandles(symbol, timeframe, onBar, onError);
  }

  watchOrderBook(symbol: string, onBook: (b: OrderBook) => void, onError?: (e: Error) => void): Subscription {
    return this.market.watchOrderBook(symbol, onBook, onError);
  }

  /** Pushes every order change (accepted, each fill, cancelled) as it happens. */
  watchOrders(onOrder: (o: VenueOrder) => void, onError?: (e: Error) => void): Subscription {
    const w = { on: onOrder, err: onError };
    this.orderWatchers.add(w);
    return { close: () => this.orderWatchers.delete(w) };
  }

  /** Pushes every execution as it happens. */
  watchFills(onFill: (f: VenueFill) => void, onError?: (e: Error) => void): Subscription {
    const w = { on: onFill, err: onError };
    this.fillWatchers.add(w);
    return { close: () => this.fillWatchers.delete(w) };
  }

  /** The whole paper account as plain JSON (copies), for a runtime to persist. */
  getState(): PaperState {
    const orders: PaperOrderState[] = [];
    for (const p of this.orders.values()) {
      orders.push({
        order: { ...p.order },
        // Only a working stop-limit has a trigger to remember (the look-up walks the symbol's resting orders).
        triggered:
          p.order.type === 'stop_limit' && this.working.has(p.order)
            ? (this.engine?.resting(p.order)?.triggered ?? false)
            : false,
        reserveAsset: p.reserveAsset,
        reserved: p.reserved,
      });
    }
    return {
      version: 1,
      venueId: this.id,
      nextId: this.nextId,
      balances: this.ledger.totals(),
      orders,
      fills: this.fills.map((f) => ({ ...f })),
    };
  }

  /**
   * Replaces the account with a persisted one (validated; a bad snapshot throws a ValidationError naming the
   * field and changes nothing). Open orders resume matching on the next live update.
   */
  restore(input: PaperState): void {
    const state = parsePaperState(input);
    const ledger = new Ledger(state.balances);
    const orders = new Map<string, PaperOrder>();
    const triggered = new Set<PaperOrder>();
    for (const s of state.orders) {
      const p = new PaperOrder({ ...s.order }, s.reserveAsset, isOpen(s.order.status) ? s.reserved : 0);
      if (s.triggered) triggered.add(p);
      if (p.reserved > 0 && !ledger.reserve(p.reserveAsset, p.reserved)) {
        throw new ValidationError(
          `paper venue state: order ${s.order.clientOrderId} reserves ${p.reserved} ${p.reserveAsset}, more than the free balance`,
          'orders',
        );
      }
      orders.set(p.order.venueOrderId ?? p.order.id, p);
    }
    this.ledger = ledger;
    this.orders.clear();
    this.byClient.clear();
    this.working.clear();
    for (const [id, p] of orders) {
      this.orders.set(id, p);
      this.byClient.set(p.order.clientOrderId, p);
      if (isOpen(p.order.status)) this.working.set(p.order, p);
    }
    this.fills = state.fills.map((f) => ({ ...f }));
    this.finished = [...orders.values()].filter((p) => !isOpen(p.order.status));
    this.trimHistory();
    this.nextId = state.nextId;
    this.restoredTriggers = triggered;
    if (this.engine !== undefined) this.attachEngine();
  }

  /** Stop-limits restored as triggered, until the engine holds them. */
  private restoredTriggers = new Set<PaperOrder>();

  private async place(req: VenueOrderRequest): Promise<VenueOrder> {
    await this.connect();
    if (!req.clientOrderId) throw this.error('clientOrderId is required', PAPER_CODES.invalidOrder);
    const b = this.bookFor(req.symbol);
    const inst = b.inst;
    const quantity = roundQuantity(inst, req.quantity);
    const price = req.price !== undefined ? roundPrice(inst, req.price) : undefined;
    const stopPrice = req.stopPrice !== undefined ? roundPrice(inst, req.stopPrice) : undefined;
    this.validate({ ...req, quantity, price, stopPrice });
    this.subscribe(b);
    const now = this.clock();
    const order: Order = {
      id: `${this.id}-${this.nextId++}`,
      clientOrderId: req.clientOrderId,
      strategyId: '',
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      quantity,
      ...(price !== undefined && (req.type === 'limit' || req.type === 'stop_limit') ? { price } : {}),
      ...(stopPrice !== undefined && (req.type === 'stop' || req.type === 'stop_limit') ? { stopPrice } : {}),
      timeInForce: req.timeInForce ?? 'GTC',
      reduceOnly: req.reduceOnly ?? false,
      status: 'new',
      filledQuantity: 0,
      averageFillPrice: 0,
      fees: 0,
      createdAt: now,
      updatedAt: now,
      source: 'strategy',
      correlationId: req.clientOrderId,
    };
    order.venueOrderId = order.id;
    let refPrice: number;
    if (req.type === 'market') {
      await this.refreshQuote(b);
      const quoteBar = req.side === 'buy' ? b.askBar : b.bidBar;
      // What the order would pay now: the reservation covers the slipped price, so the immediate fill is funded.
      refPrice = this.slippage.apply(req.side, this.fill.marketPrice(order, quoteBar), quantity, quoteBar);
    } else refPrice = req.type === 'stop' ? stopPrice! : price!;
    this.checkSize(inst, quantity, refPrice);
    const reserveAsset = req.side === 'buy' ? inst.quote : inst.base;
    const reserved = this.reservation(inst, req.side, quantity, refPrice);
    // A concurrent placement with the same id may have landed while we awaited the quote.
    const raced = this.byClient.get(req.clientOrderId);
    if (raced) return this.answer(raced.order);
    if (!this.ledger.reserve(reserveAsset, reserved)) throw this.insufficient(reserveAsset, reserved);
    const p = new PaperOrder(order, reserveAsset, reserved);
    this.orders.set(order.id, p);
    this.byClient.set(order.clientOrderId, p);
    this.working.set(order, p);
    transitionOrder(order, 'submitted', now);
    // The matching engine: a market order executes now on the current quote, a resting one waits for updates.
    this.engine!.submit(order);
    if (order.status === 'submitted') {
      transitionOrder(order, 'accepted', now);
      this.emitOrder(order);
    }
    return this.answer(order);
  }

  // The amount an order locks: base for sells; for buys the notional at the reference price plus the larger fee.
  private reservation(inst: Instrument, side: OrderSide, quantity: number, refPrice: number): number {
    if (side === 'sell') return quantity;
    const notional = quantity * refPrice * inst.multiplier;
    return notional + Math.max(this.fees.fee(notional, 'maker'), this.fees.fee(notional, 'taker'));
  }

  private validate(o: {
    symbol: string;
    side: OrderSide;
    type: Order['type'];
    quantity: number;
    price?: number;
    stopPrice?: number;
  }): void {
    try {
      validateIntent({ ...o, strategyId: '' });
    } catch (err) {
      throw this.error(err instanceof Error ? err.message : String(err), PAPER_CODES.invalidOrder, err);
    }
  }

  private checkSize(inst: Instrument, quantity: number, price: number): void {
    const why = checkOrderSize(inst, quantity, price);
    if (why) throw this.error(`${inst.symbol}: ${why}`, PAPER_CODES.invalidOrder);
  }

  private bookFor(symbol: string): SymbolBook {
    let b = this.books.get(symbol);
    if (!b) {
      const inst = this.instruments.get(symbol);
      const index = this.symbolIndex.get(symbol);
      if (!inst || index === undefined) throw this.error(`unknown symbol ${symbol}`, PAPER_CODES.badSymbol);
      b = new SymbolBook(inst, index);
      this.books.set(symbol, b);
    }
    return b;
  }

  private subscribe(b: SymbolBook): void {
    if (b.sub || this.closed) return;
    const symbol = b.inst.symbol;
    b.sub = new ReconnectingStream<Ticker>(
      (deliver, onError) => this.market.watchTicker(symbol, deliver, onError),
      (t) => this.onTicker(b, t),
      {
        ...this.opts.reconnect,
        onError: (e) => {
          this.opts.onError?.(e);
          const set = this.tickerWatchers.get(symbol);
          if (set) for (const w of set) w.err?.(e);
        },
      },
    );
  }

  // Uses the streamed quote when fresh, otherwise asks the source; either way it is a market update.
  private async refreshQuote(b: SymbolBook): Promise<void> {
    if (b.quote !== undefined && this.clock() - b.quoteAt <= this.maxQuoteAgeMs) return;
    this.onTicker(b, await this.market.fetchTicker(b.inst.symbol));
  }

  private onTicker(b: SymbolBook, t: Ticker): void {
    // A REST answer may be older than the last streamed ticker; time never runs backwards for the matcher.
    if (b.quote !== undefined && t.time < b.quote.time) return;
    b.quote = t;
    b.quoteAt = this.clock();
    let volume = Number.NaN;
    if (t.volume !== undefined) {
      // A ticker's volume is a rolling 24h total; its growth is what traded since the previous update.
      volume = !Number.isNaN(b.prevVolume) ? Math.max(0, t.volume - b.prevVolume) : 0;
      b.prevVolume = t.volume;
    }
    setFlat(b.bar, t.time, t.last, volume);
    setFlat(b.askBar, t.time, t.ask > 0 ? t.ask : t.last, volume);
    setFlat(b.bidBar, t.time, t.bid > 0 ? t.bid : t.last, volume);
    // One live update is one bar of the matching engine.
    this.engine?.onMarketBar(b.index, b.bar);
    const set = this.tickerWatchers.get(b.inst.symbol);
    if (set) for (const w of set) this.deliver(w, t);
  }

  // Builds the matching engine on the known instruments and hands it the open orders (after connect or restore).
  private attachEngine(): void {
    const symbols = [...this.instruments.keys()];
    const taker: TakerBar = (o) => {
      const b = this.books.get(o.symbol);
      return b === undefined ? undefined : o.side === 'buy' ? b.askBar : b.bidBar;
    };
    const engine = new SimulatedVenue({
      id: this.id,
      clock: { now: this.clock },
      fill: this.opts.fillModel ? new QuoteFillModel(this.fill, taker) : new QuoteBarFillModel(taker),
      fees: this.fees,
      slippage: this.slippage,
      ...(this.participation ? { participation: this.participation } : {}),
      marketFill: 'now',
      instruments: [...this.instruments.values()],
    });
    engine.attach(this.listener, symbols);
    this.engine = engine;
    this.symbolIndex.clear();
    for (let i = 0; i < symbols.length; i++) this.symbolIndex.set(symbols[i], i);
    for (const b of this.books.values()) {
      // A fresh engine has no bar yet: the next market order asks for a current quote.
      b.quote = undefined;
      b.prevVolume = Number.NaN;
    }
    for (const p of this.working.values()) {
      if (!this.instruments.has(p.order.symbol)) continue;
      const b = this.bookFor(p.order.symbol);
      engine.submit(p.order);
      const state = engine.resting(p.order);
      if (state && this.restoredTriggers.has(p)) state.triggered = true;
      this.subscribe(b);
    }
    this.restoredTriggers.clear();
  }

  /** How the matching engine reports to the account: funds check, fills, cancels. */
  private readonly listener: VenueListener = {
    // Every order's acceptance is reported by `place` itself (the engine reports resting orders only).
    onAccepted: () => undefined,
    checkFill: (o, price, qty, fee) => this.checkFill(o, price, qty, fee),
    onFill: (o, price, qty, fee, liquidity) => this.settle(o, price, qty, fee, liquidity),
    onCancelled: (o, reason) => {
      const p = this.working.get(o);
      if (p && isOpen(o.status)) this.finish(p, 'cancelled', reason);
    },
    // The engine rejects an execution the account cannot pay for (checkFill): a live venue cancels the order.
    onRejected: (o, reason) => {
      const p = this.working.get(o);
      if (p && isOpen(o.status)) this.finish(p, 'cancelled', reason);
    },
  };

  // Stops and gaps can cost more than reserved; the free balance covers the rest or the order dies.
  private checkFill(o: Order, price: number, qty: number, fee: number): string | null {
    const p = this.working.get(o);
    if (!p || o.side === 'sell') return null;
    const cost = price * qty * this.bookFor(o.symbol).inst.multiplier + fee;
    const remaining = o.quantity - o.filledQuantity;
    const share = qty >= remaining ? p.reserved : p.reserved * (qty / remaining);
    return cost > share + this.ledger.free(p.reserveAsset) + EPS * cost ? PAPER_CODES.insufficientFunds : null;
  }

  // One execution decided by the engine: the ledger settles it and the order, fill and watchers follow.
  private settle(o: Order, px: number, qty: number, fee: number, liquidity: Liquidity): void {
    const p = this.working.get(o);
    if (!p) return;
    const inst = this.bookFor(o.symbol).inst;
    const notional = px * qty * inst.multiplier;
    const remaining = o.quantity - o.filledQuantity;
    const share = qty >= remaining ? p.reserved : p.reserved * (qty / remaining);
    if (o.side === 'buy') {
      this.ledger.release(inst.quote, share);
      this.ledger.credit(inst.quote, -(notional + fee));
      this.ledger.credit(inst.base, qty);
    } else {
      this.ledger.release(inst.base, share);
      this.ledger.credit(inst.base, -qty);
      this.ledger.credit(inst.quote, notional - fee);
    }
    p.reserved -= share;
    const now = this.clock();
    const filled = o.filledQuantity + qty;
    o.averageFillPrice = (o.averageFillPrice * o.filledQuantity + px * qty) / filled;
    const done = filled >= o.quantity * (1 - EPS);
    o.filledQuantity = done ? o.quantity : filled;
    o.fees += fee;
    transitionOrder(o, done ? 'filled' : 'partially_filled', now);
    if (done) {
      if (p.reserved > 0) this.ledger.release(p.reserveAsset, p.reserved);
      p.reserved = 0;
      this.working.delete(o);
      this.finished.push(p);
    }
    const f: VenueFill = {
      venueTradeId: `${this.id}-t${this.nextId++}`,
      venueOrderId: o.venueOrderId ?? o.id,
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      price: px,
      quantity: qty,
      fee,
      feeCurrency: inst.quote,
      liquidity,
      time: now,
    };
    this.fills.push(f);
    this.trimHistory();
    this.publish(() => {
      for (const w of this.fillWatchers) this.deliver(w, { ...f });
    });
    this.emitOrder(o);
  }

  private finish(p: PaperOrder, status: OrderStatus, reason: string): void {
    transitionOrder(p.order, status, this.clock(), reason);
    if (p.reserved > 0) {
      this.ledger.release(p.reserveAsset, p.reserved);
      p.reserved = 0;
    }
    this.working.delete(p.order);
    this.finished.push(p);
    this.trimHistory();
    this.emitOrder(p.order);
  }

  // Drops the oldest fills and finished orders beyond `history`. The runtime books each fill as it happens, in this
  // same process, so at a crash only the latest fills can still be unbooked: they are always kept.
  private trimHistory(): void {
    if (this.fills.length > this.history) this.fills.splice(0, this.fills.length - this.history);
    while (this.finished.length > this.history) {
      const old = this.finished.shift()!;
      const id = old.order.venueOrderId ?? old.order.id;
      if (this.orders.get(id) === old) this.orders.delete(id);
      if (this.byClient.get(old.order.clientOrderId) === old) this.byClient.delete(old.order.clientOrderId);
    }
  }

  private emitOrder(o: Order): void {
    if (this.orderWatchers.size === 0 && this.gate === undefined) return;
    const v = toVenueOrder(o);
    this.publish(() => {
      for (const w of this.orderWatchers) this.deliver(w, v);
    });
  }

  // Announces a change: at once, or with `save` once the snapshot holding it is written.
  private publish(announce: () => void): void {
    if (this.gate) this.gate.announce(announce);
    else announce();
  }

  // The answer of an order call: with `save`, only once the change it reports is durable.
  private async answer(o: Order): Promise<VenueOrder> {
    const v = toVenueOrder(o);
    await this.gate?.saved();
    return v;
  }

  // A watcher that throws must not break matching for everyone else.
  private deliver<T>(w: { on: (v: T) => void; err?: (e: Error) => void }, v: T): void {
    try {
      w.on(v);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      (w.err ?? this.opts.onError)?.(e);
    }
  }

  private find(ref: OrderRef): PaperOrder | undefined {
    const p =
      (ref.venueOrderId !== undefined ? this.orders.get(ref.venueOrderId) : undefined) ??
      (ref.clientOrderId !== undefined ? this.byClient.get(ref.clientOrderId) : undefined);
    return p && (!ref.symbol || p.order.symbol === ref.symbol) ? p : undefined;
  }

  private insufficient(asset: string, need: number): VenueError {
    return this.error(
      `insufficient ${asset}: order needs ${need}, free ${this.ledger.free(asset)}`,
      PAPER_CODES.insufficientFunds,
    );
  }

  private error(message: string, code: string, cause?: unknown): VenueError {
    return new VenueError(`${this.id}: ${message}`, { retryable: false, venue: this.id, code, cause });
  }
}
