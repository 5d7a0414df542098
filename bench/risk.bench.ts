/**
 * Risk engine benchmark: pre-trade checks per second on the accept path and on a reject path, with every rule
 * on (live defaults plus notional caps, capital cap, cash check and price band) and a plain in-memory RiskView;
 * plus the risk side of a kill switch over 100 positions.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { OrderIntent } from '../src/core/order.js';
import { createRiskEngine, SimpleRiskView } from '../src/risk/index.js';

const T0 = Date.UTC(2024, 0, 2);

function makeView(): SimpleRiskView {
  const view = new SimpleRiskView('paper');
  view.time = T0;
  view.equityValue = 1_000_000;
  view.cashValue = 1_000_000;
  view.freeMarginValue = 900_000;
  view.grossExposureValue = 200_000;
  view.strategyExposures.set('sma', 50_000);
  for (let i = 0; i < 100; i++) {
    const sym = `SYM${i}/USD`;
    view.prices.set(sym, 100 + i);
    view.atrs.set(sym, 2);
    view.setPosition(sym, 10);
  }
  return view;
}

function makeEngine() {
  return createRiskEngine(
    {
      maxOrderNotional: 50_000,
      maxPositionNotional: 100_000,
      capitalCap: 500_000,
      insufficientFunds: { feeRate: 0.001 },
    },
    { useDefaults: true, mode: 'paper' },
  );
}

async function countGc(run: () => void): Promise<number> {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  run();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return gcs;
}

/** Runs the benchmark and prints its figures. */
export default async function main(): Promise<void> {
  const view = makeView();
  const engine = makeEngine();
  const accept: OrderIntent = {
    strategyId: 'sma',
    symbol: 'SYM1/USD',
    side: 'buy',
    type: 'limit',
    price: 101,
    quantity: 5,
    signalTime: T0,
  };
  const N = 2_000_000;
  // Warm-up, then the timed run. The clock advances 61 s per order so the 10/min budget never binds and each
  // signal time is new: every rule runs on every check.
  let rejected = 0;
  for (let i = 0; i < 200_000; i++) {
    view.time += 61_000;
    accept.signalTime = view.time;
    if (engine.check(accept, view) !== null) rejected++;
  }
  if (rejected > 0) throw new Error(`accept path rejected ${rejected} orders: ${engine.check(accept, view)?.message}`);
  let elapsed = 0;
  const gcs = await countGc(() => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      view.time += 61_000;
      accept.signalTime = view.time;
      if (engine.check(accept, view) !== null) rejected++;
    }
    elapsed = Number(process.hrtime.bigint() - start);
  });
  if (rejected > 0) throw new Error('accept path rejected an order');
  console.log(
    `risk check, accept path (all rules): ${(N / (elapsed / 1e9) / 1e6).toFixed(2)} M checks/s, ${(elapsed / N).toFixed(0)} ns/check, ${gcs} GC cycles over ${N / 1e6}M checks`,
  );

  // Reject path: a limit price outside 3 x ATR fails the last rule, after every other rule ran.
  const reject: OrderIntent = { ...accept, price: 120, signalTime: undefined };
  const R = 300_000;
  let start = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < R; i++) {
    view.time += 61_000;
    if (engine.check(reject, view)?.reason === 'PRICE_BAND') n++;
  }
  elapsed = Number(process.hrtime.bigint() - start);
  if (n !== R) throw new Error(`reject path: ${n} of ${R} rejected by PRICE_BAND`);
  console.log(
    `risk check, reject path (PRICE_BAND, builds a RiskLimitError): ${(R / (elapsed / 1e9) / 1e6).toFixed(2)} M checks/s, ${(elapsed / R).toFixed(0)} ns/check`,
  );

  // Kill switch, risk side: trigger, then the 100 reduce-only flatten orders the kernel sends back through check.
  const samples: number[] = [];
  const ROUNDS = 520;
  for (let round = 0; round < ROUNDS; round++) {
    const e = makeEngine();
    const v = makeView();
    const flatten: OrderIntent[] = [];
    e.attach({
      cancelAllOrders: () => {},
      cancelOrder: () => {},
      flattenAll: () => {
        for (const [symbol, p] of v.positions) {
          flatten.push({
            strategyId: 'sma',
            symbol,
            side: p.quantity > 0 ? 'sell' : 'buy',
            type: 'market',
            quantity: Math.abs(p.quantity),
            reduceOnly: true,
            source: 'kill_switch',
          });
        }
      },
    });
    start = process.hrtime.bigint();
    e.killSwitch('bench', 'drill', v.time);
    for (const intent of flatten) if (e.check(intent, v) !== null) throw new Error('flatten order blocked');
    // The first rounds compile the kill-switch path; they are warm-up, not samples.
    if (round >= 20) samples.push(Number(process.hrtime.bigint() - start) / 1e3);
  }
  samples.sort((a, b) => a - b);
  console.log(
    `kill switch, risk side (trigger + 100 reduce-only checks): p50 ${samples[samples.length >> 1].toFixed(1)} µs, p99 ${samples[Math.floor(samples.length * 0.99)].toFixed(1)} µs (the full kernel path: bench/killswitch.bench.ts)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
