import { describe, expect, it } from 'vitest';
import { SimulatedVenue } from '../backtest/simulated-venue.js';
import { barsToColumns } from '../core/bar.js';
import type { DomainEvent } from '../core/events.js';
import { defineInstrument } from '../core/instrument.js';
import type { Strategy, StrategyContext } from '../strategy/types.js';
import { SimulatedClock } from './clock.js';
import { Engine } from './engine.js';
import { InProcessEventBus } from './event-bus.js';
import { SymbolFeed } from './market-data.js';

const T0 = Date.UTC(2024, 0, 2);
const ROWS = [
  { time: T0, open: 10, high: 12, low: 9, close: 11, volume: 5 },
  { time: T0 + 60_000, open: 11, high: 13, low: 10.5, close: 12.5, volume: 7 },
  { time: T0 + 120_000, open: 12.5, high: 12.75, low: 8, close: 9.25, volume: 3 },
];

describe('BarView over the columns', () => {
  it('reads every field of the row the feed advanced to, and NaN before the first bar', () => {
    const feed = new SymbolFeed('X', barsToColumns(ROWS), '1m');
    const b = feed.bar;
    expect([b.index, b.time, b.open, b.high, b.low, b.close, b.volume]).toEqual([
      -1,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
    ]);
    for (let i = 0; i < ROWS.length; i++) {
      feed.advance(i);
      expect(feed.bar).toBe(b);
      expect({
        time: b.time,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume,
      }).toEqual(ROWS[i]);
      expect(b.index).toBe(i);
    }
  });

  it('is what the strategy sees on each bar of a single-feed run, the same object every bar', () => {
    const seen: number[][] = [];
    const bars = new Set<unknown>();
    const strategy: Strategy = {
      onBar(ctx: StrategyContext) {
        bars.add(ctx.bar);
        seen.push([ctx.bar.index, ctx.bar.time, ctx.bar.open, ctx.bar.high, ctx.bar.low, ctx.bar.close, ctx.time]);
      },
    };
    const clock = new SimulatedClock(T0);
    const engine = new Engine({
      mode: 'backtest',
      strategy,
      feeds: [new SymbolFeed('X', barsToColumns(ROWS), '1m')],
      timeframe: '1m',
      instruments: [defineInstrument({ symbol: 'X', lotSize: 1 })],
      venue: new SimulatedVenue({ clock }),
      clock,
      cash: 1_000,
    });
    engine.start();
    engine.runSingleFeed();
    expect(seen).toEqual(ROWS.map((r, i) => [i, r.time, r.open, r.high, r.low, r.close, r.time]));
    expect(bars.size).toBe(1);
  });
});

describe('a refused entry whose stake buys no lot', () => {
  // Cash too small for one lot at 11: every buy() is refused with INSUFFICIENT_FUNDS.
  function run(bus?: InProcessEventBus) {
    const clock = new SimulatedClock(T0);
    const engine = new Engine({
      mode: 'backtest',
      strategy: { onBar: (ctx: StrategyContext) => void ctx.buy() },
      feeds: [new SymbolFeed('X', barsToColumns(ROWS), '1m')],
      timeframe: '1m',
      instruments: [defineInstrument({ symbol: 'X', lotSize: 1 })],
      venue: new SimulatedVenue({ clock }),
      clock,
      cash: 5,
      ...(bus ? { bus } : {}),
    });
    engine.start();
    engine.runSingleFeed();
    return engine;
  }

  it('records its detail as a plain string field (read, spread and serialised)', () => {
    const events = run().riskEvents;
    const expected = ROWS.map((r) => ({
      time: r.time,
      code: 'INSUFFICIENT_FUNDS',
      detail: `stake buys no whole lot of X at ${r.close}`,
    }));
    expect(events).toEqual(expected);
    expect(events.map((e) => ({ ...e }))).toEqual(expected);
    expect(JSON.parse(JSON.stringify(events))).toEqual(expected);
  });

  it('publishes the same detail to a risk.rejected.v1 subscriber', () => {
    const bus = new InProcessEventBus();
    const published: DomainEvent<'risk.rejected.v1'>[] = [];
    bus.subscribe('risk.rejected.v1', (e: DomainEvent<'risk.rejected.v1'>) => published.push(e));
    const engine = run(bus);
    expect(published.map((e) => e.payload.detail)).toEqual(
      ROWS.map((r) => `stake buys no whole lot of X at ${r.close}`),
    );
    expect(engine.riskEvents.map((e) => e.detail)).toEqual(published.map((e) => e.payload.detail));
  });
});
