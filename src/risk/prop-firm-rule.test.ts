import { describe, expect, it } from 'vitest';
import type { RiskConfig } from '../core/config.js';
import type { OrderIntent } from '../core/order.js';
import type { RiskActions } from '../core/risk-port.js';
import { createRiskEngine } from './index.js';
import { findPropFirmRule } from './prop-firm-rule.js';
import { SimpleRiskView } from './simple-view.js';

const Z = (s: string) => Date.parse(s);

function setup(propFirm: RiskConfig['propFirm']) {
  const engine = createRiskEngine({ propFirm }, { useDefaults: false, mode: 'backtest' });
  const calls: string[] = [];
  const actions: RiskActions = {
    cancelAllOrders: (reason) => calls.push(`cancel:${reason}`),
    flattenAll: (reason) => calls.push(`flatten:${reason}`),
    cancelOrder: () => {},
  };
  engine.attach(actions);
  const view = new SimpleRiskView('backtest');
  view.prices.set('ES', 5_000);
  return { engine, view, calls };
}

const order = (side: 'buy' | 'sell', quantity: number, extra: Partial<OrderIntent> = {}): OrderIntent => ({
  strategyId: 's1',
  symbol: 'ES',
  side,
  type: 'market',
  quantity,
  ...extra,
});

describe('PropFirmRule inside the RiskEngine', () => {
  it('blocks new exposure inside the buffer, flattens at the floor, lets exits through', () => {
    const { engine, view, calls } = setup({ rules: 'topstep', accountSize: 50_000, blockWithin: 0.2 });
    expect(engine.wantsEquityUpdates).toBe(true);
    view.time = Z('2026-01-05T15:00:00Z');
    view.equityValue = 50_000;
    engine.onEquity(view);
    expect(engine.check(order('buy', 1), view)).toBeNull();
    // Daily floor 49 000; buffer 20% of 1 000 = 200: at 49 150 new entries are refused, exits pass.
    view.time += 60_000;
    view.equityValue = 49_150;
    view.setPosition('ES', 1);
    engine.onEquity(view);
    const err = engine.check(order('buy', 1), view);
    expect(err?.reason).toBe('PROPFIRM_BUFFER');
    expect(err?.limit).toBe(49_200);
    expect(err?.actual).toBe(49_150);
    expect(engine.check(order('sell', 1), view)).toBeNull();
    expect(calls).toEqual([]);
    // At the floor: cancel and flatten once, then the day is halted.
    view.time += 60_000;
    view.equityValue = 49_000;
    engine.onEquity(view);
    expect(calls).toEqual(['cancel:PROPFIRM_DAILY_LOSS', 'flatten:PROPFIRM_DAILY_LOSS']);
    // The flatten closes the position at a 1 000 loss: the balance follows.
    engine.onTradeClosed(
      {
        strategyId: 's1',
        symbol: 'ES',
        side: 'long',
        entryTime: view.time - 120_000,
        entryPrice: 5_000,
        exitTime: view.time,
        exitPrice: 4_980,
        quantity: 1,
        fees: 0,
        pnl: -1_000,
        pnlPct: -0.004,
        exitReason: 'PROPFIRM_DAILY_LOSS',
      },
      view,
    );
    view.setPosition('ES', 0);
    expect(engine.check(order('buy', 1), view)?.reason).toBe('PROPFIRM_DAILY_LOSS');
    engine.onEquity(view);
    expect(calls).toHaveLength(2);
    // Next session (17:00 Chicago = 23:00 UTC in January): trading resumes from the new anchor 49 000.
    view.time = Z('2026-01-05T23:00:00Z');
    engine.onEquity(view);
    expect(engine.check(order('buy', 1), view)).toBeNull();
    const status = findPropFirmRule(engine.extraRules)?.status(view.time);
    expect(status?.limits.find((l) => l.limit === 'dailyLoss')).toMatchObject({ floor: 48_000, distance: 1_000 });
    expect(status?.state).toBe('active');
  });

  it('an account-level breach blocks until a reset and is reported with floor and equity', () => {
    const { engine, view, calls } = setup({ rules: 'ftmo-2step', accountSize: 100_000 });
    view.time = Z('2026-01-05T10:00:00Z');
    view.equityValue = 100_000;
    engine.onEquity(view);
    view.equityValue = 94_900;
    engine.onEquity(view);
    expect(calls).toEqual(['cancel:PROPFIRM_DAILY_LOSS', 'flatten:PROPFIRM_DAILY_LOSS']);
    view.time = Z('2026-01-07T10:00:00Z');
    view.equityValue = 94_900;
    const err = engine.check(order('buy', 1), view);
    expect(err?.reason).toBe('PROPFIRM_DAILY_LOSS');
    expect(err?.limit).toBe(95_000);
    expect(findPropFirmRule(engine.extraRules)?.status(view.time).state).toBe('breached');
  });

  it('closed trades and fills feed the balance and the trading days', () => {
    const { engine, view } = setup({ rules: 'ftmo-2step', accountSize: 100_000 });
    const t = Z('2026-01-05T10:00:00Z');
    view.time = t;
    engine.afterFill(
      {
        id: 'f',
        orderId: 'o',
        clientOrderId: 'c',
        strategyId: 's1',
        symbol: 'ES',
        side: 'buy',
        price: 1,
        quantity: 1,
        fee: 0,
        liquidity: 'taker',
        time: t,
      },
      view,
    );
    engine.onTradeClosed(
      {
        strategyId: 's1',
        symbol: 'ES',
        side: 'long',
        entryTime: t,
        entryPrice: 1,
        exitTime: t + 1000,
        exitPrice: 2,
        quantity: 1,
        fees: 0,
        pnl: 1_500,
        pnlPct: 1,
        exitReason: 'signal',
      },
      view,
    );
    const s = findPropFirmRule(engine.extraRules)?.status(t + 2000);
    expect(s?.balance).toBe(101_500);
    expect(s?.tradingDays).toEqual({ count: 1, required: 4, met: false });
    expect(s?.profitTarget?.remaining).toBe(8_500);
  });

  it('adverseMove refuses an order whose assumed loss would reach the floor', () => {
    const { engine, view } = setup({ rules: 'ftmo-2step', accountSize: 100_000, adverseMove: 0.02 });
    view.time = Z('2026-01-05T10:00:00Z');
    view.equityValue = 100_000;
    // Room to the daily floor is 5 000: 2% of 50 contracts at 5 000 = 5 000 reaches it; 49 do not.
    expect(engine.check(order('buy', 49), view)).toBeNull();
    expect(engine.check(order('buy', 50), view)?.reason).toBe('PROPFIRM_BUFFER');
  });

  it('is account-wide: a strategy override may not set it', () => {
    expect(() =>
      createRiskEngine(
        {},
        { useDefaults: false, mode: 'backtest', strategyOverrides: { s1: { propFirm: { rules: 'apex' } } } },
      ),
    ).toThrow(/risk.strategyOverrides.s1.propFirm/);
    expect(() =>
      createRiskEngine({ propFirm: { rules: 'apex', custom: {} } }, { useDefaults: false, mode: 'backtest' }),
    ).toThrow(/risk.propFirm.custom: only used with rules: custom/);
  });

  it('a restart keeps the breach: the state is saved with the engine and restored', () => {
    let saves = 0;
    const config: RiskConfig = { propFirm: { rules: 'ftmo-2step', accountSize: 100_000 } };
    const a = createRiskEngine(config, { useDefaults: false, mode: 'backtest', onStateChange: () => saves++ });
    const view = new SimpleRiskView('backtest');
    view.prices.set('ES', 5_000);
    view.time = Z('2026-01-05T10:00:00Z');
    view.equityValue = 100_000;
    a.onEquity(view);
    const before = saves;
    view.time += 60_000;
    a.onEquity(view); // nothing new: no save
    expect(saves).toBe(before);
    view.equityValue = 94_000;
    a.onEquity(view);
    expect(saves).toBe(before + 1); // the breach is worth saving
    const saved = JSON.parse(JSON.stringify(a.getState()));
    expect(saved.extraRules.propFirm.ruleSet).toBe('ftmo-2step@2025-06');
    const b = createRiskEngine(config, { useDefaults: false, mode: 'backtest' });
    b.restore(saved);
    view.equityValue = 99_000;
    expect(b.check(order('buy', 1), view)?.reason).toBe('PROPFIRM_DAILY_LOSS');
    // Saved under other rules: ignored, the account starts afresh.
    const c = createRiskEngine({ propFirm: { rules: 'topstep' } }, { useDefaults: false, mode: 'backtest' });
    c.restore(saved);
    view.equityValue = 50_000;
    expect(c.check(order('buy', 1), view)).toBeNull();
  });
});
