/**
 * The live execution bridge: the kernel's `ExecutionVenue` port over a core `Venue` (VENUE-6). The engine's
 * synchronous calls only enqueue; placement is write-ahead (the order is durable before the venue sees it), goes
 * through the venue's safe placement (never a blind re-send), and venue answers come back as VenueListener calls.
 */
import {
  type Fill,
  isOpen,
  isTerminal,
  type Order,
  type OrderRef,
  type Subscription,
  type Venue,
  VenueError,
  type VenueFill,
  type VenueOrder,
  type VenueOrderRequest,
} from '../../core/index.js';
import type { ExecutionVenue, VenueListener } from '../../engine/execution-venue.js';

/** Tag of the protective stop orders the runtime keeps on the venue (RISK-3). */
export const PROTECTIVE_STOP_TAG = 'protective_stop';

/** Where the bridge makes orders and fills durable. */
export interface BridgeJournal {
  /** Write-ahead: resolves once the order is committed. The venue call waits for it. */
  persistOrder(order: Readonly<Order>, clientOrderId: string): Promise<void>;
  /** Stores one venue execution (idempotent by venue trade id); resolves once committed. */
  persistFill(fill: Fill): Promise<void>;
}

/** Something the operator must know (a mismatch, an unknown order state). */
export interface BridgeNotice {
  severity: 'info' | 'warning' | 'critical';
  title: string;
  message: string;
  orderId?: string;
  clientOrderId?: string;
}

/** Options of the bridge. */
export interface LiveVenueBridgeOptions {
  /** The venue, normally wrapped in ResilientVenue (retries, safe placement, reconnecting streams). */
  venue: Venue;
  journal: BridgeJournal;
  /** Prefix making generated client order ids unique across restarts (venue charset: letters, digits, `-_.:/`). */
  clientIdPrefix: string;
  /** Strategy id stamped on fills. */
  strategyId: string;
  /** Venue trade ids already booked (from the store), so a replay never books twice. */
  seenTradeIds?: Iterable<string>;
  notify?: (n: BridgeNotice) => void;
  /** Called after a fill has been stored and applied (strategy state persistence, protective stops). */
  onFillApplied?: (order: Order, fill: Fill) => void;
  /** Placement round trip in ms (metrics). */
  onPlaced?: (order: Order, ms: number) => void;
  now?: () => number;
}

type Task = () => Promise<void>;

/**
 * Finished orders kept matchable (late fills of a cancelled order, duplicate reports) before the bridge forgets them;
 * without a bound every order of the run stays in memory.
 */
const FINISHED_KEPT = 4096;

/** A serial async queue: tasks run one after another; a failing task never stops the queue. */
class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  depth = 0;
  constructor(private readonly onError: (err: unknown) => void) {}
  push(task: Task): Promise<void> {
    this.depth++;
    const run = this.tail
      .then(task)
      .catch(this.onError)
      .finally(() => {
        this.depth--;
      });
    this.tail = run;
    return run;
  }
  idle(): Promise<void> {
    return this.tail;
  }
}

/** Base asset of a unified symbol (`BTC/USDT` -> `BTC`). */
function baseOf(symbol: string): string {
  const k = symbol.indexOf('/');
  return k < 0 ? symbol : symbol.slice(0, k);
}

/**
 * The kernel's port over a live venue. Orders it placed this run, and orders restored from the store by the
 * reconciler (`adopt`), are matched to venue reports by venue order id or client order id; fills are de-duplicated
 * by venue trade id, stored, then applied. Protective stops are cancelled before another sell of the same symbol
 * (a spot venue locks the stop's base asset), and stay on the venue at shutdown.
 */
export class LiveVenueBridge implements ExecutionVenue {
  readonly id: string;
  private listener: VenueListener | null = null;
  private readonly venue: Venue;
  private readonly o: LiveVenueBridgeOptions;
  private readonly now: () => number;
  private readonly orders: { place: SerialQueue; events: SerialQueue };
  private readonly byVenueId = new Map<string, Order>();
  private readonly byClientId = new Map<string, Order>();
  private readonly clientIdOf = new Map<Order, string>();
  /**
   * Protective stops placed or adopted and not yet seen finished: every exit looks its symbol's stop up before it
   * is placed, so this must not be a scan of every order of the run (that grew with the run: PERF-3).
   */
  private readonly stops = new Set<Order>();
  /** Finished orders, oldest first, still matchable until FINISHED_KEPT newer ones finished. */
  private readonly finished = new Set<Order>();
  private readonly seenTrades: Set<string>;
  /** Fills whose order we could not match yet (the placement answer may still be in flight). */
  private orphanFills: VenueFill[] = [];
  private subs: Subscription[] = [];
  private closed = false;
  /** Orders whose placement outcome is unknown (VENUE_ORDER_UNKNOWN_STATE): looked up on every sync. */
  readonly unknown = new Set<Order>();

  constructor(opts: LiveVenueBridgeOptions) {
    this.venue = opts.venue;
    this.id = opts.venue.id;
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.seenTrades = new Set(opts.seenTradeIds ?? []);
    const onError = (err: unknown) =>
      this.notice('critical', 'Live bridge task failed', err instanceof Error ? err.message : String(err));
    this.orders = { place: new SerialQueue(onError), events: new SerialQueue(onError) };
  }

  /** Orders the bridge can still match to venue reports: the open ones plus at most FINISHED_KEPT finished ones. */
  get tracked(): number {
    return this.byClientId.size;
  }

  /** Orders waiting to be placed or cancelled plus venue reports waiting to be applied. */
  get queueDepth(): number {
    return this.orders.place.depth + this.orders.events.depth;
  }

  attach(listener: VenueListener): void {
    this.listener = listener;
  }

  /** The client order id sent to the venue for an order. */
  clientOrderIdOf(order: Readonly<Order>): string {
    const known = this.clientIdOf.get(order as Order);
    if (known !== undefined) return known;
    return order.clientOrderId === order.id ? `${this.o.clientIdPrefix}${order.id}` : order.clientOrderId;
  }

  /** Starts applying venue order and fill reports. */
  start(): void {
    this.subs.push(
      this.venue.watchOrders(
        (v) => this.orders.events.push(async () => this.applyOrderReport(v)),
        (e) => this.notice('warning', 'Order stream error', e.message),
      ),
      this.venue.watchFills(
        (f) =>
          this.orders.events.push(async () => {
            await this.applyFill(f);
          }),
        (e) => this.notice('warning', 'Fill stream error', e.message),
      ),
    );
  }

  /** Engine call: enqueue a placement (write-ahead, then the venue). */
  submit(order: Order): void {
    const cid = this.clientOrderIdOf(order);
    this.clientIdOf.set(order, cid);
    this.byClientId.set(cid, order);
    if (order.tag === PROTECTIVE_STOP_TAG) this.stops.add(order);
    this.orders.place.push(() => this.place(order, cid));
  }

  /** Engine call: enqueue a cancel (after any placement queued before it). */
  cancel(order: Order, reason: string): void {
    this.orders.place.push(() => this.cancelNow(order, reason));
  }

  /**
   * Tracks an order of an earlier run (restored from the store, or an unknown venue order adopted by policy) so its
   * later reports reach the engine.
   */
  adopt(order: Order, clientOrderId: string, venueOrderId?: string): void {
    this.clientIdOf.set(order, clientOrderId);
    this.byClientId.set(clientOrderId, order);
    if (order.tag === PROTECTIVE_STOP_TAG) this.stops.add(order);
    if (venueOrderId !== undefined) {
      order.venueOrderId = venueOrderId;
      this.byVenueId.set(venueOrderId, order);
    }
  }

  /** Open orders the bridge tracks (placed this run or adopted), e.g. for the kill switch and status. */
  trackedOpenOrders(): Order[] {
    const out: Order[] = [];
    for (const o of this.byClientId.values()) if (isOpen(o.status) || o.status === 'new') out.push(o);
    return out;
  }

  /** The open protective stop of a symbol, if any. */
  protectiveStop(symbol: string): Order | undefined {
    let found: Order | undefined;
    for (const o of this.stops) {
      if (isTerminal(o.status)) this.stops.delete(o);
      else if (found === undefined && o.symbol === symbol && isOpen(o.status)) found = o;
    }
    return found;
  }

  /** Cancels a venue order we have no record of (reconciliation policy `cancel`). */
  async cancelForeign(v: VenueOrder): Promise<VenueOrder> {
    return this.venue.cancelOrder({ symbol: v.symbol, venueOrderId: v.venueOrderId });
  }

  /** Cancels an adopted order directly (kill switch: orders of an earlier run are not in the execution engine). */
  cancelAdopted(order: Order, reason: string): void {
    this.cancel(order, reason);
  }

  /**
   * Applies venue fills we have not booked yet (startup catch-up). Returns how many were applied. Fills of orders
   * we do not know are left alone.
   */
  async catchUpFills(fills: readonly VenueFill[]): Promise<number> {
    let n = 0;
    for (const f of fills) {
      await this.orders.events.push(async () => {
        if (await this.applyFill(f)) n++;
      });
    }
    return n;
  }

  /** Applies a venue order report (startup reconciliation of an order that finished while we were down). */
  applyReport(v: VenueOrder): Promise<void> {
    return this.orders.events.push(async () => this.applyOrderReport(v));
  }

  /** Looks up orders whose placement outcome was unknown; returns how many were resolved. */
  async resolveUnknown(): Promise<number> {
    let n = 0;
    for (const order of [...this.unknown]) {
      const cid = this.clientOrderIdOf(order);
      const v = await this.venue.fetchOrder({ symbol: order.symbol, clientOrderId: cid });
      this.unknown.delete(order);
      n++;
      if (v === null) {
        this.listener?.onRejected(order, 'NOT_PLACED', this.now());
        this.retireIfDone(order);
      } else {
        this.learn(order, v.venueOrderId);
        await this.applyOrderReport(v);
      }
    }
    return n;
  }

  /**
   * Brings every tracked open order up to the venue's state: its fills (booked once) and its final status. Used at
   * shutdown so the store is current even when the fill stream had not delivered yet.
   */
  async syncOpenOrders(): Promise<number> {
    let n = 0;
    for (const order of this.trackedOpenOrders()) {
      const v = await this.venue.fetchOrder({
        symbol: order.symbol,
        clientOrderId: this.clientOrderIdOf(order),
        ...(order.venueOrderId !== undefined ? { venueOrderId: order.venueOrderId } : {}),
      });
      if (v === null) continue;
      this.learn(order, v.venueOrderId);
      if (v.filledQuantity > order.filledQuantity + 1e-12) {
        n += await this.catchUpFills(await this.venue.fetchFills(order.symbol, order.createdAt - 60_000));
      }
      await this.applyReport(v);
    }
    return n;
  }

  /** Resolves when every queued placement, cancel and report has been handled. */
  async drain(): Promise<void> {
    await this.orders.place.idle();
    await this.orders.events.idle();
  }

  /** Stops the venue streams (orders stay on the venue). */
  close(): void {
    this.closed = true;
    for (const s of this.subs.splice(0)) s.close();
  }

  // ---- internals ----

  private async place(order: Order, cid: string): Promise<void> {
    if (this.closed) return;
    if (order.status !== 'submitted') return; // cancelled before it left
    await this.o.journal.persistOrder(order, cid);
    if (order.side === 'sell' && order.tag !== PROTECTIVE_STOP_TAG) {
      const stop = this.protectiveStop(order.symbol);
      if (stop !== undefined) await this.cancelNow(stop, 'replaced_by_exit');
    }
    const req: VenueOrderRequest = {
      clientOrderId: cid,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      ...(order.price !== undefined ? { price: order.price } : {}),
      ...(order.stopPrice !== undefined ? { stopPrice: order.stopPrice } : {}),
      ...(order.type !== 'market' ? { timeInForce: order.timeInForce } : {}),
      ...(order.reduceOnly ? { reduceOnly: true } : {}),
    };
    const t0 = performance.now();
    let v: VenueOrder;
    try {
      v = await this.venue.placeOrder(req);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      if (err instanceof VenueError && err.code === 'VENUE_ORDER_UNKNOWN_STATE') {
        // The venue may or may not have it: keep it open and look it up later; never place it again blindly.
        this.unknown.add(order);
        this.notice('critical', 'Order state unknown', e.message, order, cid);
        return;
      }
      this.listener?.onRejected(
        order,
        err instanceof VenueError ? (err.code ?? 'VENUE_REJECTED') : 'VENUE_ERROR',
        this.now(),
      );
      this.retireIfDone(order);
      this.notice(
        'warning',
        'Order rejected by the venue',
        `${order.side} ${order.quantity} ${order.symbol}: ${e.message}`,
        order,
        cid,
      );
      return;
    }
    this.o.onPlaced?.(order, performance.now() - t0);
    this.learn(order, v.venueOrderId);
    // The venue's id is durable before anything else happens to the order.
    await this.o.journal.persistOrder(order, cid);
    await this.orders.events.push(async () => this.applyOrderReport(v));
  }

  private async cancelNow(order: Order, reason: string): Promise<void> {
    if (!isOpen(order.status)) return;
    if (this.unknown.has(order)) await this.resolveUnknown();
    if (!isOpen(order.status)) return;
    const ref: OrderRef = {
      symbol: order.symbol,
      clientOrderId: this.clientOrderIdOf(order),
      ...(order.venueOrderId !== undefined ? { venueOrderId: order.venueOrderId } : {}),
    };
    try {
      const v = await this.venue.cancelOrder(ref);
      await this.orders.events.push(async () => this.applyOrderReport(v, reason));
    } catch (err) {
      if (err instanceof VenueError && err.code === 'VENUE_ORDER_NOT_FOUND') {
        // Gone already: its final state tells whether it filled.
        const v = await this.venue.fetchOrder(ref);
        if (v !== null) await this.orders.events.push(async () => this.applyOrderReport(v, reason));
        else this.listener?.onCancelled(order, reason, this.now());
        this.retireIfDone(order);
        return;
      }
      this.notice('warning', 'Cancel failed', `${order.id} ${order.symbol}: ${(err as Error).message}`, order);
    }
  }

  private learn(order: Order, venueOrderId: string): void {
    if (order.venueOrderId === venueOrderId) return;
    order.venueOrderId = venueOrderId;
    this.byVenueId.set(venueOrderId, order);
    if (this.orphanFills.length > 0) {
      const waiting = this.orphanFills;
      this.orphanFills = [];
      for (const f of waiting) this.orders.events.push(async () => void (await this.applyFill(f)));
    }
  }

  private match(venueOrderId: string, clientOrderId: string | undefined): Order | undefined {
    return this.byVenueId.get(venueOrderId) ?? (clientOrderId ? this.byClientId.get(clientOrderId) : undefined);
  }

  private applyOrderReport(v: VenueOrder, reason?: string): void {
    const order = this.match(v.venueOrderId, v.clientOrderId);
    const l = this.listener;
    if (order === undefined || l === null) return;
    this.learn(order, v.venueOrderId);
    this.applyStatus(order, l, v, reason);
    this.retireIfDone(order);
  }

  private applyStatus(order: Order, l: VenueListener, v: VenueOrder, reason: string | undefined): void {
    const t = v.updatedAt || this.now();
    switch (v.status) {
      case 'accepted':
      case 'submitted':
      case 'new':
        if (order.status === 'submitted') l.onAccepted(order, t);
        return;
      case 'partially_filled':
        if (order.status === 'submitted') l.onAccepted(order, t);
        return;
      case 'cancelled':
      case 'expired':
        // A cancelled order may have filled in part: those fills arrive on the fill stream.
        if (!isTerminal(order.status))
          l.onCancelled(order, reason ?? (v.status === 'expired' ? 'EXPIRED' : 'CANCELLED'), t);
        return;
      case 'rejected':
        if (!isTerminal(order.status)) l.onRejected(order, reason ?? 'VENUE_REJECTED', t);
        return;
      case 'filled':
        // Quantities come from the fills; nothing to do until they arrive.
        return;
    }
  }

  /** Stores then applies one venue fill; false when it was already booked or is not ours. */
  private async applyFill(f: VenueFill): Promise<boolean> {
    if (this.seenTrades.has(f.venueTradeId)) return false;
    const order = this.match(f.venueOrderId, f.clientOrderId);
    if (order === undefined) {
      // Not ours (another system on the account) or the placement answer has not arrived yet: keep it a while.
      if (this.orphanFills.length < 1000) this.orphanFills.push(f);
      return false;
    }
    this.seenTrades.add(f.venueTradeId);
    const fee = f.feeCurrency === baseOf(f.symbol) ? f.fee * f.price : f.fee;
    const cid = this.clientOrderIdOf(order);
    const fill: Fill = {
      id: `${this.id}:${f.venueTradeId}`,
      orderId: cid,
      clientOrderId: cid,
      strategyId: this.o.strategyId,
      symbol: order.symbol,
      side: order.side,
      price: f.price,
      quantity: f.quantity,
      fee,
      liquidity: f.liquidity,
      time: f.time,
      venueTradeId: f.venueTradeId,
      correlationId: order.correlationId,
    };
    // Stored before it is applied: a crash in between is healed on restart by rebuilding from the store.
    await this.o.journal.persistFill(fill);
    this.listener?.onFill(order, f.price, f.quantity, fee, f.liquidity, f.time);
    this.o.onFillApplied?.(order, fill);
    this.retireIfDone(order);
    return true;
  }

  /** A finished order joins the bounded list of finished ones; the oldest beyond the bound is forgotten. */
  private retireIfDone(order: Order): void {
    if (!isTerminal(order.status) || this.finished.has(order)) return;
    this.finished.add(order);
    if (this.finished.size <= FINISHED_KEPT) return;
    const oldest = this.finished.values().next().value as Order;
    this.finished.delete(oldest);
    const cid = this.clientIdOf.get(oldest);
    if (cid !== undefined && this.byClientId.get(cid) === oldest) this.byClientId.delete(cid);
    this.clientIdOf.delete(oldest);
    if (oldest.venueOrderId !== undefined && this.byVenueId.get(oldest.venueOrderId) === oldest)
      this.byVenueId.delete(oldest.venueOrderId);
    this.stops.delete(oldest);
  }

  private notice(
    severity: BridgeNotice['severity'],
    title: string,
    message: string,
    order?: Order,
    clientOrderId?: string,
  ): void {
    this.o.notify?.({
      severity,
      title,
      message,
      ...(order ? { orderId: order.id } : {}),
      ...(clientOrderId ? { clientOrderId } : {}),
    });
  }
}
