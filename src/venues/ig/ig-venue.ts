/**
 * IG Markets behind the platform's `Venue` interface (VENUE-1, VENUE-2), over our own REST client. Market orders
 * become positions (opened by deal reference = our client order id, then confirmed), netted against opposite
 * positions of the same market by closing them first; limit and stop orders become working orders. Every opened
 * position and every working order carries a broker-side stop from the venue's stop policy. Orders, fills, prices
 * and positions are polled over REST, or, with `streaming` on, streamed from IG's Lightstreamer server (MARKET, TRADE,
 * ACCOUNT and CHART items) with REST polling kept behind the stream as its safety net.
 */
import type { Bar, OrderBook, Ticker } from '../../core/bar.js';
import { VenueError } from '../../core/errors.js';
import type { Instrument } from '../../core/instrument.js';
import { decimalText, exact, quantisePrice, quantiseQuantity, ZERO } from '../../core/money.js';
import type { Balance, Position } from '../../core/position.js';
import { TIMEFRAME_MS, type Timeframe } from '../../core/timeframe.js';
import type {
  OrderRef,
  Subscription,
  Venue,
  VenueCapabilities,
  VenueFill,
  VenueOrder,
  VenueOrderRequest,
} from '../../core/venue.js';
import {
  IG_RESOLUTIONS,
  type IgActivity,
  type IgClient,
  type IgConfirm,
  type IgMarket,
  type IgPosition,
  type IgStop,
  type IgWorkingOrder,
} from './client.js';
import { checkDeal, dealLevel, dealSize, lotStep, pointsOf, roundLevel, tickStep } from './dealing-rules.js';
import { IgStream, type IgStreamSubscription } from './stream.js';
import {
  ACCOUNT_FIELDS,
  balanceOfAccount,
  CandleAssembler,
  CHART_FIELDS,
  candleOf,
  IG_CHART_SCALES,
} from './stream-items.js';

/** IG's limit on a deal reference (`[A-Za-z0-9_-]{1,30}`): the bridge sizes client order ids to it. */
export const IG_MAX_DEAL_REFERENCE = 30;
const DEAL_REFERENCE = /^[A-Za-z0-9_-]{1,30}$/;

/** The broker-side stop every position gets: kind, distance in points, and the trailing step (trailing only). */
export interface IgStopPolicy {
  kind: 'normal' | 'trailing' | 'guaranteed';
  /** Points from the deal level. */
  distance: number;
  /** Points the trailing stop moves by (trailing only). */
  increment?: number;
}

/** Options of an IgVenue. */
export interface IgVenueOptions {
  /** Venue id (default 'ig'). */
  id?: string;
  client: IgClient;
  /** Our symbols (BASE/QUOTE) to IG epics, e.g. { 'EUR/USD': 'CS.D.EURUSD.CFD.IP' }. */
  markets: Record<string, string>;
  /** The broker-side stop attached to every position and working order. */
  stop: IgStopPolicy;
  /**
   * Free-margin floor: an opening deal is refused (VENUE_INSUFFICIENT_FUNDS) when IG's available funds less the
   * deal's margin would fall below this fraction of equity (default 0: only what IG itself refuses).
   */
  marginFloor?: number;
  /** Polling period of the REST streams (default 1 000 ms). */
  pollIntervalMs?: number;
  /**
   * Stream prices and deal updates from IG's Lightstreamer server (default false here; the runtime's config turns
   * it on). REST polling stays behind the stream, at `streamPollIntervalMs` while the stream is live and at
   * `pollIntervalMs` whenever it is not.
   */
  streaming?: boolean;
  /** Polling period while the stream is live: the safety net (default 30 000 ms). */
  streamPollIntervalMs?: number;
  /** Alerts: positions found without a stop, stop hits, allowance trouble. */
  onAlert?: (message: string) => void;
}

interface OrderRecord {
  order: VenueOrder;
  /** The IG deal id of a working order. */
  workingDealId?: string;
  cancelledByUs?: boolean;
  /** A market order's step whose answer was lost (a timeout): settled by the next lookup. */
  unresolved?: { kind: 'open' } | { kind: 'close'; dealId: string; sizeBefore: number; part: number; epic: string };
  /** Books a deal of a market order (its fill and the order's average). */
  addFill?: (c: IgConfirm, ref: string) => void;
  /** The placement is still running: a lookup reports it as it stands and settles nothing. */
  inFlight?: boolean;
  /** A working order that closes the position in this epic (forceOpen false). */
  closes?: string;
}

/** One REST poller: its timer, whether a run is in flight (and another asked for), and how to run it now. */
interface PollState {
  closed: boolean;
  timer?: NodeJS.Timeout;
  running: boolean;
  again: boolean;
  kick?: () => void;
}

const FINAL = new Set(['filled', 'cancelled', 'rejected', 'expired']);
/** The fields of IG's MARKET item the venue streams. */
const MARKET_FIELDS = ['BID', 'OFFER', 'UPDATE_TIME', 'MARKET_STATE'] as const;

const fail = (message: string, code: string, retryable = false) =>
  new VenueError(message, { retryable, venue: 'ig', code });

const parseIgTime = (s: string | undefined, fallback: number): number => {
  if (!s) return fallback;
  const t = Date.parse(s.endsWith('Z') ? s : `${s}Z`);
  return Number.isFinite(t) ? t : fallback;
};

/** An IG account as a `Venue`. */
export class IgVenue implements Venue {
  readonly id: string;
  readonly capabilities: VenueCapabilities = {
    stopOrders: true,
    modifyOrder: false,
    streaming: false,
    positions: true,
    clientOrderIds: true,
  };
  /** The REST client (exposed for diagnostics and tests). */
  readonly client: IgClient;
  private readonly epics: Map<string, string>;
  private readonly symbols = new Map<string, string>();
  private readonly marketCache = new Map<string, IgMarket>();
  private readonly records = new Map<string, OrderRecord>(); // client order id → record
  private readonly byVenueId = new Map<string, string>(); // venue order id → client order id
  private readonly fills: VenueFill[] = [];
  private readonly fillListeners = new Set<(f: VenueFill) => void>();
  private readonly subs = new Set<PollState>();
  /** IG's streaming connection (when `streaming` is on and it could log in). */
  private stream: IgStream | undefined;
  /** Pollers to run at once when the stream reports a deal (the REST read stays the truth). */
  private readonly dealKicks = new Set<() => void>();
  /** Positions last seen (deal id → position), to notice the ones IG closed (a stop or limit hit). */
  private knownPositions = new Map<string, IgPosition>();
  /** The account's figures from IG's ACCOUNT item (or from the safety-net REST read while the stream is live). */
  private account: Balance | undefined;
  /** The ACCOUNT subscription. */
  private accountItem: IgStreamSubscription | undefined;
  /** ACCOUNT updates received: a safety-net read that overlapped one is dropped as possibly older. */
  private accountUpdates = 0;
  /** When the account's figures last arrived (an ACCOUNT update or a safety-net read), on the client's clock. */
  private accountAt = Number.NEGATIVE_INFINITY;
  /** A deal happened since the last ACCOUNT update (ours, or one the TRADE item reported): the figures may predate it. */
  private accountStale = false;
  /** Position deals of ours sent and not yet answered. */
  private dealsInFlight = 0;
  /** Deal ids we are closing ourselves right now (not a stop hit). */
  private readonly closing = new Set<string>();
  /** Counts our own closes: a position poll that overlapped one is discarded rather than diffed. */
  private ownCloses = 0;
  private currency = 'USD';
  private connected = false;

  constructor(private readonly opts: IgVenueOptions) {
    this.id = opts.id ?? 'ig';
    this.client = opts.client;
    this.epics = new Map(Object.entries(opts.markets));
    for (const [symbol, epic] of this.epics) this.symbols.set(epic, symbol);
    const s = opts.stop;
    if (!(s.distance > 0)) throw fail(`${this.id}: stop.distance must be a positive number of points`, 'VENUE_CONFIG');
    if (s.kind === 'trailing' && !(s.increment !== undefined && s.increment > 0))
      throw fail(`${this.id}: a trailing stop needs stop.increment (points, > 0)`, 'VENUE_CONFIG');
  }

  /**
   * Logs in, reads the allowances, the markets and the account currency, checks the stop policy against every
   * market's dealing rules, and reconciles the positions already open: each one without a broker-side stop gets one.
   */
  async connect(): Promise<void> {
    if (this.connected) return;
    await this.client.connect();
    const account = (await this.client.accounts()).find((a) => a.accountId === this.client.accountId);
    if (account) this.currency = account.currency;
    for (const epic of this.epics.values()) {
      const m = await this.loadMarket(epic);
      const price = m.offer ?? m.bid ?? Number.NaN;
      // A closed market (the weekend) has no quote: its rules are checked on its first deal instead.
      if (!Number.isFinite(price)) continue;
      // A stop policy the market cannot take fails here, once, rather than on every deal.
      checkDeal(m, {
        size: pointsOf(m.minDealSize, price),
        price,
        stopDistance: this.opts.stop.distance,
        guaranteedStop: this.opts.stop.kind === 'guaranteed',
      });
    }
    await this.reconcileStops();
    if (this.opts.streaming) await this.startStream();
    this.connected = true;
  }

  /** True while IG's stream delivers updates (polling has slowed to the safety net). */
  get streamLive(): boolean {
    return this.stream?.live ?? false;
  }

  // The stream is the fast path only: a failure to start it is alerted, and polling carries on at full rate.
  private async startStream(): Promise<void> {
    let wasConnected = false;
    const stream = new IgStream(
      () => this.client.streamLogin(),
      (status, detail) => {
        if (status === 'ERROR') this.opts.onAlert?.(`${this.id}: IG stream: ${detail}; polling over REST meanwhile`);
        const connected = stream.connected;
        // A drop: every poller slowed behind the stream polls at the full rate again, starting now.
        if (wasConnected && !connected && this.stream === stream) {
          this.opts.onAlert?.(
            `${this.id}: IG stream down (${status}); polling over REST at the full rate until it is back`,
          );
          this.kickAll();
        }
        wasConnected = connected;
      },
    );
    this.stream = stream;
    try {
      await stream.connect();
      const account = this.client.accountId;
      if (account) {
        // Every deal on the account (ours, or a stop IG executed) arrives as an OPU: read positions and orders now;
        // and once the subscription is active, since a deal before it was not streamed. The account's figures
        // from before that deal are not used until the ACCOUNT item updates.
        stream.subscribe(
          'DISTINCT',
          [`TRADE:${account}`],
          ['OPU'],
          () => {
            this.accountStale = true;
            this.kickDeals();
          },
          () => this.kickDeals(),
        );
        this.accountItem = stream.subscribe(
          'MERGE',
          [`ACCOUNT:${account}`],
          ACCOUNT_FIELDS,
          (_item, v) => {
            const b = balanceOfAccount(v, this.currency);
            if (!b) return;
            this.account = b;
            this.accountUpdates++;
            this.accountAt = this.client.time();
            if (this.dealsInFlight === 0) this.accountStale = false;
          },
          // Subscribed (again, after a drop): the figures held are from before; IG's snapshot follows.
          () => {
            this.accountStale = true;
          },
        );
        // The safety net: while the stream is live, a REST read of the account when the ACCOUNT item has been
        // silent for `streamPollIntervalMs` (when it is not live, every balance read goes to REST anyway).
        this.poll(
          async () => {
            const quiet = this.client.time() - this.accountAt >= (this.opts.streamPollIntervalMs ?? 30_000);
            if (!stream.live || !quiet) return;
            const seen = this.accountUpdates;
            const b = await this.restBalance();
            this.accountAt = this.client.time();
            if (b && seen === this.accountUpdates && this.dealsInFlight === 0 && !this.accountStale) this.account = b;
          },
          () => undefined,
          undefined,
          { delayFirst: true, periodMs: this.opts.streamPollIntervalMs ?? 30_000 },
        );
      }
    } catch (err) {
      this.opts.onAlert?.(`${this.id}: IG stream not started (${(err as Error).message}); polling over REST`);
    }
  }

  // Runs every poller now (the stream dropped: nothing slowed behind it may wait out its long period).
  private kickAll(): void {
    for (const s of this.subs) s.kick?.();
  }

  // A position deal of ours: while it runs, and until the ACCOUNT item updates after it, balances come from REST.
  private async dealing<T>(deal: () => Promise<T>): Promise<T> {
    this.dealsInFlight++;
    this.accountStale = true;
    try {
      return await deal();
    } finally {
      this.dealsInFlight--;
    }
  }

  private kickDeals(): void {
    for (const kick of this.dealKicks) kick();
  }

  async close(): Promise<void> {
    this.stream?.close();
    this.stream = undefined;
    this.accountItem = undefined;
    this.account = undefined;
    this.dealKicks.clear();
    for (const s of this.subs) {
      s.closed = true;
      if (s.timer) clearTimeout(s.timer);
    }
    this.subs.clear();
    this.fillListeners.clear();
    this.connected = false;
  }

  /**
   * Restart reconciliation of broker-side stops: every open position without a stop gets one at the policy's
   * distance from the current price (an alert names it). Returns the deal ids that got a stop.
   */
  async reconcileStops(): Promise<string[]> {
    const positions = await this.client.positions();
    const fixed: string[] = [];
    for (const { position: p, market } of positions) {
      this.knownPositions.set(p.dealId, { position: p, market });
      if (p.stopLevel !== null) continue;
      const m = await this.loadMarket(market.epic);
      const distance = Math.max(this.opts.stop.distance, pointsOf(m.minNormalStopOrLimitDistance, p.level));
      // A long's stop sits below the bid, a short's above the offer: rounded away from the market.
      const stopLevel =
        p.direction === 'BUY'
          ? dealLevel(m, exact(market.bid ?? p.level).minus(exact(distance)), 'floor')
          : dealLevel(m, exact(market.offer ?? p.level).plus(exact(distance)), 'ceil');
      try {
        await this.client.amendPosition(p.dealId, { stopLevel, limitLevel: p.limitLevel });
      } catch (err) {
        // A closed market or a refused level must not stop the start: the position stays listed, loudly.
        this.opts.onAlert?.(
          `${this.id}: position ${p.dealId} (${market.epic} ${p.direction} ${p.size}) has NO broker-side stop and setting one at ${stopLevel} failed: ${(err as Error).message}`,
        );
        continue;
      }
      this.knownPositions.set(p.dealId, { position: { ...p, stopLevel }, market });
      fixed.push(p.dealId);
      this.opts.onAlert?.(
        `${this.id}: position ${p.dealId} (${market.epic} ${p.direction} ${p.size}) had no broker-side stop; stop set at ${stopLevel}`,
      );
    }
    return fixed;
  }

  /** Moves the stop and/or limit of one IG position (deal id), confirmed. */
  async amendPosition(dealId: string, levels: { stopLevel?: number | null; limitLevel?: number | null }) {
    return this.client.amendPosition(dealId, levels);
  }

  /** IG's own view of the open positions, with their broker-side stops (one entry per deal). */
  async igPositions(): Promise<IgPosition[]> {
    return this.client.positions();
  }

  async fetchInstruments(): Promise<Instrument[]> {
    const out: Instrument[] = [];
    for (const [symbol, epic] of this.epics) {
      const m = this.marketCache.get(epic) ?? (await this.loadMarket(epic));
      out.push(this.instrumentOf(symbol, m));
    }
    return out;
  }

  /**
   * The account currency: free = IG's available funds, used = margin (deposit), total = their sum (equity). While
   * the ACCOUNT item streams (and has updated since our last deal) from its figures, without a request; else from
   * REST `/accounts`.
   */
  async fetchBalances(): Promise<Balance[]> {
    if (this.accountStreamed && this.account) return [{ ...this.account }];
    const b = await this.restBalance();
    return b ? [b] : [];
  }

  /** True when balances are read from the ACCOUNT item now (no REST request). */
  get accountStreamed(): boolean {
    return Boolean(this.accountItem?.active && this.account && !this.accountStale && this.dealsInFlight === 0);
  }

  private async restBalance(): Promise<Balance | undefined> {
    const accounts = await this.client.accounts();
    const a = accounts.find((x) => x.accountId === this.client.accountId) ?? accounts[0];
    if (!a) return undefined;
    const { available, deposit } = a.balance;
    return { asset: a.currency, free: available, used: deposit, total: available + deposit };
  }

  /** Net position per market (IG may hold several deals per market; they are summed, price size-weighted). */
  async fetchPositions(): Promise<Position[]> {
    const bySymbol = new Map<string, Position>();
    for (const { position: p, market } of await this.client.positions()) {
      const symbol = this.symbols.get(market.epic) ?? market.epic;
      const q = p.direction === 'BUY' ? p.size : -p.size;
      const opened = parseIgTime(p.createdDateUTC, this.client.time());
      const cur = bySymbol.get(symbol);
      if (!cur) {
        bySymbol.set(symbol, { symbol, quantity: q, averagePrice: p.level, realizedPnl: 0, openedAt: opened, fees: 0 });
        continue;
      }
      const total = cur.quantity + q;
      // Same-direction deals average; opposite ones (hedged deals opened elsewhere) keep the larger side's price.
      if (Math.sign(cur.quantity) === Math.sign(q))
        cur.averagePrice = (cur.averagePrice * Math.abs(cur.quantity) + p.level * p.size) / Math.abs(total);
      else if (Math.abs(q) > Math.abs(cur.quantity)) cur.averagePrice = p.level;
      cur.quantity = total;
      cur.openedAt = Math.min(cur.openedAt, opened);
    }
    return [...bySymbol.values()];
  }

  async placeOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    if (this.records.has(req.clientOrderId)) {
      const o = await this.fetchOrder({ symbol: req.symbol, clientOrderId: req.clientOrderId });
      if (o) return o;
    }
    if (!DEAL_REFERENCE.test(req.clientOrderId)) {
      throw fail(
        `${this.id}: client order id "${req.clientOrderId}" is not a valid IG deal reference (1-30 of A-Z a-z 0-9 _ -)`,
        'VENUE_INVALID_ORDER',
      );
    }
    const epic = this.epicOf(req.symbol);
    if (req.type === 'stop_limit') throw fail(`${this.id}: IG has no stop-limit orders`, 'VENUE_INVALID_ORDER');
    // A placement whose answer was lost: IG knows the deal by its reference (one request; unknown = new).
    if (
      await this.client.confirm(req.clientOrderId).then(
        () => true,
        (err: unknown) => {
          if (err instanceof VenueError && !err.retryable) return false;
          throw err;
        },
      )
    ) {
      const earlier = await this.fetchOrder({ symbol: req.symbol, clientOrderId: req.clientOrderId });
      if (earlier) return earlier;
    }
    const m = await this.loadMarket(epic);
    const inst = this.instrumentOf(req.symbol, m);
    // The bridge's exact decimal, on IG's lot toward zero (docs/money.md).
    const size = quantiseQuantity(inst, req.exact?.quantity ?? req.quantity).toNumber();
    if (req.type === 'market') return this.marketOrder(req, epic, m, size);
    return this.workingOrder(req, epic, m, inst, size);
  }

  private async marketOrder(req: VenueOrderRequest, epic: string, m: IgMarket, size: number): Promise<VenueOrder> {
    const direction = req.side === 'buy' ? 'BUY' : 'SELL';
    const price = (direction === 'BUY' ? m.offer : m.bid) ?? Number.NaN;
    // IG keeps opposite deals side by side unless told to net; we net, as the engine holds one position per symbol.
    const opposite = (await this.client.positions()).filter(
      (p) => p.market.epic === epic && p.position.direction !== direction,
    );
    const closable = opposite.reduce((s, p) => s.plus(exact(p.position.size, 'IG position size')), ZERO);
    const closeSize = Math.min(size, closable.toNumber());
    const openSize = req.reduceOnly ? 0 : dealSize(m, exact(size).minus(exact(closeSize)));
    if (closeSize <= 0 && openSize <= 0)
      throw fail(
        `${this.id}: reduce-only ${req.side} of ${req.symbol} has no position to reduce`,
        'VENUE_INVALID_ORDER',
      );
    // Check the opening part before anything is sent, so a refusal leaves no half-done netting behind.
    const stop = this.stopFor(m);
    if (openSize > 0) {
      checkDeal(m, {
        size: openSize,
        price,
        stopDistance: stop.distance,
        guaranteedStop: stop.kind === 'guaranteed',
      });
      await this.checkMarginFloor(m, openSize, price);
    }
    const now = this.client.time();
    const order: VenueOrder = {
      venueOrderId: req.clientOrderId,
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      type: 'market',
      status: 'submitted',
      quantity: size,
      filledQuantity: 0,
      averagePrice: 0,
      createdAt: now,
      updatedAt: now,
    };
    // IG's sizes and levels read as the decimals they stand for; the average is an exact division.
    let notional = ZERO;
    let filled = ZERO;
    const addFill = (c: IgConfirm, ref: string) => {
      const qty = c.size ?? 0;
      const level = c.level ?? price;
      const q = exact(qty, 'IG deal size');
      const l = exact(level, 'IG deal level');
      notional = notional.plus(q.mul(l));
      filled = filled.plus(q);
      order.filledQuantity = filled.toNumber();
      order.averagePrice = filled.isZero() ? 0 : notional.div(filled).toNumber();
      order.exact = {
        filledQuantity: decimalText(filled),
        averagePrice: filled.isZero() ? '0' : decimalText(notional.div(filled)),
      };
      order.updatedAt = parseIgTime(c.date, this.client.time());
      this.addFill({
        venueTradeId: ref,
        venueOrderId: order.venueOrderId,
        clientOrderId: order.clientOrderId,
        symbol: req.symbol,
        side: req.side,
        price: level,
        quantity: qty,
        fee: 0,
        feeCurrency: this.currency,
        liquidity: 'taker',
        time: order.updatedAt,
        exact: { price: decimalText(l), quantity: decimalText(q), fee: '0' },
      });
    };
    // The record exists before anything is sent: a lookup while the deal runs, or after it broke, finds it.
    const rec: OrderRecord = { order, addFill, inFlight: true };
    this.remember(rec);
    try {
      let left = closeSize;
      for (const { position: p } of opposite) {
        if (left <= 0) break;
        const part = Math.min(left, p.size);
        rec.unresolved = { kind: 'close', dealId: p.dealId, sizeBefore: p.size, part, epic };
        await this.closeOwn(p, part, addFill);
        left = dealSize(m, exact(left).minus(exact(part)));
      }
      if (openSize > 0) {
        rec.unresolved = { kind: 'open' };
        const c = await this.dealing(() =>
          this.client.openPosition({
            epic,
            direction,
            size: openSize,
            currencyCode: this.currency,
            dealReference: req.clientOrderId,
            stop,
            market: m,
          }),
        );
        addFill(c, c.dealReference);
      }
      rec.unresolved = undefined;
    } catch (err) {
      if (err instanceof VenueError && !err.retryable) {
        // IG answered (a refusal): what was done is known. Nothing done = nothing to find; else the rest expired.
        rec.unresolved = undefined;
        if (order.filledQuantity === 0) this.forget(order);
        else order.status = 'expired';
      }
      // A lost answer stays unresolved: the next lookup asks IG what became of that step.
      throw err;
    } finally {
      rec.inFlight = false;
    }
    order.status = 'filled';
    return { ...order };
  }

  // Closes part of one of our positions (_method: DELETE), keeping the stop-hit watcher's view in step.
  private async closeOwn(p: IgPosition['position'], part: number, addFill: (c: IgConfirm, ref: string) => void) {
    this.closing.add(p.dealId);
    this.ownCloses++;
    try {
      const c = await this.dealing(() => this.client.closePosition(p.dealId, p.direction, part));
      addFill(c, c.dealReference);
      const known = this.knownPositions.get(p.dealId);
      if (known && known.position.size - part > 1e-9)
        this.knownPositions.set(p.dealId, {
          ...known,
          position: { ...known.position, size: known.position.size - part },
        });
      else this.knownPositions.delete(p.dealId);
    } catch (err) {
      // A lost answer is settled by the order's lookup, never by the stop-hit watcher.
      this.knownPositions.delete(p.dealId);
      throw err;
    } finally {
      this.closing.delete(p.dealId);
      this.ownCloses++;
    }
  }

  /**
   * Settles a market order whose last step lost its answer: an open is looked up by its deal reference, a close by
   * how much the position shrank. The order then ends filled, or expired with what was done; with nothing done it
   * is forgotten (null: safe to place again).
   */
  private async resolve(rec: OrderRecord): Promise<void> {
    const u = rec.unresolved;
    if (!u || !rec.addFill || rec.inFlight) return;
    if (u.kind === 'open') {
      const c = await this.client.confirm(rec.order.clientOrderId).catch((err: unknown) => {
        if (err instanceof VenueError && !err.retryable) return undefined;
        throw err;
      });
      if (c && c.dealStatus === 'ACCEPTED') rec.addFill(c, c.dealReference);
    } else {
      const booked = new Set(this.fills.map((f) => f.venueTradeId));
      const record = await this.closeActivity(u.dealId, rec.order.createdAt, booked);
      const positions = record ? [] : await this.client.positions();
      const now = positions.find((x) => x.position.dealId === u.dealId);
      const done = record ? record.quantity : Math.min(u.part, u.sizeBefore - (now?.position.size ?? 0));
      if (record) {
        rec.addFill(
          {
            dealReference: record.venueTradeId,
            dealId: u.dealId,
            dealStatus: 'ACCEPTED',
            reason: 'SUCCESS',
            status: 'CLOSED',
            size: record.quantity,
            level: record.price,
            date: new Date(record.time).toISOString().slice(0, 23),
          },
          record.venueTradeId,
        );
        this.opts.onAlert?.(
          `${this.id}: the answer to closing ${done} of ${u.dealId} was lost; IG's history shows it dealt at ${record.price}`,
        );
      } else if (done > 1e-9) {
        const quote = now?.market ?? positions.find((x) => x.market.epic === u.epic)?.market;
        const m = quote ? undefined : await this.loadMarket(u.epic);
        const bid = quote?.bid ?? m?.bid ?? null;
        const offer = quote?.offer ?? m?.offer ?? null;
        // IG does not say at what level a lost close dealt: the current quote on the closing side stands in.
        const level = (rec.order.side === 'buy' ? offer : bid) ?? rec.order.averagePrice;
        rec.addFill(
          {
            dealReference: `lost:${u.dealId}`,
            dealId: u.dealId,
            dealStatus: 'ACCEPTED',
            reason: 'SUCCESS',
            status: 'CLOSED',
            size: done,
            level,
          },
          `lost:${u.dealId}:${rec.order.clientOrderId}`,
        );
        this.opts.onAlert?.(
          `${this.id}: the answer to closing ${done} of ${u.dealId} was lost; booked at the current quote ${level}`,
        );
      }
    }
    rec.unresolved = undefined;
    if (rec.order.filledQuantity === 0) this.forget(rec.order);
    else rec.order.status = rec.order.filledQuantity >= rec.order.quantity - 1e-9 ? 'filled' : 'expired';
  }

  private forget(order: VenueOrder): void {
    this.records.delete(order.clientOrderId);
    this.byVenueId.delete(order.venueOrderId);
  }

  private async workingOrder(
    req: VenueOrderRequest,
    epic: string,
    m: IgMarket,
    inst: Instrument,
    size: number,
  ): Promise<VenueOrder> {
    const raw = req.type === 'limit' ? req.price : req.stopPrice;
    if (raw === undefined || !(raw > 0))
      throw fail(
        `${this.id}: a ${req.type} order needs a positive ${req.type === 'limit' ? 'price' : 'stopPrice'}`,
        'VENUE_INVALID_ORDER',
      );
    // On the tick by docs/money.md: a limit to the passive side, a stop away from the market (exact decimals).
    const rawText = (req.type === 'limit' ? req.exact?.price : req.exact?.stopPrice) ?? raw;
    const level = quantisePrice(inst, rawText, req.side, req.type === 'limit' ? 'limit' : 'stop').toNumber();
    // An order against the open position (reduce-only, or the engine's protective stop or take-profit) closes it:
    // it nets when it triggers (forceOpen false, which IG allows no attached stop with). Sent as an opening order it
    // would open an opposite position instead.
    const direction = req.side === 'buy' ? 'BUY' : 'SELL';
    const against = (await this.client.positions()).some(
      (p) => p.market.epic === epic && p.position.direction !== direction,
    );
    const opening = !req.reduceOnly && !against;
    const stop = this.stopFor(m);
    checkDeal(m, {
      size,
      price: level,
      ...(opening ? { stopDistance: stop.distance, guaranteedStop: stop.kind === 'guaranteed' } : {}),
    });
    if (opening) await this.checkMarginFloor(m, size, level);
    const c = await this.client.createWorkingOrder({
      epic,
      direction: req.side === 'buy' ? 'BUY' : 'SELL',
      size,
      level,
      type: req.type === 'limit' ? 'LIMIT' : 'STOP',
      currencyCode: this.currency,
      dealReference: req.clientOrderId,
      forceOpen: opening,
      // IG's working orders take a normal or guaranteed stop; a trailing policy rests as a normal stop until filled.
      ...(opening ? { stopDistance: stop.distance, guaranteedStop: stop.kind === 'guaranteed' } : {}),
    });
    const dealId = c.dealId ?? req.clientOrderId;
    const now = parseIgTime(c.date, this.client.time());
    const order: VenueOrder = {
      venueOrderId: dealId,
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      status: 'accepted',
      quantity: size,
      filledQuantity: 0,
      averagePrice: 0,
      ...(req.type === 'limit' ? { price: level } : { stopPrice: level }),
      createdAt: now,
      updatedAt: now,
    };
    this.remember({ order, workingDealId: dealId, ...(opening ? {} : { closes: epic }) });
    return { ...order };
  }

  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    const order = await this.fetchOrder(ref);
    if (!order)
      throw fail(`${this.id}: no order ${ref.clientOrderId ?? ref.venueOrderId} to cancel`, 'VENUE_ORDER_NOT_FOUND');
    if (FINAL.has(order.status)) {
      if (order.status === 'filled') return order;
      throw fail(`${this.id}: order ${order.clientOrderId} is already ${order.status}`, 'VENUE_ORDER_NOT_FOUND');
    }
    const rec = this.records.get(order.clientOrderId) ?? { order, workingDealId: order.venueOrderId };
    rec.cancelledByUs = true;
    try {
      await this.client.deleteWorkingOrder(rec.workingDealId ?? order.venueOrderId);
    } catch (err) {
      rec.cancelledByUs = false;
      // Gone already (filled or cancelled meanwhile): report what it became.
      if (err instanceof VenueError && !err.retryable) {
        const now = await this.fetchOrder(ref);
        if (now && now.status === 'filled') return now;
      }
      throw err;
    }
    rec.order = { ...rec.order, status: 'cancelled', updatedAt: this.client.time() };
    this.remember(rec);
    return { ...rec.order };
  }

  async modifyOrder(): Promise<VenueOrder> {
    throw fail(
      `${this.id}: modifying IG working orders is not supported; cancel and place again`,
      'VENUE_NOT_SUPPORTED',
    );
  }

  /**
   * Looks an order up: our record of it, refreshed against IG's working orders; else IG's confirmation of the
   * deal reference (= our client order id); else a position carrying that reference. A rejected deal is null:
   * nothing was created, so placing again is safe.
   */
  async fetchOrder(ref: OrderRef): Promise<VenueOrder | null> {
    const cid = ref.clientOrderId ?? (ref.venueOrderId ? this.byVenueId.get(ref.venueOrderId) : undefined);
    const rec = cid !== undefined ? this.records.get(cid) : undefined;
    if (rec) {
      if (rec.unresolved && !rec.inFlight) {
        await this.resolve(rec);
        if (!this.records.has(rec.order.clientOrderId)) return null;
      }
      if (!FINAL.has(rec.order.status)) await this.refreshWorking([rec]);
      return { ...rec.order };
    }
    const reference = ref.clientOrderId ?? ref.venueOrderId;
    if (reference === undefined || !DEAL_REFERENCE.test(reference)) return null;
    let confirm: IgConfirm | undefined;
    try {
      confirm = await this.client.confirm(reference);
    } catch (err) {
      if (!(err instanceof VenueError) || err.retryable) throw err;
    }
    if (confirm && confirm.dealStatus === 'REJECTED') return null;
    const working = await this.client.workingOrders();
    const w = working.find(
      (x) =>
        x.workingOrderData.dealId === (confirm?.dealId ?? reference) || x.workingOrderData.dealId === ref.venueOrderId,
    );
    if (w) {
      const order = this.fromWorking(w, ref.clientOrderId ?? reference);
      this.remember({ order, workingDealId: w.workingOrderData.dealId });
      return { ...order };
    }
    const positions = await this.client.positions();
    const p = positions.find((x) => x.position.dealReference === reference || x.position.dealId === confirm?.dealId);
    if (p || (confirm && confirm.status === 'OPEN')) {
      const level = p?.position.level ?? confirm?.level ?? 0;
      const size = p?.position.size ?? confirm?.size ?? 0;
      const direction = p?.position.direction ?? confirm?.direction ?? 'BUY';
      const time = parseIgTime(p?.position.createdDateUTC ?? confirm?.date, this.client.time());
      const symbol = this.symbols.get(p?.market.epic ?? confirm?.epic ?? '') ?? ref.symbol;
      const order: VenueOrder = {
        venueOrderId: reference,
        clientOrderId: reference,
        symbol,
        side: direction === 'BUY' ? 'buy' : 'sell',
        type: 'market',
        status: 'filled',
        quantity: size,
        filledQuantity: size,
        averagePrice: level,
        createdAt: time,
        updatedAt: time,
      };
      this.remember({ order });
      return { ...order };
    }
    return null;
  }

  async fetchOpenOrders(symbol?: string): Promise<VenueOrder[]> {
    const working = await this.client.workingOrders();
    const open = new Set(working.map((w) => w.workingOrderData.dealId));
    // Our working orders that left the list have filled or been cancelled: settle them now.
    const gone = [...this.records.values()].filter(
      (r) => r.workingDealId !== undefined && !FINAL.has(r.order.status) && !open.has(r.workingDealId),
    );
    if (gone.length > 0) await this.settleVanished(gone);
    const out: VenueOrder[] = [];
    for (const w of working) {
      const cid = this.byVenueId.get(w.workingOrderData.dealId) ?? '';
      const o = this.fromWorking(w, cid);
      if (symbol === undefined || o.symbol === symbol) out.push(o);
    }
    return out;
  }

  /**
   * Fills from IG's activity history (`GET /history/activity`, so a restart still sees the deals of an earlier
   * process; default window: the last 7 days), by deal reference; deals this process made keep the order ids it
   * gave them. Our deals the history does not list yet are added from memory.
   */
  async fetchFills(symbol?: string, since?: number): Promise<VenueFill[]> {
    const from = since ?? this.client.time() - 7 * 86_400_000;
    const mine = new Map(this.fills.map((f) => [f.venueTradeId, f]));
    const seen = new Set<string>();
    const out: VenueFill[] = [];
    const wanted = (f: { symbol: string; time: number }) =>
      (symbol === undefined || f.symbol === symbol) && (since === undefined || f.time >= since);
    for (const a of await this.client.activity(from)) {
      const listed = this.fillOf(a);
      if (!listed) continue;
      seen.add(listed.venueTradeId);
      // Our own record of the deal wins (its order ids, its time): filtered as it is returned.
      const f = mine.get(listed.venueTradeId) ?? listed;
      if (wanted(f)) out.push({ ...f });
    }
    for (const f of this.fills) if (!seen.has(f.venueTradeId) && wanted(f)) out.push({ ...f });
    return out.sort((x, y) => x.time - y.time);
  }

  // One dealt activity (a position opened, closed or partly closed) as a fill keyed by its deal reference.
  private fillOf(a: IgActivity): VenueFill | undefined {
    const d = a.details;
    if (!d || a.type !== 'POSITION' || a.status !== 'ACCEPTED') return undefined;
    if (!d.dealReference || !d.direction || d.size == null || d.level == null) return undefined;
    const actions = d.actions.map((x) => x.actionType);
    const opened = actions.includes('POSITION_OPENED');
    if (!opened && !actions.some((t) => t === 'POSITION_CLOSED' || t === 'POSITION_PARTIALLY_CLOSED')) return undefined;
    return {
      venueTradeId: d.dealReference,
      // An open carries our client order id as its reference; a close's reference is IG's own.
      venueOrderId: opened ? d.dealReference : `deal:${d.dealReference}`,
      ...(opened ? { clientOrderId: d.dealReference } : {}),
      symbol: this.symbols.get(a.epic) ?? a.epic,
      side: d.direction === 'BUY' ? 'buy' : 'sell',
      price: d.level,
      quantity: d.size,
      fee: 0,
      feeCurrency: this.currency,
      liquidity: 'taker',
      time: parseIgTime(a.date, 0),
    };
  }

  // IG's record of a close of `dealId` at or after `after` (not one of `except`): its reference, size and level.
  private async closeActivity(dealId: string, after: number, except: Set<string>): Promise<VenueFill | undefined> {
    const acts = await this.client.activity(after - 60_000);
    for (const a of acts) {
      const d = a.details;
      const closes = d?.actions.some(
        (x) =>
          x.affectedDealId === dealId &&
          (x.actionType === 'POSITION_CLOSED' || x.actionType === 'POSITION_PARTIALLY_CLOSED'),
      );
      if (!closes) continue;
      const f = this.fillOf(a);
      if (f && f.time >= after - 1_000 && !except.has(f.venueTradeId)) return f;
    }
    return undefined;
  }

  async fetchTicker(symbol: string): Promise<Ticker> {
    const m = await this.loadMarket(this.epicOf(symbol));
    if (m.bid === null || m.offer === null)
      throw fail(`${this.id}: ${symbol} has no quote (market ${m.marketStatus})`, 'VENUE_UNAVAILABLE', true);
    return { symbol, time: this.client.time(), bid: m.bid, ask: m.offer, last: (m.bid + m.offer) / 2 };
  }

  async fetchCandles(symbol: string, timeframe: Timeframe, since?: number, limit = 100): Promise<Bar[]> {
    const resolution = IG_RESOLUTIONS[timeframe];
    if (!resolution) throw fail(`${this.id}: IG has no ${timeframe} bars`, 'VENUE_NOT_SUPPORTED');
    const bars = await this.client.prices(this.epicOf(symbol), resolution, Math.max(1, Math.min(limit, 1000)));
    return since === undefined ? bars : bars.filter((b) => b.time >= since);
  }

  /** IG publishes no depth: the book is the top of book, one level each side (size unknown, reported as 0). */
  async fetchOrderBook(symbol: string, _depth?: number): Promise<OrderBook> {
    const t = await this.fetchTicker(symbol);
    return { symbol, time: t.time, bids: [{ price: t.bid, quantity: 0 }], asks: [{ price: t.ask, quantity: 0 }] };
  }

  async fetchServerTime(): Promise<number> {
    return this.client.serverTime();
  }

  watchTicker(symbol: string, onTicker: (t: Ticker) => void, onError?: (e: Error) => void): Subscription {
    const polled = this.poll(() => this.fetchTicker(symbol), onTicker, onError);
    const streamed = this.subscribeItem('MERGE', `MARKET:${this.epicOf(symbol)}`, MARKET_FIELDS, (_item, v) => {
      const bid = Number(v.BID);
      const ask = Number(v.OFFER);
      // A closed market streams no quote (null): nothing to deliver.
      if (v.BID === null || v.OFFER === null || !Number.isFinite(bid) || !Number.isFinite(ask)) return;
      onTicker({ symbol, time: this.client.time(), bid, ask, last: (bid + ask) / 2 });
    });
    return {
      close: () => {
        streamed?.close();
        polled.close();
      },
    };
  }

  /**
   * Candles: with the stream, from IG's CHART item of the timeframe's scale (`IG_CHART_SCALES`; 15m assembled from
   * 5-minute candles), a bar closed when IG ends its candle (CONS_END = 1), and no price history read while the item
   * streams; REST price history fills in while it does not (polled every `pollIntervalMs`), once after each
   * resubscription, and for a bar the stream saw only in part. Other timeframes, or no stream: price history polled
   * every `pollIntervalMs`.
   */
  watchCandles(
    symbol: string,
    timeframe: Timeframe,
    onBar: (b: Bar, closed: boolean) => void,
    onError?: (e: Error) => void,
  ): Subscription {
    const epic = this.epicOf(symbol);
    let lastClosed = Number.NEGATIVE_INFINITY;
    let chart: IgStreamSubscription | undefined;
    let force = false;
    /** The bar forming on the stream, delivered again on each poll while the item is active (as polling did). */
    let streamedForming: Bar | undefined;
    // IG's newest bar is the forming one; the one before it is closed.
    const fromRest = (bars: Bar[] | undefined) => {
      // No read (the item streams): the forming bar again, so a quiet market is not taken for a dead stream.
      if (!bars) {
        if (streamedForming && chart?.active) onBar({ ...streamedForming }, false);
        return;
      }
      const closed = bars.length > 1 ? bars[bars.length - 2] : undefined;
      if (closed && closed.time > lastClosed) {
        lastClosed = closed.time;
        onBar(closed, true);
      }
      const forming = bars.at(-1);
      if (forming && !chart?.active) onBar(forming, false);
    };
    let polled: ReturnType<typeof this.poll> | undefined;
    const readRest = () => {
      force = true;
      polled?.kick();
    };
    const scale = IG_CHART_SCALES[timeframe];
    if (scale) {
      const assembler = new CandleAssembler(TIMEFRAME_MS[timeframe], scale.ms);
      let activations = 0;
      chart = this.subscribeItem(
        'MERGE',
        `CHART:${epic}:${scale.scale}`,
        CHART_FIELDS,
        (_item, v) => {
          const c = candleOf(v, scale.ms);
          const r = c && assembler.add(c);
          if (!r) return;
          // A bar whose end the stream did not bring (it was down), or saw only in part: REST has it whole.
          if (r.missed !== undefined && r.missed > lastClosed) readRest();
          streamedForming = r.closed ? undefined : r.bar;
          if (!r.closed) onBar(r.bar, false);
          else if (!r.complete) readRest();
          else if (r.bar.time > lastClosed) {
            lastClosed = r.bar.time;
            onBar(r.bar, true);
          }
        },
        // Subscribed again after a drop: a bar may have closed in between.
        () => {
          if (activations++ > 0) readRest();
        },
      );
    }
    polled = this.poll(
      async () => {
        if (chart?.active && !force) return undefined;
        force = false;
        return this.fetchCandles(symbol, timeframe, undefined, 2);
      },
      fromRest,
      onError,
      { streamed: false, delayFirst: chart !== undefined },
    );
    return {
      close: () => {
        chart?.close();
        polled?.close();
      },
    };
  }

  // Subscribes one item on the stream, if there is one; past IG's 40 subscriptions the caller keeps polling.
  private subscribeItem(
    mode: 'MERGE' | 'DISTINCT',
    item: string,
    fields: readonly string[],
    onUpdate: (item: string, values: Readonly<Record<string, string | null>>) => void,
    onActive?: () => void,
  ): IgStreamSubscription | undefined {
    if (!this.stream) return undefined;
    try {
      return this.stream.subscribe(mode, [item], fields, onUpdate, onActive);
    } catch (err) {
      if (!(err instanceof VenueError && err.code === 'VENUE_LIMIT')) throw err;
      this.opts.onAlert?.(`${this.id}: ${err.message}; ${item} is polled over REST instead`);
      return undefined;
    }
  }

  watchOrderBook(symbol: string, onBook: (b: OrderBook) => void, onError?: (e: Error) => void): Subscription {
    return this.poll(() => this.fetchOrderBook(symbol), onBook, onError, { streamed: false });
  }

  /** Polls our orders: each change of status or filled quantity after the subscription is delivered once. */
  watchOrders(onOrder: (o: VenueOrder) => void, onError?: (e: Error) => void): Subscription {
    const seen = new Map<string, string>();
    const key = (o: VenueOrder) => `${o.status}|${o.filledQuantity}`;
    for (const r of this.records.values()) seen.set(r.order.clientOrderId, key(r.order));
    return this.pollOnDeals(
      async () => {
        const open = [...this.records.values()].filter((r) => !FINAL.has(r.order.status));
        if (open.length > 0) await this.refreshWorking(open);
        return [...this.records.values()].map((r) => r.order);
      },
      (orders) => {
        for (const o of orders) {
          const k = key(o);
          if (seen.get(o.clientOrderId) === k) continue;
          seen.set(o.clientOrderId, k);
          onOrder({ ...o });
        }
      },
      onError,
    );
  }

  /**
   * Fills as they are booked (our deals), and from polling IG's positions: a position that shrank or vanished
   * without a close of ours was closed by IG (its broker-side stop or limit), which is a fill too.
   */
  watchFills(onFill: (f: VenueFill) => void, onError?: (e: Error) => void): Subscription {
    const listener = (f: VenueFill) => onFill({ ...f });
    this.fillListeners.add(listener);
    let baseline = false;
    const sub = this.pollOnDeals(
      async () => {
        // The first poll only takes the starting point: closes before the subscription are not fills of it.
        await this.pollPositions(!baseline);
        baseline = true;
      },
      () => undefined,
      onError,
    );
    return {
      close: () => {
        this.fillListeners.delete(listener);
        sub.close();
      },
    };
  }

  // Positions now vs. last seen: closes IG made on its own become fills (and an alert).
  private async pollPositions(baselineOnly: boolean): Promise<void> {
    const closes = this.ownCloses;
    const now = await this.client.positions();
    // A close of ours overlapped the request: this snapshot may predate it; the next poll decides.
    if (closes !== this.ownCloses || this.closing.size > 0) return;
    const current = new Map(now.map((p) => [p.position.dealId, p]));
    if (baselineOnly) {
      this.knownPositions = current;
      return;
    }
    for (const [dealId, before] of this.knownPositions) {
      if (this.closing.has(dealId)) continue;
      const after = current.get(dealId);
      const gone = before.position.size - (after?.position.size ?? 0);
      if (gone <= 1e-9) continue;
      const p = before.position;
      // IG's history has the real deal (reference and level); without it, the stop level stands in.
      const booked = new Set(this.fills.map((f) => f.venueTradeId));
      const record = await this.closeActivity(dealId, this.client.time() - 5 * 60_000, booked).catch(() => undefined);
      const level =
        record?.price ?? p.stopLevel ?? (p.direction === 'BUY' ? after?.market.bid : after?.market.offer) ?? p.level;
      const symbol = this.symbols.get(before.market.epic) ?? before.market.epic;
      this.opts.onAlert?.(
        `${this.id}: IG closed ${gone} of position ${dealId} (${symbol}) near ${level}: stop or limit hit`,
      );
      this.addFill({
        venueTradeId: record?.venueTradeId ?? `close:${dealId}:${p.size}->${after?.position.size ?? 0}`,
        venueOrderId: `position:${dealId}`,
        // No client order id: the position's reference belongs to the order that opened it, and this fill is
        // IG's, not that order's (the bridge raises it as a fill of no order of ours).
        symbol,
        side: p.direction === 'BUY' ? 'sell' : 'buy',
        price: level,
        quantity: record?.quantity ?? gone,
        fee: 0,
        feeCurrency: this.currency,
        liquidity: 'taker',
        time: record?.time ?? this.client.time(),
      });
    }
    this.knownPositions = current;
    await this.cancelOrphanedCloses(now);
  }

  /**
   * A closing working order whose position is gone (IG's stop closed it) would open an unprotected position in the
   * other direction if it triggered: it is deleted, with an alert.
   */
  private async cancelOrphanedCloses(positions: IgPosition[]): Promise<void> {
    for (const r of this.records.values()) {
      if (r.closes === undefined || FINAL.has(r.order.status) || r.cancelledByUs) continue;
      const dir = r.order.side === 'buy' ? 'BUY' : 'SELL';
      const target = positions.some((p) => p.market.epic === r.closes && p.position.direction !== dir);
      if (target) continue;
      try {
        await this.cancelOrder({ symbol: r.order.symbol, clientOrderId: r.order.clientOrderId });
        this.opts.onAlert?.(
          `${this.id}: ${r.order.type} ${r.order.side} ${r.order.clientOrderId} had no position left to close (IG closed it); cancelled so it cannot open one`,
        );
      } catch (err) {
        this.opts.onAlert?.(
          `${this.id}: ${r.order.clientOrderId} has no position left to close and could not be cancelled: ${(err as Error).message}`,
        );
      }
    }
  }

  private addFill(f: VenueFill): void {
    this.fills.push(f);
    for (const l of this.fillListeners) l(f);
  }

  private remember(rec: OrderRecord): void {
    const prev = this.records.get(rec.order.clientOrderId);
    this.records.set(rec.order.clientOrderId, prev ? Object.assign(prev, rec) : rec);
    this.byVenueId.set(rec.order.venueOrderId, rec.order.clientOrderId);
  }

  private async refreshWorking(recs: OrderRecord[]): Promise<void> {
    const working = recs.filter((r) => r.workingDealId !== undefined);
    if (working.length === 0) return;
    const open = new Set((await this.client.workingOrders()).map((w) => w.workingOrderData.dealId));
    const gone = working.filter((r) => !open.has(r.workingDealId as string));
    if (gone.length > 0) await this.settleVanished(gone);
  }

  // A working order that left IG's list without our cancel either triggered (a position with its reference, or a
  // matching new position) or was deleted at IG; the alert says which was assumed.
  private async settleVanished(gone: OrderRecord[]): Promise<void> {
    const positions = await this.client.positions();
    for (const r of gone) {
      if (r.cancelledByUs) {
        r.order = { ...r.order, status: 'cancelled', updatedAt: this.client.time() };
        continue;
      }
      const epic = this.epics.get(r.order.symbol);
      const dir = r.order.side === 'buy' ? 'BUY' : 'SELL';
      const p = positions.find(
        (x) =>
          x.position.dealReference === r.order.clientOrderId ||
          (x.market.epic === epic &&
            x.position.direction === dir &&
            Math.abs(x.position.size - r.order.quantity) < 1e-9 &&
            parseIgTime(x.position.createdDateUTC, 0) >= r.order.createdAt - 1_000),
      );
      if (p) {
        const time = parseIgTime(p.position.createdDateUTC, this.client.time());
        r.order = {
          ...r.order,
          status: 'filled',
          filledQuantity: r.order.quantity,
          averagePrice: p.position.level,
          updatedAt: time,
        };
        this.addFill({
          venueTradeId: p.position.dealId,
          venueOrderId: r.order.venueOrderId,
          clientOrderId: r.order.clientOrderId,
          symbol: r.order.symbol,
          side: r.order.side,
          price: p.position.level,
          quantity: r.order.quantity,
          fee: 0,
          feeCurrency: this.currency,
          liquidity: 'maker',
          time,
        });
      } else {
        r.order = { ...r.order, status: 'cancelled', updatedAt: this.client.time() };
        this.opts.onAlert?.(
          `${this.id}: working order ${r.order.clientOrderId} left IG's list with no matching position: taken as cancelled at IG`,
        );
      }
    }
  }

  private fromWorking(w: IgWorkingOrder, clientOrderId: string): VenueOrder {
    const d = w.workingOrderData;
    const time = parseIgTime(d.createdDateUTC, this.client.time());
    return {
      venueOrderId: d.dealId,
      clientOrderId,
      symbol: this.symbols.get(d.epic) ?? d.epic,
      side: d.direction === 'BUY' ? 'buy' : 'sell',
      type: d.orderType === 'LIMIT' ? 'limit' : 'stop',
      status: 'accepted',
      quantity: d.orderSize,
      filledQuantity: 0,
      averagePrice: 0,
      ...(d.orderType === 'LIMIT' ? { price: d.orderLevel } : { stopPrice: d.orderLevel }),
      createdAt: time,
      updatedAt: time,
    };
  }

  // The free-margin floor on IG's own figures: available funds after this deal's margin, over equity.
  private async checkMarginFloor(m: IgMarket, size: number, price: number): Promise<void> {
    const floor = this.opts.marginFloor ?? 0;
    if (!(floor > 0) || m.marginRate === undefined) return;
    const [b] = await this.fetchBalances();
    if (!b) return;
    const need = size * price * m.marginRate;
    const ratio = b.total > 0 ? (b.free - need) / b.total : Number.NEGATIVE_INFINITY;
    if (ratio < floor) {
      throw fail(
        `${this.id}: deal needs margin ${need.toFixed(2)}; free margin would be ${(ratio * 100).toFixed(1)}% of equity, below the floor of ${(floor * 100).toFixed(1)}%`,
        'VENUE_INSUFFICIENT_FUNDS',
      );
    }
  }

  private stopFor(m: IgMarket): IgStop {
    const s = this.opts.stop;
    // Distances are in points at the market's price precision.
    const distance = roundLevel(m, s.distance);
    if (s.kind === 'trailing') return { kind: 'trailing', distance, increment: s.increment as number };
    return { kind: s.kind, distance };
  }

  private lotOf(m: IgMarket): number {
    return lotStep(m).toNumber();
  }

  private instrumentOf(symbol: string, m: IgMarket): Instrument {
    const [base = symbol, quote = this.currency] = symbol.split('/');
    const price = m.offer ?? m.bid ?? 0;
    return {
      symbol,
      base,
      quote,
      kind: 'cfd',
      tickSize: tickStep(m).toNumber(),
      lotSize: this.lotOf(m),
      minQty: pointsOf(m.minDealSize, price),
      minNotional: 0,
      multiplier: 1,
      ...(m.marginRate !== undefined ? { marginRate: m.marginRate } : {}),
    };
  }

  private async loadMarket(epic: string): Promise<IgMarket> {
    const m = await this.client.market(epic);
    this.marketCache.set(epic, m);
    return m;
  }

  private epicOf(symbol: string): string {
    const epic = this.epics.get(symbol);
    if (!epic) throw fail(`${this.id}: no IG epic configured for ${symbol} (options.markets)`, 'VENUE_BAD_SYMBOL');
    return epic;
  }

  // A poller that also runs at once whenever the stream reports a deal on the account.
  private pollOnDeals<T>(fetch: () => Promise<T>, deliver: (v: T) => void, onError?: (e: Error) => void): Subscription {
    const sub = this.poll(fetch, deliver, onError);
    this.dealKicks.add(sub.kick);
    return {
      close: () => {
        this.dealKicks.delete(sub.kick);
        sub.close();
      },
    };
  }

  // Polls over REST: every `pollIntervalMs`, or, for what the stream carries (`streamed`, the default), every
  // `streamPollIntervalMs` while the stream is live, or every `periodMs` when given; `delayFirst` waits one period
  // before the first run (a poller that only fills in for a stream item gives the item time to become active).
  // `kick` runs it now (once more after a run in flight).
  private poll<T>(
    fetch: () => Promise<T>,
    deliver: (v: T) => void,
    onError?: (e: Error) => void,
    opts: { streamed?: boolean; delayFirst?: boolean; periodMs?: number } = {},
  ): Subscription & { kick: () => void } {
    const streamed = opts.streamed ?? true;
    const state: PollState = { closed: false, running: false, again: false };
    this.subs.add(state);
    const period = () =>
      opts.periodMs ??
      (streamed && this.stream?.live
        ? (this.opts.streamPollIntervalMs ?? 30_000)
        : (this.opts.pollIntervalMs ?? 1_000));
    const run = async () => {
      if (state.closed) return;
      if (state.timer) clearTimeout(state.timer);
      state.timer = undefined;
      state.running = true;
      try {
        const v = await fetch();
        if (!state.closed) deliver(v);
      } catch (err) {
        if (!state.closed) onError?.(err instanceof Error ? err : new Error(String(err)));
      }
      state.running = false;
      if (state.closed) return;
      if (state.again) {
        state.again = false;
        void run();
      } else state.timer = setTimeout(run, period());
    };
    const kick = () => {
      if (state.closed) return;
      if (state.running) state.again = true;
      else void run();
    };
    state.kick = kick;
    if (opts.delayFirst) state.timer = setTimeout(run, period());
    else void run();
    return {
      kick,
      close: () => {
        state.closed = true;
        this.subs.delete(state);
        if (state.timer) clearTimeout(state.timer);
      },
    };
  }
}
