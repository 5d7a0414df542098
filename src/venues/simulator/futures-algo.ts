/**
 * The simulator's Binance USDⓈ-M conditional orders (the Algo Service: `/fapi/v1/algoOrder`, what ccxt's binanceusdm
 * sends a stop to): STOP_MARKET and TAKE_PROFIT_MARKET rest here, untriggered, until the mark price
 * (`workingType=MARK_PRICE`) or the last contract price (`CONTRACT_PRICE`, the default) reaches the trigger; then a
 * MARKET order goes to the matching engine carrying the algo's client id (reduce-only when the algo is, the whole
 * position when it closes the position). Its lifecycle is Binance's: NEW → TRIGGERED (the order placed, its id in
 * `actualOrderId`) → FINISHED once that order is final; CANCELED; REJECTED when the engine refuses the order (a
 * reduce-only stop with no position left to reduce); EXPIRED for a close-position stop with the position gone.
 */
import { BinanceApiError, type SimExchange, type SimOrder } from './exchange.js';
import type { SimFuturesAccount } from './futures-account.js';
import { isMultiple } from './market-model.js';

/** Binance's algo statuses. */
export type SimAlgoStatus = 'NEW' | 'TRIGGERED' | 'FINISHED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

/** One conditional order as the Algo Service holds it. */
export interface SimAlgoOrder {
  algoId: number;
  clientAlgoId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  orderType: 'STOP_MARKET' | 'TAKE_PROFIT_MARKET';
  /** 0 with closePosition. */
  quantity: number;
  triggerPrice: number;
  workingType: 'MARK_PRICE' | 'CONTRACT_PRICE';
  reduceOnly: boolean;
  closePosition: boolean;
  algoStatus: SimAlgoStatus;
  /** The matching engine's order once triggered. */
  actualOrderId: number | undefined;
  createTime: number;
  updateTime: number;
  triggerTime: number;
}

/** A new conditional order's parameters, as parsed from the request. */
export interface NewAlgoParams {
  symbol: string;
  side: string;
  type: string;
  quantity?: number;
  triggerPrice?: number;
  workingType?: string;
  reduceOnly: boolean;
  closePosition: boolean;
  clientAlgoId: string;
}

/** Called at each change of an algo order (the user-data stream's `ALGO_UPDATE`). */
export type AlgoListener = (a: SimAlgoOrder) => void;

const OPEN: readonly SimAlgoStatus[] = ['NEW'];

/** The Algo Service of one futures exchange. */
export class SimAlgoOrders {
  readonly orders: SimAlgoOrder[] = [];
  private readonly listeners: AlgoListener[] = [];
  private nextAlgoId = 3_000;

  constructor(
    private readonly ex: SimExchange,
    private readonly account: SimFuturesAccount,
  ) {
    // The order a trigger placed reports its end: the algo is FINISHED then.
    ex.onUpdate((o) => {
      if (o.status !== 'FILLED' && o.status !== 'CANCELED' && o.status !== 'EXPIRED') return;
      const a = this.orders.find((x) => x.actualOrderId === o.orderId && x.algoStatus === 'TRIGGERED');
      if (a) this.set(a, 'FINISHED');
    });
  }

  /** Subscribes to algo order changes. */
  onUpdate(listener: AlgoListener): void {
    this.listeners.push(listener);
  }

  /** `POST /fapi/v1/algoOrder`: validates as Binance does and rests the order untriggered. */
  place(p: NewAlgoParams): SimAlgoOrder {
    const m = this.ex.market(p.symbol);
    if (p.side !== 'BUY' && p.side !== 'SELL')
      throw new BinanceApiError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
    if (p.type !== 'STOP_MARKET' && p.type !== 'TAKE_PROFIT_MARKET')
      throw new BinanceApiError(400, -1116, 'Invalid orderType.');
    const trigger = p.triggerPrice;
    if (trigger === undefined || !(trigger > 0))
      throw new BinanceApiError(
        400,
        -1102,
        "Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed.",
      );
    if (!isMultiple(trigger, m.spec.tickSize)) throw new BinanceApiError(400, -1013, 'Filter failure: PRICE_FILTER');
    if (p.closePosition && (p.quantity !== undefined || p.reduceOnly))
      throw new BinanceApiError(400, -1106, "Parameter 'quantity' or 'reduceOnly' sent when not required.");
    const qty = p.closePosition ? 0 : (p.quantity ?? 0);
    if (!p.closePosition) {
      if (!(qty > 0))
        throw new BinanceApiError(
          400,
          -1102,
          "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
        );
      if (qty < m.spec.minQty - 1e-12 || !isMultiple(qty, m.spec.stepSize))
        throw new BinanceApiError(400, -1013, 'Filter failure: LOT_SIZE');
    }
    const workingType = p.workingType === 'MARK_PRICE' ? 'MARK_PRICE' : 'CONTRACT_PRICE';
    if (p.workingType !== undefined && p.workingType !== 'MARK_PRICE' && p.workingType !== 'CONTRACT_PRICE')
      throw new BinanceApiError(400, -1116, 'Invalid workingType.');
    // A reduce-only stop that would open (no position, or one on its own side) is refused as the engine would.
    if (p.reduceOnly) {
      const pos = this.account.position(m.spec.symbol).qty;
      const signed = p.side === 'BUY' ? 1 : -1;
      if (pos === 0 || Math.sign(pos) === signed)
        throw new BinanceApiError(400, -2022, 'ReduceOnly Order is rejected.');
    }
    if (
      this.orders.some((a) => a.clientAlgoId === p.clientAlgoId && OPEN.includes(a.algoStatus)) ||
      this.ex.openOrders().some((o) => o.clientOrderId === p.clientAlgoId)
    )
      throw new BinanceApiError(400, -4116, 'ClientOrderId is duplicated.');
    const a: SimAlgoOrder = {
      algoId: this.nextAlgoId++,
      clientAlgoId: p.clientAlgoId,
      symbol: m.spec.symbol,
      side: p.side,
      orderType: p.type,
      quantity: qty,
      triggerPrice: trigger,
      workingType,
      reduceOnly: p.reduceOnly,
      closePosition: p.closePosition,
      algoStatus: 'NEW',
      actualOrderId: undefined,
      createTime: this.ex.now(),
      updateTime: this.ex.now(),
      triggerTime: 0,
    };
    if (this.reached(a)) throw new BinanceApiError(400, -2021, 'Order would immediately trigger.');
    this.orders.push(a);
    this.emit(a);
    return a;
  }

  /** The algo order by id or client id (the latest with that client id). */
  find(algoId?: number, clientAlgoId?: string): SimAlgoOrder | undefined {
    for (let i = this.orders.length - 1; i >= 0; i--) {
      const a = this.orders[i];
      if (algoId !== undefined ? a.algoId === algoId : a.clientAlgoId === clientAlgoId) return a;
    }
    return undefined;
  }

  /** `DELETE /fapi/v1/algoOrder`: an untriggered order is cancelled; anything else is -2011 as Binance answers. */
  cancel(algoId?: number, clientAlgoId?: string): SimAlgoOrder {
    const a = this.find(algoId, clientAlgoId);
    if (a?.algoStatus !== 'NEW') throw new BinanceApiError(400, -2011, 'Unknown order sent.');
    this.set(a, 'CANCELED');
    return a;
  }

  /** Untriggered orders, optionally of one symbol. */
  open(symbol?: string): SimAlgoOrder[] {
    return this.orders.filter((a) => OPEN.includes(a.algoStatus) && (!symbol || a.symbol === symbol));
  }

  /** Triggers every resting order whose price has been reached (called after each market move). */
  check(): void {
    for (const a of this.orders) if (a.algoStatus === 'NEW' && this.reached(a)) this.trigger(a);
  }

  // A stop triggers when the price falls to (sell) or rises to (buy) its trigger; a take-profit the other way.
  private reached(a: SimAlgoOrder): boolean {
    const price = a.workingType === 'MARK_PRICE' ? this.account.markPrice(a.symbol) : this.ex.market(a.symbol).last;
    const down = (a.orderType === 'STOP_MARKET') === (a.side === 'SELL');
    return down ? price <= a.triggerPrice : price >= a.triggerPrice;
  }

  private trigger(a: SimAlgoOrder): void {
    const now = this.ex.now();
    a.triggerTime = now;
    let qty = a.quantity;
    if (a.closePosition) {
      const pos = this.account.position(a.symbol).qty;
      const closes = a.side === 'BUY' ? pos < 0 : pos > 0;
      if (!closes) {
        this.set(a, 'EXPIRED');
        return;
      }
      qty = Math.abs(pos);
    }
    let placed: SimOrder;
    try {
      placed = this.ex.placeOrder(
        {
          symbol: a.symbol,
          side: a.side,
          type: 'MARKET',
          quantity: qty,
          reduceOnly: a.reduceOnly || a.closePosition,
        },
        a.clientAlgoId,
      );
    } catch (err) {
      if (!(err instanceof BinanceApiError)) throw err;
      this.set(a, 'REJECTED');
      return;
    }
    a.actualOrderId = placed.orderId;
    // A market order is final at once: its end was reported before the id was known here.
    this.set(a, 'TRIGGERED');
    if (placed.status !== 'NEW' && placed.status !== 'PARTIALLY_FILLED') this.set(a, 'FINISHED');
  }

  private set(a: SimAlgoOrder, status: SimAlgoStatus): void {
    a.algoStatus = status;
    a.updateTime = this.ex.now();
    this.emit(a);
  }

  private emit(a: SimAlgoOrder): void {
    for (const l of this.listeners) l(a);
  }
}
