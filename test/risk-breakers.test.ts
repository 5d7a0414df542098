import { describe, expect, it } from 'vitest';
import type { RiskConfig } from '../src/core/config.js';
import type { ClosedTrade, DomainEvent, EventMap, EventName } from '../src/core/events.js';
import type { Fill } from '../src/core/fill.js';
import type { OrderIntent } from '../src/core/order.js';
import type { RiskActions } from '../src/core/risk-port.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { createRiskEngine, type RiskEngineState, SimpleRiskView } from '../src/risk/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2024, 2, 4); // a Monday, 00:00 UTC

/** Drives a RiskEngine through its hook API with a hand-written view, recording actions and events. */
function harness(config: RiskConfig, opts: { mode?: 'backtest' | 'paper' | 'live'; useDefaults?: boolean } = {}) {
  const events: { name: EventName; payload: unknown; time: number }[] = [];
  const engine = createRiskEngine(config, {
    useDefaults: opts.useDefaults ?? false,
    mode: opts.mode ?? 'backtest',
    publish: <N extends EventName>(name: N, payload: EventMap[N], time: number) => events.push({ name, payload, time }),
  });
  const view = new SimpleRiskView(opts.mode ?? 'backtest');
  view.time = T0;
  view.prices.set('BTC/USD', 100);
  view.prices.set('ETH/USD', 10);
  const actions = { cancelAll: [] as string[], flatten: [] as string[], cancelled: [] as string[] };
  const riskActions: RiskActions = {
    cancelAllOrders: (r) => actions.cancelAll.push(r),
    flattenAll: (r) => actions.flatten.push(r),
    cancelOrder: (id) => actions.cancelled.push(id),
  };
  engine.attach(riskActions);
  const equityAt = (time: number, equity: number) => {
    view.time = time;
    view.equityValue = equity;
    engine.onEquity(view);
  };
  const entry = (symbol = 'BTC/USD', extra: Partial<OrderIntent> = {}): OrderIntent => ({
    strategyId: 's1',
    symbol,
    side: 'buy',
    type: 'market',
    quantity: 1,
    ...extra,
  });
  const code = (intent: OrderIntent = entry()) => engine.check(intent, view)?.reason ?? null;
  const close = (pnl: number, exitReason = 'exit_signal', symbol = 'BTC/USD'): ClosedTrade => {
    const trade: ClosedTrade = {
      strategyId: 's1',
      symbol,
      side: 'long',
      entryTime: view.time - HOUR,
      entryPrice: 100,
      exitTime: view.time,
      exitPrice: 100 + pnl,
      quantity: 1,
      fees: 0,
      pnl,
      pnlPct: pnl / 100,
      exitReason,
    };
    engine.onTradeClosed(trade, view);
    return trade;
  };
  return { engine, view, actions, events, equityAt, entry, code, close };
}

describe('consecutive losses', () => {
  it('five losses in a row halt entries until an explicit reset; a win restarts the count', () => {
    const h = harness({ breakers: { consecutiveLosses: 5 } });
    for (const pnl of [-1, -1, -1, -1, 2, -1, -1, -1, -1]) {
      h.view.time += HOUR;
      h.close(pnl);
    }
    expect(h.code()).toBeNull();
    h.view.time += HOUR;
    h.close(-1);
    expect(h.code()).toBe('BREAKER_CONSECUTIVE_LOSSES');
    h.view.time += 30 * DAY;
    expect(h.code()).toBe('BREAKER_CONSECUTIVE_LOSSES');
    const trip = h.engine.trips()[0];
    expect(trip).toMatchObject({
      breaker: 'BREAKER_CONSECUTIVE_LOSSES',
      values: { losses: 5, limit: 5 },
      until: undefined,
    });
    expect(h.engine.reset('BREAKER_CONSECUTIVE_LOSSES', 'alice')).toBe(true);
    expect(h.code()).toBeNull();
    expect(h.events.map((e) => e.name)).toEqual(['breaker.tripped.v1', 'breaker.reset.v1']);
    expect(h.events[1].payload).toEqual({ breaker: 'BREAKER_CONSECUTIVE_LOSSES', actor: 'alice' });
  });

  it('with a cooldown the halt ends by itself', () => {
    const h = harness({ breakers: { consecutiveLosses: 2, consecutiveLossesCooldownMinutes: 60 } });
    h.close(-1);
    h.close(-1);
    expect(h.code()).toBe('BREAKER_CONSECUTIVE_LOSSES');
    h.view.time += 60 * MIN - 1;
    expect(h.code()).toBe('BREAKER_CONSECUTIVE_LOSSES');
    h.view.time += 1;
    expect(h.code()).toBeNull();
  });
});

describe('daily loss', () => {
  it('a -5% day halts entries for 24 h (into the next UTC day); exits still pass', () => {
    const h = harness({ breakers: { dailyLoss: 0.05 } });
    expect(h.engine.wantsEquityUpdates).toBe(true);
    h.equityAt(T0 - HOUR, 100_000); // yesterday's close: start-of-day equity of the 4th
    h.equityAt(T0 + 10 * HOUR, 95_100); // -4.9%
    expect(h.code()).toBeNull();
    h.equityAt(T0 + 14 * HOUR, 95_000); // -5%
    expect(h.code()).toBe('BREAKER_DAILY_LOSS');
    h.view.setPosition('BTC/USD', 3);
    expect(h.code(h.entry('BTC/USD', { side: 'sell', quantity: 3 }))).toBeNull();
    expect(h.engine.trips()[0]).toMatchObject({
      breaker: 'BREAKER_DAILY_LOSS',
      values: { equity: 95_000, startOfDayEquity: 100_000, loss: 0.05, limit: 0.05 },
      until: T0 + 38 * HOUR,
    });
    h.equityAt(T0 + DAY + HOUR, 96_000); // next UTC day, still inside 24 h
    expect(h.code()).toBe('BREAKER_DAILY_LOSS');
    h.equityAt(T0 + 38 * HOUR, 96_000);
    expect(h.code()).toBeNull();
  });

  it('start-of-day equity is the close of the previous day, so daily bars can trip it', () => {
    const h = harness({ breakers: { dailyLoss: 0.05 } });
    h.equityAt(T0, 100_000);
    h.equityAt(T0 + DAY, 94_000);
    expect(h.code()).toBe('BREAKER_DAILY_LOSS');
  });
});

describe('emergency loss', () => {
  it('-10% cancels every order, flattens everything and halts until reset', () => {
    const h = harness({ breakers: { dailyLoss: 0.05, emergencyLoss: 0.1 } });
    h.equityAt(T0 + HOUR, 100_000);
    h.equityAt(T0 + 2 * HOUR, 89_999);
    expect(h.actions.cancelAll).toHaveLength(1);
    expect(h.actions.flatten).toHaveLength(1);
    expect(h.code()).toBe('BREAKER_EMERGENCY');
    h.equityAt(T0 + 3 * HOUR, 89_000); // no second flatten while the halt stands
    expect(h.actions.flatten).toHaveLength(1);
    h.equityAt(T0 + 5 * DAY, 90_000);
    expect(h.code()).toBe('BREAKER_EMERGENCY');
    expect(h.engine.trips().map((t) => t.breaker)).toEqual(['BREAKER_EMERGENCY', 'BREAKER_DAILY_LOSS']);
    h.engine.reset('BREAKER_EMERGENCY', 'ops');
    expect(h.code()).toBeNull();
    h.equityAt(T0 + 5 * DAY + HOUR, 89_500); // rebased: a small further loss does not re-trip
    expect(h.actions.flatten).toHaveLength(1);
  });
});

describe('max drawdown', () => {
  it('halts at 15% below peak equity across days', () => {
    const h = harness({ breakers: { maxDrawdown: 0.15 } });
    h.equityAt(T0, 100_000);
    h.equityAt(T0 + DAY, 120_000);
    h.equityAt(T0 + 2 * DAY, 103_000); // 14.2%
    expect(h.code()).toBeNull();
    h.equityAt(T0 + 3 * DAY, 102_000); // 15%
    expect(h.code()).toBe('BREAKER_MAX_DRAWDOWN');
    expect(h.engine.trips()[0].values).toEqual({ equity: 102_000, peakEquity: 120_000, drawdown: 0.15, limit: 0.15 });
    h.engine.reset('BREAKER_MAX_DRAWDOWN', 'ops');
    h.equityAt(T0 + 4 * DAY, 101_000); // the peak was rebased to 102 000
    expect(h.code()).toBeNull();
  });
});

describe('per-symbol protections', () => {
  it('stop-loss guard: 3 stop-outs within the lookback lock the symbol, then the lock expires', () => {
    const h = harness({ breakers: { stoplossGuard: { trades: 3, lookbackMinutes: 60, lockMinutes: 120 } } });
    h.close(-1, 'stop_loss');
    h.view.time += 40 * MIN;
    h.close(-1, 'trailing_stop');
    h.view.time += 30 * MIN; // the first stop-out left the 60-minute lookback
    h.close(-1, 'stop_loss');
    expect(h.code()).toBeNull();
    h.close(-1, 'exit_signal'); // not a stop-out
    expect(h.code()).toBeNull();
    h.view.time += 10 * MIN;
    h.close(-1, 'stop_loss');
    const lockedAt = h.view.time;
    expect(h.code()).toBe('STOPLOSS_GUARD');
    expect(h.code(h.entry('ETH/USD'))).toBeNull();
    h.view.time = lockedAt + 120 * MIN - 1;
    expect(h.code()).toBe('STOPLOSS_GUARD');
    h.view.time = lockedAt + 120 * MIN;
    expect(h.code()).toBeNull();
    expect(h.engine.trips()).toHaveLength(1);
  });

  it('cooldown after any exit of a symbol', () => {
    const h = harness({ breakers: { cooldownMinutes: 15 } });
    h.close(5, 'roi', 'ETH/USD');
    expect(h.code(h.entry('ETH/USD'))).toBe('COOLDOWN');
    expect(h.code(h.entry('BTC/USD'))).toBeNull();
    h.view.time += 15 * MIN;
    expect(h.code(h.entry('ETH/USD'))).toBeNull();
  });

  it('a per-symbol reset clears one symbol', () => {
    const h = harness({ breakers: { cooldownMinutes: 15 } });
    h.close(5, 'roi', 'ETH/USD');
    h.close(5, 'roi', 'BTC/USD');
    h.engine.reset('COOLDOWN', 'bob', 'ETH/USD');
    expect(h.code(h.entry('ETH/USD'))).toBeNull();
    expect(h.code(h.entry('BTC/USD'))).toBe('COOLDOWN');
    expect(h.events.at(-1)?.payload).toEqual({ breaker: 'COOLDOWN:ETH/USD', actor: 'bob' });
  });
});

describe('order discipline through the hook', () => {
  it('a duplicate signal is accepted once', () => {
    const h = harness({ duplicateSignals: true });
    const signal = h.entry('BTC/USD', { signalTime: T0 });
    expect(h.code(signal)).toBeNull();
    expect(h.code({ ...signal })).toBe('DUPLICATE_SIGNAL');
  });

  it('a stale limit buy is cancelled after 10 simulated minutes', () => {
    const h = harness({ staleOrderMinutes: { buy: 10, sell: 30 } });
    expect(h.engine.wantsEquityUpdates).toBe(true);
    expect(h.engine.trackOrder({ id: 'o1', strategyId: 's1', side: 'buy', type: 'limit', createdAt: T0 })).toBe(true);
    expect(h.engine.trackOrder({ id: 'o2', strategyId: 's1', side: 'sell', type: 'limit', createdAt: T0 })).toBe(true);
    h.equityAt(T0 + 9 * MIN, 100_000);
    expect(h.actions.cancelled).toEqual([]);
    h.equityAt(T0 + 10 * MIN, 100_000);
    expect(h.actions.cancelled).toEqual(['o1']);
    h.engine.untrackOrder('o2'); // it filled
    h.equityAt(T0 + 40 * MIN, 100_000);
    expect(h.actions.cancelled).toEqual(['o1']);
  });

  it('without staleOrderMinutes a backtest times nothing', () => {
    const h = harness({});
    expect(h.engine.trackOrder({ id: 'o1', strategyId: 's1', side: 'buy', type: 'limit', createdAt: T0 })).toBe(false);
  });
});

describe('kill switch', () => {
  it('cancels and flattens, blocks entries, lets exits through, and recovers', () => {
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    bus.subscribe('*', (e: DomainEvent) => seen.push(`${e.name}@${e.time}`));
    const engine = createRiskEngine({}, { useDefaults: false, mode: 'backtest', bus });
    const view = new SimpleRiskView();
    view.time = T0;
    view.prices.set('BTC/USD', 100);
    const calls: string[] = [];
    engine.attach({
      cancelAllOrders: () => calls.push('cancelAll'),
      flattenAll: () => calls.push('flattenAll'),
      cancelOrder: () => {},
    });
    view.setPosition('BTC/USD', 2);
    engine.check({ strategyId: 's', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: 1 }, view);
    expect(engine.killSwitch('cli:alice', 'test')).toEqual({ triggeredAt: T0 });
    expect(calls).toEqual(['cancelAll', 'flattenAll']);
    expect(engine.killSwitchState()).toEqual({ at: T0, actor: 'cli:alice', reason: 'test' });
    const entry = { strategyId: 's', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: 1 } as const;
    expect(engine.check(entry, view)?.reason).toBe('KILL_SWITCH');
    expect(
      engine.check({ ...entry, side: 'sell', quantity: 2, source: 'kill_switch', reduceOnly: true }, view),
    ).toBeNull();
    expect(engine.check({ ...entry, side: 'sell', quantity: 5 }, view)?.reason).toBe('KILL_SWITCH'); // a flip adds exposure
    view.time = T0 + 5000;
    expect(engine.recover('cli:alice')).toBe(true);
    expect(engine.check(entry, view)).toBeNull();
    expect(seen).toEqual([`killswitch.triggered.v1@${T0}`, `killswitch.recovered.v1@${T0 + 5000}`]);
    expect(engine.riskEvents().map((e) => e.kind)).toEqual(['killswitch', 'rejected', 'rejected', 'recovered']);
  });
});

describe('dry-run', () => {
  it('reports what it would block and lets the order through', () => {
    const h = harness({ maxOrderNotional: 500, dryRun: true, orderRate: { perMinute: 100, perSecond: 1 } });
    const err = h.engine.check(h.entry('BTC/USD', { quantity: 1 }), h.view);
    expect(err).toBeNull();
    const would = h.engine.check(h.entry('BTC/USD', { quantity: 2 }), h.view);
    expect(would?.dryRun).toBe(true);
    expect(would?.reason).toBe('ORDER_RATE');
    h.view.time += 1000;
    const big = h.engine.check(h.entry('BTC/USD', { quantity: 1000 }), h.view);
    expect([big?.reason, big?.dryRun, big?.limit, big?.actual]).toEqual(['MAX_NOTIONAL', true, 500, 100_000]);
    expect(h.engine.stats()).toMatchObject({ checked: 3, accepted: 1, rejected: 2, dryRunPassed: 2 });
    expect(h.engine.riskEvents().every((e) => e.dryRun === true)).toBe(true);
  });

  it('is refused in live mode', () => {
    expect(() => harness({ dryRun: true }, { mode: 'live' })).toThrow(/risk\.dryRun.*refused in live mode/);
    expect(() => harness({ dryRun: true }, { mode: 'paper' })).not.toThrow();
  });

  it('a live view never gets a dry-run pass', () => {
    const h = harness({ maxOrderNotional: 50, dryRun: true }, { mode: 'paper' });
    h.view.mode = 'live';
    const err = h.engine.check(h.entry('BTC/USD', { quantity: 1000 }), h.view);
    expect([err?.reason, err?.dryRun]).toEqual(['MAX_NOTIONAL', false]);
  });
});

describe('state across a restart', () => {
  it('a halt, a lock and the baselines survive getState/restore through JSON', () => {
    const config: RiskConfig = { breakers: { dailyLoss: 0.05, maxDrawdown: 0.5, cooldownMinutes: 60 } };
    const h = harness(config);
    h.equityAt(T0, 100_000);
    h.equityAt(T0 + HOUR, 94_000);
    h.close(3, 'roi', 'ETH/USD');
    h.engine.killSwitch('ops', 'drill');
    const saved = JSON.parse(JSON.stringify(h.engine.getState())) as RiskEngineState;

    const h2 = harness(config);
    h2.engine.restore(saved);
    h2.view.time = T0 + 90 * MIN;
    expect(h2.code()).toBe('KILL_SWITCH');
    h2.engine.recover('ops');
    expect(h2.code()).toBe('BREAKER_DAILY_LOSS');
    expect(h2.code(h2.entry('ETH/USD'))).toBe('BREAKER_DAILY_LOSS');
    expect(h2.engine.status().map((s) => s.breaker)).toEqual(['BREAKER_DAILY_LOSS', 'COOLDOWN']);
    expect(h2.engine.tradeStats('s1')?.wins).toBe(1);
    // Peak equity survived: 50% below 100 000 trips the drawdown breaker.
    h2.equityAt(T0 + 3 * HOUR, 50_000);
    expect(h2.engine.trips().map((t) => t.breaker)).toEqual(['BREAKER_MAX_DRAWDOWN']);
  });
});

describe('afterFill', () => {
  it('evaluates the equity breakers after a fill', () => {
    const h = harness({ breakers: { maxDrawdown: 0.1 } });
    h.equityAt(T0, 100_000);
    h.view.equityValue = 89_000;
    const fill: Fill = {
      id: 'f1',
      orderId: 'o1',
      clientOrderId: 'c1',
      strategyId: 's1',
      symbol: 'BTC/USD',
      side: 'buy',
      price: 100,
      quantity: 1,
      fee: 0,
      liquidity: 'taker',
      time: T0,
    };
    h.engine.afterFill(fill, h.view);
    expect(h.code()).toBe('BREAKER_MAX_DRAWDOWN');
  });
});
