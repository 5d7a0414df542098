/**
 * A Venue that reports every order message it carries as `venue.message.v1` (STORE-4, OPS-1): each placement and
 * cancel sent, the venue's answer or error, order and fill reports from the streams, and order look-ups. The events
 * name the order by its client order id (the id the store keeps it under) and carry its signal's correlation id,
 * so `audit order ID` and the JSON log show the venue's side of an order. Everything else is passed through.
 */
import type {
  Bar,
  Balance,
  EventBus,
  Instrument,
  OrderBook,
  OrderChanges,
  OrderRef,
  Position,
  Subscription,
  Ticker,
  Timeframe,
  Venue,
  VenueCapabilities,
  VenueFill,
  VenueOrder,
  VenueOrderRequest,
} from '../../core/index.js';
import { decimalText } from '../../core/money.js';

/** Options of the recorder. */
export interface VenueMessagesOptions {
  bus: EventBus;
  /** The correlation id of the signal behind a client order id, when known (default: the client order id). */
  correlationOf?: (clientOrderId: string) => string | undefined;
  /** The venue's name in messages (the config's venue id; default the adapter's id, which stays `id`). */
  name?: string;
}

/** Venue order ids remembered to name the order of a fill report that carries no client order id. */
const REMEMBERED = 10_000;

/** Wraps `inner`; only the order methods and order/fill streams publish. */
export class VenueMessages implements Venue {
  readonly id: string;
  readonly capabilities: VenueCapabilities;
  private readonly clientIds = new Map<string, string>();
  private readonly name: string;

  constructor(
    private readonly inner: Venue,
    private readonly o: VenueMessagesOptions,
  ) {
    this.id = inner.id;
    this.capabilities = inner.capabilities;
    this.name = o.name ?? inner.id;
  }

  async placeOrder(request: VenueOrderRequest): Promise<VenueOrder> {
    const cid = request.clientOrderId;
    const px = request.price !== undefined ? ` @ ${request.price}` : '';
    const stop = request.stopPrice !== undefined ? ` stop ${request.stopPrice}` : '';
    this.say(
      cid,
      `placeOrder sent: ${request.side} ${request.quantity} ${request.symbol} ${request.type}${px}${stop}`,
      request,
    );
    try {
      const v = await this.inner.placeOrder(request);
      this.answered('placeOrder', cid, v);
      return v;
    } catch (err) {
      this.failed('placeOrder', cid, err);
      throw err;
    }
  }

  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    const cid = ref.clientOrderId ?? this.clientIdOf(ref.venueOrderId);
    if (cid !== undefined) this.say(cid, `cancelOrder sent: ${ref.symbol}`, ref);
    try {
      const v = await this.inner.cancelOrder(ref);
      this.answered('cancelOrder', v.clientOrderId || cid, v);
      return v;
    } catch (err) {
      if (cid !== undefined) this.failed('cancelOrder', cid, err);
      throw err;
    }
  }

  async fetchOrder(ref: OrderRef): Promise<VenueOrder | null> {
    const v = await this.inner.fetchOrder(ref);
    const cid = ref.clientOrderId ?? v?.clientOrderId;
    if (cid) {
      if (v === null) this.say(cid, 'fetchOrder: the venue has never seen this order', ref);
      else this.answered('fetchOrder', cid, v);
    }
    return v;
  }

  watchOrders(onOrder: (o: VenueOrder) => void, onError?: (e: Error) => void): Subscription {
    return this.inner.watchOrders((v) => {
      this.answered('order report', v.clientOrderId, v);
      onOrder(v);
    }, onError);
  }

  watchFills(onFill: (f: VenueFill) => void, onError?: (e: Error) => void): Subscription {
    return this.inner.watchFills((f) => {
      const cid = f.clientOrderId || this.clientIdOf(f.venueOrderId);
      if (cid) {
        this.say(
          cid,
          `fill report: ${f.side} ${f.quantity} ${f.symbol} @ ${f.price}, fee ${f.fee} ${f.feeCurrency}, trade ${f.venueTradeId}`,
          f,
        );
      }
      onFill(f);
    }, onError);
  }

  async modifyOrder(ref: OrderRef, changes: OrderChanges): Promise<VenueOrder> {
    const cid = ref.clientOrderId ?? this.clientIdOf(ref.venueOrderId);
    // The new terms go to the adapter as given (it reads and checks them); the message shows them as text.
    if (cid !== undefined) {
      const terms = (['quantity', 'price', 'stopPrice'] as const).flatMap((k) => {
        const v = changes[k];
        return v === undefined ? [] : [[k, typeof v === 'string' ? v : decimalText(v)] as const];
      });
      this.say(
        cid,
        `modifyOrder sent: ${ref.symbol} ${terms.map(([k, v]) => `${k} ${v}`).join(' ')}`,
        Object.fromEntries(terms),
      );
    }
    try {
      const v = await this.inner.modifyOrder(ref, changes);
      this.answered('modifyOrder', v.clientOrderId || cid, v);
      return v;
    } catch (err) {
      if (cid !== undefined) this.failed('modifyOrder', cid, err);
      throw err;
    }
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  fetchInstruments(): Promise<Instrument[]> {
    return this.inner.fetchInstruments();
  }
  fetchBalances(): Promise<Balance[]> {
    return this.inner.fetchBalances();
  }
  fetchPositions(): Promise<Position[]> {
    return this.inner.fetchPositions();
  }
  fetchOpenOrders(symbol?: string): Promise<VenueOrder[]> {
    return this.inner.fetchOpenOrders(symbol);
  }
  fetchFills(symbol?: string, since?: number): Promise<VenueFill[]> {
    return this.inner.fetchFills(symbol, since);
  }
  fetchTicker(symbol: string): Promise<Ticker> {
    return this.inner.fetchTicker(symbol);
  }
  fetchCandles(symbol: string, timeframe: Timeframe, since?: number, limit?: number): Promise<Bar[]> {
    return this.inner.fetchCandles(symbol, timeframe, since, limit);
  }
  fetchOrderBook(symbol: string, depth?: number): Promise<OrderBook> {
    return this.inner.fetchOrderBook(symbol, depth);
  }
  fetchServerTime(): Promise<number> {
    return this.inner.fetchServerTime();
  }
  watchTicker(symbol: string, onTicker: (t: Ticker) => void, onError?: (e: Error) => void): Subscription {
    return this.inner.watchTicker(symbol, onTicker, onError);
  }
  watchCandles(
    symbol: string,
    timeframe: Timeframe,
    onBar: (b: Bar, closed: boolean) => void,
    onError?: (e: Error) => void,
  ): Subscription {
    return this.inner.watchCandles(symbol, timeframe, onBar, onError);
  }
  watchOrderBook(symbol: string, onBook: (b: OrderBook) => void, onError?: (e: Error) => void): Subscription {
    return this.inner.watchOrderBook(symbol, onBook, onError);
  }

  private answered(what: string, cid: string | undefined, v: VenueOrder): void {
    if (!cid) return;
    this.remember(v.venueOrderId, cid);
    this.say(
      cid,
      `${what}: ${v.status}, filled ${v.filledQuantity} of ${v.quantity}${v.filledQuantity > 0 ? ` @ ${v.averagePrice}` : ''} (venue id ${v.venueOrderId})`,
      v,
    );
  }

  private failed(what: string, cid: string, err: unknown): void {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    this.say(cid, `${what} failed${typeof code === 'string' ? ` (${code})` : ''}: ${message}`, {
      ...(typeof code === 'string' ? { code } : {}),
      message,
    });
  }

  private say(clientOrderId: string, message: string, raw: unknown): void {
    const bus = this.o.bus;
    if (!bus.hasSubscribers('venue.message.v1')) return;
    bus.publish({
      name: 'venue.message.v1',
      time: Date.now(),
      correlationId: this.o.correlationOf?.(clientOrderId) ?? clientOrderId,
      source: `venue:${this.name}`,
      payload: { venue: this.name, clientOrderId, message, raw },
    });
  }

  private remember(venueOrderId: string, clientOrderId: string): void {
    if (this.clientIds.has(venueOrderId)) return;
    this.clientIds.set(venueOrderId, clientOrderId);
    if (this.clientIds.size > REMEMBERED) {
      const oldest = this.clientIds.keys().next().value as string;
      this.clientIds.delete(oldest);
    }
  }

  private clientIdOf(venueOrderId: string | undefined): string | undefined {
    return venueOrderId === undefined ? undefined : this.clientIds.get(venueOrderId);
  }
}
