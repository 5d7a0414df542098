import { describe, expect, it } from 'vitest';
import { runBacktest } from '../src/backtest/runner.js';
import { SimulatedVenue } from '../src/backtest/simulated-venue.js';
import { barsToColumns } from '../src/core/bar.js';
import { IllegalTransitionError } from '../src/core/errors.js';
import type { DomainEvent } from '../src/core/events.js';
import { defineInstrument } from '../src/core/instrument.js';
import { transitionOrder } from '../src/core/order.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { SymbolFeed } from '../src/engine/market-data.js';
import type { GridStrategy } from '../src/strategy/builtins/grid.js';
import { getStrategy } from '../src/strategy/registry.js';
import { candles, DAY, T0 } from './backtest-helpers.js';

function engineOn(rows: number[][], strategy = {}) {
  const columns = candles(rows);
  const clock = new SimulatedClock(T0);
  const bus = new InProcessEventBus();
  const venue = new SimulatedVenue({ clock });
  const feed = new SymbolFeed('X', columns, '1d');
  const engine = new Engine({
    mode: 'backtest',
    strategy,
    feeds: [feed],
    timeframe: '1d',
    instruments: [defineInstrument({ symbol: 'X', lotSize: 1 })],
    venue,
    clock,
    bus,
    cash: 10_000,
  });
  engine.start();
  return { engine, bus, venue };
}

describe('kernel', () => {
  it('the order state machine rejects illegal moves; a cancel after a fill changes nothing', () => {
    const { engine } = engineOn([
      [100, 100, 100, 100],
      [100, 100, 100, 100],
    ]);
    engine.onBar(0, 0);
    const o = engine.submitIntent({ strategyId: 'strategy', symbol: 'X', side: 'buy', type: 'market', quantity: 1 })!;
    expect(o.status).toBe('submitted');
    engine.onBar(0, 1);
    expect(o.status).toBe('filled');
    expect(() => transitionOrder(o, 'cancelled', 0)).toThrow(IllegalTransitionError);
    engine.exec.cancel(o.id, 'late');
    expect(o.status).toBe('filled');
  });

  it('publishes order/fill/trade events only to subscribers, with the risk rejection event', () => {
    const { engine, bus } = engineOn([
      [100, 100, 100, 100],
      [100, 100, 100, 100],
      [100, 100, 100, 100],
    ]);
    const seen: string[] = [];
    bus.subscribe('*', (e: DomainEvent) => seen.push(e.name));
    engine.onBar(0, 0);
    engine.submitIntent({ strategyId: 'strategy', symbol: 'X', side: 'buy', type: 'market', quantity: 1 });
    engine.onBar(0, 1);
    engine.submitIntent({
      strategyId: 'strategy',
      symbol: 'X',
      side: 'sell',
      type: 'market',
      quantity: 1,
      reduceOnly: true,
    });
    engine.onBar(0, 2);
    expect(seen).toEqual([
      'order.submitted.v1',
      'position.changed.v1',
      'fill.executed.v1',
      'order.filled.v1',
      'order.submitted.v1',
      'position.changed.v1',
      'fill.executed.v1',
      'trade.closed.v1',
      'order.filled.v1',
    ]);
  });

  it('kill switch: cancels orders, flattens with reduce-only orders, and blocks new exposure until recover', () => {
    const { engine } = engineOn([
      [100, 100, 100, 100],
      [100, 100, 100, 100],
      [101, 101, 101, 101],
      [102, 102, 102, 102],
    ]);
    engine.onBar(0, 0);
    engine.submitIntent({ strategyId: 'strategy', symbol: 'X', side: 'buy', type: 'market', quantity: 5 });
    engine.onBar(0, 1);
    engine.submitIntent({ strategyId: 'strategy', symbol: 'X', side: 'buy', type: 'limit', price: 50, quantity: 5 });
    const ks = engine.killSwitch('test', 'drill');
    expect(ks).toMatchObject({ cancelled: 1, closing: 1 });
    expect(engine.submitIntent({ strategyId: 'strategy', symbol: 'X', side: 'buy', type: 'market', quantity: 1 })).toBe(
      null,
    );
    expect(engine.riskEvents.at(-1)?.code).toBe('KILL_SWITCH');
    engine.onBar(0, 2);
    expect(engine.portfolio.qty[0]).toBe(0);
    expect(engine.portfolio.trades[0].exitReason).toBe('kill_switch');
    engine.recover('test');
    expect(
      engine.submitIntent({ strategyId: 'strategy', symbol: 'X', side: 'buy', type: 'market', quantity: 1 }),
    ).not.toBe(null);
  });

  it('signals: a signal on bar N acts at the open of bar N+1, with the entry tag', () => {
    const rows = [
      [100, 100, 100, 100],
      [101, 101, 101, 101],
      [102, 102, 102, 102],
      [103, 103, 103, 103],
      [104, 104, 104, 104],
    ];
    const base = candles(rows);
    const columns = {
      ...base,
      extra: {
        enter_long: Float64Array.from([1, 0, 0, 0, 0]),
        exit_long: Float64Array.from([0, 0, 1, 0, 0]),
      },
      extraText: { enter_tag: ['breakout', '', '', '', ''] },
    };
    const r = runBacktest({ data: { symbol: 'X', columns, timeframe: '1d' }, strategy: 'signals', fee: 0, lot: 1 });
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({
      entryTime: T0 + DAY,
      entryPrice: 101,
      exitTime: T0 + 3 * DAY,
      exitPrice: 103,
      entryTag: 'breakout',
      exitReason: 'exit_signal',
    });
  });

  it('grid: counter-order after each fill, per-cycle profit, stop-loss below the grid', () => {
    const rows = [
      [105, 105, 105, 105],
      [105, 106, 99, 100], // buy at 100
      [100, 106, 100, 105], // sell at 105: one cycle
      [105, 105, 99, 100], // buy at 100 again
      [100, 100, 80, 80], // close below the 85 stop: stop out
      [80, 80, 80, 80],
    ];
    const def = getStrategy('grid');
    let strat: GridStrategy | undefined;
    const wrapped = {
      ...def,
      create: (p: Parameters<typeof def.create>[0]) => {
        strat = def.create(p) as GridStrategy;
        return strat;
      },
    };
    const r = runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: wrapped,
      params: { lower: 90, upper: 110, levels: 5, quantity: 2, stopLoss: 85 },
      fee: 0.001,
    });
    expect(strat?.levels).toEqual([90, 95, 100, 105, 110]);
    expect(strat?.cycles).toHaveLength(1);
    expect(strat?.cycles[0]).toMatchObject({ buyPrice: 100, sellPrice: 105, quantity: 2 });
    expect(strat?.cycles[0].profit).toBeCloseTo(10 - 0.2 - 0.21, 10);
    expect(strat?.stoppedOut).toBe(true);
    expect(r.trades.at(-1)?.exitPrice).toBe(80);
    expect(() => getStrategy('grid').validate?.({ lower: 10, upper: 5, levels: 3, stopLoss: 0 })).toThrow(
      /below upper/,
    );
  });

  it('multi-symbol sma-cross runs one crossover per symbol', () => {
    const wave = (phase: number) =>
      barsToColumns(
        Array.from({ length: 200 }, (_, i) => {
          const p = 100 + 10 * Math.sin((i + phase) / 10);
          return { time: T0 + i * DAY, open: p, high: p + 1, low: p - 1, close: p, volume: 1e6 };
        }),
      );
    const r = runBacktest({
      data: [
        { symbol: 'A', columns: wave(0), timeframe: '1d' },
        { symbol: 'B', columns: wave(30), timeframe: '1d' },
      ],
      strategy: 'sma-cross',
      params: { fast: 3, slow: 8 },
      stake: { kind: 'percent', value: 40 },
    });
    expect(r.trades.some((t) => t.symbol === 'A')).toBe(true);
    expect(r.trades.some((t) => t.symbol === 'B')).toBe(true);
  });
});
