/**
 * Kraken spot WebSocket v2 shapes of the `executions` channel (what ccxt's kraken reads for `watchOrders` and
 * `watchMyTrades`): v2 symbols and asset names (`BTC/USD`, not the REST `XBT/USD`), RFC 3339 times, numbers as JSON
 * numbers, and one message per event. An order's first event carries its whole record; later events carry the order id
 * and what changed, as Kraken streams them (a client keeps the state).
 */
import type { SimExecutionType, SimOrder, SimTrade } from './exchange.js';
import { type KrakenPairSpec, krakenOrderType, orderTxid, price, tradeTxid, vol } from './kraken-format.js';

// Kraken's v2 API names these two assets by their common codes; the REST API's X-prefixed names are refused there.
const V2_ASSET: Readonly<Record<string, string>> = { XBT: 'BTC', XDG: 'DOGE' };

/** An asset's v2 name from its REST altname (`XBT` → `BTC`, `USD` → `USD`). */
export function v2Asset(altname: string): string {
  return V2_ASSET[altname] ?? altname;
}

/** A pair's v2 symbol from its `wsname` (`XBT/USD` → `BTC/USD`). */
export function v2Symbol(pair: KrakenPairSpec): string {
  return pair.wsname.split('/').map(v2Asset).join('/');
}

/** A time as Kraken's v2 API writes it: RFC 3339 with microseconds (`2023-09-22T10:33:05.709000Z`). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** What an execution message needs to know about the order's pair and account. */
export interface ExecutionContext {
  pair: KrakenPairSpec;
  /** The v2 name of the pair's quote asset (`USD`): every fee is charged in it (`fciq`). */
  quoteAsset: string;
  /** The `cl_ord_id` the order was placed with, when it was. */
  clientOrderId: string | undefined;
  now: number;
}

const px = (c: ExecutionContext, x: number) => Number(price(c.pair, x));
const qty = (x: number) => Number(vol(x));

// Kraken's v2 order status of a core order.
function v2Status(o: SimOrder): string {
  switch (o.status) {
    case 'NEW':
      return 'new';
    case 'PARTIALLY_FILLED':
      return 'partially_filled';
    case 'FILLED':
      return 'filled';
    case 'CANCELED':
      return 'canceled';
    default:
      return 'expired';
  }
}

// Fields every event of an order carries: its ids, the event and the state it leaves the order in.
function head(o: SimOrder, c: ExecutionContext, execType: string, status = v2Status(o)): Record<string, unknown> {
  return {
    order_id: orderTxid(o.orderId),
    order_userref: 0,
    ...(c.clientOrderId !== undefined ? { cl_ord_id: c.clientOrderId } : {}),
    exec_type: execType,
    order_status: status,
    timestamp: rfc3339(c.now),
  };
}

// What the order has executed so far (Kraken: `cum_qty`, `cum_cost`, `avg_price`; fees in USD, all in quote here).
function progress(o: SimOrder, c: ExecutionContext): Record<string, unknown> {
  const fee = o.fills.reduce((s, f) => s + f.commission, 0);
  return {
    cum_qty: qty(o.executedQty),
    cum_cost: qty(o.cummulativeQuoteQty),
    avg_price: px(c, o.executedQty > 0 ? o.cummulativeQuoteQty / o.executedQty : 0),
    fee_usd_equiv: c.quoteAsset === 'USD' ? qty(fee) : 0,
  };
}

/** An order's whole record: the first event of a new order, and an open order in a snapshot. */
export function orderRecord(o: SimOrder, c: ExecutionContext, execType: string, status?: string) {
  const isStop = o.type === 'STOP_LOSS' || o.type === 'STOP_LOSS_LIMIT';
  const hasLimit = o.type === 'LIMIT' || o.type === 'STOP_LOSS_LIMIT';
  return {
    ...head(o, c, execType, status),
    symbol: v2Symbol(c.pair),
    side: o.side === 'BUY' ? 'buy' : 'sell',
    order_type: krakenOrderType(o),
    order_qty: qty(o.origQty),
    ...(hasLimit ? { limit_price: px(c, o.price), limit_price_type: 'static' } : {}),
    ...(isStop ? { triggers: { reference: 'last', price: px(c, o.stopPrice), price_type: 'static' } } : {}),
    stop_price: px(c, isStop ? o.stopPrice : 0),
    time_in_force: o.timeInForce === 'IOC' ? 'IOC' : 'GTC',
    fee_ccy_pref: 'fciq',
    ...progress(o, c),
  };
}

/** One execution of the account (`exec_type: trade`): ids, price, quantity, liquidity and the fee in quote. */
export function tradeRecord(o: SimOrder, t: SimTrade, c: ExecutionContext): Record<string, unknown> {
  const done = o.executedQty + 1e-12 >= o.origQty;
  return {
    ...head(o, c, 'trade', done ? 'filled' : 'partially_filled'),
    exec_id: tradeTxid(t.id),
    trade_id: t.id,
    symbol: v2Symbol(c.pair),
    side: t.isBuyer ? 'buy' : 'sell',
    order_type: krakenOrderType(o),
    last_qty: qty(t.qty),
    last_price: px(c, t.price),
    liquidity_ind: t.isMaker ? 'm' : 't',
    cost: qty(t.quoteQty),
    fees: [{ asset: c.quoteAsset, qty: qty(t.commission) }],
    fee_usd_equiv: c.quoteAsset === 'USD' ? qty(t.commission) : 0,
    timestamp: rfc3339(t.time),
  };
}

/**
 * The `executions` events one change of the matching core makes, in Kraken's order: a placement is `pending_new`
 * (the whole record) then `new`; an execution is `trade`, followed by `filled` when it completed the order; a cancel
 * is `canceled`; a remainder that cannot rest (market, IOC) is `expired`.
 */
export function executionEvents(
  o: SimOrder,
  execution: SimExecutionType,
  trade: SimTrade | undefined,
  c: ExecutionContext,
): Record<string, unknown>[] {
  switch (execution) {
    case 'NEW':
      return [orderRecord(o, c, 'pending_new', 'pending_new'), head(o, c, 'new', 'new')];
    case 'TRADE': {
      if (!trade) return [];
      const out = [tradeRecord(o, trade, c)];
      if (o.status === 'FILLED') out.push({ ...head(o, c, 'filled'), ...progress(o, c) });
      return out;
    }
    case 'CANCELED':
      return [
        { ...head(o, c, 'canceled'), ...progress(o, c), reason: 'User requested', cancel_reason: 'User requested' },
      ];
    case 'EXPIRED':
      return [{ ...head(o, c, 'expired'), ...progress(o, c), reason: 'Insufficient liquidity' }];
  }
}
