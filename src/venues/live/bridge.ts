/**
 * The live execution bridge: the kernel's `ExecutionVenue` port over a core `Venue` (VENUE-6). The engine's
 * synchronous calls only enqueue; placement is write-ahead (the order is durable before the venue sees it), goes
 * through the venue's safe placement (never a blind re-send), and venue answers come back as VenueListener calls.
 */
import {
  type Fill,
  type Instrument,
  isOpen,
  isTerminal,
  type Order,
  type OrderRef,
  type QueueGaugeSource,
  type QueueOverflow,
  type Subscription,
  type Venue,
  VenueError,
  type VenueFill,
  type VenueOrder,
  type VenueOrderRequest,
} from '../../core/index.js';
import { fillDecimals } from '../../core/fill.js';
import { decimalText, exact, exactSteps, quantisePrice, quantiseQuantity } from '../../core/money.js';
import { orderDecimals } from '../../engine/execution-engine.js';
import { type ExecutionVenue, PROTECTIVE_STOP_TAG, type VenueListener } from '../../engine/execution-venue.js';
import type { Context, Span } from '@opentelemetry/api';
import { checkCapacity } from '../../core/queue-bound.js';
import { contextWith, inSpan, runIn, startSpan, tracingEnabled } from '../../core/tracing.js';
import { venueCallContext, withVenueCallContext } from '../call-context.js';
import { exactFillOf } from './exact-fill.js';
import { clientOrderIdFor, DEFAULT_MAX_CLIENT_ID_LENGTH, fillKey } from './client-order-id.js';

export { PROTECTIVE_STOP_TAG };

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
  /**
   * Prefix making generated client order ids unique across deployments and restarts (`clientOrderIdPrefix`:
   * a hash of the deployment id and the run id).
   */
  clientIdPrefix: string;
  /** The venue's longest client order id (default 36, Binance's limit). */
  maxClientIdLength?: number;
  /** Strategy id stamped on fills. */
  strategyId: string;
  /** Fill keys already booked (`fillKey(clientOrderId, venueTradeId)`, from the store): a replay never books twice. */
  seenFillKeys?: Iterable<string>;
  /** The instruments traded: sells are rounded down to their lot so they never ask for more than was credited. */
  instruments?: readonly Instrument[];
  /** A fill no order of ours matches after this long raises a critical alert (default 15 000 ms). */
  unmatchedFillAlertMs?: number;
  /**
   * Called when a symbol's protection must be brought back in line at once: an exit for which the stop was
   * cancelled now rests on the venue, or an exit was rejected, failed or cancelled (the runtime re-syncs the stop).
   */
  onProtectionNeeded?: (symbol: string, reason: string) => void;
  notify?: (n: BridgeNotice) => void;
  /** Called after a fill has been stored and applied (strategy state persistence, protective stops). */
  onFillApplied?: (order: Order, fill: Fill) => void;
  /** Placement round trip in ms (metrics). */
  onPlaced?: (order: Order, ms: number) => void;
  /**
   * Bound of the order queue and of the venue-report queue (default 10 000 each). Past it a new entry is refused with
   * `QUEUE_FULL` (the strategy is told; exits, stops and cancels are always queued) and venue reports are kept:
   * neither queue ever drops. Each crossing is reported to `onOverflow` (the runtime halts new exposure and alerts).
   */
  maxQueued?: number;
  onOverflow?: (o: QueueOverflow) => void;
  now?: () => number;
}

type Task = () => Promise<void>;

/**
 * Finished orders kept matchable (late fills of a cancelled order, duplicate reports) before the bridge forgets them;
 * without a bound every order of the run stays in memory.
 */
const FINISHED_KEPT = 4096;

/** Default bound of the bridge's order queue and venue-report queue. */
export const DEFAULT_BRIDGE_QUEUE = 10_000;

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

/**
 * The kill switch's lane: one serial queue per symbol, the symbols side by side. A symbol's cancels still go out
 * before its close (on a spot venue a resting sell locks the base asset the close needs), while a hundred symbols
 * do not wait for each other's round trips. The request budget (the venue's limit) paces them.
 */
class SymbolLanes {
  private readonly lanes = new Map<string, SerialQueue>();
  constructor(private readonly onError: (err: unknown) => void) {}
  push(symbol: string, task: Task): Promise<void> {
    let q = this.lanes.get(symbol);
    if (q === undefined) {
      q = new SerialQueue(this.onError);
      this.lanes.set(symbol, q);
    }
    const lane = q;
    return lane.push(task).finally(() => {
      if (lane.depth === 0 && this.lanes.get(symbol) === lane) this.lanes.delete(symbol);
    });
  }
  get depth(): number {
    let n = 0;
    for (const q of this.lanes.values()) n += q.depth;
    return n;
  }
  async idle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((q) => q.idle()));
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
  private readonly orders: { place: SerialQueue; urgent: SymbolLanes; events: SerialQueue };
  /** While the kill switch is engaged, placements and cancels take the urgent lane (see `engageKillSwitch`). */
  private emergency = false;
  /** The placement on the ordinary lane right now, with the switch that stops its retries. */
  private inFlight: { order: Order; abort: AbortController } | undefined;
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
  private readonly seenFills: Set<string>;
  /** Fills whose order we could not match yet (the placement answer may still be in flight). */
  private orphanFills: VenueFill[] = [];
  /** Venue trade ids of orphan fills already alerted on (one alert per fill). */
  private readonly alertedOrphans = new Set<string>();
  private readonly instruments = new Map<string, Instrument>();
  private subs: Subscription[] = [];
  private closed = false;
  /** Orders whose placement outcome is unknown (VENUE_ORDER_UNKNOWN_STATE): looked up on every sync. */
  readonly unknown = new Set<Order>();
  /** The order queue (placements and cancels on every lane) as `queue_depth{queue="orders.<strategy>"}`. */
  readonly orderQueue: QueueGaugeSource;
  /** The venue-report queue as `queue_depth{queue="venue_reports.<strategy>"}`. */
  readonly reportQueue: QueueGaugeSource;
  private readonly maxQueued: number;
  /** Tracing on: each working order's span and its context, so venue reports and fills join the order's trace. */
  private readonly traces = new Map<Order, { span: Span; ctx: Context }>();
  /** Queues past their bound now (one overflow report per crossing). */
  private readonly overflowing = new Set<string>();

  constructor(opts: LiveVenueBridgeOptions) {
    this.venue = opts.venue;
    this.id = opts.venue.id;
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.seenFills = new Set(opts.seenFillKeys ?? []);
    for (const i of opts.instruments ?? []) this.instruments.set(i.symbol, i);
    const onError = (err: unknown) =>
      this.notice('critical', 'Live bridge task failed', err instanceof Error ? err.message : String(err));
    this.orders = {
      place: new SerialQueue(onError),
      urgent: new SymbolLanes(onError),
      events: new SerialQueue(onError),
    };
    this.maxQueued = checkCapacity('bridge', opts.maxQueued ?? DEFAULT_BRIDGE_QUEUE);
    const orders = this.orders;
    const capacity = this.maxQueued;
    this.orderQueue = {
      queue: `orders.${opts.strategyId}`,
      capacity,
      policy: 'halt',
      get depth() {
        return orders.place.depth + orders.urgent.depth;
      },
      dropped: 0,
    };
    this.reportQueue = {
      queue: `venue_reports.${opts.strategyId}`,
      capacity,
      policy: 'halt',
      get depth() {
        return orders.events.depth;
      },
      dropped: 0,
    };
  }

  /** Reports a queue past its bound once per crossing; re-arms once it is back under. */
  private checkBound(q: QueueGaugeSource): boolean {
    const over = q.depth >= q.capacity;
    if (!over) {
      this.overflowing.delete(q.queue);
      return false;
    }
    if (!this.overflowing.has(q.queue)) {
      this.overflowing.add(q.queue);
      this.o.onOverflow?.({ queue: q.queue, capacity: q.capacity, depth: q.depth, policy: q.policy });
    }
    return true;
  }

  /** Queues a venue report; past the bound it is still kept (never dropped) and the overflow is reported. */
  private pushReport(task: Task): Promise<void> {
    this.checkBound(this.reportQueue);
    return this.orders.events.push(task);
  }

  /** Orders the bridge can still match to venue reports: the open ones plus at most FINISHED_KEPT finished ones. */
  get tracked(): number {
    return this.byClientId.size;
  }

  /** Orders waiting to be placed or cancelled plus venue reports waiting to be applied. */
  get queueDepth(): number {
    return this.orders.place.depth + this.orders.urgent.depth + this.orders.events.depth;
  }

  /**
   * The kill switch: from now on cancels and closes go on urgent lanes (one per symbol, the symbols concurrently)
   * that do not wait behind queued or retrying placements, and their venue calls draw on the request budget's
   * reserve. An entry being retried is
   * stopped before its next re-send. Lasts until `releaseKillSwitch`.
   */
  engageKillSwitch(): void {
    this.emergency = true;
    const f = this.inFlight;
    if (f !== undefined && !this.isUrgentOrder(f.order)) f.abort.abort();
  }

  /** Back to one ordinary lane (the kill switch was released). */
  releaseKillSwitch(): void {
    this.emergency = false;
  }

  /** Puts a placement or cancel on its lane (while the kill switch is engaged: its symbol's urgent lane). */
  private enqueue(symbol: string, task: () => Promise<void>): void {
    if (this.emergency) this.orders.urgent.push(symbol, () => withVenueCallContext({ urgent: true }, task));
    else this.orders.place.push(task);
  }

  attach(listener: VenueListener): void {
    this.listener = listener;
  }

  /** The client order id sent to the venue for an order. */
  clientOrderIdOf(order: Readonly<Order>): string {
    const known = this.clientIdOf.get(order as Order);
    if (known !== undefined) return known;
    // A strategy's own client id is prefixed too: two deployments may pick the same one.
    return clientOrderIdFor(
      this.o.clientIdPrefix,
      order.clientOrderId === order.id ? order.id : order.clientOrderId,
      this.o.maxClientIdLength ?? DEFAULT_MAX_CLIENT_ID_LENGTH,
    );
  }

  /** Starts applying venue order and fill reports. */
  start(): void {
    this.subs.push(
      this.venue.watchOrders(
        (v) => this.pushReport(async () => this.applyOrderReport(v)),
        (e) => this.notice('warning', 'Order stream error', e.message),
      ),
      this.venue.watchFills(
        (f) =>
          this.pushReport(async () => {
            await this.applyFill(f);
          }),
        (e) => this.notice('warning', 'Fill stream error', e.message),
      ),
    );
  }

  /** Engine call: enqueue a placement (write-ahead, then the venue). */
  submit(order: Order): void {
    if (!this.quantiseOrder(order)) return;
    // A full order queue refuses new exposure (the strategy hears why); what reduces risk is always queued.
    if (this.checkBound(this.orderQueue) && !this.isUrgentOrder(order)) {
      this.listener?.onRejected(order, 'QUEUE_FULL', this.now());
      this.notice(
        'critical',
        'Order queue full: new entries refused',
        `${order.side} ${order.quantity} ${order.symbol} refused: ${this.orderQueue.depth} orders wait for the venue (bound ${this.maxQueued})`,
        order,
      );
      return;
    }
    const cid = this.clientOrderIdOf(order);
    this.clientIdOf.set(order, cid);
    this.byClientId.set(cid, order);
    if (order.tag === PROTECTIVE_STOP_TAG) this.stops.add(order);
    if (tracingEnabled()) {
      const span = startSpan('bridge.order', {
        attributes: { 'order.client_id': cid, 'order.symbol': order.symbol, 'order.side': order.side },
      });
      const ctx = contextWith(span);
      if (span !== undefined) this.traces.set(order, { span, ctx });
      this.enqueue(order.symbol, () => runIn(ctx, () => this.place(order, cid)));
      return;
    }
    this.enqueue(order.symbol, () => this.place(order, cid));
  }

  /** Runs `fn` in the order's trace context (as is without tracing). */
  private inOrder<T>(order: Order | undefined, fn: () => T): T {
    const t = order === undefined ? undefined : this.traces.get(order);
    return t === undefined ? fn() : runIn(t.ctx, fn);
  }

  /** Engine call: enqueue a cancel (after any placement queued before it on its lane). */
  cancel(order: Order, reason: string): void {
    this.checkBound(this.orderQueue);
    this.enqueue(order.symbol, () => this.cancelNow(order, reason));
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

  /** Whether a venue report with these ids matches an order the bridge tracks (startup reconciliation). */
  knowsOrder(venueOrderId: string, clientOrderId?: string): boolean {
    return this.match(venueOrderId, clientOrderId) !== undefined;
  }

  /** Open orders the bridge tracks (placed this run or adopted), e.g. for the kill switch and status. */
  trackedOpenOrders(): Order[] {
    const out: Order[] = [];
    for (const o of this.byClientId.values()) if (isOpen(o.status) || o.status === 'new') out.push(o);
    return out;
  }

  /** The venue holds positions (futures, margin): a short can exist there, and a protective stop travels reduce-only. */
  get holdsPositions(): boolean {
    return this.venue.capabilities.positions;
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
      await this.pushReport(async () => {
        if (await this.applyFill(f)) n++;
      });
    }
    return n;
  }

  /** Applies a venue order report (startup reconciliation of an order that finished while we were down). */
  applyReport(v: VenueOrder): Promise<void> {
    return this.pushReport(async () => this.applyOrderReport(v));
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

  /**
   * Resolves when every queued placement, cancel and report has been handled, including work one lane queues on
   * another while draining (a fill report that flattens the position cancels its protective stop on the placement
   * lane): a graceful stop that returned before that cancel was answered left the store saying the stop was open.
   */
  async drain(): Promise<void> {
    for (;;) {
      await this.orders.urgent.idle();
      await this.orders.place.idle();
      await this.orders.events.idle();
      if (this.orders.urgent.depth === 0 && this.orders.place.depth === 0 && this.orders.events.depth === 0) return;
    }
  }

  /** Stops the venue streams (orders stay on the venue). */
  close(): void {
    this.closed = true;
    for (const s of this.subs.splice(0)) s.close();
  }

  // ---- internals ----

  /**
   * Brings an order onto the instrument's grid before it is journaled and sent (docs/money.md, "Quantisation"): the
   * quantity toward zero onto the lot, a limit price to the passive side of the tick (buy down, sell up), a stop
   * trigger away from the market (buy up, sell down), in exact decimals — never a float step or `toFixed`. After a
   * fee taken in the base asset a position is not a whole number of lots, and the venue refuses a sell above the
   * credited balance: the lot rounding is what makes it sellable. A quantity below one lot (or a sell below the
   * minimum: dust) cannot be sent: the order is refused here. False when the order was refused.
   */
  private quantiseOrder(order: Order): boolean {
    const inst = this.instruments.get(order.symbol);
    // The order's exact decimals start here: what is journaled and sent is this text, the doubles its readings.
    const x = orderDecimals(order);
    if (inst === undefined) return true;
    if (order.price !== undefined) {
      const p = quantisePrice(inst, x.price ?? order.price, order.side, order.type === 'stop' ? 'stop' : 'limit');
      x.price = decimalText(p);
      order.price = p.toNumber();
    }
    if (order.stopPrice !== undefined) {
      const p = quantisePrice(inst, x.stopPrice ?? order.stopPrice, order.side, 'stop');
      x.stopPrice = decimalText(p);
      order.stopPrice = p.toNumber();
    }
    const q = quantiseQuantity(inst, x.quantity);
    const minimum = order.side === 'sell' ? exact(inst.minQty, `${inst.symbol} minQty`) : exactSteps(inst).lot;
    if (q.gte(minimum) && q.isPositive()) {
      x.quantity = decimalText(q);
      order.quantity = q.toNumber();
      return true;
    }
    this.listener?.onRejected(order, 'BELOW_ONE_LOT', this.now());
    this.notice(
      'info',
      `${order.side === 'sell' ? 'Sell' : 'Buy'} below one lot not sent`,
      `${order.quantity} ${order.symbol} is below the venue's smallest quantity ${order.side === 'sell' ? inst.minQty : inst.lotSize}${order.side === 'sell' ? ' (dust left on the account)' : ''}`,
      order,
    );
    return false;
  }

  /**
   * Whether a spot venue's stop locks the base asset this sell needs: the stop is then cancelled first (and the
   * protection re-placed at once for what is left). A venue with positions (derivatives) locks nothing.
   */
  private async stopLocksFunds(order: Order, stop: Order): Promise<boolean> {
    if (this.venue.capabilities.positions) return false;
    const need = order.quantity - order.filledQuantity;
    try {
      const free = (await this.venue.fetchBalances()).find((b) => b.asset === baseOf(order.symbol))?.free ?? 0;
      return free + 1e-12 < need;
    } catch (err) {
      // Unknown balance: freeing the stop's quantity is the way the exit cannot fail for funds.
      this.notice('warning', 'Balance lookup failed before an exit', (err as Error).message, stop);
      return true;
    }
  }

  /** Orders the kill switch itself sends or keeps: exits (sells, reduce-only) and protective stops. */
  private isUrgentOrder(order: Order): boolean {
    return order.reduceOnly || order.side === 'sell' || order.tag === PROTECTIVE_STOP_TAG;
  }

  /** An exit other than the protective stop: a sell, or a reduce-only order (a short's cover on a futures venue). */
  private isExit(order: Order): boolean {
    return (order.side === 'sell' || order.reduceOnly) && order.tag !== PROTECTIVE_STOP_TAG;
  }

  /** Asks the runtime to bring the symbol's protection back in line now. */
  private protect(order: Order, reason: string): void {
    if (!this.isExit(order)) return;
    this.o.onProtectionNeeded?.(order.symbol, reason);
  }

  private async place(order: Order, cid: string): Promise<void> {
    if (this.closed) return;
    if (order.status !== 'submitted') return; // cancelled before it left
    await this.o.journal.persistOrder(order, cid);
    let freedStop = false;
    if (order.side === 'sell' && order.tag !== PROTECTIVE_STOP_TAG) {
      // The stop stays unless it locks the funds this exit needs (spot): the position is never left bare for nothing.
      const stop = this.protectiveStop(order.symbol);
      if (stop !== undefined && (await this.stopLocksFunds(order, stop))) {
        await this.cancelNow(stop, 'funds_for_exit');
        freedStop = true;
      }
    }
    const x = orderDecimals(order);
    const req: VenueOrderRequest = {
      clientOrderId: cid,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      ...(order.price !== undefined ? { price: order.price } : {}),
      ...(order.stopPrice !== undefined ? { stopPrice: order.stopPrice } : {}),
      ...(order.type !== 'market' ? { timeInForce: order.timeInForce } : {}),
      // On a venue that holds positions (futures), a protective stop must never open one (e.g. after the position
      // was closed by another exit): it travels reduce-only. On spot it is a plain sell of what is held.
      ...(order.reduceOnly || (order.tag === PROTECTIVE_STOP_TAG && this.venue.capabilities.positions)
        ? { reduceOnly: true }
        : {}),
      exact: {
        quantity: x.quantity,
        ...(order.price !== undefined && x.price !== undefined ? { price: x.price } : {}),
        ...(order.stopPrice !== undefined && x.stopPrice !== undefined ? { stopPrice: x.stopPrice } : {}),
      },
    };
    const t0 = performance.now();
    let v: VenueOrder;
    const abort = new AbortController();
    // Only the ordinary lane's placement is one the kill switch may have to stop (the urgent lanes run side by side).
    const ordinaryLane = venueCallContext().urgent !== true;
    if (ordinaryLane) this.inFlight = { order, abort };
    try {
      // A placement queued before the kill switch and not sent yet is an entry we no longer want.
      if (this.emergency && !this.isUrgentOrder(order)) abort.abort();
      v = await withVenueCallContext({ signal: abort.signal }, () =>
        inSpan('venue.placeOrder', { attributes: { 'venue.id': this.id, 'order.client_id': cid } }, () =>
          this.venue.placeOrder(req),
        ),
      );
    } catch (err) {
      if (this.inFlight?.order === order) this.inFlight = undefined;
      const e = err instanceof Error ? err : new Error(String(err));
      if (err instanceof VenueError && err.code === 'VENUE_ORDER_UNKNOWN_STATE') {
        // The venue may or may not have it: keep it open and look it up later; never place it again blindly.
        this.unknown.add(order);
        this.notice('critical', 'Order state unknown', e.message, order, cid);
        if (freedStop) this.protect(order, 'exit_unknown');
        return;
      }
      this.listener?.onRejected(
        order,
        err instanceof VenueError ? (err.code ?? 'VENUE_REJECTED') : 'VENUE_ERROR',
        this.now(),
      );
      this.retireIfDone(order);
      const exit = this.isExit(order);
      this.notice(
        exit ? 'critical' : 'warning',
        exit ? 'Exit rejected by the venue: protection re-placed' : 'Order rejected by the venue',
        `${order.side} ${order.quantity} ${order.symbol}: ${e.message}`,
        order,
        cid,
      );
      this.protect(order, 'exit_rejected');
      return;
    }
    if (this.inFlight?.order === order) this.inFlight = undefined;
    this.o.onPlaced?.(order, performance.now() - t0);
    this.learn(order, v.venueOrderId);
    // The venue's id is durable before anything else happens to the order.
    await this.o.journal.persistOrder(order, cid);
    await this.pushReport(async () => this.applyOrderReport(v));
    // An exit resting on the venue (take-profit) holds part of the position: the stop covers the rest at once.
    if (freedStop) this.protect(order, 'exit_placed');
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
      await this.pushReport(async () => this.applyOrderReport(v, reason));
    } catch (err) {
      if (err instanceof VenueError && err.code === 'VENUE_ORDER_NOT_FOUND') {
        // Gone already: its final state tells whether it filled.
        const v = await this.venue.fetchOrder(ref);
        if (v !== null) await this.pushReport(async () => this.applyOrderReport(v, reason));
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
      for (const f of waiting) this.pushReport(async () => void (await this.applyFill(f)));
    }
  }

  private match(venueOrderId: string, clientOrderId: string | undefined): Order | undefined {
    return this.byVenueId.get(venueOrderId) ?? (clientOrderId ? this.byClientId.get(clientOrderId) : undefined);
  }

  private applyOrderReport(v: VenueOrder, reason?: string): void {
    const order = this.match(v.venueOrderId, v.clientOrderId);
    const l = this.listener;
    if (order === undefined || l === null) return;
    this.inOrder(order, () => this.applyMatchedReport(order, l, v, reason));
  }

  private applyMatchedReport(order: Order, l: VenueListener, v: VenueOrder, reason?: string): void {
    this.learn(order, v.venueOrderId);
    const wasOpen = !isTerminal(order.status);
    this.applyStatus(order, l, v, reason);
    this.retireIfDone(order);
    // An exit that ended without filling in full no longer covers its part of the position.
    if (wasOpen && isTerminal(order.status) && order.status !== 'filled') this.protect(order, `exit_${order.status}`);
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
    const order = this.match(f.venueOrderId, f.clientOrderId);
    if (order === undefined) {
      // Not ours (another system on the account) or the placement answer has not arrived yet: keep it a while.
      if (this.orphanFills.length < 1000 && !this.orphanFills.some((o) => o.venueTradeId === f.venueTradeId)) {
        this.orphanFills.push(f);
        this.watchOrphan(f);
      }
      return false;
    }
    if (!this.traces.has(order)) return this.bookFill(order, f);
    return this.inOrder(order, () =>
      inSpan('venue.fill', { attributes: { 'venue.trade_id': f.venueTradeId, 'fill.quantity': f.quantity } }, () =>
        this.bookFill(order, f),
      ),
    );
  }

  /** Stores then applies a fill of a known order; false when it was already booked. */
  private async bookFill(order: Order, f: VenueFill): Promise<boolean> {
    const cid = this.clientOrderIdOf(order);
    // Keyed by our client order id (unique per deployment and run) and the venue's trade id: a venue whose trade
    // ids start again (a restarted simulator) still gets every new fill booked.
    const key = fillKey(cid, f.venueTradeId);
    if (this.seenFills.has(key)) return false;
    this.seenFills.add(key);
    const feeInBase = f.feeCurrency === baseOf(f.symbol);
    const exactFill = exactFillOf(this.instruments.get(order.symbol), order.side, f, feeInBase);
    const price = exactFill.price.toNumber();
    const executed = exactFill.executed.toNumber();
    const booked = exactFill.booked.toNumber();
    const fee = exactFill.fee.toNumber();
    const fill: Fill = {
      id: `${this.id}:${cid}:${f.venueTradeId}`,
      orderId: cid,
      clientOrderId: cid,
      strategyId: this.o.strategyId,
      symbol: order.symbol,
      side: order.side,
      price,
      quantity: booked,
      fee,
      liquidity: f.liquidity,
      time: f.time,
      venueTradeId: f.venueTradeId,
      correlationId: order.correlationId,
      exact: fillDecimals(exactFill),
    };
    if (fill.exact?.executedQuantity !== undefined) fill.executedQuantity = executed;
    // Stored before it is applied: a crash in between is healed on restart by rebuilding from the store.
    await this.o.journal.persistFill(fill);
    this.listener?.onFill(order, price, executed, fee, f.liquidity, f.time, booked, exactFill);
    this.o.onFillApplied?.(order, fill);
    this.retireIfDone(order);
    return true;
  }

  /** Alerts once when a fill is still unmatched after the grace period (its order may never be known). */
  private watchOrphan(f: VenueFill): void {
    const t = setTimeout(() => {
      if (this.closed || this.alertedOrphans.has(f.venueTradeId)) return;
      if (!this.orphanFills.includes(f)) return;
      this.alertedOrphans.add(f.venueTradeId);
      this.notice(
        'critical',
        'Fill not matched to any order',
        `venue trade ${f.venueTradeId} of venue order ${f.venueOrderId}${f.clientOrderId ? ` (client id ${f.clientOrderId})` : ''}: ${f.side} ${f.quantity} ${f.symbol} @ ${f.price} is not booked; check the account`,
        undefined,
        f.clientOrderId,
      );
    }, this.o.unmatchedFillAlertMs ?? 15_000);
    t.unref();
  }

  /** A finished order joins the bounded list of finished ones; the oldest beyond the bound is forgotten. */
  private retireIfDone(order: Order): void {
    if (!isTerminal(order.status) || this.finished.has(order)) return;
    const t = this.traces.get(order);
    if (t !== undefined) {
      t.span.setAttribute('order.status', order.status);
      t.span.end();
      this.traces.delete(order);
    }
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
