import { describe, expect, it } from 'vitest';
import type { RiskActions } from '../core/risk-port.js';
import { AccountRisk } from './account.js';
import { createRiskEngine } from './index.js';
import { SimpleRiskView } from './simple-view.js';

const DAY = 86_400_000;

function setup(riskState?: ReturnType<ReturnType<typeof createRiskEngine>['getState']>) {
  let saves = 0;
  const engine = createRiskEngine(
    { breakers: { dailyLoss: 0.05, maxDrawdown: 0.15 }, orderRate: { perMinute: 3, perSecond: 3 } },
    {
      useDefaults: false,
      mode: 'paper',
      strategyOverrides: { a: { capitalCap: 5_000 }, b: {} },
      onStateChange: () => saves++,
    },
  );
  if (riskState) engine.restore(riskState);
  const account = new AccountRisk(engine);
  const views = { a: new SimpleRiskView('paper'), b: new SimpleRiskView('paper') };
  const calls: string[] = [];
  const actions = (id: string): RiskActions => ({
    cancelAllOrders: (r) => calls.push(`${id}:cancelAll:${r}`),
    flattenAll: (r) => calls.push(`${id}:flatten:${r}`),
    cancelOrder: (o, r) => calls.push(`${id}:cancel:${o}:${r}`),
  });
  const hooks = { a: account.hookFor('a'), b: account.hookFor('b') };
  for (const id of ['a', 'b'] as const) {
    const v = views[id];
    v.time = DAY * 10 + 1000;
    v.equityValue = 10_000;
    v.cashValue = 10_000;
    v.prices.set('BTC/USDT', 100);
    account.bindView(id, v);
    hooks[id].attach(actions(id));
  }
  return { engine, account, views, hooks, calls, saves: () => saves };
}

const buy = (strategyId: string, quantity = 1) => ({
  strategyId,
  symbol: 'BTC/USDT',
  side: 'buy' as const,
  type: 'market' as const,
  quantity,
});

describe('AccountRisk: one risk engine for every deployment of an account', () => {
  it('trips the daily loss on the account equity, which no single deployment reaches alone', () => {
    const { account, views, hooks } = setup();
    hooks.a.onEquity(views.a);
    hooks.b.onEquity(views.b);
    expect(account.equity()).toBe(20_000);
    // b alone loses 3% of its book (inside the 5% limit); with a's 8% the account loses 1 100 / 20 000 = 5.5%.
    views.a.equityValue = 9_200;
    views.b.equityValue = 9_700;
    hooks.a.onEquity(views.a);
    hooks.b.onEquity(views.b);
    const err = hooks.b.check(buy('b'), views.b);
    expect(err?.reason).toBe('BREAKER_DAILY_LOSS');
    // The same halt blocks the other deployment: it is one account.
    expect(hooks.a.check(buy('a'), views.a)?.reason).toBe('BREAKER_DAILY_LOSS');
  });

  it('does not trip on one deployment alone when the account is inside the limit', () => {
    const { views, hooks } = setup();
    hooks.a.onEquity(views.a);
    hooks.b.onEquity(views.b);
    views.a.equityValue = 9_400; // -6% of a's book, -3% of the account
    hooks.a.onEquity(views.a);
    expect(hooks.a.check(buy('a'), views.a)).toBeNull();
  });

  it("keeps per-deployment caps as rules and checks positions against the deployment's own book", () => {
    const { views, hooks } = setup();
    views.a.strategyExposures.set('a', 4_950);
    expect(hooks.a.check(buy('a'), views.a)?.reason).toBe('CAPITAL_CAP');
    // b has no cap and its own (empty) book.
    expect(hooks.b.check(buy('b'), views.b)).toBeNull();
    // a reduce-only sell needs a position in the deployment's own book: b holds one, a does not.
    views.b.positions.set('BTC/USDT', { quantity: 2, averagePrice: 100 });
    const sell = { ...buy('a'), side: 'sell' as const, reduceOnly: true };
    expect(hooks.a.check(sell, views.a)?.reason).toBe('INVALID_ORDER');
    expect(hooks.b.check({ ...sell, strategyId: 'b' }, views.b)).toBeNull();
  });

  it('shares one order budget across deployments', () => {
    const { views, hooks } = setup();
    expect(hooks.a.check(buy('a'), views.a)).toBeNull();
    expect(hooks.b.check(buy('b'), views.b)).toBeNull();
    expect(hooks.a.check(buy('a'), views.a)).toBeNull();
    expect(hooks.b.check(buy('b'), views.b)?.reason).toBe('ORDER_RATE');
  });

  it('acts on every deployment when the kill switch is pressed from one, and engages it once', () => {
    const { engine, views, hooks, calls } = setup();
    hooks.a.killSwitch?.('test', 'drill', views.a.time);
    expect(calls).toEqual(expect.arrayContaining(['a:cancelAll:kill switch: drill', 'b:cancelAll:kill switch: drill']));
    expect(calls.filter((c) => c.includes(':flatten:'))).toHaveLength(2);
    const before = engine.riskEvents().length;
    hooks.b.killSwitch?.('test', 'again', views.b.time);
    expect(engine.riskEvents().length).toBe(before); // already engaged: no second trigger
    expect(hooks.b.check(buy('b'), views.b)?.reason).toBe('KILL_SWITCH');
    expect(hooks.a.recover?.('test', views.a.time)).toBe(true);
    expect(hooks.b.check(buy('b'), views.b)).toBeNull();
  });

  it('saves on every change and restores halts, baselines and order budgets', () => {
    const first = setup();
    first.hooks.a.onEquity(first.views.a);
    first.hooks.b.onEquity(first.views.b);
    const savesBefore = first.saves();
    first.views.a.equityValue = 8_600; // account 18 600: 7% daily loss trips the 5% limit (not the 10% emergency)
    first.hooks.a.onEquity(first.views.a);
    expect(first.saves()).toBeGreaterThan(savesBefore);
    expect(first.hooks.a.check(buy('a'), first.views.a)?.reason).toBe('BREAKER_DAILY_LOSS');
    const state = first.engine.getState();
    expect(state.breakers.peakEquity).toBe(20_000);

    const second = setup(JSON.parse(JSON.stringify(state)));
    expect(second.hooks.b.check(buy('b'), second.views.b)?.reason).toBe('BREAKER_DAILY_LOSS');
    // The start-of-day baseline came back too: resetting rebases it, so the same loss does not trip again.
    second.engine.reset('BREAKER_DAILY_LOSS', 'ops');
    second.views.a.equityValue = 8_600;
    second.hooks.a.onEquity(second.views.a);
    expect(second.hooks.b.check(buy('b'), second.views.b)).toBeNull();
  });

  it('restores the order-budget window so a restart cannot double the budget', () => {
    const first = setup();
    for (let i = 0; i < 3; i++) expect(first.hooks.a.check(buy('a'), first.views.a)).toBeNull();
    const state = JSON.parse(JSON.stringify(first.engine.getState()));
    expect(state.rateWindows.account).toHaveLength(3);
    const second = setup(state);
    expect(second.hooks.b.check(buy('b'), second.views.b)?.reason).toBe('ORDER_RATE');
  });
});

describe('AccountRisk baselines', () => {
  it('takes no equity baseline until every expected deployment is bound', () => {
    const engine = createRiskEngine({ breakers: { dailyLoss: 0.05 } }, { useDefaults: false, mode: 'paper' });
    const account = new AccountRisk(engine);
    account.expectMembers(['a', 'b']);
    const a = account.hookFor('a');
    const b = account.hookFor('b');
    const va = new SimpleRiskView('paper');
    const vb = new SimpleRiskView('paper');
    va.time = vb.time = DAY * 3;
    va.equityValue = vb.equityValue = 10_000;
    va.prices.set('BTC/USDT', 100);
    account.bindView('a', va);
    a.onEquity(va); // only a is up: no baseline yet (it would be 10 000 for a 20 000 account)
    expect(engine.getState().breakers.dayStartEquity).toBeNull();
    account.bindView('b', vb);
    b.onEquity(vb);
    expect(engine.getState().breakers.dayStartEquity).toBe(20_000);
    va.equityValue = 9_400; // the account is 3% down: inside the 5% limit
    a.onEquity(va);
    expect(a.check(buy('a'), va)).toBeNull();
  });
});
