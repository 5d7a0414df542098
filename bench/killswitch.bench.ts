/**
 * PERF-4: kill switch with 100 open positions on the simulated venue, through the whole kernel — Engine.killSwitch
 * engages the risk engine (live defaults), cancels 100 resting limit orders and sends 100 reduce-only market
 * closes through risk check and the execution engine. Measures trigger -> last dispatched order (the engine's
 * `elapsedMs`, also published in killswitch.completed.v1) over 200 repetitions; target p99 < 100 ms.
 */
import { pathToFileURL } from 'node:url';
import { SimulatedVenue } from '../src/backtest/simulated-venue.js';
import { barsToColumns } from '../src/core/bar.js';
import { defineInstrument } from '../src/core/instrument.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { SymbolFeed } from '../src/engine/market-data.js';
import { createRiskEngine } from '../src/risk/index.js';

const POSITIONS = 100;
const REPETITIONS = 200;
const WARMUP = 20;
const TARGET_P99_MS = 100;
const T0 = Date.UTC(2024, 0, 2);

function setup(): Engine {
  const symbols = Array.from({ length: POSITIONS }, (_, i) => `S${i}/USD`);
  const clock = new SimulatedClock(T0);
  const columns = symbols.map((_, i) => {
    const p = 100 + i;
    return barsToColumns(
      [0, 1, 2].map((k) => ({ time: T0 + k * 60_000, open: p, high: p, low: p, close: p, volume: 1e9 })),
    );
  });
  // Live defaults, with an order budget wide enough to open the 100 positions of the set-up in one minute.
  const risk = createRiskEngine(
    { orderRate: { perMinute: 1_000_000, perSecond: 1_000_000 } },
    { useDefaults: true, mode: 'backtest' },
  );
  const engine = new Engine({
    mode: 'backtest',
    strategy: {},
    feeds: symbols.map((s, i) => new SymbolFeed(s, columns[i], '1m')),
    timeframe: '1m',
    instruments: symbols.map((symbol) => defineInstrument({ symbol, lotSize: 1 })),
    venue: new SimulatedVenue({ clock }),
    clock,
    risk,
    cash: 10_000_000,
  });
  engine.start();
  const bar = (i: number) => {
    for (let s = 0; s < POSITIONS; s++) engine.onBar(s, i);
    engine.recordEquity(T0 + i * 60_000);
  };
  bar(0);
  for (const symbol of symbols) {
    engine.submitIntent({ strategyId: 'strategy', symbol, side: 'buy', type: 'market', quantity: 500 });
  }
  bar(1);
  for (const symbol of symbols) {
    engine.submitIntent({ strategyId: 'strategy', symbol, side: 'buy', type: 'limit', price: 50, quantity: 1 });
  }
  if (engine.portfolio.openPositions !== POSITIONS || engine.exec.openOrders().length !== POSITIONS) {
    throw new Error(
      `set-up: ${engine.portfolio.openPositions} positions, ${engine.exec.openOrders().length} resting orders`,
    );
  }
  return engine;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Runs the benchmark and prints its figures. */
export default async function main(): Promise<void> {
  const dispatch: number[] = [];
  const call: number[] = [];
  for (let r = 0; r < WARMUP + REPETITIONS; r++) {
    const engine = setup();
    const t0 = performance.now();
    const report = engine.killSwitch('bench', 'drill');
    const total = performance.now() - t0;
    if (report.closing !== POSITIONS || report.cancelled !== POSITIONS) {
      throw new Error(`kill switch sent ${report.closing} closes and ${report.cancelled} cancels`);
    }
    if (r >= WARMUP) {
      dispatch.push(report.elapsedMs);
      call.push(total);
    }
  }
  dispatch.sort((a, b) => a - b);
  call.sort((a, b) => a - b);
  const p99 = pct(dispatch, 0.99);
  console.log(
    [
      `kill switch, ${POSITIONS} positions + ${POSITIONS} resting orders, simulated venue, live risk defaults (${REPETITIONS} runs)`,
      `  trigger -> last dispatched order   p50 ${pct(dispatch, 0.5).toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${dispatch.at(-1)?.toFixed(3)} ms   (target p99 < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? 'PASS' : 'FAIL'})`,
      `  whole killSwitch call              p50 ${pct(call, 0.5).toFixed(3)} ms, p99 ${pct(call, 0.99).toFixed(3)} ms`,
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
