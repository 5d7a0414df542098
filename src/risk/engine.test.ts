import { describe, expect, it } from 'vitest';
import type { RiskConfig } from '../core/config.js';
import { RiskLimitError } from '../core/errors.js';
import { defineInstrument } from '../core/instrument.js';
import type { OrderIntent } from '../core/order.js';
import { createRiskEngine } from './index.js';
import { SimpleRiskView } from './simple-view.js';

function setup(config: RiskConfig, strategyOverrides?: Record<string, unknown>) {
  const engine = createRiskEngine(config, { useDefaults: false, mode: 'backtest', strategyOverrides });
  const view = new SimpleRiskView('backtest');
  view.time = Date.UTC(2024, 0, 2, 12);
  view.equityValue = 100_000;
  view.cashValue = 100_000;
  view.prices.set('BTC/USD', 100);
  view.prices.set('ETH/USD', 10);
  view.atrs.set('BTC/USD', 2);
  return { engine, view };
}

const buy = (quantity: number, extra: Partial<OrderIntent> = {}): OrderIntent => ({
  strategyId: 's1',
  symbol: 'BTC/USD',
  side: 'buy',
  type: 'market',
  quantity,
  ...extra,
});

function rejection(err: ReturnType<ReturnType<typeof createRiskEngine>['check']>) {
  expect(err).not.toBeNull();
  return err ? { code: err.reason, limit: err.limit, actual: err.actual } : null;
}

describe('pre-trade rules: exact limit and actual', () => {
  it('accepts everything with an empty config (a plain backtest)', () => {
    const { engine, view } = setup({});
    expect(engine.check(buy(1e6), view)).toBeNull();
    expect(engine.wantsEquityUpdates).toBe(false);
  });

  it('MAX_NOTIONAL', () => {
    const { engine, view } = setup({ maxOrderNotional: 5000 });
    expect(engine.check(buy(50), view)).toBeNull();
    expect(rejection(engine.check(buy(51), view))).toEqual({ code: 'MAX_NOTIONAL', limit: 5000, actual: 5100 });
    // A limit order is valued at its limit price.
    expect(rejection(engine.check(buy(40, { type: 'limit', price: 130 }), view))).toEqual({
      code: 'MAX_NOTIONAL',
      limit: 5000,
      actual: 5200,
    });
  });

  it('limits are judged in exact decimals at the boundary: an order worth exactly the limit passes, a cent more does not', () => {
    // 0.1 + 0.2 BTC at 100 is 30.000000000000004 in doubles: exactly 30, the limit.
    const { engine, view } = setup({ maxOrderNotional: 30, maxPositionNotional: 30, capitalCap: 30 });
    expect((0.1 + 0.2) * 100).toBeGreaterThan(30);
    expect(engine.check(buy(0.1 + 0.2), view)).toBeNull();
    expect(engine.check(buy(0.1, { type: 'limit', price: 300.00000000000006 }), view)).toBeNull();
    expect(rejection(engine.check(buy(0.3001), view))?.code).toBe('MAX_NOTIONAL');
    // The position after the order: 0.2 held, 0.1 more (0.30000000000000004 in doubles) at 100.
    const pos = setup({ maxPositionNotional: 30 });
    pos.view.setPosition('BTC/USD', 0.2);
    expect(pos.engine.check(buy(0.1), pos.view)).toBeNull();
    expect(rejection(pos.engine.check(buy(0.11), pos.view))?.code).toBe('POSITION_LIMIT');
  });

  it('POSITION_LIMIT on the resulting position, including a flip', () => {
    const { engine, view } = setup({ maxPositionNotional: 10_000 });
    view.setPosition('BTC/USD', 80);
    expect(rejection(engine.check(buy(30), view))).toEqual({ code: 'POSITION_LIMIT', limit: 10_000, actual: 11_000 });
    expect(engine.check(buy(20), view)).toBeNull();
    // sell 300 from +80 flips to -220: 22 000 of position
    expect(rejection(engine.check(buy(300, { side: 'sell' }), view))).toEqual({
      code: 'POSITION_LIMIT',
      limit: 10_000,
      actual: 22_000,
    });
  });

  it('CAPITAL_CAP on the strategy exposure after the order', () => {
    const { engine, view } = setup({ capitalCap: 20_000 });
    view.strategyExposures.set('s1', 15_000);
    expect(rejection(engine.check(buy(60), view))).toEqual({ code: 'CAPITAL_CAP', limit: 20_000, actual: 21_000 });
    expect(engine.check(buy(50), view)).toBeNull();
  });

  it('GROSS_EXPOSURE after the order over equity', () => {
    const { engine, view } = setup({ maxGrossExposure: 1 });
    view.setPosition('ETH/USD', 5000); // 50 000 gross
    expect(rejection(engine.check(buy(600), view))).toEqual({ code: 'GROSS_EXPOSURE', limit: 1, actual: 1.1 });
    expect(engine.check(buy(500), view)).toBeNull();
  });

  it('CONCENTRATION of one symbol over equity', () => {
    const { engine, view } = setup({ maxConcentration: 0.25 });
    expect(rejection(engine.check(buy(300), view))).toEqual({ code: 'CONCENTRATION', limit: 0.25, actual: 0.3 });
    expect(engine.check(buy(250), view)).toBeNull();
  });

  it('PRICE_BAND: k x ATR around the last price; skipped before ATR warms up', () => {
    const { engine, view } = setup({ priceBandAtr: 3 });
    expect(engine.check(buy(1, { type: 'limit', price: 94 }), view)).toBeNull();
    expect(rejection(engine.check(buy(1, { type: 'limit', price: 93 }), view))).toEqual({
      code: 'PRICE_BAND',
      limit: 6,
      actual: 7,
    });
    expect(rejection(engine.check(buy(1, { type: 'stop', stopPrice: 110 }), view))).toEqual({
      code: 'PRICE_BAND',
      limit: 6,
      actual: 10,
    });
    expect(engine.check(buy(1), view)).toBeNull(); // market orders trade at the last price
    view.atrs.set('BTC/USD', Number.NaN);
    expect(engine.check(buy(1, { type: 'limit', price: 50 }), view)).toBeNull();
  });

  it('MARGIN_FLOOR blocks new exposure but never a reducing order', () => {
    const { engine, view } = setup({ marginFloor: 0.2 });
    view.setPosition('BTC/USD', 10);
    view.freeMarginValue = 15_000;
    expect(rejection(engine.check(buy(1), view))).toEqual({ code: 'MARGIN_FLOOR', limit: 0.2, actual: 0.15 });
    expect(engine.check(buy(10, { side: 'sell' }), view)).toBeNull();
    expect(engine.check(buy(50, { side: 'sell', reduceOnly: true }), view)).toBeNull();
    view.freeMarginValue = 20_000;
    expect(engine.check(buy(1), view)).toBeNull();
  });

  it('INSUFFICIENT_FUNDS: cost plus fees against cash, buys only', () => {
    const { engine, view } = setup({ insufficientFunds: { feeRate: 0.001 } });
    view.cashValue = 10_000;
    expect(rejection(engine.check(buy(100), view))).toEqual({
      code: 'INSUFFICIENT_FUNDS',
      limit: 10_000,
      actual: 10_010,
    });
    expect(engine.check(buy(99), view)).toBeNull();
  });

  it('MIN_NOTIONAL and MIN_QUANTITY from the instrument', () => {
    const { engine, view } = setup({});
    view.instruments.set('BTC/USD', defineInstrument({ symbol: 'BTC/USD', lotSize: 0.01, minNotional: 10 }));
    expect(rejection(engine.check(buy(0.05), view))).toEqual({ code: 'MIN_NOTIONAL', limit: 10, actual: 5 });
    expect(rejection(engine.check(buy(0.001), view))).toEqual({ code: 'MIN_QUANTITY', limit: 0.01, actual: 0.001 });
  });

  it('ORDER_RATE per second and per minute on the engine clock', () => {
    const { engine, view } = setup({ orderRate: { perMinute: 4, perSecond: 2 } });
    const t0 = view.time;
    expect(engine.check(buy(1), view)).toBeNull();
    expect(engine.check(buy(1), view)).toBeNull();
    expect(rejection(engine.check(buy(1), view))).toEqual({ code: 'ORDER_RATE', limit: 2, actual: 3 });
    view.time = t0 + 1000;
    expect(engine.check(buy(1), view)).toBeNull();
    expect(engine.check(buy(1), view)).toBeNull();
    view.time = t0 + 2000;
    expect(rejection(engine.check(buy(1), view))).toEqual({ code: 'ORDER_RATE', limit: 4, actual: 5 });
    view.time = t0 + 60_000; // the first two leave the minute
    expect(engine.check(buy(1), view)).toBeNull();
    // Rejected orders do not spend budget; exits are never rate-limited.
    view.setPosition('BTC/USD', 5);
    for (let i = 0; i < 5; i++) expect(engine.check(buy(1, { side: 'sell' }), view)).toBeNull();
  });

  it('standing orders (a grid): no per-order CAPITAL_CAP, price band, duplicate-signal guard or stale timer; other rules stay', () => {
    const { engine, view } = setup(
      { duplicateSignals: true, maxOrderNotional: 50_000, staleOrderMinutes: { buy: 10, sell: 30 }, priceBandAtr: 3 },
      { s1: { capitalCap: 1_000 }, s2: { capitalCap: 1_000 } },
    );
    const t = Date.UTC(2024, 0, 2);
    expect(rejection(engine.check(buy(20), view))?.code).toBe('CAPITAL_CAP');
    // A level far below the price (ATR 2, band 6): refused as a fat finger for any other strategy.
    const level = { type: 'limit' as const, price: 80 };
    expect(rejection(engine.check(buy(1, level), view))?.code).toBe('PRICE_BAND');
    engine.setStandingOrders('s1');
    expect(engine.check(buy(1, level), view)).toBeNull();
    // The grid's whole inventory was checked against its capital at start: each order is not.
    expect(engine.check(buy(20, { signalTime: t }), view)).toBeNull();
    expect(engine.check(buy(20, { signalTime: t }), view)).toBeNull();
    expect(rejection(engine.check(buy(501), view))?.code).toBe('MAX_NOTIONAL');
    expect(engine.trackOrder({ id: 'o1', strategyId: 's1', side: 'buy', type: 'limit', createdAt: t })).toBe(false);
    // Another strategy keeps every rule.
    expect(rejection(engine.check(buy(20, { strategyId: 's2' }), view))?.code).toBe('CAPITAL_CAP');
    expect(rejection(engine.check(buy(1, { ...level, strategyId: 's2' }), view))?.code).toBe('PRICE_BAND');
    expect(engine.trackOrder({ id: 'o2', strategyId: 's2', side: 'buy', type: 'limit', createdAt: t })).toBe(true);
  });

  it('DUPLICATE_SIGNAL: same strategy, symbol, side and signal time accepted once', () => {
    const { engine, view } = setup({ duplicateSignals: true });
    const t = view.time;
    expect(engine.check(buy(1, { signalTime: t }), view)).toBeNull();
    expect(rejection(engine.check(buy(1, { signalTime: t }), view))?.code).toBe('DUPLICATE_SIGNAL');
    expect(engine.check(buy(1, { signalTime: t, side: 'sell' }), view)).toBeNull();
    expect(engine.check(buy(1, { signalTime: t, strategyId: 's2' }), view)).toBeNull();
    expect(engine.check(buy(1, { signalTime: t + 60_000 }), view)).toBeNull();
    expect(engine.check(buy(1), view)).toBeNull(); // no signal time: nothing to compare
  });

  it('a signal rejected by another rule is not consumed', () => {
    const { engine, view } = setup({ duplicateSignals: true, maxOrderNotional: 1000 });
    expect(engine.check(buy(20, { signalTime: 1 }), view)?.reason).toBe('MAX_NOTIONAL');
    expect(engine.check(buy(5, { signalTime: 1 }), view)).toBeNull();
  });

  it('refuses a reduce-only order with nothing to reduce, and orders without a price to value them', () => {
    const { engine, view } = setup({ maxOrderNotional: 1000 });
    expect(rejection(engine.check(buy(1, { reduceOnly: true }), view))?.code).toBe('INVALID_ORDER');
    expect(rejection(engine.check(buy(1, { symbol: 'XYZ' }), view))?.code).toBe('INVALID_ORDER');
    expect(rejection(engine.check(buy(0), view))?.code).toBe('INVALID_ORDER');
  });

  it('counts checks and rejections per code', () => {
    const { engine, view } = setup({ maxOrderNotional: 1000 });
    engine.check(buy(1), view);
    engine.check(buy(20), view);
    engine.check(buy(30), view);
    expect(engine.stats()).toEqual({
      checked: 3,
      accepted: 1,
      rejected: 2,
      dryRunPassed: 0,
      byCode: { MAX_NOTIONAL: 2 },
    });
    expect(engine.riskEvents().map((e) => [e.kind, e.code, e.time])).toEqual([
      ['rejected', 'MAX_NOTIONAL', view.time],
      ['rejected', 'MAX_NOTIONAL', view.time],
    ]);
  });
});

describe('per-strategy overrides', () => {
  it('a strategy override tightens its limits; other strategies keep the account ones', () => {
    const { engine, view } = setup({ maxOrderNotional: 10_000 }, { tight: { maxOrderNotional: 1000 } });
    expect(engine.check(buy(50), view)).toBeNull();
    expect(rejection(engine.check(buy(50, { strategyId: 'tight' }), view))).toEqual({
      code: 'MAX_NOTIONAL',
      limit: 1000,
      actual: 5000,
    });
  });

  it('the account order budget still applies to a strategy with its own budget', () => {
    const { engine, view } = setup(
      { orderRate: { perMinute: 2, perSecond: 2 } },
      { fast: { orderRate: { perMinute: 100, perSecond: 50 } } },
    );
    expect(engine.check(buy(1), view)).toBeNull();
    expect(engine.check(buy(1, { strategyId: 'fast' }), view)).toBeNull();
    expect(engine.check(buy(1, { strategyId: 'fast' }), view)?.reason).toBe('ORDER_RATE');
  });

  it('refuses account-wide keys in an override with the key named', () => {
    expect(() => setup({}, { s: { breakers: { dailyLoss: 0.1 } } })).toThrow(
      /risk\.strategyOverrides\.s\.breakers: "breakers" is account-wide/,
    );
    expect(() => setup({}, { s: { maxOrderNotional: -1 } })).toThrow(/risk\.strategyOverrides\.s\.maxOrderNotional/);
  });
});

describe('createRiskEngine', () => {
  it('names the bad key of a config', () => {
    expect(() =>
      createRiskEngine({ maxOrderNotional: -5 } as RiskConfig, { useDefaults: false, mode: 'backtest' }),
    ).toThrow(/config risk\.maxOrderNotional:/);
    expect(() =>
      createRiskEngine({ bogus: 1 } as unknown as RiskConfig, { useDefaults: false, mode: 'backtest' }),
    ).toThrow(/config risk: unknown key "bogus"/);
    expect(() => createRiskEngine({ sizing: { method: 'fixed' } }, { useDefaults: false, mode: 'backtest' })).toThrow(
      /risk\.sizing\.amount/,
    );
  });

  it('merges over the live defaults in paper/live or when asked; a backtest gets only the named rules', () => {
    const bt = createRiskEngine({ maxOrderNotional: 1 }, { useDefaults: false, mode: 'backtest' });
    expect(bt.config).toEqual({ maxOrderNotional: 1 });
    const paper = createRiskEngine(
      { maxOrderNotional: 1, breakers: { dailyLoss: 0.02 } },
      { useDefaults: false, mode: 'paper' },
    );
    expect(paper.config.maxOrderNotional).toBe(1);
    expect(paper.config.breakers?.dailyLoss).toBe(0.02);
    expect(paper.config.breakers?.emergencyLoss).toBe(0.1);
    expect(paper.config.orderRate).toEqual({ perMinute: 10, perSecond: 5 });
    expect(paper.wantsEquityUpdates).toBe(true);
    const btDefaults = createRiskEngine({}, { useDefaults: true, mode: 'backtest' });
    expect(btDefaults.config.priceBandAtr).toBe(3);
  });

  it('sizes through the strategy config and its closed-trade statistics', () => {
    const { view } = setup({});
    const engine = createRiskEngine(
      { sizing: { method: 'fraction', fraction: 0.1 } },
      {
        useDefaults: false,
        mode: 'backtest',
        strategyOverrides: { k: { sizing: { method: 'kelly', kellyMinTrades: 2, minSize: 1 } } },
      },
    );
    const r = engine.size({ strategyId: 's1', symbol: 'BTC/USD' }, view);
    expect(r.ok && r.quantity).toBe(100);
    const k = engine.size({ strategyId: 'k', symbol: 'BTC/USD' }, view);
    expect(k.ok && k.quantity).toBe(1); // falls back to minSize without history
  });
});

describe('extra rules', () => {
  it('runs a custom rule after the built-in ones, and never for an exposure-reducing order', () => {
    const seen: string[] = [];
    const engine = createRiskEngine(
      { maxOrderNotional: 1000 },
      {
        useDefaults: false,
        mode: 'backtest',
        extraRules: [
          {
            code: 'PROP_DAILY_LOSS',
            key: 'propFirm',
            needsPrice: false,
            check: (c) => {
              seen.push(c.intent.side);
              return c.intent.quantity > 3
                ? new RiskLimitError('PROP_DAILY_LOSS', 'too big', 3, c.intent.quantity)
                : null;
            },
          },
        ],
      },
    );
    const view = new SimpleRiskView();
    view.prices.set('BTC/USD', 100);
    expect(engine.check(buy(2), view)).toBeNull();
    expect(engine.check(buy(4), view)?.reason).toBe('PROP_DAILY_LOSS');
    expect(engine.check(buy(20), view)?.reason).toBe('MAX_NOTIONAL');
    view.setPosition('BTC/USD', 10);
    expect(engine.check(buy(10, { side: 'sell' }), view)).toBeNull();
    expect(seen).toEqual(['buy', 'buy']);
  });
});
