/** The simulator's futures Algo Service and listen keys, through the `/fapi` routes as ccxt calls them. */
import { describe, expect, it } from 'vitest';
import { BinanceApiError, DEFAULT_MARKETS } from './exchange.js';
import { SimFutures } from './futures-routes.js';

function setup() {
  const now = Date.UTC(2026, 0, 5, 3, 0, 0);
  const f = new SimFutures(
    { seed: 2, now: () => now, historyBars: 10, markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })) },
    { wallet: 10_000, feeRate: 0 },
  );
  f.setPrice('BTCUSDT', 30_000);
  const call = (method: string, path: string, params: Record<string, string>) =>
    f.route(method, path, new URLSearchParams(params), now) as Record<string, unknown>;
  const algo = (params: Record<string, string>) =>
    call('POST', '/fapi/v1/algoOrder', { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', ...params });
  const market = (side: string, quantity: string) =>
    call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side, type: 'MARKET', quantity });
  return { f, call, algo, market };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof BinanceApiError) return err.code;
    throw err;
  }
  return undefined;
};

describe('futures conditional orders (/fapi/v1/algoOrder)', () => {
  it('refuses what Binance refuses: a trigger already reached, a conditional type on /fapi/v1/order', () => {
    const { algo, call } = setup();
    expect(code(() => algo({ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '30100', quantity: '0.01' }))).toBe(
      -2021,
    );
    expect(
      code(() =>
        call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', stopPrice: '29000' }),
      ),
    ).toBe(-4120);
    expect(
      code(() =>
        algo({ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '29000', quantity: '0.01', reduceOnly: 'true' }),
      ),
    ).toBe(-2022);
    algo({ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '29000', quantity: '0.01', clientAlgoId: 'dup' });
    expect(
      code(() =>
        algo({ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '28000', quantity: '0.01', clientAlgoId: 'dup' }),
      ),
    ).toBe(-4116);
  });

  it('a close-position stop sells the whole position at its trigger; flat by then, it expires', () => {
    const { f, algo, market, call } = setup();
    market('BUY', '0.03');
    const a = algo({ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '29000', closePosition: 'true' });
    expect(a).toMatchObject({ algoStatus: 'NEW', closePosition: true, quantity: '0.00000000' });
    f.setPrice('BTCUSDT', 28_900);
    expect(f.account.position('BTCUSDT').qty).toBe(0);
    const done = call('GET', '/fapi/v1/algoOrder', { algoId: String(a.algoId) });
    expect(done.algoStatus).toBe('FINISHED');
    const actual = f.exchange.findOrder('BTCUSDT', Number(done.actualOrderId));
    expect(actual).toMatchObject({ type: 'MARKET', origQty: 0.03, reduceOnly: true, status: 'FILLED' });

    f.setPrice('BTCUSDT', 30_000);
    market('BUY', '0.01');
    const b = algo({ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '29000', closePosition: 'true' });
    market('SELL', '0.01');
    f.setPrice('BTCUSDT', 28_900);
    expect(f.algo.find(Number(b.algoId))?.algoStatus).toBe('EXPIRED');
    expect(f.account.position('BTCUSDT').qty).toBe(0);
  });

  it('a take-profit triggers the other way; a reduce-only stop whose position is gone is rejected at the trigger', () => {
    const { f, algo, market } = setup();
    market('BUY', '0.02');
    const tp = algo({
      side: 'SELL',
      type: 'TAKE_PROFIT_MARKET',
      triggerPrice: '31000',
      quantity: '0.01',
      reduceOnly: 'true',
    });
    const sl = algo({ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '29000', quantity: '0.02', reduceOnly: 'true' });
    f.setPrice('BTCUSDT', 29_500);
    expect(f.algo.open('BTCUSDT')).toHaveLength(2);
    f.setPrice('BTCUSDT', 31_100);
    expect(f.algo.find(Number(tp.algoId))?.algoStatus).toBe('FINISHED');
    expect(f.account.position('BTCUSDT').qty).toBeCloseTo(0.01, 10);
    market('SELL', '0.01');
    f.setPrice('BTCUSDT', 28_000);
    expect(f.algo.find(Number(sl.algoId))?.algoStatus).toBe('REJECTED');
    expect(f.account.position('BTCUSDT').qty).toBe(0);
  });

  it('cancels by client id; a cancelled or triggered one is -2011; the open list and the mark-price trigger', () => {
    const { f, algo, call } = setup();
    const a = algo({
      side: 'BUY',
      type: 'STOP_MARKET',
      triggerPrice: '31000',
      quantity: '0.01',
      clientAlgoId: 'c1',
      workingType: 'MARK_PRICE',
    });
    expect(a.workingType).toBe('MARK_PRICE');
    expect((call('GET', '/fapi/v1/openAlgoOrders', {}) as unknown as unknown[]).length).toBe(1);
    expect(call('DELETE', '/fapi/v1/algoOrder', { clientAlgoId: 'c1' })).toMatchObject({
      code: '200',
      algoId: a.algoId,
    });
    expect(code(() => call('DELETE', '/fapi/v1/algoOrder', { clientAlgoId: 'c1' }))).toBe(-2011);
    expect((call('GET', '/fapi/v1/openAlgoOrders', {}) as unknown as unknown[]).length).toBe(0);
    expect(
      code(() =>
        algo({ side: 'BUY', type: 'STOP_MARKET', triggerPrice: '31000', quantity: '0.01', workingType: 'INDEX' }),
      ),
    ).toBe(-1116);
    f.setPrice('BTCUSDT', 31_500);
    expect(f.algo.find(Number(a.algoId))?.algoStatus).toBe('CANCELED');
  });
});

describe('futures listen keys (/fapi/v1/listenKey)', () => {
  it('one key per account: a POST while it lives returns it, the PUT and DELETE name none', () => {
    const { f, call } = setup();
    const k1 = call('POST', '/fapi/v1/listenKey', {}).listenKey as string;
    expect(call('POST', '/fapi/v1/listenKey', {}).listenKey).toBe(k1);
    expect(f.userData.stats.listenKeysCreated).toBe(1);
    expect(call('PUT', '/fapi/v1/listenKey', {})).toEqual({ listenKey: k1 });
    expect(f.userData.stats.keepalives).toBe(1);
    call('DELETE', '/fapi/v1/listenKey', {});
    expect(code(() => call('PUT', '/fapi/v1/listenKey', {}))).toBe(-1125);
    const k2 = call('POST', '/fapi/v1/listenKey', {}).listenKey as string;
    expect(k2).not.toBe(k1);
    expect(f.userData.expireNow(k2)).toBe(true);
    expect(f.userData.listenKeys()).toEqual([]);
  });
});
