import { describe, expect, it } from 'vitest';
import { PercentFeeModel } from '../backtest/fee-model.js';
import { SimulatedVenue } from '../backtest/simulated-venue.js';
import type { BarColumns } from '../core/bar.js';
import type { DomainEvent } from '../core/events.js';
import { defineInstrument } from '../core/instrument.js';
import { compileExits, type ExitConfig } from '../risk/exits.js';
import { resolveParams } from '../strategy/params.js';
import { getStrategy } from '../strategy/registry.js';
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
}

// One run of sma-cross either through the engine's single-feed loop or bar by bar through onBar + recordEquity.
function run(columns: BarColumns, fast: boolean, exits: ExitConfig | undefined, listen: boolean): Outcome {
  const def = getStrategy('sma-cross');
  const params = resolveParams(def, { fast: 5, slow: 20 });
  const instruments = [defineInstrument({ symbol: 'WALK', lotSize: 0.001 })];
  const clock = new SimulatedClock(columns.time[0]);
  const venue = new SimulatedVenue({ clock, fees: new PercentFeeModel(0.001, 0.001), instruments });
  const bus = new InProcessEventBus();
  const seen: number[] = [];
  if (listen) bus.subscribe('equity.updated.v1', (e: DomainEvent<'equity.updated.v1'>) => seen.push(e.payload.equity));
  const engine = new Engine({
    mode: 'backtest',
    strategy: def.create(params),
    params,
    feeds: [new SymbolFeed('WALK', columns, '1m')],
    timeframe: '1m',
    instruments,
    venue,
    clock,
    bus,
    cash: 10_000,
    feeRate: 0.001,
    exits: compileExits(exits, 0.001),
    equityCapacity: columns.length,
    equityTimes: columns.time,
  });
  engine.start();
  let exposure = 0;
  if (fast) exposure = engine.runSingleFeed();
  else {
    for (let i = 0; i < columns.length; i++) {
      engine.onBar(0, i);
      engine.recordEquity(columns.time[i]);
      if (engine.portfolio.openPositions > 0) exposure++;
    }
  }
  engine.finish();
  if (listen) expect(seen.length).toBe(columns.length);
  return {
    trades: engine.portfolio.trades,
    equity: Array.from(engine.equityValue.subarray(0, engine.equityLength)),
    exposure,
    riskEvents: engine.riskEvents,
    fills: engine.fills,
  };
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
      const a = run(columns, true, exits, listen);
      const b = run(columns, false, exits, listen);
      expect(a.trades.length).toBeGreaterThan(10);
      expect(a.trades).toEqual(b.trades);
      expect(a.equity).toEqual(b.equity);
      expect(a.equity.length).toBe(columns.length);
      expect(a.exposure).toBe(b.exposure);
      expect(a.exposure).toBeGreaterThan(0);
      expect(a.riskEvents).toEqual(b.riskEvents);
      expect(a.fills).toBe(b.fills);
    });
  }
});
