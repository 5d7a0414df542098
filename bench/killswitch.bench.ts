/**
 * PERF-4: kill switch with 100 open positions.
 * 1. In process on the backtest's simulated venue, through the whole kernel — Engine.killSwitch engages the risk
 *    engine (live defaults), cancels 100 resting limit orders and sends 100 reduce-only market closes through risk
 *    check and the execution engine. Measures trigger -> last dispatched order (the engine's `elapsedMs`, also
 *    published in killswitch.completed.v1) over 200 repetitions; target p99 < 100 ms.
 * 2. The shipping path: the exchange simulator (in its own process, as a venue is) over HTTP through real ccxt, the
 *    runtime's request budget, the ResilientVenue, the live bridge (kill switch engaged as the runtime's control
 *    does: its urgent lanes) and the SQLite journal opened as the runtime opens it — trigger -> the venue's answer
 *    to the last cancel and close; target p99 < 500 ms (KILL_BENCH_REPS repetitions, default 10: each re-opens the
 *    100 positions over HTTP first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LiveColumns } from '../src/app/live/live-feed.js';
import { StoreJournal } from '../src/app/live/journal.js';
import { buildVenues } from '../src/app/venues.js';
import { resolveConfig } from '../src/core/config.js';
import type { DomainEvent } from '../src/core/events.js';
import { RealClock } from '../src/engine/clock.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { openStore } from '../src/store/index.js';
import { LiveVenueBridge } from '../src/venues/live/bridge.js';
import { VenueMessages } from '../src/venues/live/venue-messages.js';
import { simulatorProcess } from './simulator-child.js';
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

const BRIDGE_REPS = Number(process.env.KILL_BENCH_REPS ?? 10);
const TARGET_ACK_P99_MS = 500;

/** Waits until `cond()` holds, re-checking on every event-loop turn. */
function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (cond() ? resolve() : setImmediate(poll));
    poll();
  });
}

/** Part 2: the kill switch through ccxt, the resilient venue and the live bridge against the simulator. */
async function throughBridge(): Promise<void> {
  const bases = Array.from({ length: POSITIONS }, (_, i) => `C${i}`);
  const sim = await simulatorProcess({
    tickIntervalMs: 0,
    historyBars: 5,
    feeRate: 0,
    markets: bases.map((b, i) => ({
      symbol: `${b}USDT`,
      base: b,
      quote: 'USDT',
      price: 100 + i,
      tickSize: 0.01,
      stepSize: 1,
      minQty: 1,
      minNotional: 1,
      volatility: 0,
    })),
    balances: { USDT: 1e9 },
  });
  const home = mkdtempSync(join(tmpdir(), 'tf-bench-kill-'));
  const symbols = bases.map((b) => `${b}/USDT`);
  const config = resolveConfig({
    venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
    deployments: [{ id: 'ks', strategy: 'sma-cross', venue: 'sim', symbols }],
    // Order and fill polling take two calls per symbol per poll: 100 symbols every 5 s is 2 400 of the simulator's
    // 6 000 requests a minute (docs/live.md: keep pollMs in line with the budget; at 1 s polling alone would
    // exceed it and every call would queue for the budget).
    runtime: { pollMs: 5_000 },
  });
  const venues = await buildVenues(config, 'dev', async () => undefined);
  const built = venues.get('sim');
  if (built === undefined) throw new Error('no venue');
  // Opened as the runtime opens it (src/app/runtime.ts).
  const store = await openStore({ home, sqliteSync: 'batched' });
  try {
    const bus = new InProcessEventBus();
    const venue = new VenueMessages(built.resilient, { bus });
    const instruments = (await venue.fetchInstruments()).filter((i) => symbols.includes(i.symbol));
    instruments.sort((a, b) => symbols.indexOf(a.symbol) - symbols.indexOf(b.symbol));
    let bridge!: LiveVenueBridge;
    const journal = new StoreJournal(
      store,
      'ks',
      (o) => bridge.clientOrderIdOf(o),
      (err) => {
        throw err;
      },
    );
    const engine = new Engine({
      mode: 'paper',
      strategy: {},
      strategyId: 'ks',
      feeds: symbols.map((s) => new SymbolFeed(s, new LiveColumns(16), '1m')),
      timeframe: '1m',
      instruments,
      venue: { id: 'sim', attach: () => {}, submit: (o) => bridge.submit(o), cancel: (o, r) => bridge.cancel(o, r) },
      clock: new RealClock(),
      bus,
      // Live defaults, with room to re-open the positions every run: every close crosses the spread (a small loss),
      // so the consecutive-losses breaker would otherwise halt entries from the second run on.
      risk: createRiskEngine(
        {
          orderRate: { perMinute: 1_000_000, perSecond: 1_000_000 },
          breakers: { consecutiveLosses: 1_000_000 },
        },
        { useDefaults: true, mode: 'paper', bus },
      ),
      cash: 1e9,
    });
    bridge = new LiveVenueBridge({
      venue,
      journal,
      clientIdPrefix: `ks-${Date.now().toString(36)}-`,
      strategyId: 'ks',
    });
    bridge.attach(engine.exec);
    journal.attach(bus, 'ks');
    // As the runtime wires a deployment (src/app/live/deployment.ts): the kill switch's orders take the urgent lanes.
    bus.subscribe('killswitch.triggered.v1', () => bridge.engageKillSwitch());
    bus.subscribe('killswitch.recovered.v1', () => bridge.releaseKillSwitch());
    engine.start();
    bridge.start();
    for (let s = 0; s < POSITIONS; s++) engine.portfolio.last[s] = 100 + s;
    // Venue answers to placements and cancels, by time.
    let answers = 0;
    let lastAnswer = 0;
    let firstAnswer = 0;
    let cpuAtLast = process.cpuUsage();
    bus.subscribe('venue.message.v1', (e: DomainEvent<'venue.message.v1'>) => {
      const m = e.payload.message;
      if (m.startsWith('placeOrder:') || m.startsWith('placeOrder failed') || m.startsWith('cancelOrder')) {
        if (!m.startsWith('cancelOrder sent')) {
          answers++;
          lastAnswer = performance.now();
          if (answers === 1) firstAnswer = lastAnswer;
          if (answers === 2 * POSITIONS) cpuAtLast = process.cpuUsage();
        }
      }
    });
    const acks: number[] = [];
    const cpus: number[] = [];
    for (let r = 0; r < BRIDGE_REPS; r++) {
      const opening = performance.now();
      for (const symbol of symbols) {
        engine.submitIntent({ strategyId: 'ks', symbol, side: 'buy', type: 'market', quantity: 1 });
        engine.submitIntent({ strategyId: 'ks', symbol, side: 'buy', type: 'limit', price: 50, quantity: 1 });
      }
      await until(() => engine.portfolio.openPositions === POSITIONS && engine.exec.openOrders().length === POSITIONS);
      await bridge.drain();
      answers = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      // What the runtime's control `kill` does (src/app/live/control.ts).
      bridge.engageKillSwitch();
      const report = engine.killSwitch('bench', 'drill');
      if (report.closing !== POSITIONS || report.cancelled !== POSITIONS) {
        throw new Error(`kill switch sent ${report.closing} closes and ${report.cancelled} cancels`);
      }
      const opened = t0 - opening;
      await until(() => answers >= 2 * POSITIONS);
      acks.push(lastAnswer - t0);
      // CPU this process spent from the trigger to the last answer: the rest of the wall time it was waiting (for
      // the venue, or for a core on a busy machine).
      const cpuMs = (cpuAtLast.user - cpu0.user + cpuAtLast.system - cpu0.system) / 1000;
      cpus.push(cpuMs);
      await until(() => engine.portfolio.openPositions === 0);
      await bridge.drain();
      engine.recover('bench');
      console.log(
        `  run ${r + 1}: opened in ${(opened / 1000).toFixed(1)} s; trigger -> first answer ${(firstAnswer - t0).toFixed(1)} ms, last answer ${acks.at(-1)?.toFixed(1)} ms (CPU of this process meanwhile ${cpuMs.toFixed(0)} ms); flat ${((performance.now() - t0) / 1000).toFixed(1)} s after the trigger`,
      );
    }
    bridge.close();
    await journal.close();
    acks.sort((a, b) => a - b);
    const p99 = pct(acks, 0.99);
    console.log(
      [
        `kill switch, ${POSITIONS} positions + ${POSITIONS} resting orders, exchange simulator (own process) over HTTP via ccxt, request budget, ResilientVenue, live bridge, SQLite journal (${BRIDGE_REPS} runs)`,
        `  trigger -> last order acknowledged by the venue   p50 ${pct(acks, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${acks.at(-1)?.toFixed(1)} ms   (target p99 < ${TARGET_ACK_P99_MS} ms: ${p99 < TARGET_ACK_P99_MS ? 'PASS' : 'FAIL'})`,
        `  CPU of this process from trigger to last answer: p50 ${pct(
          [...cpus].sort((a, b) => a - b),
          0.5,
        ).toFixed(0)} ms (wall time beyond it is waiting: the venue's answers, or a core on a busy machine)`,
        `  journal: ${journal.commitStats.writes} writes in ${journal.commitStats.commits} commits`,
      ].join('\n'),
    );
  } finally {
    await store.close();
    for (const v of venues.values()) await v.close();
    sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}

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
  if (BRIDGE_REPS > 0) {
    await throughBridge();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
