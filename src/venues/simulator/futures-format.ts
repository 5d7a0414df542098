/** Binance USDⓈ-M futures JSON shapes of the simulator's records (`/fapi/...`), as ccxt's `binanceusdm` parses them. */
import { s8 } from './binance-format.js';
import type { SimOrder, SimTrade } from './exchange.js';
import type { SimFuturesAccount, SimFuturesPosition, SimIncome } from './futures-account.js';
import type { SimAlgoOrder } from './futures-algo.js';
import type { SimMarket } from './market-model.js';
import type { UserDataProtocol } from './user-data.js';

/** Binance's `deliveryDate` of a perpetual contract. */
const PERPETUAL_DELIVERY = 4_133_404_800_000;

/** Decimals of a step such as 0.001 (3). */
function decimals(step: number): number {
  return Math.max(0, Math.round(-Math.log10(step)));
}

/** A perpetual's exchangeInfo entry: PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and MIN_NOTIONAL (`notional`). */
export function futuresSymbolInfo(m: SimMarket, maintMarginRate: number): Record<string, unknown> {
  const { spec } = m;
  return {
    symbol: spec.symbol,
    pair: spec.symbol,
    contractType: 'PERPETUAL',
    deliveryDate: PERPETUAL_DELIVERY,
    onboardDate: 1_569_398_400_000,
    status: 'TRADING',
    maintMarginPercent: s8(maintMarginRate * 100),
    requiredMarginPercent: '5.0000',
    baseAsset: spec.base,
    quoteAsset: spec.quote,
    marginAsset: spec.quote,
    pricePrecision: decimals(spec.tickSize),
    quantityPrecision: decimals(spec.stepSize),
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    triggerProtect: '0.0500',
    liquidationFee: '0.012500',
    marketTakeBound: '0.05',
    maxMoveOrderLimit: 10000,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: s8(spec.tickSize), maxPrice: '4529764', tickSize: s8(spec.tickSize) },
      { filterType: 'LOT_SIZE', minQty: s8(spec.minQty), maxQty: '1000', stepSize: s8(spec.stepSize) },
      { filterType: 'MARKET_LOT_SIZE', minQty: s8(spec.minQty), maxQty: '120', stepSize: s8(spec.stepSize) },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
      { filterType: 'MIN_NOTIONAL', notional: String(spec.minNotional) },
    ],
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
}

/** A futures order (`/fapi/v1/order`): `avgPrice`, `cumQuote`, `reduceOnly`, `positionSide` BOTH. */
export function futuresOrderJson(o: SimOrder): Record<string, unknown> {
  const avg = o.executedQty > 0 ? o.cummulativeQuoteQty / o.executedQty : 0;
  return {
    orderId: o.orderId,
    symbol: o.symbol,
    status: o.status,
    clientOrderId: o.clientOrderId,
    price: s8(o.price),
    avgPrice: s8(avg),
    origQty: s8(o.origQty),
    executedQty: s8(o.executedQty),
    cumQty: s8(o.executedQty),
    cumQuote: s8(o.cummulativeQuoteQty),
    timeInForce: o.timeInForce || 'GTC',
    type: o.type,
    reduceOnly: o.reduceOnly === true,
    closePosition: false,
    side: o.side,
    positionSide: 'BOTH',
    stopPrice: s8(o.stopPrice),
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: o.type,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
    time: o.time,
    updateTime: o.updateTime,
  };
}

/** One of our executions (`/fapi/v1/userTrades`), with its realised P&L. */
export function futuresTradeJson(t: SimTrade): Record<string, unknown> {
  return {
    symbol: t.symbol,
    id: t.id,
    orderId: t.orderId,
    side: t.isBuyer ? 'BUY' : 'SELL',
    price: s8(t.price),
    qty: s8(t.qty),
    realizedPnl: s8(t.realizedPnl),
    quoteQty: s8(t.quoteQty),
    commission: s8(t.commission),
    commissionAsset: t.commissionAsset,
    time: t.time,
    positionSide: 'BOTH',
    buyer: t.isBuyer,
    maker: t.isMaker,
  };
}

/** A position as `/fapi/v2/positionRisk` reports it (v2: with leverage and margin type). */
export function positionRiskV2(a: SimFuturesAccount, p: SimFuturesPosition): Record<string, unknown> {
  const mark = a.markPrice(p.symbol);
  return {
    symbol: p.symbol,
    positionAmt: s8(p.qty),
    entryPrice: s8(p.entryPrice),
    breakEvenPrice: s8(p.entryPrice),
    markPrice: s8(mark),
    unRealizedProfit: s8(a.unrealized(p)),
    liquidationPrice: s8(a.liquidationPrice(p)),
    leverage: String(p.leverage),
    maxNotionalValue: '1000000',
    marginType: p.marginType === 'ISOLATED' ? 'isolated' : 'cross',
    isolatedMargin: s8(a.isolatedMargin(p)),
    isAutoAddMargin: 'false',
    positionSide: 'BOTH',
    notional: s8(p.qty * mark),
    isolatedWallet: s8(a.isolatedWallet(p)),
    updateTime: p.updateTime,
  };
}

/** A position as `/fapi/v3/positionRisk` reports it (v3: margins, no leverage or margin type). */
export function positionRiskV3(a: SimFuturesAccount, p: SimFuturesPosition): Record<string, unknown> {
  const mark = a.markPrice(p.symbol);
  const im = a.positionMargin(p);
  const oim = a.openOrderMargin(p.symbol);
  return {
    symbol: p.symbol,
    positionSide: 'BOTH',
    positionAmt: s8(p.qty),
    entryPrice: s8(p.entryPrice),
    breakEvenPrice: s8(p.entryPrice),
    markPrice: s8(mark),
    unRealizedProfit: s8(a.unrealized(p)),
    liquidationPrice: s8(a.liquidationPrice(p)),
    isolatedMargin: s8(a.isolatedMargin(p)),
    notional: s8(p.qty * mark),
    marginAsset: a.asset,
    isolatedWallet: s8(a.isolatedWallet(p)),
    initialMargin: s8(im + oim),
    maintMargin: s8(Math.abs(p.qty) * mark * a.maintMarginRate),
    positionInitialMargin: s8(im),
    openOrderInitialMargin: s8(oim),
    adl: 0,
    bidNotional: '0',
    askNotional: '0',
    updateTime: p.updateTime,
  };
}

/** `/fapi/v2/account` and `/fapi/v3/account`: totals, the margin asset, and the open positions. */
export function futuresAccountJson(a: SimFuturesAccount, now: number): Record<string, unknown> {
  const t = a.totals();
  const initialMargin = t.positionInitialMargin + t.openOrderInitialMargin;
  const available = Math.max(0, t.availableBalance);
  return {
    feeTier: 0,
    canTrade: true,
    canDeposit: true,
    canWithdraw: true,
    updateTime: 0,
    multiAssetsMargin: false,
    tradeGroupId: -1,
    totalInitialMargin: s8(initialMargin),
    totalMaintMargin: s8(t.maintMargin),
    totalWalletBalance: s8(t.walletBalance),
    totalUnrealizedProfit: s8(t.unrealizedProfit),
    totalMarginBalance: s8(t.marginBalance),
    totalPositionInitialMargin: s8(t.positionInitialMargin),
    totalOpenOrderInitialMargin: s8(t.openOrderInitialMargin),
    totalCrossWalletBalance: s8(t.walletBalance),
    totalCrossUnPnl: s8(t.unrealizedProfit),
    availableBalance: s8(available),
    maxWithdrawAmount: s8(available),
    assets: [
      {
        asset: a.asset,
        walletBalance: s8(t.walletBalance),
        unrealizedProfit: s8(t.unrealizedProfit),
        marginBalance: s8(t.marginBalance),
        maintMargin: s8(t.maintMargin),
        initialMargin: s8(initialMargin),
        positionInitialMargin: s8(t.positionInitialMargin),
        openOrderInitialMargin: s8(t.openOrderInitialMargin),
        crossWalletBalance: s8(t.walletBalance),
        crossUnPnl: s8(t.unrealizedProfit),
        availableBalance: s8(available),
        maxWithdrawAmount: s8(available),
        marginAvailable: true,
        updateTime: now,
      },
    ],
    positions: a
      .allPositions()
      .filter((p) => p.qty !== 0)
      .map((p) => positionRiskV3(a, p)),
  };
}

/** `/fapi/v2/balance`: one entry per asset. */
export function futuresBalanceJson(a: SimFuturesAccount, now: number): Record<string, unknown>[] {
  const t = a.totals();
  const available = Math.max(0, t.availableBalance);
  return [
    {
      accountAlias: 'SgsR',
      asset: a.asset,
      balance: s8(t.walletBalance),
      crossWalletBalance: s8(t.walletBalance),
      crossUnPnl: s8(t.unrealizedProfit),
      availableBalance: s8(available),
      maxWithdrawAmount: s8(available),
      marginAvailable: true,
      updateTime: now,
    },
  ];
}

/** `/fapi/v1/premiumIndex` of one market: mark price, the coming funding rate and time. */
export function premiumIndexJson(a: SimFuturesAccount, symbol: string, now: number): Record<string, unknown> {
  const mark = a.markPrice(symbol);
  return {
    symbol,
    markPrice: s8(mark),
    indexPrice: s8(mark),
    estimatedSettlePrice: s8(mark),
    lastFundingRate: s8(a.fundingRate(symbol)),
    interestRate: '0.00010000',
    nextFundingTime: a.nextFundingTime,
    time: now,
  };
}

/** One income entry (`/fapi/v1/income`). */
export function incomeJson(e: SimIncome): Record<string, unknown> {
  return {
    symbol: e.symbol,
    incomeType: e.incomeType,
    income: s8(e.income),
    asset: e.asset,
    info: e.incomeType,
    time: e.time,
    tranId: e.tranId,
    tradeId: e.tradeId,
  };
}

/**
 * `ORDER_TRADE_UPDATE` of one order change (the futures user-data stream): execution type `x`, status `X`, the
 * trade's quantity `l` and price `L`, its commission `n` in `N` (sent only with a commission) and realised profit
 * `rp`.
 */
export function orderTradeUpdate(
  o: SimOrder,
  execution: string,
  trade: SimTrade | undefined,
  now: number,
): Record<string, unknown> {
  const avg = o.executedQty > 0 ? o.cummulativeQuoteQty / o.executedQty : 0;
  return {
    e: 'ORDER_TRADE_UPDATE',
    E: now,
    T: now,
    o: {
      s: o.symbol,
      c: o.clientOrderId,
      S: o.side,
      o: o.type,
      f: o.timeInForce || 'GTC',
      q: s8(o.origQty),
      p: s8(o.price),
      ap: s8(avg),
      sp: s8(o.stopPrice),
      x: execution,
      X: o.status,
      i: o.orderId,
      l: s8(trade?.qty ?? 0),
      z: s8(o.executedQty),
      L: s8(trade?.price ?? 0),
      ...(trade ? { N: trade.commissionAsset, n: s8(trade.commission) } : {}),
      T: trade?.time ?? o.updateTime,
      t: trade?.id ?? 0,
      b: '0',
      a: '0',
      m: trade?.isMaker ?? false,
      R: o.reduceOnly === true,
      wt: 'CONTRACT_PRICE',
      ot: o.type,
      ps: 'BOTH',
      cp: false,
      rp: s8(trade?.realizedPnl ?? 0),
      pP: false,
      si: 0,
      ss: 0,
      V: 'EXPIRE_MAKER',
      pm: 'NONE',
      gtd: 0,
    },
  };
}

/** Why an `ACCOUNT_UPDATE` was sent (`a.m`): an order's trade, or a funding payment. */
export type AccountUpdateReason = 'ORDER' | 'FUNDING_FEE';

/**
 * `ACCOUNT_UPDATE`: the margin asset's wallet balance (`wb`, `cw`) and its change other than P&L and commission
 * (`bc`: the funding amount on FUNDING_FEE), with the positions of `symbols` (none on a cross-margin funding
 * payment, as Binance sends it).
 */
export function accountUpdate(
  a: SimFuturesAccount,
  reason: AccountUpdateReason,
  symbols: readonly string[],
  balanceChange: number,
  now: number,
): Record<string, unknown> {
  return {
    e: 'ACCOUNT_UPDATE',
    E: now,
    T: now,
    a: {
      m: reason,
      B: [{ a: a.asset, wb: s8(a.walletBalance), cw: s8(a.walletBalance), bc: s8(balanceChange) }],
      P: symbols.map((s) => {
        const p = a.position(s);
        return {
          s,
          pa: s8(p.qty),
          ep: s8(p.entryPrice),
          bep: s8(p.entryPrice),
          cr: s8(a.realizedTotal(s)),
          up: s8(a.unrealized(p)),
          mt: p.marginType === 'ISOLATED' ? 'isolated' : 'cross',
          iw: s8(a.isolatedWallet(p)),
          ps: 'BOTH',
          ma: a.asset,
        };
      }),
    },
  };
}

/** Binance USDⓈ-M's user-data protocol: an `ORDER_TRADE_UPDATE` per change, an `ACCOUNT_UPDATE` after each trade. */
export function futuresProtocol(a: SimFuturesAccount): UserDataProtocol {
  return {
    singleKey: true,
    orderEvents(order, execution, trade, now) {
      const update = orderTradeUpdate(order, execution, trade, now);
      return trade ? [update, accountUpdate(a, 'ORDER', [order.symbol], 0, now)] : [update];
    },
  };
}

/** A conditional order as the Algo Service answers it (`/fapi/v1/algoOrder`, `/fapi/v1/openAlgoOrders`). */
export function algoOrderJson(a: SimAlgoOrder): Record<string, unknown> {
  return {
    algoId: a.algoId,
    clientAlgoId: a.clientAlgoId,
    algoType: 'CONDITIONAL',
    orderType: a.orderType,
    symbol: a.symbol,
    side: a.side,
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    quantity: s8(a.quantity),
    algoStatus: a.algoStatus,
    actualOrderId: a.actualOrderId === undefined ? '' : String(a.actualOrderId),
    triggerPrice: s8(a.triggerPrice),
    price: '0',
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: a.workingType,
    priceMatch: 'NONE',
    closePosition: a.closePosition,
    priceProtect: false,
    reduceOnly: a.reduceOnly,
    activatePrice: '',
    callbackRate: '',
    createTime: a.createTime,
    updateTime: a.updateTime,
    triggerTime: a.triggerTime,
    goodTillDate: 0,
  };
}

/** `ALGO_UPDATE` of one change of a conditional order (the futures user-data stream). */
export function algoUpdate(a: SimAlgoOrder, now: number): Record<string, unknown> {
  return {
    e: 'ALGO_UPDATE',
    T: now,
    E: now,
    o: {
      caid: a.clientAlgoId,
      aid: a.algoId,
      at: 'CONDITIONAL',
      o: a.orderType,
      s: a.symbol,
      S: a.side,
      ps: 'BOTH',
      f: 'GTC',
      q: s8(a.quantity),
      X: a.algoStatus,
      ai: a.actualOrderId === undefined ? '' : String(a.actualOrderId),
      ap: '0',
      aq: '0',
      act: '0',
      tp: s8(a.triggerPrice),
      p: '0',
      V: 'EXPIRE_MAKER',
      wt: a.workingType,
      pm: 'NONE',
      cp: a.closePosition,
      pP: false,
      R: a.reduceOnly,
      tt: a.triggerTime,
      gtd: 0,
    },
  };
}
