import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import type { DeploymentConfig } from '../src/app/live/deployment.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { compareExecutions, tradeExecutions, tradesPnl } from '../src/backtest/divergence.js';
import { runBacktest } from '../src/backtest/runner.js';
import type { BarColumns } from '../src/core/bar.js';
import { resolveConfig } from '../src/core/config.js';
import { mergeRiskConfig } from '../src/risk/defaults.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { PATH, SPEC } from './fixtures/parity-path.js';

// Issue 9, "one run spec for backtest and live": one deployment runs live on the exchange simulator (real ccxt over
// loopback, the runtime's deployment builder, bridge, journal and venue-side stop), then the backtester replays the
// bars the deployment was served with the same run spec; the round trips must be the same, field by field.
//
// The simulator's clock is the test's: each bar is one price at the start of its minute, and the next price is set
// only once the runtime has acted on the last one (events, not time). Where live and backtest differ by nature,
// the backtest is told how the venue trades (docs/live.md, "Parity with the backtest"): the venue's spread (1 bp of
// the mid at these prices) as slippage, the fee taken in the asset bought, and the live timing of exits.
const MINUTE = 60_000;
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/tradeforge.js');
const SYMBOL = 'BTC/USDT';

let sim: SimulatorHandle;
let dir: string;
/** The simulator's clock (virtual: one bar per minute, as fast as the runtime answers). */
let now = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  // Ahead of real time, so the venue adapter's fill poll (which starts at real now) sees every fill.
  now = Math.ceil(Date.now() / MINUTE) * MINUTE + 60 * MINUTE;
  // A spot account with no BTC of its own: buys are credited net of a fee taken in BTC.
  // The market runs on the test's clock; signatures and server time stay on the wall clock, as on a real venue.
  sim = await startSimulator({
    seed: 9,
    tickIntervalMs: 0,
    balances: { USDT: 10_000 },
    now: () => now,
    requestClock: Date.now,
  });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-parity-'));
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The deployment, started by the runtime. */
async function startParityRuntime(): Promise<{ runtime: Runtime; d: DeploymentConfig }> {
  const config = resolveConfig({
    server: { port: 0 },
    venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
    deployments: [
      {
        id: 'parity',
        strategy: 'sma-cross',
        params: SPEC.params,
        venue: 'sim',
        symbols: [SYMBOL],
        timeframe: '1m',
        stake: 1000,
        fee: 0.001,
        exits: SPEC.exits,
        capitalCap: 10_000,
        risk: { orderRate: { perMinute: 1000, perSecond: 100 } },
      },
    ],
    runtime: { barSeconds: 60, warmupBars: 0, pollMs: 25, staleAfterSeconds: 3600, heartbeatSeconds: 3600 },
  });
  const home = resolveHome({}, join(dir, 'home'));
  const runtime = await startRuntime({ config, profile: 'dev', home, env: {}, runFile: false });
  cleanups.push(() => runtime.stop('test end'));
  return { runtime, d: config.deployments[0] };
}

describe('live on the simulator equals the backtest on the same bars (one run spec)', () => {
  it('round trips: entry/exit time, side, price, quantity and exit reason', async () => {
    const { runtime, d } = await startParityRuntime();
    const dep = runtime.deployments[0];
    const e = dep.engine;
    const pf = e.portfolio;
    const cols = e.feeds[0].columns;
    const m = sim.state.market('BTCUSDT');

    /** Our book agrees with the venue: every fill booked, nothing in flight, the stop resting for the position. */
    const settled = () => {
      if (dep.bridge.queueDepth !== 0 || e.fills !== sim.state.trades.length) return false;
      if (e.exec.openOrders().some((o) => o.status === 'submitted' || o.status === 'new')) return false;
      const stops = sim.state.openOrders('BTCUSDT').filter((o) => o.type === 'STOP_LOSS');
      const want = pf.qty[0];
      return want === 0 ? stops.length === 0 : stops.length === 1 && Math.abs(stops[0].origQty - want) < 1e-9;
    };
    const settle = async () => {
      for (let i = 0; i < 2; i++) {
        await until('the venue and our book to agree', settled);
        await dep.bridge.drain();
      }
      await until('the venue and our book to agree', settled);
    };

    const t0 = now;
    // The first price: repeated until the market stream is subscribed and delivers it.
    await until('the first tick', () => {
      sim.setPrice('BTCUSDT', PATH[0]);
      return pf.last[0] === PATH[0];
    });
    // Bar k-1 closes when the price of bar k arrives; one more price closes the last bar.
    for (let k = 1; k <= PATH.length; k++) {
      now = t0 + k * MINUTE;
      const p = PATH[Math.min(k, PATH.length - 1)];
      // The market moves first and the streams print it (pushed now: on the user-data stream the runtime makes no
      // REST request that would push it): the bar's open is the market's price. Then the resting orders it crosses
      // execute (a stop on a gap fills at the bid).
      sim.setPrice('BTCUSDT', p, { match: false });
      await until(`bar ${k - 1}`, () => cols.length === k);
      sim.setPrice('BTCUSDT', p);
      await settle();
    }
    expect(m.last).toBeGreaterThan(0);
    const live = [...pf.trades];

    // The bars the deployment was served, exactly (the columns its engine read), through the backtester.
    const bars: BarColumns = {
      length: cols.length,
      time: cols.time.slice(0, cols.length),
      open: cols.open.slice(0, cols.length),
      high: cols.high.slice(0, cols.length),
      low: cols.low.slice(0, cols.length),
      close: cols.close.slice(0, cols.length),
      volume: cols.volume.slice(0, cols.length),
    };
    // Each bar opens at the test's price; our own trades print in it too (a fill at the ask lifts its high).
    expect(Array.from(bars.open)).toEqual(PATH);
    expect(bars.time[0]).toBe(t0);
    const base = {
      data: { symbol: SYMBOL, columns: bars, timeframe: '1m', instrument: e.instruments[0] },
      strategy: d.strategy,
      params: d.params,
      cash: d.capitalCap,
      ...(d.fee !== undefined ? { fee: d.fee } : {}),
      stake: { kind: 'amount', value: d.stake as number },
      ...(d.exits ? { exits: d.exits } : {}),
      // The runtime's risk engine: the live defaults under the account's and the deployment's settings.
      riskConfig: mergeRiskConfig(d.risk ?? {}, { capitalCap: d.capitalCap }),
      riskDefaults: true,
    } as const;
    // How the venue trades (docs/live.md, "Parity with the backtest"): its spread, its fee asset, live exit timing.
    const bt = runBacktest({
      ...base,
      slippage: { model: 'percentage', rate: 0.0001 },
      feeAsset: 'base',
      exitTiming: 'live',
    });

    // The run exercised every rule of the spec: exit signal, ROI, the venue's stop-loss, break-even (a stop-loss
    // at the entry, decided on the bar) and the trailing stop.
    expect(bt.trades.map((t) => t.exitReason)).toEqual([
      'exit_signal',
      'roi',
      'stop_loss',
      'stop_loss',
      'trailing_stop',
    ]);
    const report = compareExecutions(tradeExecutions(bt.trades), tradeExecutions(live), {
      pnl: { expected: tradesPnl(bt.trades), actual: tradesPnl(live) },
    });
    expect(report.differences).toEqual([]);
    expect(report.verdict).toBe('match');
    expect(report.matched).toHaveLength(10);
    // Booked net of the BTC fee, in whole lots: less than the venue was asked to buy.
    const firstBuy = sim.state.orders.find((o) => o.side === 'BUY')!;
    expect(live[0].quantity).toBeLessThan(firstBuy.origQty);
    expect(live[0].quantity).toBeCloseTo(Math.floor(firstBuy.origQty * 0.999 * 1e5 + 1e-9) / 1e5, 12);

    // The comparison is not blind: the backtest's own conventions (every exit within its bar, fees in quote)
    // on the same bars are named, difference by difference.
    const naive = runBacktest({ ...base, slippage: { model: 'percentage', rate: 0.0001 } });
    const diverged = compareExecutions(tradeExecutions(naive.trades), tradeExecutions(live), {
      pnl: { expected: tradesPnl(naive.trades), actual: tradesPnl(live) },
    });
    expect(diverged.verdict).toBe('diverged');
    expect(diverged.differences.some((x) => /quantity/.test(x))).toBe(true);
    expect(diverged.differences.some((x) => /\(roi\).*time \+60000 ms/.test(x))).toBe(true);
    expect(diverged.differences.some((x) => /^P&L/.test(x))).toBe(true);

    // Issue 11 (BT-8): the same comparison from the command line, on the session the runtime recorded (dev
    // profile: a paper session on the simulator). Same run spec and the venue's price model: zero divergence.
    await runtime.stop('replay');
    const home = join(dir, 'home');
    const json = join(dir, 'replay.json');
    const html = join(dir, 'replay.html');
    const same = replayCli(home, '--deployment', 'parity', '--json', json, '--html', html);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/fills: 10 expected, 10 happened, 10 matched, 0 missed, 0 extra/);
    expect(same.stdout).toMatch(/verdict: match/);
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    expect(saved.report.verdict).toBe('match');
    expect(saved.report.differences).toEqual([]);
    expect(saved.bars).toBe(PATH.length);
    expect(readFileSync(html, 'utf8')).toMatch(/Verdict: match/);
    expect(same.stdout).toContain(`wrote ${json}`);
    expect(same.stdout).toContain(`wrote ${html}`);

    // The fills were made at the simulator's 1 bp spread; a replay that assumes 5 bp names every fill's price.
    const other = replayCli(home, '--deployment', 'parity', '--slippage', 'percentage:0.0005', '--json', json);
    expect(other.status, other.stderr).toBe(1);
    expect(other.stdout).toMatch(/verdict: diverged/);
    const fiveBp = JSON.parse(readFileSync(json, 'utf8')).report as { differences: string[] };
    const priced = fiveBp.differences.filter((x) => /: price [\d.]+ instead of [\d.]+ \(-[34](\.\d+)? bp\)$/.test(x));
    expect(priced).toHaveLength(10);
    expect(fiveBp.differences.some((x) => /^P&L/.test(x))).toBe(true);
    // Within a 4.5 bp price tolerance (and any P&L) the same replay passes.
    const loose = replayCli(
      home,
      '--deployment',
      'parity',
      '--slippage',
      'percentage:0.0005',
      '--tolerance',
      'price=4.5bp,pnl=100',
    );
    expect(loose.status, loose.stdout).toBe(0);
    // Bad input: one line naming the flag, nothing written.
    const bad = replayCli(home, '--deployment', 'parity', '--tolerance', 'price=abc', '--json', join(dir, 'no.json'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--tolerance: cannot read "price=abc"/);
    expect(bad.stderr).not.toMatch(/at .*\.ts/);
    expect(existsSync(join(dir, 'no.json'))).toBe(false);
    const asset = replayCli(home, '--deployment', 'parity', '--fee-asset', 'btc');
    expect(asset.status).toBe(2);
    expect(asset.stderr).toMatch(/--fee-asset expects base or quote, got "btc"/);
    // The period can be cut: only the first two round trips (their bars and fills) are compared.
    const part = replayCli(home, '--deployment', 'parity', '--to', String(t0 + 16 * MINUTE));
    expect(part.status, part.stdout).toBe(0);
    expect(part.stdout).toMatch(/: 17 bars /);
    expect(part.stdout).toMatch(/fills: 4 expected, 4 happened, 4 matched, 0 missed, 0 extra/);
  }, 300_000);
});

function replayCli(home: string, ...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'replay', ...args], {
    cwd: ROOT,
    env: { ...process.env, TRADEFORGE_HOME: home },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

// A failure detector, not a time budget: generous because the box may be loaded.
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
