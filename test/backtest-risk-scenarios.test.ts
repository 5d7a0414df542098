import { describe, expect, it } from 'vitest';
import { runBacktest } from '../src/backtest/runner.js';
import { SimulatedVenue } from '../src/backtest/simulated-venue.js';
import type { RiskConfig } from '../src/core/config.js';
import type { DomainEvent, EventBus } from '../src/core/events.js';
import { defineInstrument } from '../src/core/instrument.js';
import type { Order } from '../src/core/order.js';
import { PASS_THROUGH_RISK } from '../src/core/risk-port.js';
import { generateBars } from '../src/data/index.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { SymbolFeed } from '../src/engine/market-data.js';
import { createRiskEngine } from '../src/risk/index.js';
import type { Strategy, StrategyContext } from '../src/strategy/types.js';
import { candles, DAY, MIN, T0 } from './backtest-helpers.js';

const HOUR = 3_600_000;

/** A strategy driven by a script: `step(i, ctx)` runs on bar i; order updates are collected. */
function script(step: (i: number, ctx: StrategyContext) => void): Strategy & { orders: Order[] } {
  let i = 0;
  const orders: Order[] = [];
  return {
    orders,
    onBar(ctx) {
      step(i++, ctx);
    },
    onOrderUpdate(_ctx, order) {
      orders.push({ ...order });
    },
  };
}

/** Flat rows at the given closes: open = high = low = close. */
function flat(closes: readonly number[]): number[][] {
  return closes.map((c) => [c, c, c, c]);
}

function run(rows: number[][], strategy: Strategy, risk: RiskConfig | undefined, step = DAY, extra = {}) {
  return runBacktest({
    data: { symbol: 'X', columns: candles(rows, step), timeframe: step === MIN ? '1m' : step === HOUR ? '1h' : '1d' },
    strategy,
    fee: 0,
    lot: 1,
    cash: 10_000,
    ...(risk ? { riskConfig: risk } : {}),
    ...extra,
  });
}

describe('risk scenarios in the backtester', () => {
  it('a strategy that loses five times in a row stops trading (BREAKER_CONSECUTIVE_LOSSES)', () => {
    // Falling prices: every round trip (buy, sell on the next bar) loses.
    const rows = flat(Array.from({ length: 40 }, (_, k) => 1000 - 5 * k));
    const alternate = () =>
      script((_i, ctx) => {
        if (ctx.position() === 0) ctx.buy({ quantity: 5 });
        else ctx.sell();
      });
    const plain = run(rows, alternate(), undefined);
    expect(plain.trades.length).toBeGreaterThan(10);
    const r = run(rows, alternate(), { breakers: { consecutiveLosses: 5 } });
    expect(r.trades).toHaveLength(5);
    expect(r.trades.every((t) => t.pnl < 0)).toBe(true);
    const trip = r.riskEvents.find((e) => e.code === 'BREAKER_CONSECUTIVE_LOSSES' && /losing trades/.test(e.detail));
    expect(trip?.time).toBe(r.trades[4].exitTime);
    const later = r.riskEvents.filter((e) => e.code === 'BREAKER_CONSECUTIVE_LOSSES' && e !== trip);
    expect(later.length).toBeGreaterThan(10);
    expect(later.every((e) => e.time >= trip!.time)).toBe(true);
  });

  it('a -5% day halts entries for 24 h, then entries resume (BREAKER_DAILY_LOSS)', () => {
    // Hourly bars over three days: the price falls 7% on day 1 hour 5 and stays there.
    const closes = Array.from({ length: 72 }, (_, k) => (k < 5 ? 100 : 93));
    const s = script((i, ctx) => {
      if (i === 0) ctx.buy({ quantity: 90 });
      else if (i === 6) ctx.sell();
      else if (i > 6 && ctx.position() === 0) ctx.buy({ quantity: 10 });
    });
    const r = run(flat(closes), s, { breakers: { dailyLoss: 0.05 } }, HOUR);
    const trip = r.riskEvents.find((e) => e.code === 'BREAKER_DAILY_LOSS' && /new entries halted/.test(e.detail));
    expect(trip?.time).toBe(T0 + 5 * HOUR);
    const rejected = r.riskEvents.filter((e) => e.code === 'BREAKER_DAILY_LOSS' && e !== trip);
    expect(rejected.length).toBeGreaterThan(10);
    expect(rejected.every((e) => e.time < trip!.time + DAY)).toBe(true);
    // The exit during the halt went through; the next entry is the first bar at or after the halt's end.
    expect(r.trades[0]).toMatchObject({ entryTime: T0 + HOUR, exitTime: T0 + 7 * HOUR, exitReason: 'exit_signal' });
    expect(r.trades[1].entryTime).toBe(trip!.time + DAY + HOUR);
    expect(r.trades[1].entryTime).toBeGreaterThanOrEqual(T0 + DAY);
  });

  it('a -10% day flattens everything through the engine and halts (BREAKER_EMERGENCY)', () => {
    const closes = Array.from({ length: 20 }, (_, k) => (k < 5 ? 100 : 88));
    const s = script((i, ctx) => {
      if (i === 0) ctx.buy({ quantity: 90 });
      if (i === 1) ctx.limit('buy', 50, { quantity: 1 });
      if (i > 6 && ctx.position() === 0) ctx.buy({ quantity: 1 });
    });
    const r = run(flat(closes), s, { breakers: { emergencyLoss: 0.1 } });
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ exitReason: 'BREAKER_EMERGENCY', exitTime: T0 + 6 * DAY, exitPrice: 88 });
    const resting = s.orders.filter((o) => o.type === 'limit');
    expect(resting.at(-1)).toMatchObject({ status: 'cancelled', reason: 'BREAKER_EMERGENCY', updatedAt: T0 + 5 * DAY });
    const trip = r.riskEvents.find((e) => e.code === 'BREAKER_EMERGENCY' && /flattening/.test(e.detail));
    expect(trip?.time).toBe(T0 + 5 * DAY);
    const blocked = r.riskEvents.filter((e) => e.code === 'BREAKER_EMERGENCY' && e !== trip);
    expect(blocked.length).toBe(13);
    expect(blocked[0].time).toBe(T0 + 7 * DAY);
  });

  it('a duplicate signal (same strategy, symbol, side and signal time) is accepted once', () => {
    const s = script((i, ctx) => {
      if (i === 2 || i === 3) {
        ctx.limit('buy', 90, { quantity: 1 });
        ctx.limit('buy', 90, { quantity: 1 });
      }
    });
    const r = run(flat([100, 100, 100, 100, 100]), s, { duplicateSignals: true });
    const placed = s.orders.filter((o) => o.status === 'submitted');
    expect(placed.map((o) => o.signalTime)).toEqual([T0 + 2 * DAY, T0 + 3 * DAY]);
    const dups = r.riskEvents.filter((e) => e.code === 'DUPLICATE_SIGNAL');
    expect(dups.map((e) => e.time)).toEqual([T0 + 2 * DAY, T0 + 3 * DAY]);
    // Without the rule both orders of each bar are placed.
    const s2 = script((i, ctx) => {
      if (i === 2) {
        ctx.limit('buy', 90, { quantity: 1 });
        ctx.limit('buy', 90, { quantity: 1 });
      }
    });
    run(flat([100, 100, 100, 100, 100]), s2, undefined);
    expect(s2.orders.filter((o) => o.status === 'submitted')).toHaveLength(2);
  });

  it('a stale limit buy is cancelled after 10 minutes of simulated time (1-minute bars)', () => {
    const rows = flat(Array.from({ length: 30 }, () => 100));
    const place = () =>
      script((i, ctx) => {
        if (i === 0) ctx.limit('buy', 50, { quantity: 1 });
        if (i === 3) ctx.limit('sell', 150, { quantity: 1, reduceOnly: false });
      });
    const s = place();
    run(rows, s, { staleOrderMinutes: { buy: 10, sell: 30 } }, MIN, { allowShort: true });
    const buy = s.orders.filter((o) => o.side === 'buy');
    expect(buy.at(-1)).toMatchObject({ status: 'cancelled', updatedAt: T0 + 10 * MIN });
    expect(buy.at(-1)?.reason).toMatch(/stale order/);
    expect(buy.filter((o) => o.status === 'cancelled')).toHaveLength(1);
    // The sell's timer is 30 minutes: still resting at the end of the 30-minute run (cancelled by end of data).
    const sell = s.orders.filter((o) => o.side === 'sell');
    expect(sell.at(-1)).toMatchObject({ status: 'cancelled', reason: 'end_of_data' });
    // Without the key nothing is timed.
    const plain = place();
    run(rows, plain, undefined, MIN, { allowShort: true });
    expect(plain.orders.filter((o) => o.side === 'buy').at(-1)).toMatchObject({ reason: 'end_of_data' });
  });

  it('dry-run reports what would be blocked and lets the orders through', () => {
    const bus: EventBus = new InProcessEventBus();
    const seen: DomainEvent<'risk.rejected.v1'>[] = [];
    bus.subscribe('risk.rejected.v1', (e) => seen.push(e));
    const s = script((i, ctx) => {
      if (i === 1) ctx.buy({ quantity: 20 });
      if (i === 3) ctx.sell();
    });
    const r = run(flat([100, 100, 100, 110, 110]), s, { maxOrderNotional: 1000, dryRun: true }, DAY, { bus });
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ quantity: 20, entryPrice: 100, exitPrice: 110 });
    expect(r.riskEvents).toHaveLength(1);
    expect(r.riskEvents[0]).toMatchObject({ time: T0 + DAY, code: 'MAX_NOTIONAL', dryRun: true });
    expect(r.riskEvents[0].detail).toMatch(/^dry run, order placed anyway/);
    expect(seen).toHaveLength(1);
    expect(seen[0].payload).toMatchObject({ code: 'MAX_NOTIONAL', dryRun: true });
    // The same config without dry-run blocks the entry.
    const blocked = run(
      flat([100, 100, 100, 110, 110]),
      script((i, ctx) => i === 1 && ctx.buy({ quantity: 20 })),
      {
        maxOrderNotional: 1000,
      },
    );
    expect(blocked.trades).toHaveLength(0);
    expect(blocked.riskEvents[0]).toMatchObject({ code: 'MAX_NOTIONAL' });
    expect(blocked.riskEvents[0].dryRun).toBeUndefined();
  });

  it('a plain backtest is unaffected: no risk config, an empty one and PASS_THROUGH give one fingerprint', () => {
    const columns = generateBars({ bars: 5000, seed: 7, timeframe: '1h' });
    const base = { data: { symbol: 'SYN', columns, timeframe: '1h' as const }, strategy: 'sma-cross', fee: 0.001 };
    const plain = runBacktest(base);
    expect(plain.trades.length).toBeGreaterThan(20);
    const pass = runBacktest({ ...base, risk: PASS_THROUGH_RISK });
    const empty = runBacktest({ ...base, riskConfig: {} });
    const engine = runBacktest({ ...base, risk: createRiskEngine({}, { useDefaults: false, mode: 'backtest' }) });
    for (const r of [pass, empty, engine]) {
      expect(r.fingerprint).toBe(plain.fingerprint);
      expect(r.finalEquity).toBe(plain.finalEquity);
      expect(r.riskEvents).toEqual([]);
    }
    // And the defaults do change it (concentration 0.5 refuses a 95% stake).
    const defaults = runBacktest({ ...base, riskDefaults: true });
    expect(defaults.fingerprint).not.toBe(plain.fingerprint);
    expect(defaults.riskEvents.some((e) => e.code === 'CONCENTRATION')).toBe(true);
  });
});

function kernel(riskConfig: RiskConfig) {
  const rows = flat([100, 100, 100, 101, 102, 103]);
  const clock = new SimulatedClock(T0);
  const bus: EventBus = new InProcessEventBus();
  const risk = createRiskEngine(riskConfig, { useDefaults: false, mode: 'backtest', bus });
  const symbols = ['A', 'B', 'C'];
  const engine = new Engine({
    mode: 'backtest',
    strategy: {},
    feeds: symbols.map((s) => new SymbolFeed(s, candles(rows), '1d')),
    timeframe: '1d',
    instruments: symbols.map((symbol) => defineInstrument({ symbol, lotSize: 1 })),
    venue: new SimulatedVenue({ clock }),
    clock,
    bus,
    risk,
    cash: 100_000,
    allowShort: true,
    margin: true,
  });
  const events: DomainEvent[] = [];
  bus.subscribe('*', (e) => events.push(e));
  engine.start();
  const bar = (i: number) => {
    for (let s = 0; s < symbols.length; s++) engine.onBar(s, i);
    engine.recordEquity(T0 + i * DAY);
  };
  const order = (symbol: string, side: 'buy' | 'sell', quantity: number, price?: number) =>
    engine.submitIntent({
      strategyId: 'strategy',
      symbol,
      side,
      type: price === undefined ? 'market' : 'limit',
      quantity,
      ...(price !== undefined ? { price } : {}),
    });
  return { engine, risk, events, bar, order };
}

describe('kill switch in a backtest', () => {
  it('one kill switch: engages the risk engine, cancels, flattens (long and short) and halts until recover', () => {
    const k = kernel({ maxOrderNotional: 1e9 });
    k.bar(0);
    k.order('A', 'buy', 10);
    k.order('B', 'sell', 5);
    k.bar(1);
    const resting = k.order('C', 'buy', 3, 50)!;
    expect(resting.status).toBe('accepted');
    const report = k.engine.killSwitch('ops', 'drill');
    expect(report).toMatchObject({ cancelled: 1, closing: 2 });
    expect(report.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(resting.status).toBe('cancelled');
    expect(k.risk.killSwitchState()).toMatchObject({ actor: 'ops', reason: 'drill' });
    expect(k.engine.killSwitchEngaged).toBe(true);
    const names = k.events.map((e) => e.name);
    expect(names.filter((n) => n === 'killswitch.triggered.v1')).toHaveLength(1);
    expect(names.indexOf('killswitch.completed.v1')).toBeGreaterThan(names.indexOf('killswitch.triggered.v1'));
    // New exposure is refused; the closes fill at the next open with exit reason kill_switch.
    expect(k.order('C', 'buy', 1)).toBeNull();
    expect(k.engine.riskEvents.at(-1)?.code).toBe('KILL_SWITCH');
    k.bar(2);
    expect(Array.from(k.engine.portfolio.qty)).toEqual([0, 0, 0]);
    expect(k.engine.portfolio.trades.map((t) => [t.symbol, t.exitReason])).toEqual([
      ['A', 'kill_switch'],
      ['B', 'kill_switch'],
    ]);
    // Pressing it again sends nothing more; recover clears the engine and the risk engine.
    expect(k.engine.killSwitch('ops', 'again')).toMatchObject({ cancelled: 0, closing: 0 });
    k.engine.recover('ops');
    expect(k.risk.killSwitchState()).toBeNull();
    expect(k.engine.halted).toBe(false);
    expect(k.order('C', 'buy', 1)).not.toBeNull();
    expect(k.events.filter((e) => e.name === 'killswitch.recovered.v1')).toHaveLength(1);
  });

  it('pressing the risk engine kill switch directly goes through the same path', () => {
    const k = kernel({ maxOrderNotional: 1e9 });
    k.bar(0);
    k.order('A', 'buy', 10);
    k.bar(1);
    k.risk.killSwitch('telegram', 'panic');
    expect(k.engine.haltCode).toBe('KILL_SWITCH');
    expect(k.order('B', 'buy', 1)).toBeNull();
    k.bar(2);
    expect(k.engine.portfolio.trades.map((t) => t.exitReason)).toEqual(['kill_switch']);
  });

  it('a kill switch on a pass-through run still cancels, flattens and is reported', () => {
    const clock = new SimulatedClock(T0);
    const engine = new Engine({
      mode: 'backtest',
      strategy: {},
      feeds: [new SymbolFeed('X', candles(flat([100, 100, 100])), '1d')],
      timeframe: '1d',
      instruments: [defineInstrument({ symbol: 'X', lotSize: 1 })],
      venue: new SimulatedVenue({ clock }),
      clock,
      cash: 10_000,
    });
    engine.start();
    engine.onBar(0, 0);
    engine.submitIntent({ strategyId: 'strategy', symbol: 'X', side: 'buy', type: 'market', quantity: 5 });
    engine.onBar(0, 1);
    expect(engine.killSwitch('t', 'x')).toMatchObject({ cancelled: 0, closing: 1 });
    expect(engine.riskEvents[0]).toMatchObject({ code: 'KILL_SWITCH', detail: 'engaged by t: x' });
    engine.onBar(0, 2);
    expect(engine.portfolio.qty[0]).toBe(0);
  });
});
