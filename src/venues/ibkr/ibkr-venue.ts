/**
 * The Interactive Brokers adapter (VENUE-3) on `@stoqey/ib`: orders, executions, positions and account values through
 * TWS or IB Gateway. Every request goes through a client-side pacer (at most 50 messages a second, IB's limit); a
 * dropped connection (IB's nightly restart) is re-opened with backoff and the order state re-read from open orders
 * and executions. Market data: top of book from `reqMktData` (snapshot or streaming), bars from `reqHistoricalData`
 * (warm-up) and `reqRealTimeBars` (5-second bars built into the timeframe). A market order outside the symbol's
 * regular trading hours is refused (docs/venues.md).
 */
import {
  type Bar as IbBar,
  type CommissionReport,
  type Contract,
  type ContractDetails,
  EventName,
  type Execution,
  IBApi,
  type Order,
  OrderAction,
  type OrderState,
  OrderType as IbOrderType,
  TimeInForce as IbTimeInForce,
} from '@stoqey/ib';
import type { Bar, OrderBook, Ticker } from '../../core/bar.js';
import { TIMEFRAME_MS, type Timeframe } from '../../core/timeframe.js';
import { ValidationError, VenueError } from '../../core/errors.js';
import type { Instrument } from '../../core/instrument.js';
import { isOpen, type OrderSide, type OrderStatus, type OrderType } from '../../core/order.js';
import type { Balance, Position } from '../../core/position.js';
import {
  modificationTerms,
  type OrderChanges,
  type OrderRef,
  type Subscription,
  type Venue,
  type VenueCapabilities,
  type VenueFill,
  type VenueOrder,
  type VenueOrderRequest,
} from '../../core/venue.js';
import { contractFor, symbolOf } from './contracts.js';
import {
  BarAggregator,
  IB_BAR_SIZE,
  ibBarTime,
  ibDuration,
  ibEndDateTime,
  TopOfBook,
  whatToShowFor,
} from './market-data.js';
import { ibOrderAmounts } from './order-amounts.js';
import { MessagePacer } from './pacer.js';
import { inSession, parseTradingHours, type TradingSession } from './trading-hours.js';

/** Options of the IBKR adapter. */
export interface IbkrVenueOptions {
  id?: string;
  host?: string;
  /** 7497 is TWS paper, 4002 IB Gateway paper (the default here is TWS paper; live ports are 7496 / 4001). */
  port?: number;
  /** API client id; each connection to one TWS needs its own. */
  clientId?: number;
  /** Account to report; the first managed account when absent. */
  account?: string;
  /** Symbols `fetchInstruments` resolves (e.g. `AAPL/USD`, `EUR/USD`). */
  symbols?: string[];
  /** Client-side pacing, at most 50 (IB disconnects clients that send more). */
  maxMessagesPerSecond?: number;
  /** Hang guard of one request (connect, lookup, order acknowledgement). */
  requestTimeoutMs?: number;
  /** How long placeOrder waits for a market order's fill before returning it working (e.g. outside trading hours). */
  marketFillWaitMs?: number;
  /** First delay before reconnecting after a drop; doubles up to `reconnectMaxDelayMs`. */
  reconnectDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** Refuse to run unless the account is a paper account (IB paper account ids start with D, e.g. DU1234567). */
  paperOnly?: boolean;
  /** Receives TWS messages not tied to a request (farm status, connectivity, decoding problems) for the log. */
  onNotice?: (message: string, code: number) => void;
}

/** The account values IB reports for the account, in its base currency. */
export interface IbkrAccountValues {
  account: string;
  currency: string;
  netLiquidation: number;
  totalCash: number;
  availableFunds: number;
  excessLiquidity: number;
  buyingPower: number;
  initMarginReq: number;
}

/** Connection state changes the adapter reports. */
export type IbkrConnectionState = 'connected' | 'disconnected';

interface TrackedOrder {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: number;
  price?: number;
  stopPrice?: number;
  status: OrderStatus;
  filled: number;
  avgPrice: number;
  createdAt: number;
  updatedAt: number;
  /** Bumped on every change, so a waiter can tell a new report from an old one. */
  seq: number;
}

interface OrderWaiter {
  orderId: number;
  done: (t: TrackedOrder) => boolean;
  onError: (code: number, message: string) => 'resolve' | 'reject' | 'ignore';
  resolve: (t: TrackedOrder) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface PendingRequest {
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** What the request is about, for its error (e.g. "market data of AAPL/USD"). */
  about?: string;
}

/** One open market data line: streaming ticks (`reqMktData`) or real-time bars (`reqRealTimeBars`). */
interface MarketLine {
  kind: 'ticks' | 'bars';
  about: string;
  onTick?: (tickType: number, price: number | undefined, size: number | undefined) => void;
  onBar?: (time: number, open: number, high: number, low: number, close: number, volume: number) => void;
  onError: (e: Error) => void;
}

const ACCOUNT_TAGS = 'NetLiquidation,TotalCashValue,AvailableFunds,ExcessLiquidity,BuyingPower,InitMarginReq';
// Request ids live far above order ids: IB reports errors of both on the same id field.
const FIRST_REQ_ID = 1_500_000_000;
// IB error codes that reject an order outright (insufficient margin, invalid fields, unknown contract, duplicate id).
const ORDER_REJECT_CODES = new Set([103, 104, 110, 200, 201, 203, 321, 382, 383, 387, 388, 399, 10147]);
const CANCEL_NOT_FOUND = 135;
const CANCEL_TOO_LATE = new Set([161, 10148]);
const CONNECT_FAIL = 502;
const CONNECTIVITY_RESTORED = new Set([1101, 1102]);
// Market data refusals: 354 not subscribed, 10089 / 10090 / 10168 subscription needed or delayed data not enabled.
const NOT_SUBSCRIBED = new Set([354, 10089, 10090, 10168]);
// 100: max message rate exceeded (IB disconnects after three); 162 with "pacing violation": historical data pacing.
const MAX_RATE = 100;
const HISTORICAL_ERROR = 162;
// Warnings on a market data line that leave it running (10167: delayed data shown instead of real-time).
const MARKET_DATA_WARNINGS = new Set([10167, 2104, 2106, 2107, 2108, 2158]);
// How long to wait after a pacing refusal: IB forbids identical historical requests within 15 s.
const HISTORICAL_PACING_WAIT_MS = 15_000;
// Contract details (and so trading hours) are read again after this long: IB lists sessions a few days ahead.
const CONTRACT_DETAILS_MAX_AGE_MS = 3_600_000;

const IB_TYPE: Record<OrderType, IbOrderType> = {
  market: IbOrderType.MKT,
  limit: IbOrderType.LMT,
  stop: IbOrderType.STP,
  stop_limit: IbOrderType.STP_LMT,
};
const OUR_TYPE: Record<string, OrderType> = { MKT: 'market', LMT: 'limit', STP: 'stop', 'STP LMT': 'stop_limit' };
const IB_TIF: Record<string, IbTimeInForce> = {
  GTC: IbTimeInForce.GTC,
  DAY: IbTimeInForce.DAY,
  IOC: IbTimeInForce.IOC,
  FOK: IbTimeInForce.FOK,
};

/** Our order status for an IB one (PendingCancel keeps the order working until IB confirms). */
function statusOf(ib: string, filled: number): OrderStatus {
  switch (ib) {
    case 'Filled':
      return 'filled';
    case 'Cancelled':
    case 'ApiCancelled':
      return 'cancelled';
    case 'Inactive':
      return 'rejected';
    case 'PendingSubmit':
    case 'ApiPending':
      return 'submitted';
    default:
      return filled > 0 ? 'partially_filled' : 'accepted';
  }
}

// TWS execution times: "yyyyMMdd  HH:mm:ss" (optionally with a zone we do not read): taken as UTC.
function parseExecTime(s: string | undefined, fallback: number): number {
  const m = /^(\d{4})(\d{2})(\d{2})[ -]+(\d{2}):(\d{2}):(\d{2})/.exec(s ?? '');
  if (!m) return fallback;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/**
 * A fill's time. TWS reports whole seconds; an execution pushed as it happens (request id -1) takes our clock's
 * moment of arrival within that second, so fills of one second keep their order. A re-read one keeps IB's second.
 */
function execTimeOf(s: string | undefined, live: boolean): number {
  const now = Date.now();
  const second = parseExecTime(s, now);
  return live ? Math.min(Math.max(now, second), second + 999) : second;
}

/**
 * Runs `build` and takes back every environment variable it added. The library loads a `.env` file of the working
 * directory into `process.env` the first time a client is built; a stray file there must not become configuration
 * of this process (our own `TRADEFORGE__…` overrides are read from the environment).
 */
export function withoutEnvChanges<T>(build: () => T): T {
  const before = new Set(Object.keys(process.env));
  try {
    return build();
  } finally {
    for (const key of Object.keys(process.env)) if (!before.has(key)) delete process.env[key];
  }
}

/** The IBKR venue adapter. */
export class IbkrVenue implements Venue {
  readonly id: string;
  readonly capabilities: VenueCapabilities = {
    stopOrders: true,
    modifyOrder: true,
    streaming: true,
    positions: true,
    clientOrderIds: true,
  };
  private readonly host: string;
  private readonly port: number;
  private readonly clientId: number;
  private readonly timeoutMs: number;
  private readonly marketWaitMs: number;
  private readonly reconnectDelayMs: number;
  private readonly reconnectMaxDelayMs: number;
  private readonly pacer: MessagePacer;
  private ib: IBApi | undefined;
  private connected = false;
  private closing = false;
  private reconnecting = false;
  private account: string | undefined;
  private nextOrderId = 0;
  private reqSeq = FIRST_REQ_ID;
  private readonly orders = new Map<number, TrackedOrder>();
  private readonly byClient = new Map<string, number>();
  private readonly fills = new Map<string, VenueFill>();
  private readonly execsAwaitingFee = new Map<string, VenueFill>();
  private readonly feesAwaitingExec = new Map<string, CommissionReport>();
  private readonly orderWatchers = new Set<(o: VenueOrder) => void>();
  private readonly fillWatchers = new Set<(f: VenueFill) => void>();
  private readonly stateWatchers = new Set<(s: IbkrConnectionState) => void>();
  private waiters: OrderWaiter[] = [];
  private readonly pending = new Map<number, PendingRequest>();
  private readonly contractCache = new Map<string, { details: ContractDetails; at: number }>();
  private readonly lines = new Map<number, MarketLine>();
  private readonly snapshots = new Map<number, (tickType: number, price?: number, size?: number) => void>();
  private readonly historical = new Map<number, IbBar[]>();
  /** False from a drop until the order state was re-read after reconnecting: callers wait for it. */
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private readonly collectors = {
    contract: new Map<number, ContractDetails[]>(),
    summary: new Map<number, { account: string; tag: string; value: string; currency: string }[]>(),
    done: new Map<number, () => void>(),
  };
  private positionsRun: { items: Position[]; done: () => void } | undefined;
  private positionsLock: Promise<unknown> = Promise.resolve();
  private openOrdersDone: (() => void)[] = [];
  private timeWaiters: ((t: number) => void)[] = [];
  private connectWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(private readonly opts: IbkrVenueOptions = {}) {
    this.id = opts.id ?? 'ibkr';
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 7497;
    this.clientId = opts.clientId ?? 0;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.marketWaitMs = opts.marketFillWaitMs ?? 5_000;
    this.reconnectDelayMs = opts.reconnectDelayMs ?? 1_000;
    this.reconnectMaxDelayMs = opts.reconnectMaxDelayMs ?? 60_000;
    this.pacer = new MessagePacer(opts.maxMessagesPerSecond ?? 50);
    this.account = opts.account;
  }

  /** Reports connection drops and re-connections (after the order state was re-read). */
  onConnectionState(listener: (s: IbkrConnectionState) => void): Subscription {
    this.stateWatchers.add(listener);
    return { close: () => this.stateWatchers.delete(listener) };
  }

  /** Whether the adapter holds a live API session. */
  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    this.closing = false;
    await this.open();
    if (this.opts.paperOnly && !/^D/.test(this.account ?? '')) {
      const account = this.account ?? '(none)';
      await this.close();
      throw new VenueError(
        `IBKR ${this.id}: account ${account} is not a paper account (paper ids start with D); refusing to trade it here`,
        { retryable: false, venue: this.id, code: 'VENUE_AUTH' },
      );
    }
    await this.resync();
    this.markSynced();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.connected = false;
    this.synced = false;
    this.releaseSyncWaiters();
    this.pacer.clear();
    this.failPending(new VenueError('IBKR adapter closed', { retryable: false, venue: this.id, code: 'VENUE_CLOSED' }));
    const ib = this.ib;
    this.ib = undefined;
    if (ib) {
      ib.removeAllListeners();
      ib.disconnect();
    }
  }

  // ---- connection -------------------------------------------------------------------------------------------

  private markSynced(): void {
    this.synced = true;
    this.releaseSyncWaiters();
  }

  private releaseSyncWaiters(): void {
    const w = this.syncWaiters;
    this.syncWaiters = [];
    for (const f of w) f();
  }

  /**
   * Waits, up to the request timeout, for a connection that is being re-opened (IB's nightly restart) and for the
   * re-read of the order state after it, so a call made meanwhile runs once TWS is back instead of failing.
   */
  private async ready(): Promise<void> {
    if (this.connected && this.synced) return;
    if (this.closing || (!this.reconnecting && !this.connected)) throw this.unavailable('not connected to TWS');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.syncWaiters = this.syncWaiters.filter((f) => f !== done);
        reject(this.unavailable(`TWS not back within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        if (this.connected && this.synced) resolve();
        else reject(this.unavailable('not connected to TWS'));
      };
      this.syncWaiters.push(done);
    });
  }

  private open(): Promise<void> {
    const ib = withoutEnvChanges(
      () =>
        new IBApi({
          host: this.host,
          port: this.port,
          clientId: this.clientId,
          // Our pacer is the one limit: the library's own (5 per 100 ms slots) queued behind it would bunch sends.
          maxReqPerSec: 1_000,
        }),
    );
    this.ib?.removeAllListeners();
    this.ib = ib;
    this.attach(ib);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connectWaiter = undefined;
        ib.removeAllListeners();
        ib.disconnect();
        reject(this.unavailable(`no answer from TWS at ${this.host}:${this.port} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.connectWaiter = {
        resolve: () => {
          clearTimeout(timer);
          this.connectWaiter = undefined;
          this.connected = true;
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          this.connectWaiter = undefined;
          ib.removeAllListeners();
          ib.disconnect();
          reject(e);
        },
      };
      ib.connect(this.clientId);
    });
  }

  private unavailable(message: string): VenueError {
    return new VenueError(`IBKR ${this.id}: ${message}`, {
      retryable: true,
      venue: this.id,
      code: 'VENUE_UNAVAILABLE',
    });
  }

  private attach(ib: IBApi): void {
    ib.on(EventName.nextValidId, (id: number) => {
      this.nextOrderId = Math.max(this.nextOrderId, id);
      this.connectWaiter?.resolve();
    });
    ib.on(EventName.managedAccounts, (list: string) => {
      this.account ??= list.split(',')[0];
    });
    ib.on(EventName.disconnected, () => this.onDropped(ib));
    ib.on(EventName.error, (err: Error, code: number, reqId: number) => this.onError(err, code, reqId));
    ib.on(EventName.info, (message: string, code: number) => this.onInfo(message, code));
    ib.on(EventName.openOrder, (orderId: number, contract: Contract, order: Order, state: OrderState) =>
      this.onOpenOrder(orderId, contract, order, state),
    );
    ib.on(EventName.openOrderEnd, () => {
      const done = this.openOrdersDone;
      this.openOrdersDone = [];
      for (const d of done) d();
    });
    ib.on(
      EventName.orderStatus,
      (
        orderId: number,
        status: string,
        filled: number,
        _remaining: number,
        avg: number,
        _permId?: number,
        _parentId?: number,
        _lastFillPrice?: number,
        clientId?: number,
      ) => {
        if (!this.foreign(clientId)) this.onOrderStatus(orderId, status, filled, avg);
      },
    );
    ib.on(EventName.execDetails, (reqId: number, contract: Contract, exec: Execution) =>
      this.onExec(contract, exec, reqId === -1),
    );
    ib.on(EventName.execDetailsEnd, (reqId: number) => this.finish(reqId));
    ib.on(EventName.commissionReport, (r: CommissionReport) => this.onCommission(r));
    ib.on(EventName.contractDetails, (reqId: number, d: ContractDetails) =>
      this.collectors.contract.get(reqId)?.push(d),
    );
    ib.on(EventName.contractDetailsEnd, (reqId: number) => this.finish(reqId));
    ib.on(EventName.accountSummary, (reqId: number, account: string, tag: string, value: string, currency: string) =>
      this.collectors.summary.get(reqId)?.push({ account, tag, value, currency }),
    );
    ib.on(EventName.accountSummaryEnd, (reqId: number) => this.finish(reqId));
    ib.on(EventName.position, (account: string, contract: Contract, pos: number, avgCost?: number) => {
      if (!this.positionsRun || (this.account && account !== this.account) || !pos) return;
      const mult = contract.multiplier || 1;
      this.positionsRun.items.push({
        symbol: symbolOf(contract),
        quantity: pos,
        averagePrice: (avgCost ?? 0) / mult,
        realizedPnl: 0,
        // IB does not report when a position was opened.
        openedAt: 0,
        fees: 0,
      });
    });
    ib.on(EventName.positionEnd, () => this.positionsRun?.done());
    ib.on(EventName.tickPrice, (reqId: number, tickType: number, price: number) => {
      this.snapshots.get(reqId)?.(tickType, price, undefined);
      this.lines.get(reqId)?.onTick?.(tickType, price, undefined);
    });
    ib.on(EventName.tickSize, (reqId: number, tickType?: number, size?: number) => {
      if (tickType === undefined) return;
      this.snapshots.get(reqId)?.(tickType, undefined, size ?? 0);
      this.lines.get(reqId)?.onTick?.(tickType, undefined, size ?? 0);
    });
    ib.on(EventName.tickSnapshotEnd, (reqId: number) => this.finish(reqId));
    ib.on(
      EventName.historicalData,
      (reqId: number, time: string, open: number, high: number, low: number, close: number, volume: number) => {
        const bars = this.historical.get(reqId);
        if (!bars) return;
        // The library ends a data set with a bar dated "finished-<start>-<end>".
        if (time.startsWith('finished')) this.finish(reqId);
        else bars.push({ time, open, high, low, close, volume });
      },
    );
    ib.on(
      EventName.realtimeBar,
      (reqId: number, time: number, open: number, high: number, low: number, close: number, volume: number) =>
        this.lines.get(reqId)?.onBar?.(time * 1000, open, high, low, close, volume),
    );
    ib.on(EventName.currentTime, (t: number) => this.timeWaiters.shift()?.(t * 1000));
  }

  private onDropped(ib: IBApi): void {
    if (ib !== this.ib) return;
    if (this.connectWaiter) {
      this.connectWaiter.reject(
        this.unavailable(`connection to ${this.host}:${this.port} closed during the handshake`),
      );
      return;
    }
    const was = this.connected;
    this.connected = false;
    this.synced = false;
    this.pacer.clear();
    this.failPending(this.unavailable('connection to TWS lost'));
    if (was) this.emitState('disconnected');
    if (!this.closing) void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    let delay = this.reconnectDelayMs;
    try {
      while (!this.closing && !this.synced) {
        await new Promise((r) => setTimeout(r, delay));
        if (this.closing) return;
        try {
          await this.open();
          await this.resync();
          this.markSynced();
          this.emitState('connected');
          return;
        } catch {
          this.connected = false;
          delay = Math.min(delay * 2, this.reconnectMaxDelayMs);
        }
      }
    } finally {
      this.reconnecting = false;
      // A loop that gave up (closed) leaves no caller waiting.
      if (!this.synced) this.releaseSyncWaiters();
    }
  }

  private emitState(s: IbkrConnectionState): void {
    for (const w of this.stateWatchers) w(s);
  }

  /** Re-reads working orders and the day's executions; orders we knew as working that are gone are settled. */
  private async resync(): Promise<void> {
    const seen = new Set<number>();
    const watch = (id: number) => seen.add(id);
    const onOpen = (orderId: number, _c: Contract, order: Order) => {
      if (!this.foreign(order.clientId)) watch(orderId);
    };
    this.ib?.on(EventName.openOrder, onOpen);
    try {
      await Promise.all([
        this.call<void>((done) => {
          this.openOrdersDone.push(done);
          this.send((ib) => ib.reqAllOpenOrders());
        }),
        this.request<void>(
          (reqId) => this.send((ib) => ib.reqExecutions(reqId, {})),
          () => undefined,
        ),
      ]);
    } finally {
      this.ib?.off(EventName.openOrder, onOpen);
    }
    for (const t of [...this.orders.values()]) {
      if (seen.has(t.orderId) || !isOpen(t.status)) continue;
      // Gone from the working orders: filled when the executions cover it, else cancelled (e.g. a DAY order at
      // the close while we were away).
      this.update(t, { status: t.filled >= t.quantity - 1e-9 ? 'filled' : 'cancelled' });
    }
  }

  // ---- requests -----------------------------------------------------------------------------------------------

  private send(fn: (ib: IBApi) => void): void {
    if (!this.connected || !this.ib) throw this.unavailable('not connected to TWS');
    this.pacer.run(() => {
      if (this.ib && this.connected) fn(this.ib);
    });
  }

  private newReqId(): number {
    return this.reqSeq++;
  }

  /** Runs a request answered by an end message on `reqId`, with a hang guard. */
  private request<T>(start: (reqId: number) => void, result: (reqId: number) => T, about?: string): Promise<T> {
    const reqId = this.newReqId();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cleanup(reqId);
        reject(
          new VenueError(`IBKR ${this.id}: request ${reqId} timed out`, {
            retryable: true,
            venue: this.id,
            code: 'VENUE_TIMEOUT',
          }),
        );
      }, this.timeoutMs);
      this.pending.set(reqId, {
        reject: (e) => {
          clearTimeout(timer);
          this.cleanup(reqId);
          reject(e);
        },
        timer,
        ...(about !== undefined ? { about } : {}),
      });
      this.collectors.done.set(reqId, () => {
        clearTimeout(timer);
        const value = result(reqId);
        this.cleanup(reqId);
        resolve(value);
      });
      try {
        start(reqId);
      } catch (e) {
        clearTimeout(timer);
        this.cleanup(reqId);
        reject(e);
      }
    });
  }

  /** Like `request` for answers without a request id (open orders, positions, time). */
  private call<T>(start: (done: (v: T) => void) => void): Promise<T> {
    const reqId = this.newReqId();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(
          new VenueError(`IBKR ${this.id}: request timed out`, {
            retryable: true,
            venue: this.id,
            code: 'VENUE_TIMEOUT',
          }),
        );
      }, this.timeoutMs);
      this.pending.set(reqId, {
        reject: (e) => {
          clearTimeout(timer);
          this.pending.delete(reqId);
          reject(e);
        },
        timer,
      });
      try {
        start((v) => {
          clearTimeout(timer);
          this.pending.delete(reqId);
          resolve(v);
        });
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(reqId);
        reject(e);
      }
    });
  }

  private finish(reqId: number): void {
    this.collectors.done.get(reqId)?.();
  }

  private cleanup(reqId: number): void {
    this.pending.delete(reqId);
    this.collectors.done.delete(reqId);
    this.collectors.contract.delete(reqId);
    this.collectors.summary.delete(reqId);
    this.snapshots.delete(reqId);
    this.historical.delete(reqId);
  }

  private failPending(err: Error): void {
    for (const p of [...this.pending.values()]) p.reject(err);
    this.pending.clear();
    this.openOrdersDone = [];
    this.timeWaiters = [];
    this.positionsRun = undefined;
    // Market data lines end with the connection: their streams re-subscribe (ReconnectingStream).
    const lines = [...this.lines.values()];
    this.lines.clear();
    for (const l of lines) l.onError(err);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  // Messages without an id (farm status, connectivity): 1101 / 1102 mean TWS is back in touch with IB's servers,
  // and what happened meanwhile is read again.
  private onInfo(message: string, code: number): void {
    if (CONNECTIVITY_RESTORED.has(code) && this.connected) void this.resync().catch(() => undefined);
    this.opts.onNotice?.(message, code);
  }

  private onError(err: Error, code: number, reqId: number): void {
    const message = err?.message ?? String(err);
    if (code === CONNECT_FAIL && this.connectWaiter) {
      this.connectWaiter.reject(this.unavailable(`cannot connect to ${this.host}:${this.port}: ${message}`));
      return;
    }
    if (reqId === undefined || reqId < 0) {
      this.onInfo(message, code);
      return;
    }
    const line = this.lines.get(reqId);
    if (line) {
      if (MARKET_DATA_WARNINGS.has(code)) {
        this.opts.onNotice?.(message, code);
        return;
      }
      // IB ends a line it refuses: it is gone at TWS, so it is gone here.
      this.lines.delete(reqId);
      line.onError(this.requestError(code, message, line.about));
      return;
    }
    const pending = this.pending.get(reqId);
    if (pending) {
      if (MARKET_DATA_WARNINGS.has(code)) {
        this.opts.onNotice?.(message, code);
        return;
      }
      pending.reject(this.requestError(code, message, pending.about));
      return;
    }
    for (const w of [...this.waiters]) {
      if (w.orderId !== reqId) continue;
      const verdict = w.onError(code, message);
      if (verdict === 'ignore') continue;
      this.dropWaiter(w);
      const t = this.orders.get(reqId);
      if (verdict === 'resolve' && t) w.resolve(t);
      else w.reject(this.orderError(code, message));
    }
    if (ORDER_REJECT_CODES.has(code)) {
      const t = this.orders.get(reqId);
      // A placement IB refused never existed there: forget it so the same client id may be placed again.
      if (t && t.filled === 0 && (t.status === 'submitted' || t.status === 'rejected')) {
        this.orders.delete(reqId);
        this.byClient.delete(t.clientOrderId);
      }
    }
  }

  /** A refusal of a request (not an order) as a VenueError: unknown contract, missing subscription, pacing. */
  private requestError(code: number, message: string, about?: string): VenueError {
    const text = `IBKR ${this.id}: ${about ? `${about}: ` : ''}${message} (code ${code})`;
    if (code === 200) return new VenueError(text, { retryable: false, venue: this.id, code: 'VENUE_BAD_SYMBOL' });
    if (NOT_SUBSCRIBED.has(code) || (code === HISTORICAL_ERROR && /permission/i.test(message))) {
      return new VenueError(`${text}; the account needs a market data subscription for it`, {
        retryable: false,
        venue: this.id,
        code: 'VENUE_NO_MARKET_DATA',
      });
    }
    if (code === MAX_RATE) {
      return new VenueError(text, { retryable: true, venue: this.id, code: 'VENUE_RATE_LIMIT', retryAfterMs: 1_000 });
    }
    if (code === HISTORICAL_ERROR && /pacing/i.test(message)) {
      return new VenueError(text, {
        retryable: true,
        venue: this.id,
        code: 'VENUE_RATE_LIMIT',
        retryAfterMs: HISTORICAL_PACING_WAIT_MS,
      });
    }
    if (code === HISTORICAL_ERROR)
      return new VenueError(text, { retryable: false, venue: this.id, code: 'VENUE_REJECTED' });
    return new VenueError(text, { retryable: true, venue: this.id, code: 'VENUE_REJECTED' });
  }

  private orderError(code: number, message: string): VenueError {
    const text = `IBKR ${this.id}: ${message} (code ${code})`;
    if (code === 201 && /insufficient|margin|equity|funds/i.test(message)) {
      return new VenueError(text, { retryable: false, venue: this.id, code: 'VENUE_INSUFFICIENT_FUNDS' });
    }
    if (code === CANCEL_NOT_FOUND)
      return new VenueError(text, { retryable: false, venue: this.id, code: 'VENUE_ORDER_NOT_FOUND' });
    if (code === 200) return new VenueError(text, { retryable: false, venue: this.id, code: 'VENUE_BAD_SYMBOL' });
    return new VenueError(text, { retryable: false, venue: this.id, code: 'VENUE_INVALID_ORDER' });
  }

  // ---- order state --------------------------------------------------------------------------------------------

  // TWS scopes order ids per API client and reports other clients' orders and executions too: only ours count.
  private foreign(clientId: number | undefined): boolean {
    return clientId !== undefined && clientId !== this.clientId;
  }

  /** Starts tracking an order under `orderId`: its terms, nothing filled yet (the caller maps its client id). */
  private track(
    orderId: number,
    terms: Pick<
      TrackedOrder,
      'clientOrderId' | 'symbol' | 'side' | 'type' | 'quantity' | 'status' | 'price' | 'stopPrice'
    >,
  ): TrackedOrder {
    const now = Date.now();
    const t: TrackedOrder = { orderId, ...terms, filled: 0, avgPrice: 0, createdAt: now, updatedAt: now, seq: 0 };
    this.orders.set(orderId, t);
    return t;
  }

  private onOpenOrder(orderId: number, contract: Contract, order: Order, state: OrderState): void {
    if (this.foreign(order.clientId)) return;
    let t = this.orders.get(orderId);
    if (!t) {
      t = this.track(orderId, {
        clientOrderId: order.orderRef || `ibkr-${order.permId ?? orderId}`,
        symbol: symbolOf(contract),
        side: order.action === OrderAction.SELL ? 'sell' : 'buy',
        type: OUR_TYPE[order.orderType] ?? 'limit',
        quantity: order.totalQuantity ?? 0,
        status: 'submitted',
        ...(order.lmtPrice !== undefined ? { price: order.lmtPrice } : {}),
        ...(order.auxPrice !== undefined ? { stopPrice: order.auxPrice } : {}),
      });
      this.byClient.set(t.clientOrderId, orderId);
    }
    const patch: Partial<TrackedOrder> = { quantity: order.totalQuantity ?? t.quantity };
    if (order.lmtPrice !== undefined) patch.price = order.lmtPrice;
    if (order.auxPrice !== undefined) patch.stopPrice = order.auxPrice;
    if (state.status) patch.status = statusOf(state.status, t.filled);
    this.update(t, patch);
  }

  private onOrderStatus(orderId: number, status: string, filled: number, avg: number): void {
    const t = this.orders.get(orderId);
    if (!t) return;
    const f = filled ?? t.filled;
    this.update(t, { status: statusOf(status, f), filled: Math.max(t.filled, f), avgPrice: avg || t.avgPrice });
  }

  private update(t: TrackedOrder, patch: Partial<TrackedOrder>): void {
    // A final state is final: a late Submitted report never reopens a filled or cancelled order.
    if (patch.status && !isOpen(t.status) && isOpen(patch.status)) delete patch.status;
    let changed = false;
    for (const [k, v] of Object.entries(patch) as [keyof TrackedOrder, never][]) {
      if (t[k] !== v) {
        t[k] = v;
        changed = true;
      }
    }
    if (!changed) return;
    t.updatedAt = Date.now();
    t.seq++;
    for (const w of [...this.waiters]) {
      if (w.orderId === t.orderId && w.done(t)) {
        this.dropWaiter(w);
        w.resolve(t);
      }
    }
    const o = this.toVenueOrder(t);
    for (const cb of this.orderWatchers) cb(o);
  }

  private onExec(contract: Contract, exec: Execution, live: boolean): void {
    const execId = exec.execId ?? '';
    if (this.foreign(exec.clientId)) return;
    if (!execId || this.fills.has(execId) || this.execsAwaitingFee.has(execId)) return;
    const orderId = exec.orderId ?? -1;
    const t = this.orders.get(orderId) ?? this.trackFromExecution(orderId, contract, exec);
    const fill: VenueFill = {
      venueTradeId: execId,
      venueOrderId: String(orderId),
      clientOrderId: t?.clientOrderId ?? (exec.orderRef || undefined),
      symbol: symbolOf(contract),
      side: exec.side === 'SLD' ? 'sell' : 'buy',
      price: exec.price ?? 0,
      quantity: exec.shares ?? 0,
      fee: 0,
      feeCurrency: contract.currency ?? '',
      // IB reports liquidity only from server version 136 (lastLiquidity); taker is the conservative fee side.
      liquidity: exec.lastLiquidity === 1 ? 'maker' : 'taker',
      time: execTimeOf(exec.time, live),
    };
    if (fill.clientOrderId === undefined) delete fill.clientOrderId;
    if (t && exec.cumQty !== undefined && exec.cumQty > t.filled) {
      this.update(t, {
        filled: exec.cumQty,
        avgPrice: exec.avgPrice ?? t.avgPrice,
        quantity: Math.max(t.quantity, exec.cumQty),
      });
    }
    const report = this.feesAwaitingExec.get(execId);
    if (report) {
      this.feesAwaitingExec.delete(execId);
      this.settleFill(fill, report);
    } else {
      this.execsAwaitingFee.set(execId, fill);
    }
  }

  // An execution of an order we never saw working (placed before a restart, or filled while we were away): track it
  // so a lookup by client order id finds it and nothing places it again. Its total is unknown until TWS lists it
  // as working; the re-sync settles it as filled when it is not.
  private trackFromExecution(orderId: number, contract: Contract, exec: Execution): TrackedOrder | undefined {
    if (orderId <= 0) return undefined;
    const t = this.track(orderId, {
      clientOrderId: exec.orderRef || `ibkr-${exec.permId ?? orderId}`,
      symbol: symbolOf(contract),
      side: exec.side === 'SLD' ? 'sell' : 'buy',
      type: 'market',
      quantity: exec.cumQty ?? exec.shares ?? 0,
      status: 'partially_filled',
    });
    if (!this.byClient.has(t.clientOrderId)) this.byClient.set(t.clientOrderId, orderId);
    return t;
  }

  private onCommission(r: CommissionReport): void {
    const execId = r.execId ?? '';
    const fill = this.execsAwaitingFee.get(execId);
    if (!fill) {
      if (execId && !this.fills.has(execId)) this.feesAwaitingExec.set(execId, r);
      return;
    }
    this.execsAwaitingFee.delete(execId);
    this.settleFill(fill, r);
  }

  // A fill is reported once its commission is known, so every fill carries its real fee.
  private settleFill(fill: VenueFill, r: CommissionReport): void {
    fill.fee = r.commission ?? 0;
    if (r.currency) fill.feeCurrency = r.currency;
    this.fills.set(fill.venueTradeId, fill);
    for (const cb of this.fillWatchers) cb(fill);
  }

  private toVenueOrder(t: TrackedOrder): VenueOrder {
    const o: VenueOrder = {
      venueOrderId: String(t.orderId),
      clientOrderId: t.clientOrderId,
      symbol: t.symbol,
      side: t.side,
      type: t.type,
      status: t.status,
      quantity: t.quantity,
      filledQuantity: t.filled,
      averagePrice: t.avgPrice,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
    };
    if (t.price !== undefined) o.price = t.price;
    if (t.stopPrice !== undefined) o.stopPrice = t.stopPrice;
    return o;
  }

  private dropWaiter(w: OrderWaiter): void {
    clearTimeout(w.timer);
    this.waiters = this.waiters.filter((x) => x !== w);
  }

  private waitOrder(
    orderId: number,
    done: (t: TrackedOrder) => boolean,
    onError: OrderWaiter['onError'],
    ms = this.timeoutMs,
    onTimeout?: () => TrackedOrder | undefined,
  ): Promise<TrackedOrder> {
    return new Promise((resolve, reject) => {
      const w: OrderWaiter = {
        orderId,
        done,
        onError,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.dropWaiter(w);
          const t = onTimeout?.();
          if (t) resolve(t);
          else
            reject(
              new VenueError(`IBKR ${this.id}: no answer for order ${orderId} within ${ms} ms`, {
                retryable: true,
                venue: this.id,
                code: 'VENUE_TIMEOUT',
              }),
            );
        }, ms),
      };
      this.waiters.push(w);
    });
  }

  private find(ref: OrderRef): TrackedOrder | undefined {
    if (ref.venueOrderId !== undefined) return this.orders.get(Number(ref.venueOrderId));
    if (ref.clientOrderId !== undefined) {
      const id = this.byClient.get(ref.clientOrderId);
      return id === undefined ? undefined : this.orders.get(id);
    }
    return undefined;
  }

  private async contractDetailsOf(symbol: string, maxAgeMs = Number.POSITIVE_INFINITY): Promise<ContractDetails> {
    const cached = this.contractCache.get(symbol);
    if (cached && Date.now() - cached.at <= maxAgeMs) return cached.details;
    const { contract } = contractFor(symbol);
    const found = await this.request<ContractDetails[]>(
      (reqId) => {
        this.collectors.contract.set(reqId, []);
        this.send((ib) => ib.reqContractDetails(reqId, contract));
      },
      (reqId) => this.collectors.contract.get(reqId) ?? [],
    );
    // SMART stock lookups can list one contract per listing; the first is the primary one TWS offers.
    const d = found[0];
    if (!d)
      throw new VenueError(`IBKR ${this.id}: no contract for ${symbol}`, {
        retryable: false,
        venue: this.id,
        code: 'VENUE_BAD_SYMBOL',
      });
    this.contractCache.set(symbol, { details: d, at: Date.now() });
    return d;
  }

  // ---- Venue: orders ------------------------------------------------------------------------------------------

  async placeOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    await this.ready();
    const known = this.find({ symbol: req.symbol, clientOrderId: req.clientOrderId });
    if (known) return this.toVenueOrder(known);
    if (!(req.quantity > 0))
      throw new ValidationError(`order ${req.clientOrderId}: quantity must be positive`, 'quantity');
    if ((req.type === 'limit' || req.type === 'stop_limit') && !(req.price !== undefined && req.price > 0)) {
      throw new ValidationError(`order ${req.clientOrderId}: a ${req.type} order needs a positive price`, 'price');
    }
    if ((req.type === 'stop' || req.type === 'stop_limit') && !(req.stopPrice !== undefined && req.stopPrice > 0)) {
      throw new ValidationError(
        `order ${req.clientOrderId}: a ${req.type} order needs a positive stopPrice`,
        'stopPrice',
      );
    }
    const details = await this.contractDetailsOf(req.symbol);
    if (req.type === 'market') await this.refuseWhenClosed(req.symbol, req.clientOrderId);
    return this.submit(req, details, { transmit: true });
  }

  /**
   * The market-hours rule: a market order outside the symbol's regular trading hours (`liquidHours`) is refused, as
   * IB would hold it to the next open and fill it at whatever price the open brings. Limit and stop orders pass:
   * they wait at IB and work in regular hours only.
   */
  private async refuseWhenClosed(symbol: string, clientOrderId: string): Promise<void> {
    if (await this.isMarketOpen(symbol)) return;
    throw new VenueError(
      `IBKR ${this.id}: order ${clientOrderId}: ${symbol} is outside its regular trading hours; a market order is refused then (a limit or stop order waits for the open)`,
      { retryable: false, venue: this.id, code: 'VENUE_MARKET_CLOSED' },
    );
  }

  // Sends one new order and waits for IB's acknowledgement (a market order: its fill, up to marketFillWaitMs).
  private async submit(
    req: VenueOrderRequest,
    details: ContractDetails,
    link: { transmit: boolean; parentId?: number },
  ): Promise<VenueOrder> {
    const c = details.contract;
    const contract: Contract = {
      conId: c.conId,
      symbol: c.symbol,
      secType: c.secType,
      exchange: c.exchange,
      currency: c.currency,
    };
    const orderId = this.nextOrderId++;
    // Quantity and prices on the contract's grid from the bridge's exact decimals (docs/money.md).
    const amounts = ibOrderAmounts(req, details.minTick ?? 0);
    const t = this.track(orderId, {
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      quantity: amounts.quantity,
      status: 'submitted',
      ...(amounts.price !== undefined ? { price: amounts.price } : {}),
      ...(amounts.stopPrice !== undefined ? { stopPrice: amounts.stopPrice } : {}),
    });
    this.byClient.set(req.clientOrderId, orderId);
    const order: Order = {
      action: req.side === 'buy' ? OrderAction.BUY : OrderAction.SELL,
      totalQuantity: amounts.quantity,
      orderType: IB_TYPE[req.type],
      tif: IB_TIF[req.timeInForce ?? (req.type === 'market' ? 'DAY' : 'GTC')],
      orderRef: req.clientOrderId,
      transmit: link.transmit,
    };
    if (link.parentId !== undefined) order.parentId = link.parentId;
    if (amounts.price !== undefined && req.type !== 'market' && req.type !== 'stop') order.lmtPrice = amounts.price;
    if (amounts.stopPrice !== undefined && (req.type === 'stop' || req.type === 'stop_limit'))
      order.auxPrice = amounts.stopPrice;
    if (this.account) order.account = this.account;
    const market = req.type === 'market';
    const acked = this.waitOrder(
      orderId,
      (x) => (market ? !isOpen(x.status) && x.status !== 'submitted' : x.status !== 'submitted'),
      (code) => (ORDER_REJECT_CODES.has(code) ? 'reject' : 'ignore'),
      market ? Math.min(this.marketWaitMs, this.timeoutMs) : this.timeoutMs,
      // A market order still working after the wait (market closed) is returned as working, not failed.
      market ? () => (t.status !== 'submitted' ? t : undefined) : undefined,
    );
    try {
      this.send((ib) => ib.placeOrder(orderId, contract, order));
    } catch (e) {
      this.orders.delete(orderId);
      this.byClient.delete(req.clientOrderId);
      acked.catch(() => undefined);
      throw e;
    }
    return this.toVenueOrder(await acked);
  }

  /**
   * An entry with its protective stop and take-profit as one IB bracket: the children wait at IB until the entry
   * fills, and the first of them to fill cancels the other. Client ids of the children: `<id>-sl`, `<id>-tp`.
   */
  async placeBracket(
    entry: VenueOrderRequest,
    exits: { stopPrice: number; takeProfitPrice: number },
  ): Promise<{ entry: VenueOrder; stop: VenueOrder; takeProfit: VenueOrder }> {
    if (entry.type !== 'market' && entry.type !== 'limit') {
      throw new ValidationError(`bracket ${entry.clientOrderId}: the entry must be a market or limit order`, 'type');
    }
    const long = entry.side === 'buy';
    const ok = long ? exits.stopPrice < exits.takeProfitPrice : exits.stopPrice > exits.takeProfitPrice;
    const inside =
      entry.price === undefined ||
      (long
        ? exits.stopPrice < entry.price && entry.price < exits.takeProfitPrice
        : exits.takeProfitPrice < entry.price && entry.price < exits.stopPrice);
    if (!ok || !inside) {
      throw new ValidationError(
        `bracket ${entry.clientOrderId}: the stop must be on the losing side and the take-profit on the winning side of the entry`,
        'stopPrice',
      );
    }
    const exitSide: OrderSide = long ? 'sell' : 'buy';
    const tp: VenueOrderRequest = {
      clientOrderId: `${entry.clientOrderId}-tp`,
      symbol: entry.symbol,
      side: exitSide,
      type: 'limit',
      quantity: entry.quantity,
      price: exits.takeProfitPrice,
      timeInForce: 'GTC',
    };
    const sl: VenueOrderRequest = {
      clientOrderId: `${entry.clientOrderId}-sl`,
      symbol: entry.symbol,
      side: exitSide,
      type: 'stop',
      quantity: entry.quantity,
      stopPrice: exits.stopPrice,
      timeInForce: 'GTC',
    };
    for (const r of [entry, tp, sl]) {
      if (this.find({ symbol: r.symbol, clientOrderId: r.clientOrderId })) {
        throw new VenueError(`IBKR ${this.id}: client order id ${r.clientOrderId} is already in use`, {
          retryable: false,
          venue: this.id,
          code: 'VENUE_DUPLICATE_ORDER',
        });
      }
    }
    await this.ready();
    const details = await this.contractDetailsOf(entry.symbol);
    if (entry.type === 'market') await this.refuseWhenClosed(entry.symbol, entry.clientOrderId);
    const parentId = this.nextOrderId;
    // Entry and take-profit are held at TWS (transmit false) until the stop, sent last, transmits the whole group.
    const [e, t, s] = await Promise.all([
      this.submit(entry, details, { transmit: false }),
      this.submit(tp, details, { transmit: false, parentId }),
      this.submit(sl, details, { transmit: true, parentId }),
    ]);
    return { entry: e, stop: s, takeProfit: t };
  }

  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    await this.ready();
    const t = this.find(ref);
    if (!t) {
      throw new VenueError(`IBKR ${this.id}: no order ${ref.venueOrderId ?? ref.clientOrderId} to cancel`, {
        retryable: false,
        venue: this.id,
        code: 'VENUE_ORDER_NOT_FOUND',
      });
    }
    if (!isOpen(t.status)) return this.toVenueOrder(t);
    const done = this.waitOrder(
      t.orderId,
      (x) => !isOpen(x.status),
      (code) => (CANCEL_TOO_LATE.has(code) ? 'resolve' : code === CANCEL_NOT_FOUND ? 'reject' : 'ignore'),
    );
    try {
      this.send((ib) => ib.cancelOrder(t.orderId, ''));
    } catch (e) {
      done.catch(() => undefined);
      throw e;
    }
    return this.toVenueOrder(await done);
  }

  async modifyOrder(ref: OrderRef, changes: OrderChanges): Promise<VenueOrder> {
    const x = modificationTerms(changes, this.id, `IBKR ${this.id}`);
    await this.ready();
    const t = this.find(ref);
    if (!t || !isOpen(t.status)) {
      throw new VenueError(`IBKR ${this.id}: no working order ${ref.venueOrderId ?? ref.clientOrderId} to modify`, {
        retryable: false,
        venue: this.id,
        code: 'VENUE_ORDER_NOT_FOUND',
      });
    }
    const details = await this.contractDetailsOf(t.symbol);
    const c = details.contract;
    // The new terms exactly (never through a double), the working order's own terms where unchanged.
    const amounts = ibOrderAmounts(
      {
        side: t.side,
        quantity: t.quantity,
        ...(t.price !== undefined ? { price: t.price } : {}),
        ...(t.stopPrice !== undefined ? { stopPrice: t.stopPrice } : {}),
        exact: x,
      },
      details.minTick ?? 0,
    );
    const order: Order = {
      action: t.side === 'buy' ? OrderAction.BUY : OrderAction.SELL,
      totalQuantity: amounts.quantity,
      orderType: IB_TYPE[t.type],
      orderRef: t.clientOrderId,
      transmit: true,
    };
    const price = amounts.price;
    const stop = amounts.stopPrice;
    if (price !== undefined && (t.type === 'limit' || t.type === 'stop_limit')) order.lmtPrice = price;
    if (stop !== undefined && (t.type === 'stop' || t.type === 'stop_limit')) order.auxPrice = stop;
    if (this.account) order.account = this.account;
    const want = { quantity: order.totalQuantity, price: order.lmtPrice, stop: order.auxPrice };
    // IB modifies a working order when it is placed again under its id; done when IB reports the new terms.
    const done = this.waitOrder(
      t.orderId,
      (x) =>
        !isOpen(x.status) ||
        (x.quantity === want.quantity &&
          (want.price === undefined || x.price === want.price) &&
          (want.stop === undefined || x.stopPrice === want.stop)),
      (code) => (ORDER_REJECT_CODES.has(code) ? 'reject' : 'ignore'),
    );
    const contract: Contract = {
      conId: c.conId,
      symbol: c.symbol,
      secType: c.secType,
      exchange: c.exchange,
      currency: c.currency,
    };
    try {
      this.send((ib) => ib.placeOrder(t.orderId, contract, order));
    } catch (e) {
      done.catch(() => undefined);
      throw e;
    }
    return this.toVenueOrder(await done);
  }

  async fetchOrder(ref: OrderRef): Promise<VenueOrder | null> {
    const t = this.find(ref);
    return t ? this.toVenueOrder(t) : null;
  }

  async fetchOpenOrders(symbol?: string): Promise<VenueOrder[]> {
    return [...this.orders.values()]
      .filter((t) => isOpen(t.status) && (!symbol || t.symbol === symbol))
      .map((t) => this.toVenueOrder(t));
  }

  async fetchFills(symbol?: string, since?: number): Promise<VenueFill[]> {
    return [...this.fills.values()].filter(
      (f) => (!symbol || f.symbol === symbol) && (since === undefined || f.time >= since),
    );
  }

  watchOrders(onOrder: (o: VenueOrder) => void): Subscription {
    this.orderWatchers.add(onOrder);
    return { close: () => this.orderWatchers.delete(onOrder) };
  }

  watchFills(onFill: (f: VenueFill) => void): Subscription {
    this.fillWatchers.add(onFill);
    return { close: () => this.fillWatchers.delete(onFill) };
  }

  // ---- Venue: account -----------------------------------------------------------------------------------------

  async fetchInstruments(): Promise<Instrument[]> {
    await this.ready();
    const out: Instrument[] = [];
    for (const symbol of this.opts.symbols ?? []) {
      const d = await this.contractDetailsOf(symbol);
      const { kind } = contractFor(symbol);
      const [base, quote] = symbol.split('/');
      out.push({
        symbol,
        base,
        quote,
        kind,
        tickSize: d.minTick || 0.01,
        lotSize: 1,
        minQty: 1,
        minNotional: 0,
        multiplier: d.contract.multiplier || 1,
      });
    }
    return out;
  }

  /**
   * The symbol's sessions from its contract details: regular (`liquidHours`) by default, or the wider
   * `tradingHours` (pre- and post-market) with `extended`.
   */
  async tradingSessions(symbol: string, extended = false): Promise<TradingSession[]> {
    await this.ready();
    const d = await this.contractDetailsOf(symbol, CONTRACT_DETAILS_MAX_AGE_MS);
    const hours = (extended ? d.tradingHours : d.liquidHours) ?? '';
    return parseTradingHours(hours, d.timeZoneId || 'UTC');
  }

  /** Whether the symbol's market is open at `at` (regular hours unless `extended`). */
  async isMarketOpen(symbol: string, at = Date.now(), extended = false): Promise<boolean> {
    return inSession(await this.tradingSessions(symbol, extended), at);
  }

  /** The account's values (net liquidation, cash, available funds = free margin, ...), in its base currency. */
  async fetchAccountValues(): Promise<IbkrAccountValues> {
    await this.ready();
    const rows = await this.request(
      (reqId) => {
        this.collectors.summary.set(reqId, []);
        this.send((ib) => ib.reqAccountSummary(reqId, 'All', ACCOUNT_TAGS));
      },
      (reqId) => {
        const r = this.collectors.summary.get(reqId) ?? [];
        // A summary subscription stays open at TWS until cancelled (and TWS allows only two at a time).
        this.send((ib) => ib.cancelAccountSummary(reqId));
        return r;
      },
    );
    const account = this.account ?? rows[0]?.account ?? '';
    const mine = rows.filter((r) => r.account === account);
    const get = (tag: string) => Number(mine.find((r) => r.tag === tag)?.value ?? Number.NaN);
    return {
      account,
      currency: mine.find((r) => r.tag === 'NetLiquidation')?.currency ?? '',
      netLiquidation: get('NetLiquidation'),
      totalCash: get('TotalCashValue'),
      availableFunds: get('AvailableFunds'),
      excessLiquidity: get('ExcessLiquidity'),
      buyingPower: get('BuyingPower'),
      initMarginReq: get('InitMarginReq'),
    };
  }

  /** One balance in the base currency: total = net liquidation, free = available funds (the free margin). */
  async fetchBalances(): Promise<Balance[]> {
    const v = await this.fetchAccountValues();
    if (!Number.isFinite(v.netLiquidation)) return [];
    const total = v.netLiquidation;
    const free = Math.min(Math.max(Number.isFinite(v.availableFunds) ? v.availableFunds : 0, 0), Math.max(total, 0));
    return [{ asset: v.currency, total, free, used: total - free }];
  }

  async fetchPositions(): Promise<Position[]> {
    await this.ready();
    // One positions request at a time: IB's answer carries no request id.
    const run = this.positionsLock.then(() =>
      this.call<Position[]>((done) => {
        const items: Position[] = [];
        this.positionsRun = {
          items,
          done: () => {
            this.positionsRun = undefined;
            this.send((ib) => ib.cancelPositions());
            done(items);
          },
        };
        this.send((ib) => ib.reqPositions());
      }),
    );
    this.positionsLock = run.catch(() => undefined);
    return run;
  }

  async fetchServerTime(): Promise<number> {
    await this.ready();
    return this.call<number>((done) => {
      this.timeWaiters.push(done);
      this.send((ib) => ib.reqCurrentTime());
    });
  }

  // ---- Venue: market data ------------------------------------------------------------------------------------

  /** A request's contract: the resolved one (by conId) so IB answers for exactly the instrument we trade. */
  private async marketContract(symbol: string): Promise<{ contract: Contract; trades: boolean }> {
    const c = (await this.contractDetailsOf(symbol)).contract;
    return {
      contract: { conId: c.conId, symbol: c.symbol, secType: c.secType, exchange: c.exchange, currency: c.currency },
      trades: c.secType !== 'CASH',
    };
  }

  /** One top-of-book snapshot (`reqMktData` with snapshot): done once both sides (and a last trade) are in. */
  private async snapshot(symbol: string): Promise<TopOfBook> {
    await this.ready();
    const { contract, trades } = await this.marketContract(symbol);
    const top = new TopOfBook(symbol, trades);
    await this.request<void>(
      (reqId) => {
        this.snapshots.set(reqId, (tickType, price, size) => {
          if (price !== undefined) top.price(tickType, price);
          if (size !== undefined) top.size(tickType, size);
          // IB ends a snapshot after up to 11 s; a complete quote is all we need.
          if (top.complete) this.finish(reqId);
        });
        this.send((ib) => ib.reqMktData(reqId, contract, '', true, false));
      },
      () => undefined,
      `market data of ${symbol}`,
    );
    if (top.bid <= 0 || top.ask <= 0) {
      throw new VenueError(`IBKR ${this.id}: no quote for ${symbol} (the market may be closed)`, {
        retryable: true,
        venue: this.id,
        code: 'VENUE_NO_QUOTE',
      });
    }
    return top;
  }

  /** Bid, ask and last from a snapshot (`last` is the mid for forex, which has no trades). */
  async fetchTicker(symbol: string): Promise<Ticker> {
    return (await this.snapshot(symbol)).ticker(Date.now());
  }

  /** The top of book (one level a side, with sizes); IB's depth needs a Level II subscription we do not read. */
  async fetchOrderBook(symbol: string, _depth?: number): Promise<OrderBook> {
    return (await this.snapshot(symbol)).book(Date.now());
  }

  /**
   * Historical bars (`reqHistoricalData`, trades for stocks and midpoints for forex, all hours): the newest `limit`
   * (default 500) up to now, or from `since` on. The newest bar may still be forming.
   */
  async fetchCandles(symbol: string, timeframe: Timeframe, since?: number, limit = 500): Promise<Bar[]> {
    await this.ready();
    const { contract } = await this.marketContract(symbol);
    const tfMs = TIMEFRAME_MS[timeframe];
    const now = Date.now();
    const end = since === undefined ? now : Math.min(now, since + limit * tfMs);
    const from = since ?? now - limit * tfMs;
    const raw = await this.request<IbBar[]>(
      (reqId) => {
        this.historical.set(reqId, []);
        this.send((ib) =>
          ib.reqHistoricalData(
            reqId,
            contract,
            end === now ? '' : ibEndDateTime(end),
            ibDuration(end - from),
            IB_BAR_SIZE[timeframe],
            whatToShowFor(contract.secType),
            0,
            2,
            false,
          ),
        );
      },
      (reqId) => this.historical.get(reqId) ?? [],
      `historical data of ${symbol}`,
    );
    const bars: Bar[] = [];
    for (const b of raw) {
      const time = ibBarTime(String(b.time));
      if (!Number.isFinite(time) || (since !== undefined && time < since)) continue;
      bars.push({
        time,
        open: b.open ?? 0,
        high: b.high ?? 0,
        low: b.low ?? 0,
        close: b.close ?? 0,
        volume: b.volume !== undefined && b.volume > 0 ? b.volume : 0,
      });
    }
    bars.sort((a, b) => a.time - b.time);
    return since === undefined ? bars.slice(-limit) : bars.slice(0, limit);
  }

  // Opens a market data line once the contract is known; `close` before that sends nothing.
  private openLine(
    symbol: string,
    line: Omit<MarketLine, 'about'>,
    start: (ib: IBApi, reqId: number, contract: Contract) => void,
    stop: (ib: IBApi, reqId: number) => void,
  ): Subscription {
    let closed = false;
    let reqId: number | undefined;
    const about = `${line.kind === 'ticks' ? 'market data' : 'real-time bars'} of ${symbol}`;
    void (async () => {
      try {
        await this.ready();
        const { contract } = await this.marketContract(symbol);
        if (closed) return;
        const id = this.newReqId();
        this.lines.set(id, { ...line, about });
        reqId = id;
        this.send((ib) => start(ib, id, contract));
      } catch (e) {
        if (reqId !== undefined) this.lines.delete(reqId);
        if (!closed) line.onError(e as Error);
      }
    })();
    return {
      close: () => {
        closed = true;
        if (reqId === undefined || !this.lines.delete(reqId)) return;
        const id = reqId;
        if (this.connected) this.send((ib) => stop(ib, id));
      },
    };
  }

  // A streaming tick line feeding one top of book; `emit` runs on every change once both sides are quoted.
  private tickLine(symbol: string, emit: (top: TopOfBook) => void, onError?: (e: Error) => void): Subscription {
    // Forex quotes without trades. A malformed symbol is reported by openLine, through onError, not thrown here.
    let trades = true;
    try {
      trades = contractFor(symbol).kind === 'stock';
    } catch {}
    const top = new TopOfBook(symbol, trades);
    return this.openLine(
      symbol,
      {
        kind: 'ticks',
        onTick: (tickType, price, size) => {
          const changed = price !== undefined ? top.price(tickType, price) : top.size(tickType, size);
          if (changed && top.bid > 0 && top.ask > 0) emit(top);
        },
        onError: (e) => onError?.(e),
      },
      (ib, reqId, contract) => ib.reqMktData(reqId, contract, '', false, false),
      (ib, reqId) => ib.cancelMktData(reqId),
    );
  }

  /** Streams the ticker (`reqMktData`) until closed (`cancelMktData`); a dropped connection ends it with an error. */
  watchTicker(symbol: string, onTicker: (t: Ticker) => void, onError?: (e: Error) => void): Subscription {
    return this.tickLine(symbol, (top) => onTicker(top.ticker(Date.now())), onError);
  }

  /** Streams the top of book (one level a side) from the same ticks as the ticker. */
  watchOrderBook(symbol: string, onBook: (b: OrderBook) => void, onError?: (e: Error) => void): Subscription {
    return this.tickLine(symbol, (top) => onBook(top.book(Date.now())), onError);
  }

  /**
   * Streams bars of `timeframe` built from IB's 5-second real-time bars (`reqRealTimeBars`, all hours): the forming
   * bar on every 5-second bar, the closed one when the next period's first 5-second bar arrives.
   */
  watchCandles(
    symbol: string,
    timeframe: Timeframe,
    onBar: (b: Bar, closed: boolean) => void,
    onError?: (e: Error) => void,
  ): Subscription {
    const bars = new BarAggregator(timeframe, onBar);
    return this.openLine(
      symbol,
      { kind: 'bars', onBar: (t, o, h, l, c, v) => bars.add(t, o, h, l, c, v), onError: (e) => onError?.(e) },
      (ib, reqId, resolved) => ib.reqRealTimeBars(reqId, resolved, 5, whatToShowFor(resolved.secType), false),
      (ib, reqId) => ib.cancelRealTimeBars(reqId),
    );
  }
}
