/**
 * The simulator's USDⓈ-M futures account (Binance one-way mode): wallet balance, a net position per symbol with its
 * leverage and margin type, margin held by open orders, funding at the funding times of the exchange's clock, and
 * the income history. It is the futures `SimSettlement` of a `SimExchange`, which keeps doing the matching.
 */
import { BinanceApiError, type SimExchange, type SimOrder, type SimSettlement } from './exchange.js';
import { r8, type SimMarket } from './market-model.js';

/** Binance's margin types (`marginType` of `/fapi/v1/marginType`). */
export type SimMarginType = 'CROSSED' | 'ISOLATED';

/** One symbol's position and settings (Binance one-way mode: `positionSide` BOTH). */
export interface SimFuturesPosition {
  symbol: string;
  /** Signed quantity: negative = short. */
  qty: number;
  entryPrice: number;
  leverage: number;
  marginType: SimMarginType;
  updateTime: number;
}

/** Binance's income types the simulator records. */
export type SimIncomeType = 'REALIZED_PNL' | 'COMMISSION' | 'FUNDING_FEE' | 'TRANSFER';

/** One entry of the income history (`/fapi/v1/income`). */
export interface SimIncome {
  tranId: number;
  symbol: string;
  incomeType: SimIncomeType;
  income: number;
  asset: string;
  time: number;
  tradeId: string;
}

/** Options of the futures account. */
export interface SimFuturesAccountOptions {
  /** Wallet balance in the margin asset at start (default 100,000). */
  wallet?: number;
  /** The margin asset (default USDT). */
  asset?: string;
  /** Leverage of a symbol until `/fapi/v1/leverage` changes it (default 20, Binance's default). */
  defaultLeverage?: number;
  /** Maintenance margin rate of the first bracket (default 0.004, BTCUSDT's). */
  maintMarginRate?: number;
  /** Funding rate per interval per symbol (default 0.0001 = 0.01 %). */
  fundingRates?: Record<string, number>;
  /** Funding interval (default 8 h: funding at 00:00, 08:00 and 16:00 UTC). */
  fundingIntervalMs?: number;
}

/** Account figures as Binance reports them on `/fapi/v2/account`. */
export interface SimFuturesTotals {
  walletBalance: number;
  unrealizedProfit: number;
  marginBalance: number;
  positionInitialMargin: number;
  openOrderInitialMargin: number;
  maintMargin: number;
  availableBalance: number;
}

const MAX_LEVERAGE = 125;

/** The futures account and settlement of one simulated exchange. */
export class SimFuturesAccount implements SimSettlement {
  readonly asset: string;
  readonly maintMarginRate: number;
  readonly fundingIntervalMs: number;
  readonly income: SimIncome[] = [];
  /** Funding rate per symbol; tests change it to make a payment's sign and size known. */
  readonly fundingRates = new Map<string, number>();
  walletBalance: number;
  /** The next funding time on the exchange clock. */
  nextFundingTime: number;
  private readonly positions = new Map<string, SimFuturesPosition>();
  /** Opening quantity of each open order that still holds margin, by order id. */
  private readonly held = new Map<number, number>();
  private readonly defaultLeverage: number;
  private nextTranId = 9_000_000;

  constructor(
    private readonly ex: SimExchange,
    opts: SimFuturesAccountOptions = {},
  ) {
    this.asset = opts.asset ?? 'USDT';
    this.walletBalance = opts.wallet ?? 100_000;
    this.defaultLeverage = opts.defaultLeverage ?? 20;
    this.maintMarginRate = opts.maintMarginRate ?? 0.004;
    this.fundingIntervalMs = opts.fundingIntervalMs ?? 8 * 3_600_000;
    for (const [s, r] of Object.entries(opts.fundingRates ?? {})) this.fundingRates.set(s, r);
    this.nextFundingTime = this.fundingTimeAfter(ex.now());
  }

  /** The position record of a symbol (flat until traded), with its leverage and margin type. */
  position(symbol: string): SimFuturesPosition {
    let p = this.positions.get(symbol);
    if (!p) {
      p = {
        symbol,
        qty: 0,
        entryPrice: 0,
        leverage: this.defaultLeverage,
        marginType: 'CROSSED',
        updateTime: 0,
      };
      this.positions.set(symbol, p);
    }
    return p;
  }

  /** Every symbol of the exchange with its position (flat ones included, as `/fapi/v2/positionRisk` lists them). */
  allPositions(): SimFuturesPosition[] {
    return [...this.ex.markets.keys()].map((s) => this.position(s));
  }

  /** Binance's mark price: here the mid of the book (no separate index). */
  markPrice(symbol: string): number {
    const m = this.ex.market(symbol);
    const bid = m.bestBid();
    const ask = m.bestAsk();
    return bid > 0 && ask > 0 ? (bid + ask) / 2 : m.last;
  }

  /** The funding rate of the coming funding time. */
  fundingRate(symbol: string): number {
    return this.fundingRates.get(symbol) ?? 0.0001;
  }

  /** `POST /fapi/v1/leverage`: 1..125; refused (-2027) when the positions' margin would exceed what the account has. */
  setLeverage(symbol: string, leverage: number): SimFuturesPosition {
    this.ex.market(symbol);
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > MAX_LEVERAGE)
      throw new BinanceApiError(400, -4028, `Leverage ${leverage} is not valid`);
    const p = this.position(symbol);
    const before = p.leverage;
    p.leverage = leverage;
    if (this.totals().availableBalance < 0) {
      p.leverage = before;
      throw new BinanceApiError(400, -2027, 'Exceeded the maximum allowable position at current leverage.');
    }
    return p;
  }

  /** `POST /fapi/v1/marginType`: -4046 when unchanged, -4048 with a position, -4047 with open orders (Binance). */
  setMarginType(symbol: string, marginType: string): void {
    this.ex.market(symbol);
    if (marginType !== 'CROSSED' && marginType !== 'ISOLATED')
      throw new BinanceApiError(400, -1116, 'Invalid marginType.');
    const p = this.position(symbol);
    if (p.marginType === marginType) throw new BinanceApiError(400, -4046, 'No need to change margin type.');
    if (p.qty !== 0) throw new BinanceApiError(400, -4048, 'Margin type cannot be changed if there exists position.');
    if (this.ex.openOrders(symbol).length > 0)
      throw new BinanceApiError(400, -4047, 'Margin type cannot be changed if there exists open orders.');
    p.marginType = marginType;
  }

  /** P&L realised on a symbol so far, before fees (`cr` of an `ACCOUNT_UPDATE` position). */
  realizedTotal(symbol: string): number {
    let sum = 0;
    for (const e of this.income) if (e.symbol === symbol && e.incomeType === 'REALIZED_PNL') sum += e.income;
    return r8(sum);
  }

  /** Unrealised P&L of a symbol's position at the mark price. */
  unrealized(p: SimFuturesPosition): number {
    return p.qty === 0 ? 0 : (this.markPrice(p.symbol) - p.entryPrice) * p.qty;
  }

  /** Initial margin of a position: notional at mark over leverage. */
  positionMargin(p: SimFuturesPosition): number {
    return p.qty === 0 ? 0 : (Math.abs(p.qty) * this.markPrice(p.symbol)) / p.leverage;
  }

  /** Margin held by a symbol's open orders (their opening quantity at the order price over leverage). */
  openOrderMargin(symbol?: string): number {
    let sum = 0;
    for (const o of this.ex.openOrders(symbol)) {
      const q = this.held.get(o.orderId) ?? 0;
      if (q > 0) sum += (q * (o.price > 0 ? o.price : this.markPrice(o.symbol))) / this.position(o.symbol).leverage;
    }
    return sum;
  }

  /** An isolated position's margin: what it was opened with plus its unrealised P&L. */
  isolatedMargin(p: SimFuturesPosition): number {
    return p.marginType === 'ISOLATED' && p.qty !== 0 ? this.isolatedWallet(p) + this.unrealized(p) : 0;
  }

  /** An isolated position's wallet: the initial margin at entry (no margin added or removed here). */
  isolatedWallet(p: SimFuturesPosition): number {
    return p.marginType === 'ISOLATED' && p.qty !== 0 ? (Math.abs(p.qty) * p.entryPrice) / p.leverage : 0;
  }

  /**
   * Binance's liquidation price for one-way mode, first maintenance bracket (cumulative amount 0):
   * (WB − TMM₁ + UPNL₁ − side·size·EP) / (size·MMR − side·size), WB the isolated wallet (isolated) or the cross wallet,
   * TMM₁/UPNL₁ the other cross positions' maintenance margin and unrealised P&L (0 for isolated). 0 when flat.
   */
  liquidationPrice(p: SimFuturesPosition): number {
    if (p.qty === 0) return 0;
    const size = Math.abs(p.qty);
    const side = Math.sign(p.qty);
    let wb: number;
    let otherMaint = 0;
    let otherPnl = 0;
    if (p.marginType === 'ISOLATED') wb = this.isolatedWallet(p);
    else {
      wb = this.walletBalance;
      for (const q of this.positions.values()) {
        if (q === p || q.qty === 0) continue;
        if (q.marginType === 'ISOLATED') {
          wb -= this.isolatedWallet(q);
          continue;
        }
        otherMaint += Math.abs(q.qty) * this.markPrice(q.symbol) * this.maintMarginRate;
        otherPnl += this.unrealized(q);
      }
    }
    const lp = (wb - otherMaint + otherPnl - side * size * p.entryPrice) / (size * this.maintMarginRate - side * size);
    return lp > 0 ? lp : 0;
  }

  /** The account's figures: margin balance = wallet + unrealised; available = margin balance − initial margins. */
  totals(): SimFuturesTotals {
    let unrealizedProfit = 0;
    let positionInitialMargin = 0;
    let maintMargin = 0;
    for (const p of this.positions.values()) {
      if (p.qty === 0) continue;
      unrealizedProfit += this.unrealized(p);
      positionInitialMargin += this.positionMargin(p);
      maintMargin += Math.abs(p.qty) * this.markPrice(p.symbol) * this.maintMarginRate;
    }
    const openOrderInitialMargin = this.openOrderMargin();
    const marginBalance = this.walletBalance + unrealizedProfit;
    return {
      walletBalance: this.walletBalance,
      unrealizedProfit,
      marginBalance,
      positionInitialMargin,
      openOrderInitialMargin,
      maintMargin,
      availableBalance: marginBalance - positionInitialMargin - openOrderInitialMargin,
    };
  }

  /**
   * A new order: reduce-only ones must shrink the position without flipping it (-2022, as Binance); others need
   * the initial margin of the part that opens or grows a position (-2019 "Margin is insufficient.").
   */
  reserve(o: SimOrder, m: SimMarket): void {
    const p = this.position(o.symbol);
    const signed = o.side === 'BUY' ? o.origQty : -o.origQty;
    if (o.reduceOnly) {
      const pendingReduce = this.ex
        .openOrders(o.symbol)
        .filter((x) => x.reduceOnly && x.side === o.side)
        .reduce((s, x) => s + (x.origQty - x.executedQty), 0);
      if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed) || o.origQty + pendingReduce > Math.abs(p.qty) + 1e-12)
        throw new BinanceApiError(400, -2022, 'ReduceOnly Order is rejected.');
      return;
    }
    const closing = Math.sign(p.qty) === -Math.sign(signed) ? Math.min(Math.abs(p.qty), o.origQty) : 0;
    const opening = r8(o.origQty - closing);
    if (opening <= 0) return;
    const price =
      o.type === 'LIMIT' || o.type === 'STOP_LOSS_LIMIT' ? o.price : o.side === 'BUY' ? m.bestAsk() : m.bestBid();
    const need = (opening * price) / p.leverage + opening * price * this.ex.feeRate;
    if (need > this.totals().availableBalance + 1e-9) throw new BinanceApiError(400, -2019, 'Margin is insufficient.');
    if (o.type !== 'MARKET') this.held.set(o.orderId, opening);
  }

  /** The unfilled rest of an order stops holding margin. */
  release(o: SimOrder): void {
    this.held.delete(o.orderId);
  }

  /** One execution: the position nets (average entry when growing, realised P&L when reducing), the fee in USDT. */
  settle(
    o: SimOrder,
    _m: SimMarket,
    price: number,
    qty: number,
  ): { commission: number; commissionAsset: string; realizedPnl: number } {
    const now = this.ex.now();
    const p = this.position(o.symbol);
    const signed = o.side === 'BUY' ? qty : -qty;
    let realizedPnl = 0;
    if (p.qty !== 0 && Math.sign(p.qty) !== Math.sign(signed)) {
      const closing = Math.min(Math.abs(p.qty), qty);
      realizedPnl = r8((price - p.entryPrice) * closing * Math.sign(p.qty));
      const rest = qty - closing;
      p.qty = r8(p.qty + Math.sign(signed) * closing);
      if (p.qty === 0) p.entryPrice = 0;
      if (rest > 1e-12) {
        p.qty = r8(Math.sign(signed) * rest);
        p.entryPrice = price;
      }
    } else {
      const total = Math.abs(p.qty) + qty;
      p.entryPrice = (p.entryPrice * Math.abs(p.qty) + price * qty) / total;
      p.qty = r8(p.qty + signed);
    }
    p.updateTime = now;
    const held = this.held.get(o.orderId);
    if (held !== undefined) this.held.set(o.orderId, Math.max(0, r8(held - qty)));
    const commission = r8(price * qty * this.ex.feeRate);
    this.walletBalance = r8(this.walletBalance + realizedPnl - commission);
    const tradeId = String(o.orderId);
    if (realizedPnl !== 0) this.record(o.symbol, 'REALIZED_PNL', realizedPnl, now, tradeId);
    this.record(o.symbol, 'COMMISSION', -commission, now, tradeId);
    return { commission, commissionAsset: this.asset, realizedPnl };
  }

  /**
   * Pays funding for every funding time up to `now`: each open position pays position × mark × rate (a long pays a
   * positive rate, a short receives it), booked to the wallet and recorded as FUNDING_FEE at the funding time.
   * Returns the payments made.
   */
  applyFunding(now: number): SimIncome[] {
    const out: SimIncome[] = [];
    while (now >= this.nextFundingTime) {
      const at = this.nextFundingTime;
      for (const p of this.positions.values()) {
        if (p.qty === 0) continue;
        const payment = r8(-p.qty * this.markPrice(p.symbol) * this.fundingRate(p.symbol));
        this.walletBalance = r8(this.walletBalance + payment);
        out.push(this.record(p.symbol, 'FUNDING_FEE', payment, at, ''));
      }
      this.nextFundingTime = at + this.fundingIntervalMs;
    }
    return out;
  }

  /** The first funding time after `t` (funding times are whole multiples of the interval since the epoch). */
  fundingTimeAfter(t: number): number {
    return (Math.floor(t / this.fundingIntervalMs) + 1) * this.fundingIntervalMs;
  }

  private record(symbol: string, incomeType: SimIncomeType, income: number, time: number, tradeId: string): SimIncome {
    const e: SimIncome = { tranId: this.nextTranId++, symbol, incomeType, income, asset: this.asset, time, tradeId };
    this.income.push(e);
    return e;
  }
}
