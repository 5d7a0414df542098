import { describe, expect, it } from 'vitest';
import { PercentFeeModel } from '../backtest/fee-model.js';
import { runBacktest } from '../backtest/runner.js';
import { SimulatedVenue } from '../backtest/simulated-venue.js';
import type { BarColumns } from '../core/bar.js';
import type { DomainEvent } from '../core/events.js';
import { defineInstrument } from '../core/instrument.js';
import { compileExits, type ExitConfig } from '../risk/exits.js';
import { resolveParams } from '../strategy/params.js';
import { getStrategy } from '../strategy/registry.js';
import type { Strategy } from '../strategy/types.js';
import { SimulatedClock } from './clock.js';
import { Engine } from './engine.js';
import { InProcessEventBus } from './event-bus.js';
import { SymbolFeed } from './market-data.js';

// A deterministic random walk with real intrabar ranges (so stops and ROI exits trigger).
function walk(n: number): BarColumns {
  const c: BarColumns = {
    length: n,
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  let state = 12345;
  const rnd = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  let px = 100;
  for (let i = 0; i < n; i++) {
    const o = px;
    const cl = o * (1 + (rnd() - 0.5) * 0.01);
    c.time[i] = 1_600_000_000_000 + i * 60_000;
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * (1 + rnd() * 0.003);
    c.low[i] = Math.min(o, cl) * (1 - rnd() * 0.003);
    c.volume[i] = 1000 + rnd() * 100;
    px = cl;
  }
  return c;
}

interface Outcome {
  trades: unknown[];
  equity: number[];
  exposure: number;
  riskEvents: unknown[];
  fills: number;
  /** Times `onBar` ran. */
  calls: number;
}

interface RunOptions {
  /** The engine's single-feed loop (sparse when the strategy precomputes), else onBar + recordEquity per bar. */
  fast: boolean;
  exits?: ExitConfig;
  /** An equity.updated.v1 listener (the recordEquity path). */
  listen?: boolean;
  /** Let the strategy precompute its crosses (default true); false runs it streaming, as paper and live do. */
  precompute?: boolean;
  strategy?: string;
  allowShort?: boolean;
  cash?: number;
  latencyBars?: number;
  /** A risk.rejected.v1 listener: refusals are recorded in full as they happen. */
  rejections?: unknown[];
}

// Hides `precompute` (the strategy then streams, as in paper and live) and counts onBar calls.
function counted(inner: Strategy, precompute: boolean, calls: { n: number }): Strategy {
  return {
    onStart: (ctx) => inner.onStart?.(ctx),
    onBar: (ctx) => {
      calls.n++;
      inner.onBar?.(ctx);
    },
    ...(precompute ? { precompute: (series) => inner.precompute!(series) } : {}),
  };
}

// One run of a crossover built-in either through the engine's single-feed loop or bar by bar through onBar +
// recordEquity.
function run(columns: BarColumns, o: RunOptions): Outcome {
  const def = getStrategy(o.strategy ?? 'sma-cross');
  const params = resolveParams(def, {
    fast: 5,
    slow: 20,
    ...(o.strategy === 'macd' ? { signal: 4 } : {}),
    ...(o.allowShort ? { allowShort: true } : {}),
  });
  const instruments = [defineInstrument({ symbol: 'WALK', lotSize: 0.001 })];
  const clock = new SimulatedClock(columns.time[0]);
  const venue = new SimulatedVenue({
    clock,
    fees: new PercentFeeModel(0.001, 0.001),
    instruments,
    ...(o.latencyBars ? { latency: { bars: o.latencyBars } } : {}),
  });
  const bus = new InProcessEventBus();
  const seen: number[] = [];
  if (o.listen)
    bus.subscribe('equity.updated.v1', (e: DomainEvent<'equity.updated.v1'>) => seen.push(e.payload.equity));
  const rejections = o.rejections;
  if (rejections) bus.subscribe('risk.rejected.v1', (e: DomainEvent<'risk.rejected.v1'>) => rejections.push(e.payload));
  const calls = { n: 0 };
  const engine = new Engine({
    mode: 'backtest',
    strategy: counted(def.create(params), o.precompute ?? true, calls),
    params,
    feeds: [new SymbolFeed('WALK', columns, '1m')],
    timeframe: '1m',
    instruments,
    venue,
    clock,
    bus,
    cash: o.cash ?? 10_000,
    feeRate: 0.001,
    ...(o.allowShort ? { allowShort: true, margin: true } : {}),
    exits: compileExits(o.exits, 0.001),
    equityCapacity: columns.length,
    equityTimes: columns.time,
  });
  engine.start();
  let exposure = 0;
  if (o.fast) exposure = engine.runSingleFeed();
  else {
    for (let i = 0; i < columns.length; i++) {
      engine.onBar(0, i);
      engine.recordEquity(columns.time[i]);
      if (engine.portfolio.openPositions > 0) exposure++;
    }
  }
  engine.finish();
  if (o.listen) expect(seen.length).toBe(columns.length);
  return {
    trades: engine.portfolio.trades,
    equity: Array.from(engine.equityValue.subarray(0, engine.equityLength)),
    exposure,
    riskEvents: engine.riskEvents,
    fills: engine.fills,
    calls: calls.n,
  };
}

function expectSame(a: Outcome, b: Outcome, columns: BarColumns): void {
  expect(a.trades).toEqual(b.trades);
  expect(a.equity).toEqual(b.equity);
  expect(a.equity.length).toBe(columns.length);
  expect(a.exposure).toBe(b.exposure);
  expect(a.riskEvents).toEqual(b.riskEvents);
  expect(a.fills).toBe(b.fills);
}

describe('Engine.runSingleFeed', () => {
  const columns = walk(3000);
  const cases: [string, ExitConfig | undefined, boolean][] = [
    ['no exits', undefined, false],
    [
      'stop-loss, ROI and trailing exits',
      { stopLoss: 0.004, roi: { '0': 0.006 }, trailingStop: { enabled: true } },
      false,
    ],
    ['an equity listener (the recordEquity path)', { stopLoss: 0.004 }, true],
  ];
  for (const [name, exits, listen] of cases) {
    it(`gives exactly what onBar + recordEquity give: ${name}`, () => {
      const a = run(columns, { fast: true, ...(exits ? { exits } : {}), listen });
      const b = run(columns, { fast: false, ...(exits ? { exits } : {}), listen });
      expect(a.trades.length).toBeGreaterThan(10);
      expect(a.exposure).toBeGreaterThan(0);
      expectSame(a, b, columns);
    });
  }
});

describe('the sparse loop (a strategy that precomputes the rows it acts on)', () => {
  const columns = walk(3000);
  const cases: [string, Omit<RunOptions, 'fast'>][] = [
    ['sma-cross', {}],
    ['ema-cross', { strategy: 'ema-cross' }],
    ['macd', { strategy: 'macd' }],
    ['sma-cross long and short', { allowShort: true }],
    [
      'sma-cross with stop-loss, ROI and trailing',
      { exits: { stopLoss: 0.004, roi: { '0': 0.006 }, trailingStop: { enabled: true } } },
    ],
    ['sma-cross with orders resting two bars (latency)', { latencyBars: 2 }],
    ['sma-cross with an equity listener', { listen: true }],
  ];
  for (const [name, o] of cases) {
    it(`gives exactly what the streaming strategy gives bar by bar: ${name}`, () => {
      const sparse = run(columns, { ...o, fast: true });
      const streaming = run(columns, { ...o, fast: false, precompute: false });
      expect(sparse.trades.length).toBeGreaterThan(10);
      expectSame(sparse, streaming, columns);
    });
  }

  it('skips onBar on most bars when nothing can happen on them', () => {
    const sparse = run(columns, { fast: true });
    const streaming = run(columns, { fast: false, precompute: false });
    expect(streaming.calls).toBe(columns.length);
    // Only the crosses: every other bar only fills orders and extends the equity curve.
    expect(sparse.calls).toBeLessThan(columns.length / 10);
    expect(sparse.calls).toBeGreaterThanOrEqual(sparse.trades.length);
  });

  it('records refused entries (no whole lot) with the same text, quietly or to a listener', () => {
    const full: unknown[] = [];
    const quiet = run(columns, { fast: true, cash: 0.05 });
    const loud = run(columns, { fast: true, cash: 0.05, rejections: full });
    const streaming = run(columns, { fast: false, precompute: false, cash: 0.05 });
    expect(quiet.trades).toEqual([]);
    expect(quiet.riskEvents.length).toBeGreaterThan(10);
    expect(quiet.riskEvents[0]).toEqual({
      time: expect.any(Number),
      code: 'INSUFFICIENT_FUNDS',
      detail: expect.stringMatching(/^stake buys no whole lot of WALK at \d+\.\d+$/),
    });
    expectSame(quiet, loud, columns);
    expectSame(quiet, streaming, columns);
    expect(full.length).toBe(quiet.riskEvents.length);
  });
});

describe('Strategy.precompute failures', () => {
  it('stops the strategy like a throwing hook and runs the bars without it', () => {
    const columns = walk(200);
    const clock = new SimulatedClock(columns.time[0]);
    const instruments = [defineInstrument({ symbol: 'WALK', lotSize: 0.001 })];
    let bars = 0;
    const engine = new Engine({
      mode: 'backtest',
      strategy: {
        onBar: () => {
          bars++;
        },
        precompute: () => {
          throw new Error('no columns for me');
        },
      },
      feeds: [new SymbolFeed('WALK', columns, '1m')],
      timeframe: '1m',
      instruments,
      venue: new SimulatedVenue({ clock, instruments }),
      clock,
      cash: 1000,
      equityCapacity: columns.length,
      equityTimes: columns.time,
    });
    engine.start();
    engine.runSingleFeed();
    expect(engine.strategyStopped).toBe(true);
    expect(engine.strategyFailures).toEqual([
      { time: columns.time[0], hook: 'precompute', message: 'no columns for me' },
    ]);
    expect(bars).toBe(0);
    expect(engine.equityLength).toBe(columns.length);
  });
});

describe('crossover built-ins on several symbols', () => {
  // Two walks with different paths: each symbol's lines must see only its own closes.
  const a = walk(1500);
  const b = walk(1500);
  for (let i = 0; i < b.length; i++) {
    const f = 1 + 0.02 * Math.sin(i / 37);
    b.open[i] *= f;
    b.high[i] *= f;
    b.low[i] *= f;
    b.close[i] *= f;
  }
  for (const name of ['sma-cross', 'ema-cross', 'macd']) {
    it(`${name}: the precomputed crosses equal the streaming lines of each symbol`, () => {
      const outcome = (precompute: boolean) => {
        const def = getStrategy(name);
        const params = resolveParams(def, { fast: 5, slow: 20, ...(name === 'macd' ? { signal: 4 } : {}) });
        const calls = { n: 0 };
        return runBacktest({
          strategy: counted(def.create(params), precompute, calls),
          strategyId: name,
          data: [
            { symbol: 'A', columns: a, timeframe: '1m' },
            { symbol: 'B', columns: b, timeframe: '1m' },
          ],
          fee: 0.001,
          stake: { kind: 'percent', value: 40 },
        });
      };
      const pre = outcome(true);
      const streaming = outcome(false);
      expect(pre.trades.filter((t) => t.symbol === 'B').length).toBeGreaterThan(5);
      expect(pre.trades).toEqual(streaming.trades);
      expect(pre.fingerprint).toBe(streaming.fingerprint);
    });
  }
});
