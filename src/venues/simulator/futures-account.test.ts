/** The simulator's futures account on the one matching engine: netting, margin, settings refusals, funding, liquidation. */
import { describe, expect, it } from 'vitest';
import { BinanceApiError, DEFAULT_MARKETS } from './exchange.js';
import { SimFutures } from './futures-routes.js';

function setup(wallet = 10_000) {
  let now = Date.UTC(2026, 0, 5, 7, 59, 0);
  const f = new SimFutures(
    { seed: 1, now: () => now, historyBars: 10, markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })) },
    { wallet, fundingRates: { BTCUSDT: 0.001 }, feeRate: 0 },
  );
  const place = (side: 'BUY' | 'SELL', quantity: number, reduceOnly = false, type = 'MARKET', price?: number) =>
    f.exchange.placeOrder(
      { symbol: 'BTCUSDT', side, type, quantity, reduceOnly, ...(price ? { price, timeInForce: 'GTC' } : {}) },
      `c${Math.random()}`,
    );
  return { f, a: f.account, place, setNow: (t: number) => (now = t) };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof BinanceApiError) return e.code;
    throw e;
  }
  return 0;
};

describe('SimFuturesAccount', () => {
  it('nets a position: averages when growing, realises P&L when reducing, opens the rest when flipping', () => {
    const { a, f, place } = setup(100_000);
    const o1 = place('BUY', 0.1);
    const px1 = o1.fills[0].price;
    f.exchange.setPrice('BTCUSDT', 31_000);
    const o2 = place('SELL', 0.3);
    const pos = a.position('BTCUSDT');
    expect(pos.qty).toBeCloseTo(-0.2, 10);
    // The flip's first 0.1 closes the long; the remaining 0.2 opens a short at the fill price.
    const sold = o2.fills;
    expect(sold.reduce((s, t) => s + t.realizedPnl, 0)).toBeCloseTo((sold[0].price - px1) * 0.1, 6);
    expect(a.walletBalance).toBeCloseTo(100_000 + (sold[0].price - px1) * 0.1, 6);
  });

  it('refuses margin beyond the available balance (-2019) and holds margin for a resting limit order', () => {
    const { a, place } = setup(1_000);
    // 20× default leverage: 1,000 holds about 20,000 of notional.
    expect(code(() => place('BUY', 1))).toBe(-2019);
    const before = a.totals().availableBalance;
    place('BUY', 0.5, false, 'LIMIT', 20_000);
    expect(before - a.totals().availableBalance).toBeCloseTo((0.5 * 20_000) / 20, 6);
    // 500 left: a second order needing 600 is refused.
    expect(code(() => place('BUY', 0.6, false, 'LIMIT', 20_000))).toBe(-2019);
  });

  it('refuses leverage out of 1..125 (-4028) and margin type changes that Binance refuses (-4046, -4048)', () => {
    const { a, place } = setup();
    expect(code(() => a.setLeverage('BTCUSDT', 0))).toBe(-4028);
    expect(code(() => a.setLeverage('BTCUSDT', 126))).toBe(-4028);
    expect(a.setLeverage('BTCUSDT', 3).leverage).toBe(3);
    expect(code(() => a.setMarginType('BTCUSDT', 'CROSSED'))).toBe(-4046);
    place('BUY', 0.01, false, 'LIMIT', 20_000);
    expect(code(() => a.setMarginType('BTCUSDT', 'ISOLATED'))).toBe(-4047);
    place('BUY', 0.01);
    expect(code(() => a.setMarginType('BTCUSDT', 'ISOLATED'))).toBe(-4048);
  });

  it('refuses a leverage cut that the positions could not margin (-2027) and keeps the old leverage', () => {
    const { a, place } = setup(1_000);
    place('BUY', 0.5); // about 15,000 of notional: 750 of margin at 20×
    expect(code(() => a.setLeverage('BTCUSDT', 2))).toBe(-2027);
    expect(a.position('BTCUSDT').leverage).toBe(20);
    expect(a.setLeverage('BTCUSDT', 19).leverage).toBe(19);
  });

  it('counts resting reduce-only orders: together they may not exceed the position (-2022)', () => {
    const { place } = setup();
    place('BUY', 0.1);
    place('SELL', 0.06, true, 'LIMIT', 40_000);
    expect(code(() => place('SELL', 0.05, true, 'LIMIT', 41_000))).toBe(-2022);
    expect(code(() => place('SELL', 0.04, true, 'LIMIT', 41_000))).toBe(0);
  });

  it('pays funding once per funding time: a long pays position × mark × rate at a positive rate', () => {
    const { a, f, place, setNow } = setup(100_000);
    place('BUY', 0.2);
    const mark = a.markPrice('BTCUSDT');
    const wallet = a.walletBalance;
    const due = a.nextFundingTime;
    expect(due).toBe(Date.UTC(2026, 0, 5, 8, 0, 0));
    setNow(due - 1);
    f.tick(100);
    expect(a.income.filter((e) => e.incomeType === 'FUNDING_FEE')).toEqual([]);
    setNow(due + 5);
    f.tick(100);
    f.tick(100);
    const paid = a.income.filter((e) => e.incomeType === 'FUNDING_FEE');
    expect(paid).toHaveLength(1);
    expect(paid[0].time).toBe(due);
    expect(paid[0].income).toBeCloseTo(-0.2 * mark * 0.001, 6);
    expect(a.walletBalance).toBeCloseTo(wallet - 0.2 * mark * 0.001, 6);
  });

  it('reports the cross liquidation price of a lone position: (WB − side·size·EP) / (size·MMR − side·size)', () => {
    const { a, place } = setup(2_000);
    const o = place('SELL', 0.5);
    const ep = a.position('BTCUSDT').entryPrice;
    expect(ep).toBeCloseTo(o.cummulativeQuoteQty / 0.5, 6);
    const expected = (2_000 + 0.5 * ep) / (0.5 * 0.004 + 0.5);
    expect(a.liquidationPrice(a.position('BTCUSDT'))).toBeCloseTo(expected, 6);
  });
});
