/**
 * A fake TWS / IB Gateway on loopback speaking the real API wire protocol (V100+ framing: 4-byte big-endian length,
 * NUL-terminated fields) at server version 100, for the calls the IBKR adapter makes. Field orders follow the
 * decoder and encoder of `@stoqey/ib` at that version; the fake keeps a small account (cash, positions, orders,
 * executions) so fills, commissions, positions and balances are consistent, and serves market data (ticks,
 * historical and real-time bars) around each contract's price. It is the outside world's edge in tests.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** The server version the fake announces: the lowest the client accepts, so messages carry the fewest fields. */
export const FAKE_TWS_SERVER_VERSION = 100;

/** A contract the fake knows. `symbol` is IB's (e.g. AAPL, EUR for EUR.USD). */
export interface FakeTwsContract {
  conId: number;
  symbol: string;
  secType: 'STK' | 'CASH';
  currency: string;
  exchange: string;
  primaryExch?: string;
  minTick: number;
  price: number;
  longName?: string;
  /** IB session strings of the contract details; by default one session around the moment they are asked for. */
  liquidHours?: string;
  tradingHours?: string;
  timeZoneId?: string;
  /** False: the account has no market data subscription for it (reqMktData 354, historical data 162). */
  subscribed?: boolean;
}

/** Options of the fake TWS. */
export interface FakeTwsOptions {
  account?: string;
  /** Starting cash in the base currency (USD). */
  cash?: number;
  firstOrderId?: number;
  contracts?: FakeTwsContract[];
  /** Streaming market data: every this many ms each subscription gets a bid-size tick (0: ticks only on price moves). */
  quoteIntervalMs?: number;
  /**
   * Real-time bars: every this many ms each subscription gets its next 5-second bar (TWS: 5 000). Bar times advance
   * 5 s per bar from the 5-second boundary before the subscription, whatever the wall clock does.
   */
  realTimeBarIntervalMs?: number;
  /**
   * Initial margin as a fraction of the value (default: stocks 0.25, forex 0.03); 1 for both models a cash account,
   * where a purchase needs its full cost.
   */
  marginRates?: { STK?: number; CASH?: number };
  /** Historical data requests allowed per 10 minutes before IB's pacing violation (162); default 60. */
  historicalPer10Min?: number;
}

/** The requests whose next answer `failNext` replaces with an error. */
export type FakeTwsMarketRequest = 'mktData' | 'historicalData' | 'realTimeBars';

/** One order as the fake keeps it. */
export interface FakeTwsOrder {
  orderId: number;
  clientId: number;
  permId: number;
  contract: FakeTwsContract;
  action: 'BUY' | 'SELL';
  quantity: number;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  orderRef: string;
  /** PreSubmitted: held (not transmitted yet, or a bracket child waiting for its parent's fill). */
  status: 'PreSubmitted' | 'Submitted' | 'Filled' | 'Cancelled';
  parentId: number;
  filled: number;
  avgFillPrice: number;
}

/** One execution with its commission. */
export interface FakeTwsExecution {
  execId: string;
  order: FakeTwsOrder;
  shares: number;
  price: number;
  time: string;
  commission: number;
}

/** One message a client sent, as received (for pacing checks). */
export interface FakeTwsReceived {
  at: number;
  msgId: number;
  tokens: string[];
}

/** A running fake TWS. */
export interface FakeTwsHandle {
  host: string;
  port: number;
  account: string;
  readonly received: FakeTwsReceived[];
  /** Orders by `clientId:orderId` (TWS scopes order ids per API client). */
  readonly orders: Map<string, FakeTwsOrder>;
  /** The order with this id, of `clientId` when given, else the latest placed under that id. */
  order(orderId: number | string, clientId?: number): FakeTwsOrder | undefined;
  readonly executions: FakeTwsExecution[];
  cash(): number;
  positionOf(conId: number): number;
  /** Connected API clients right now. */
  connections(): number;
  /**
   * Moves a contract's price; resting limit and stop orders that it crosses fill. `silent` fills without telling
   * the clients, as when TWS had lost IB's servers (they learn of it by re-reading).
   */
  setPrice(symbol: string, price: number, opts?: { silent?: boolean }): void;
  /** Closes (false) or opens the market: market orders then rest as Submitted instead of filling. */
  setMarketOpen(open: boolean): void;
  /** Answers the next request of this kind with IB error `code` (e.g. 100 max message rate, 162 pacing). */
  failNext(request: FakeTwsMarketRequest, code: number, message: string): void;
  /** Streaming market data subscriptions open right now (reqMktData without snapshot, real-time bars). */
  marketDataLines(): number;
  /** Sends a notice (an error message without id) to every client, e.g. 1102 "connectivity restored". */
  notice(code: number, message: string): void;
  /** Drops every client connection, as TWS's nightly restart does; the account state stays. */
  dropConnections(): void;
  /** Refuses (true) or accepts new connections again, e.g. while "restarting". */
  refuseConnections(refuse: boolean): void;
  close(): Promise<void>;
}

/** Default contracts: a US stock on SMART and a forex pair on IDEALPRO. */
export const FAKE_TWS_CONTRACTS: FakeTwsContract[] = [
  {
    conId: 265598,
    symbol: 'AAPL',
    secType: 'STK',
    currency: 'USD',
    exchange: 'SMART',
    primaryExch: 'NASDAQ',
    minTick: 0.01,
    price: 190,
    longName: 'APPLE INC',
  },
  {
    conId: 12087792,
    symbol: 'EUR',
    secType: 'CASH',
    currency: 'USD',
    exchange: 'IDEALPRO',
    minTick: 0.00005,
    price: 1.1,
  },
];

// Incoming message ids the client sends (EClient OUT_MSG_ID).
const IN = {
  REQ_MKT_DATA: 1,
  CANCEL_MKT_DATA: 2,
  PLACE_ORDER: 3,
  CANCEL_ORDER: 4,
  REQ_OPEN_ORDERS: 5,
  REQ_EXECUTIONS: 7,
  REQ_IDS: 8,
  REQ_CONTRACT_DATA: 9,
  REQ_ALL_OPEN_ORDERS: 16,
  REQ_HISTORICAL_DATA: 20,
  CANCEL_HISTORICAL_DATA: 25,
  REQ_CURRENT_TIME: 49,
  REQ_REAL_TIME_BARS: 50,
  CANCEL_REAL_TIME_BARS: 51,
  REQ_POSITIONS: 61,
  REQ_ACCOUNT_SUMMARY: 62,
  CANCEL_ACCOUNT_SUMMARY: 63,
  CANCEL_POSITIONS: 64,
  START_API: 71,
} as const;

// Outgoing message ids (EWrapper IN_MSG_ID).
const OUT = {
  TICK_PRICE: 1,
  TICK_SIZE: 2,
  ORDER_STATUS: 3,
  ERR_MSG: 4,
  OPEN_ORDER: 5,
  NEXT_VALID_ID: 9,
  CONTRACT_DATA: 10,
  EXECUTION_DATA: 11,
  MANAGED_ACCTS: 15,
  HISTORICAL_DATA: 17,
  CURRENT_TIME: 49,
  REAL_TIME_BARS: 50,
  CONTRACT_DATA_END: 52,
  OPEN_ORDER_END: 53,
  EXECUTION_DATA_END: 55,
  TICK_SNAPSHOT_END: 57,
  COMMISSION_REPORT: 59,
  POSITION: 61,
  POSITION_END: 62,
  ACCOUNT_SUMMARY: 63,
  ACCOUNT_SUMMARY_END: 64,
} as const;

// OPEN_ORDER at server version 100 with message version 34 has 97 fields; the order state's status is field 86.
// Fields the client reads but we leave empty decode as 0 / "" / false, which is what TWS sends for unused ones.
const OPEN_ORDER_FIELDS = 97;
const OPEN_ORDER_STATUS_FIELD = 86;

type Field = string | number;

function frame(fields: Field[]): Buffer {
  const body = Buffer.from(`${fields.map((f) => String(f)).join('\0')}\0`, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

// TWS's execution time format: "yyyyMMdd  HH:mm:ss" (two spaces), here in UTC.
function execTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}  ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

// IB's fixed pricing: USD 0.005 a share, at least USD 1; forex 0.2 basis points of the value, at least USD 2.
function commissionFor(c: FakeTwsContract, shares: number, price: number): number {
  if (c.secType === 'STK') return Math.max(1, 0.005 * shares);
  return Math.max(2, shares * price * 0.00002);
}

// IB tick types (TickType): sizes and prices of the top of book, the last trade and the day's volume.
const TICK = { BID_SIZE: 0, BID: 1, ASK: 2, ASK_SIZE: 3, LAST: 4, LAST_SIZE: 5, VOLUME: 8 } as const;

/** IB's session string for one session from a day before `at` to a day after it: the market is open at `at`. */
export function fakeTwsHoursAround(at: number): string {
  const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
  return `${ymd(at - 86_400_000)}:0000-${ymd(at + 86_400_000)}:2359`;
}

/** IB's session string with the day of `at` closed and one session on the day after: the market is shut at `at`. */
export function fakeTwsHoursClosed(at: number): string {
  const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
  return `${ymd(at)}:CLOSED;${ymd(at + 2 * 86_400_000)}:0930-${ymd(at + 2 * 86_400_000)}:1600`;
}

// IB bar sizes ("1 min", "5 mins", "1 hour", "1 day", "5 secs") and durations ("3600 S", "2 D", "1 W") in ms.
const UNIT_MS: Record<string, number> = {
  sec: 1_000,
  secs: 1_000,
  S: 1_000,
  min: 60_000,
  mins: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  D: 86_400_000,
  week: 604_800_000,
  W: 604_800_000,
  M: 2_592_000_000,
  Y: 31_536_000_000,
};
function spanMs(s: string): number | undefined {
  const m = /^(\d+) (\w+)$/.exec(s.trim());
  const unit = m ? UNIT_MS[m[2]] : undefined;
  return m && unit ? Number(m[1]) * unit : undefined;
}

// endDateTime: "" (now), "yyyyMMdd-HH:mm:ss" (UTC) or "yyyyMMdd HH:mm:ss UTC".
function parseEnd(s: string): number | undefined {
  if (s === '') return Date.now();
  const m = /^(\d{4})(\d{2})(\d{2})[- ](\d{2}):(\d{2}):(\d{2})(?: UTC)?$/.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
}

interface MarketLine {
  client: Client;
  reqId: number;
  contract: FakeTwsContract;
  kind: 'ticks' | 'bars';
  /** Real-time bars: start of the next 5-second bar, in epoch seconds. */
  nextBar: number;
  bidSize: number;
}

interface Client {
  socket: Socket;
  buffer: Buffer;
  handshaken: boolean;
  clientId: number;
}

/** Starts a fake TWS on 127.0.0.1 at a free port. */
export async function startFakeTws(opts: FakeTwsOptions = {}): Promise<FakeTwsHandle> {
  const account = opts.account ?? 'DU1234567';
  const contracts = (opts.contracts ?? FAKE_TWS_CONTRACTS).map((c) => ({ ...c }));
  let cash = opts.cash ?? 100_000;
  let nextOrderId = opts.firstOrderId ?? 1;
  let permSeq = 1_000_000;
  let execSeq = 1;
  let refusing = false;
  let marketOpen = true;
  let silent = false;
  const positions = new Map<number, { qty: number; avgCost: number }>();
  const orders = new Map<string, FakeTwsOrder>();
  const key = (clientId: number, orderId: number) => `${clientId}:${orderId}`;
  const executions: FakeTwsExecution[] = [];
  const received: FakeTwsReceived[] = [];
  const clients = new Set<Client>();
  const lines = new Set<MarketLine>();
  const failures = new Map<FakeTwsMarketRequest, { code: number; message: string }>();
  const historicalAt: number[] = [];
  const historicalPer10Min = opts.historicalPer10Min ?? 60;

  const send = (c: Client, fields: Field[]) => {
    if (!c.socket.destroyed) c.socket.write(frame(fields));
  };
  const broadcast = (fields: Field[]) => {
    if (silent) return;
    for (const c of clients) if (c.handshaken) send(c, fields);
  };
  const error = (c: Client, id: number, code: number, msg: string) => send(c, [OUT.ERR_MSG, 2, id, code, msg]);

  const marketValue = () => {
    let v = 0;
    for (const [conId, p] of positions) {
      const ct = contracts.find((x) => x.conId === conId);
      if (ct) v += p.qty * ct.price;
    }
    return v;
  };
  const marginOf = (k: FakeTwsContract) =>
    k.secType === 'STK' ? (opts.marginRates?.STK ?? 0.25) : (opts.marginRates?.CASH ?? 0.03);
  // Initial margin on the value of positions: by default 25% on stocks, 3% on forex.
  const initMargin = () => {
    let m = 0;
    for (const [conId, p] of positions) {
      const ct = contracts.find((x) => x.conId === conId);
      if (ct) m += Math.abs(p.qty * ct.price) * marginOf(ct);
    }
    return m;
  };
  const netLiq = () => cash + marketValue();
  const availableFunds = () => netLiq() - initMargin();

  const openOrderFields = (o: FakeTwsOrder): Field[] => {
    const f: Field[] = [
      OUT.OPEN_ORDER,
      34,
      o.orderId,
      o.contract.conId,
      o.contract.symbol,
      o.contract.secType,
      '',
      0,
      '',
      '',
      o.contract.exchange,
      o.contract.currency,
      o.contract.secType === 'CASH' ? `${o.contract.symbol}.${o.contract.currency}` : o.contract.symbol,
      o.contract.secType === 'CASH' ? `${o.contract.symbol}.${o.contract.currency}` : 'NMS',
      o.action,
      o.quantity,
      o.orderType,
      o.lmtPrice ?? '',
      o.auxPrice ?? '',
      o.tif,
      '',
      account,
      'O',
      0,
      o.orderRef,
      o.clientId,
      o.permId,
    ];
    while (f.length < OPEN_ORDER_FIELDS) f.push('');
    f[OPEN_ORDER_STATUS_FIELD] = o.status;
    return f;
  };
  const orderStatusFields = (o: FakeTwsOrder, lastFillPrice = 0): Field[] => [
    OUT.ORDER_STATUS,
    6,
    o.orderId,
    o.status,
    o.filled,
    o.quantity - o.filled,
    o.avgFillPrice,
    o.permId,
    0,
    lastFillPrice,
    o.clientId,
    '',
  ];
  const executionFields = (reqId: number, e: FakeTwsExecution): Field[] => {
    const c = e.order.contract;
    return [
      OUT.EXECUTION_DATA,
      10,
      reqId,
      e.order.orderId,
      c.conId,
      c.symbol,
      c.secType,
      '',
      0,
      '',
      '',
      c.exchange,
      c.currency,
      c.secType === 'CASH' ? `${c.symbol}.${c.currency}` : c.symbol,
      c.secType === 'CASH' ? `${c.symbol}.${c.currency}` : 'NMS',
      e.execId,
      e.time,
      account,
      c.secType === 'CASH' ? 'IDEALPRO' : (c.primaryExch ?? 'ISLAND'),
      e.order.action === 'BUY' ? 'BOT' : 'SLD',
      e.shares,
      e.price,
      e.order.permId,
      e.order.clientId,
      0,
      e.order.filled,
      e.order.avgFillPrice,
      e.order.orderRef,
      '',
      '',
    ];
  };
  const commissionFields = (e: FakeTwsExecution): Field[] => [
    OUT.COMMISSION_REPORT,
    1,
    e.execId,
    e.commission,
    'USD',
    Number.MAX_VALUE,
    Number.MAX_VALUE,
    0,
  ];

  const fill = (o: FakeTwsOrder, price: number) => {
    const shares = o.quantity - o.filled;
    const signed = o.action === 'BUY' ? shares : -shares;
    const commission = commissionFor(o.contract, shares, price);
    cash -= signed * price + commission;
    const p = positions.get(o.contract.conId) ?? { qty: 0, avgCost: 0 };
    const qty = p.qty + signed;
    const avgCost =
      qty === 0
        ? 0
        : Math.sign(qty) === Math.sign(signed) && p.qty * signed >= 0
          ? (p.qty * p.avgCost + signed * price) / qty
          : p.avgCost;
    positions.set(o.contract.conId, { qty, avgCost });
    o.avgFillPrice = (o.avgFillPrice * o.filled + price * shares) / (o.filled + shares);
    o.filled += shares;
    o.status = 'Filled';
    const e: FakeTwsExecution = {
      execId: `0000e0d5.${String(execSeq++).padStart(8, '0')}.01.01`,
      order: o,
      shares,
      price,
      time: execTime(Date.now()),
      commission,
    };
    executions.push(e);
    // TWS's order of events for a fill: execution, status, commission report.
    broadcast(executionFields(-1, e));
    broadcast(orderStatusFields(o, price));
    broadcast(openOrderFields(o));
    broadcast(commissionFields(e));
    const group = [...orders.values()].filter((x) => x.clientId === o.clientId && x.status === 'PreSubmitted');
    // A filled parent activates its children; a filled child cancels its siblings (one-cancels-all).
    for (const child of group.filter((x) => x.parentId === o.orderId)) {
      if (child.status !== 'PreSubmitted') continue;
      child.status = 'Submitted';
      broadcast(orderStatusFields(child));
      const px = marketable(child);
      if (px !== undefined) fill(child, px);
    }
    if (o.parentId) {
      for (const sib of orders.values()) {
        if (sib === o || sib.clientId !== o.clientId || sib.parentId !== o.parentId || sib.status !== 'Submitted')
          continue;
        sib.status = 'Cancelled';
        broadcast(orderStatusFields(sib));
      }
    }
  };

  // A resting order's trigger: limit buys at or below the price, stops at or through it.
  const marketable = (o: FakeTwsOrder): number | undefined => {
    const px = o.contract.price;
    const buy = o.action === 'BUY';
    if (o.orderType === 'MKT') return marketOpen ? px : undefined;
    if (o.orderType === 'LMT' && o.lmtPrice !== undefined) {
      if (buy ? px <= o.lmtPrice : px >= o.lmtPrice) return px;
      return undefined;
    }
    if ((o.orderType === 'STP' || o.orderType === 'STP LMT') && o.auxPrice !== undefined) {
      if (buy ? px >= o.auxPrice : px <= o.auxPrice) return px;
    }
    return undefined;
  };

  const num = (s: string | undefined): number | undefined => {
    if (s === undefined || s === '') return undefined;
    const v = Number(s);
    return Number.isFinite(v) && v !== Number.MAX_VALUE ? v : undefined;
  };

  // PLACE_ORDER at server version 100, message version 45: fixed positions up to the parent id.
  const onPlaceOrder = (c: Client, t: string[]) => {
    const orderId = Number(t[2]);
    const symbol = t[4];
    const secType = t[5];
    const currency = t[12];
    const action = t[17] === 'SELL' ? 'SELL' : 'BUY';
    const quantity = Number(t[18]);
    const orderType = t[19];
    const lmtPrice = num(t[20]);
    const auxPrice = num(t[21]);
    const existing = orders.get(key(c.clientId, orderId));
    if (existing) {
      // Same id again: TWS treats it as a modification of the working order.
      if (existing.status !== 'Submitted' && existing.status !== 'PreSubmitted') {
        error(c, orderId, 104, 'Cannot modify a filled order.');
        return;
      }
      existing.quantity = quantity;
      existing.lmtPrice = lmtPrice;
      existing.auxPrice = auxPrice;
      broadcast(openOrderFields(existing));
      broadcast(orderStatusFields(existing));
      const px = marketable(existing);
      if (px !== undefined) fill(existing, px);
      return;
    }
    if (orderId < 1) {
      error(c, orderId, 103, 'Duplicate order id');
      return;
    }
    // One counter for all clients keeps ids distinct across them (TWS tracks the next id per client).
    nextOrderId = Math.max(nextOrderId, orderId + 1);
    const contract = contracts.find((k) => k.symbol === symbol && k.secType === secType && k.currency === currency);
    if (!contract) {
      error(c, orderId, 200, 'No security definition has been found for the request');
      return;
    }
    if (!(quantity > 0) || !['MKT', 'LMT', 'STP', 'STP LMT'].includes(orderType)) {
      error(c, orderId, 321, `Error validating request.-'bN' : cause - Invalid order: ${orderType} ${t[18]}`);
      return;
    }
    const price = lmtPrice ?? auxPrice ?? contract.price;
    const margin = marginOf(contract);
    if (action === 'BUY' && quantity * price * margin > availableFunds()) {
      error(
        c,
        orderId,
        201,
        `Order rejected - reason:Your order is not accepted because your Equity with Loan Value of [${netLiq().toFixed(2)} USD] is insufficient to cover the Initial Margin requirement.`,
      );
      return;
    }
    const o: FakeTwsOrder = {
      orderId,
      clientId: c.clientId,
      permId: permSeq++,
      contract,
      action,
      quantity,
      orderType,
      lmtPrice,
      auxPrice,
      tif: t[22] || 'DAY',
      orderRef: t[27] ?? '',
      status: 'Submitted',
      parentId: Number(t[29]) || 0,
      filled: 0,
      avgFillPrice: 0,
    };
    orders.set(key(c.clientId, orderId), o);
    // transmit=0 holds the order in TWS until an order of its group is transmitted (how brackets are sent).
    if (t[28] !== '1') {
      o.status = 'PreSubmitted';
      return;
    }
    if (o.parentId) {
      const parent = orders.get(key(c.clientId, o.parentId));
      const children = [...orders.values()].filter((x) => x.clientId === c.clientId && x.parentId === o.parentId);
      for (const child of children) child.status = 'PreSubmitted';
      if (parent && parent.status === 'PreSubmitted') {
        parent.status = 'Submitted';
        broadcast(openOrderFields(parent));
        broadcast(orderStatusFields(parent));
      }
      for (const child of children) {
        broadcast(openOrderFields(child));
        broadcast(orderStatusFields(child));
      }
      if (parent && parent.status === 'Submitted') {
        const px = marketable(parent);
        if (px !== undefined) fill(parent, px);
      }
      return;
    }
    broadcast(openOrderFields(o));
    broadcast(orderStatusFields(o));
    const px = marketable(o);
    if (px !== undefined) fill(o, px);
  };

  const onCancelOrder = (c: Client, t: string[]) => {
    const orderId = Number(t[2]);
    // A client cancels only its own orders.
    const o = orders.get(key(c.clientId, orderId));
    if (!o) {
      error(c, orderId, 135, `Can't find order with id =${orderId}`);
      return;
    }
    if (o.status !== 'Submitted') {
      error(
        c,
        orderId,
        10148,
        `OrderId ${orderId} that needs to be cancelled cannot be cancelled, state: ${o.status}.`,
      );
      return;
    }
    o.status = 'Cancelled';
    broadcast(orderStatusFields(o));
    error(c, orderId, 202, 'Order Canceled - reason:');
  };

  const onContractData = (c: Client, t: string[]) => {
    const reqId = Number(t[2]);
    const symbol = t[4];
    const secType = t[5];
    const exchange = t[10];
    const currency = t[12];
    const found = contracts.filter(
      (k) =>
        k.symbol === symbol &&
        (secType === '' || k.secType === secType) &&
        (currency === '' || k.currency === currency) &&
        (exchange === '' || k.exchange === exchange),
    );
    if (found.length === 0) {
      error(c, reqId, 200, 'No security definition has been found for the request');
      return;
    }
    for (const k of found) {
      const local = k.secType === 'CASH' ? `${k.symbol}.${k.currency}` : k.symbol;
      send(c, [
        OUT.CONTRACT_DATA,
        8,
        reqId,
        k.symbol,
        k.secType,
        '',
        0,
        '',
        k.exchange,
        k.currency,
        local,
        k.secType === 'CASH' ? local : 'NMS',
        k.secType === 'CASH' ? local : 'NMS',
        k.conId,
        k.minTick,
        '',
        k.secType === 'STK' ? 'ACTIVETIM,LMT,MKT,STP,STPLMT' : 'LMT,MKT,STP,STPLMT',
        k.exchange === 'SMART' ? `SMART,${k.primaryExch ?? 'NYSE'}` : k.exchange,
        1,
        0,
        k.longName ?? `European Monetary Union Euro`,
        k.primaryExch ?? '',
        '',
        '',
        '',
        '',
        k.timeZoneId ?? (k.secType === 'STK' ? 'US/Eastern' : 'EST5EDT'),
        k.tradingHours ?? fakeTwsHoursAround(Date.now()),
        k.liquidHours ?? fakeTwsHoursAround(Date.now()),
        '',
        '',
        0,
      ]);
    }
    send(c, [OUT.CONTRACT_DATA_END, 1, reqId]);
  };

  // ---- market data ----------------------------------------------------------------------------------------------

  // The contract a market data request names: by conId when given, else by symbol, type and currency.
  const contractOf = (t: string[]): FakeTwsContract | undefined => {
    const conId = Number(t[3]);
    if (conId > 0) return contracts.find((k) => k.conId === conId);
    return contracts.find((k) => k.symbol === t[4] && k.secType === t[5] && k.currency === t[12]);
  };
  // A quote one tick either side of the price (fills happen at the price, the mid).
  const bidOf = (k: FakeTwsContract) => +(k.price - k.minTick).toFixed(10);
  const askOf = (k: FakeTwsContract) => +(k.price + k.minTick).toFixed(10);
  // Forex on IDEALPRO has no trades: no last price, no volume, as at IB.
  const quoteTicks = (line: MarketLine): Field[][] => {
    const k = line.contract;
    const out: Field[][] = [
      [OUT.TICK_PRICE, 6, line.reqId, TICK.BID, bidOf(k), line.bidSize, 0],
      [OUT.TICK_PRICE, 6, line.reqId, TICK.ASK, askOf(k), 300, 0],
      // Sizes also come on their own, as from TWS (the client drops the bid size carried by a bid tick: type 0).
      [OUT.TICK_SIZE, 6, line.reqId, TICK.BID_SIZE, line.bidSize],
      [OUT.TICK_SIZE, 6, line.reqId, TICK.ASK_SIZE, 300],
    ];
    if (k.secType === 'STK') {
      out.push([OUT.TICK_PRICE, 6, line.reqId, TICK.LAST, k.price, 100, 0]);
      out.push([OUT.TICK_SIZE, 6, line.reqId, TICK.VOLUME, 12_345]);
    }
    return out;
  };
  const takeFailure = (c: Client, kind: FakeTwsMarketRequest, reqId: number): boolean => {
    const f = failures.get(kind);
    if (!f) return false;
    failures.delete(kind);
    error(c, reqId, f.code, f.message);
    return true;
  };

  const onMktData = (c: Client, t: string[]) => {
    const reqId = Number(t[2]);
    if (takeFailure(c, 'mktData', reqId)) return;
    const k = contractOf(t);
    if (!k) {
      error(c, reqId, 200, 'No security definition has been found for the request');
      return;
    }
    if (k.subscribed === false) {
      error(
        c,
        reqId,
        354,
        'Requested market data is not subscribed.Delayed market data is not available.AAPL NASDAQ.NMS/TOP/ALL',
      );
      return;
    }
    const line: MarketLine = { client: c, reqId, contract: k, kind: 'ticks', nextBar: 0, bidSize: 200 };
    for (const f of quoteTicks(line)) send(c, f);
    // snapshot (field 17): the ticks, then the end of the snapshot; else a line that streams until cancelled.
    if (t[17] === '1') send(c, [OUT.TICK_SNAPSHOT_END, 1, reqId]);
    else lines.add(line);
  };

  const cancelLine = (c: Client, reqId: number, kind: MarketLine['kind']) => {
    for (const l of lines) if (l.client === c && l.reqId === reqId && l.kind === kind) lines.delete(l);
  };

  // A deterministic path around the contract's price, so repeated requests see the same history.
  const pathAt = (k: FakeTwsContract, ms: number) => k.price * (1 + 0.002 * Math.sin(ms / 300_000 + (k.conId % 7)));

  const onHistoricalData = (c: Client, t: string[]) => {
    const reqId = Number(t[2]);
    if (takeFailure(c, 'historicalData', reqId)) return;
    const now = Date.now();
    while (historicalAt.length > 0 && now - historicalAt[0] >= 600_000) historicalAt.shift();
    if (historicalAt.length >= historicalPer10Min) {
      error(c, reqId, 162, 'Historical Market Data Service error message:Historical data request pacing violation');
      return;
    }
    historicalAt.push(now);
    const k = contractOf(t);
    if (!k) {
      error(c, reqId, 200, 'No security definition has been found for the request');
      return;
    }
    const whatToShow = t[20];
    if (k.subscribed === false) {
      error(
        c,
        reqId,
        162,
        `Historical Market Data Service error message:No market data permissions for ${k.exchange} ${k.secType}`,
      );
      return;
    }
    if (k.secType === 'CASH' && whatToShow === 'TRADES') {
      error(
        c,
        reqId,
        162,
        `Historical Market Data Service error message:No data of type TRADES is available for the exchange 'IDEALPRO' and the security type 'Forex'`,
      );
      return;
    }
    const end = parseEnd(t[16]);
    const barMs = spanMs(t[17]);
    const durationMs = spanMs(t[18]);
    if (end === undefined || barMs === undefined || durationMs === undefined || durationMs / barMs > 10_000) {
      error(
        c,
        reqId,
        321,
        `Error validating request.-'bX' : cause - Historical data query: ${t[16]} / ${t[17]} / ${t[18]}`,
      );
      return;
    }
    const daily = barMs >= 86_400_000;
    const bars: Field[] = [];
    let count = 0;
    for (let start = Math.floor((end - durationMs) / barMs) * barMs; start < end; start += barMs) {
      if (start < end - durationMs) continue;
      const open = pathAt(k, start);
      const close = pathAt(k, start + barMs);
      const mid = pathAt(k, start + barMs / 2);
      const high = Math.max(open, close, mid) * 1.0005;
      const low = Math.min(open, close, mid) * 0.9995;
      const r = (x: number) => +x.toFixed(k.secType === 'CASH' ? 5 : 2);
      // formatDate 2: intraday bars carry epoch seconds; daily bars are dated yyyyMMdd either way.
      const date = daily ? new Date(start).toISOString().slice(0, 10).replaceAll('-', '') : Math.floor(start / 1000);
      const volume = k.secType === 'CASH' ? -1 : 1_000 + ((start / barMs) % 97);
      bars.push(
        date,
        r(open),
        r(high),
        r(low),
        r(close),
        volume,
        r((open + close) / 2),
        0,
        k.secType === 'CASH' ? -1 : 40,
      );
      count++;
    }
    const stamp = (ms: number) => execTime(ms).replace('  ', ' ');
    send(c, [OUT.HISTORICAL_DATA, 3, reqId, stamp(end - durationMs), stamp(end), count, ...bars]);
  };

  const onRealTimeBars = (c: Client, t: string[]) => {
    const reqId = Number(t[2]);
    if (takeFailure(c, 'realTimeBars', reqId)) return;
    const k = contractOf(t);
    if (!k) {
      error(c, reqId, 200, 'No security definition has been found for the request');
      return;
    }
    if (k.subscribed === false) {
      error(c, reqId, 354, 'Requested market data is not subscribed.');
      return;
    }
    lines.add({ client: c, reqId, contract: k, kind: 'bars', nextBar: Math.floor(Date.now() / 5_000) * 5, bidSize: 0 });
  };

  const realTimeBar = (l: MarketLine) => {
    const k = l.contract;
    const open = pathAt(k, l.nextBar * 1000);
    const close = pathAt(k, (l.nextBar + 5) * 1000);
    const r = (x: number) => +x.toFixed(k.secType === 'CASH' ? 5 : 2);
    send(l.client, [
      OUT.REAL_TIME_BARS,
      3,
      l.reqId,
      l.nextBar,
      r(open),
      r(Math.max(open, close) * 1.0002),
      r(Math.min(open, close) * 0.9998),
      r(close),
      k.secType === 'CASH' ? -1 : 300,
      r((open + close) / 2),
      k.secType === 'CASH' ? -1 : 7,
    ]);
    l.nextBar += 5;
  };

  const timers: ReturnType<typeof setInterval>[] = [];
  if (opts.quoteIntervalMs) {
    timers.push(
      setInterval(() => {
        for (const l of lines) {
          if (l.kind !== 'ticks') continue;
          l.bidSize = l.bidSize === 200 ? 100 : 200;
          send(l.client, [OUT.TICK_SIZE, 6, l.reqId, TICK.BID_SIZE, l.bidSize]);
        }
      }, opts.quoteIntervalMs),
    );
  }
  timers.push(
    setInterval(() => {
      for (const l of lines) if (l.kind === 'bars') realTimeBar(l);
    }, opts.realTimeBarIntervalMs ?? 5_000),
  );
  // A price move reaches every tick line of the contract.
  const quoteMoved = (k: FakeTwsContract) => {
    for (const l of lines) if (l.kind === 'ticks' && l.contract === k) for (const f of quoteTicks(l)) send(l.client, f);
  };

  const onMessage = (c: Client, t: string[]) => {
    const msgId = Number(t[0]);
    received.push({ at: performance.now(), msgId, tokens: t });
    switch (msgId) {
      case IN.START_API:
        c.clientId = Number(t[2]);
        send(c, [OUT.NEXT_VALID_ID, 1, nextOrderId]);
        send(c, [OUT.MANAGED_ACCTS, 1, account]);
        send(c, [OUT.ERR_MSG, 2, -1, 2104, 'Market data farm connection is OK:usfarm']);
        return;
      case IN.REQ_IDS:
        send(c, [OUT.NEXT_VALID_ID, 1, nextOrderId]);
        return;
      case IN.REQ_CURRENT_TIME:
        send(c, [OUT.CURRENT_TIME, 1, Math.floor(Date.now() / 1000)]);
        return;
      case IN.REQ_CONTRACT_DATA:
        onContractData(c, t);
        return;
      case IN.PLACE_ORDER:
        onPlaceOrder(c, t);
        return;
      case IN.REQ_MKT_DATA:
        onMktData(c, t);
        return;
      case IN.CANCEL_MKT_DATA:
        cancelLine(c, Number(t[2]), 'ticks');
        return;
      case IN.REQ_HISTORICAL_DATA:
        onHistoricalData(c, t);
        return;
      case IN.REQ_REAL_TIME_BARS:
        onRealTimeBars(c, t);
        return;
      case IN.CANCEL_REAL_TIME_BARS:
        cancelLine(c, Number(t[2]), 'bars');
        return;
      case IN.CANCEL_ORDER:
        onCancelOrder(c, t);
        return;
      case IN.REQ_OPEN_ORDERS:
      case IN.REQ_ALL_OPEN_ORDERS:
        for (const o of orders.values()) {
          if (o.status !== 'Submitted' && o.status !== 'PreSubmitted') continue;
          send(c, openOrderFields(o));
          send(c, orderStatusFields(o));
        }
        send(c, [OUT.OPEN_ORDER_END, 1]);
        return;
      case IN.REQ_EXECUTIONS: {
        const reqId = Number(t[2]);
        for (const e of executions) {
          send(c, executionFields(reqId, e));
          send(c, commissionFields(e));
        }
        send(c, [OUT.EXECUTION_DATA_END, 1, reqId]);
        return;
      }
      case IN.REQ_POSITIONS:
        for (const [conId, p] of positions) {
          const k = contracts.find((x) => x.conId === conId);
          if (!k) continue;
          const local = k.secType === 'CASH' ? `${k.symbol}.${k.currency}` : k.symbol;
          send(c, [
            OUT.POSITION,
            3,
            account,
            conId,
            k.symbol,
            k.secType,
            '',
            0,
            '',
            '',
            '',
            k.currency,
            local,
            k.secType === 'CASH' ? local : 'NMS',
            p.qty,
            p.avgCost,
          ]);
        }
        send(c, [OUT.POSITION_END, 1]);
        return;
      case IN.REQ_ACCOUNT_SUMMARY: {
        const reqId = Number(t[2]);
        const values: Record<string, number> = {
          NetLiquidation: netLiq(),
          TotalCashValue: cash,
          AvailableFunds: availableFunds(),
          ExcessLiquidity: availableFunds(),
          BuyingPower: availableFunds() * 4,
          InitMarginReq: initMargin(),
          GrossPositionValue: Math.abs(marketValue()),
        };
        const tags = (t[4] ?? '').split(',');
        for (const tag of tags) {
          const v = values[tag];
          if (v !== undefined) send(c, [OUT.ACCOUNT_SUMMARY, 1, reqId, account, tag, v.toFixed(2), 'USD']);
        }
        send(c, [OUT.ACCOUNT_SUMMARY_END, 1, reqId]);
        return;
      }
      default:
        // CANCEL_ACCOUNT_SUMMARY, CANCEL_POSITIONS and anything else need no answer.
        return;
    }
  };

  const onData = (c: Client, data: Buffer) => {
    c.buffer = Buffer.concat([c.buffer, data]);
    if (!c.handshaken) {
      // "API\0", then a length-prefixed version range such as "v100..193".
      if (c.buffer.length < 8) return;
      if (c.buffer.subarray(0, 4).toString('latin1') !== 'API\0') {
        c.socket.destroy();
        return;
      }
      const len = c.buffer.readUInt32BE(4);
      if (c.buffer.length < 8 + len) return;
      const range = c.buffer.subarray(8, 8 + len).toString('utf8');
      c.buffer = c.buffer.subarray(8 + len);
      const m = /^v(\d+)(?:\.\.(\d+))?/.exec(range);
      const lo = m ? Number(m[1]) : Number.NaN;
      const hi = m?.[2] ? Number(m[2]) : lo;
      if (!(lo <= FAKE_TWS_SERVER_VERSION && FAKE_TWS_SERVER_VERSION <= hi)) {
        c.socket.destroy();
        return;
      }
      c.handshaken = true;
      send(c, [FAKE_TWS_SERVER_VERSION, `${execTime(Date.now()).replace('  ', ' ')} UTC`]);
    }
    while (c.buffer.length >= 4) {
      const len = c.buffer.readUInt32BE(0);
      if (c.buffer.length < 4 + len) return;
      const body = c.buffer.subarray(4, 4 + len).toString('utf8');
      c.buffer = c.buffer.subarray(4 + len);
      const tokens = body.split('\0');
      if (tokens.at(-1) === '') tokens.pop();
      onMessage(c, tokens);
    }
  };

  const server: Server = createServer((socket) => {
    if (refusing) {
      socket.destroy();
      return;
    }
    const c: Client = { socket, buffer: Buffer.alloc(0), handshaken: false, clientId: 0 };
    clients.add(c);
    socket.setNoDelay(true);
    socket.on('data', (d) => onData(c, d));
    const gone = () => {
      clients.delete(c);
      for (const l of lines) if (l.client === c) lines.delete(l);
    };
    socket.on('close', gone);
    socket.on('error', gone);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    account,
    received,
    orders,
    order(orderId, clientId) {
      const id = Number(orderId);
      if (clientId !== undefined) return orders.get(key(clientId, id));
      return [...orders.values()].filter((o) => o.orderId === id).at(-1);
    },
    executions,
    cash: () => cash,
    positionOf: (conId) => positions.get(conId)?.qty ?? 0,
    connections: () => clients.size,
    setPrice(symbol, price, opts = {}) {
      const k = contracts.find((x) => x.symbol === symbol);
      if (!k) throw new Error(`fake TWS: no contract ${symbol}`);
      k.price = price;
      quoteMoved(k);
      silent = opts.silent === true;
      try {
        for (const o of orders.values()) {
          if (o.contract !== k || o.status !== 'Submitted') continue;
          const px = marketable(o);
          if (px !== undefined) fill(o, o.orderType === 'LMT' && o.lmtPrice !== undefined ? o.lmtPrice : px);
        }
      } finally {
        silent = false;
      }
    },
    setMarketOpen(open) {
      marketOpen = open;
    },
    failNext(request, code, message) {
      failures.set(request, { code, message });
    },
    marketDataLines: () => lines.size,
    notice(code, message) {
      broadcast([OUT.ERR_MSG, 2, -1, code, message]);
    },
    dropConnections() {
      for (const c of clients) c.socket.destroy();
      clients.clear();
      lines.clear();
    },
    refuseConnections(refuse) {
      refusing = refuse;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      lines.clear();
      for (const c of clients) c.socket.destroy();
      clients.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
