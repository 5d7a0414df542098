import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { ConfigError } from '../src/core/errors.js';
import type { EventMap } from '../src/core/events.js';
import { Redactor, Vault } from '../src/security/index.js';
import { openStore } from '../src/store/index.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { runCliAsync } from './fixtures/cli.js';
import { waitFor } from './fixtures/wait.js';

// The live runtime on the simulator's USDⓈ-M futures mode holding a long across funding times: each payment is
// booked once into the deployment's cash and realised P&L (position × mark × rate), across a restart, and the
// book's cash moves by what the venue's wallet moved.

const RATE = 0.0003;
const SYM = 'BTCUSDT';
let sim: SimulatorHandle;
let dir: string;
let runtime: Runtime | undefined;
// The simulator's clock runs with the wall clock plus this offset; the test moves it past funding times.
let offset = 0;
const MASTER = randomBytes(32).toString('hex');

beforeAll(async () => {
  sim = await startSimulator({
    seed: 5,
    tickIntervalMs: 50,
    now: () => Date.now() + offset,
    // Signed requests and the server time stay on the wall clock (no clock drift when the test jumps).
    requestClock: Date.now,
    // A market that does not move: the mark price at the funding time is the one read before it.
    markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })),
    futures: { wallet: 50_000, fundingRates: { [SYM]: RATE } },
  });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-funding-'));
});

afterAll(async () => {
  await runtime?.stop('test end');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (deployments: { id: string; symbols: string[] }[]) =>
  resolveConfig({
    server: { port: 0 },
    venues: [
      { id: 'fut', type: 'simulator', exchange: 'binanceusdm', options: { url: sim.url, futures: { leverage: 5 } } },
    ],
    deployments: deployments.map((d) => ({
      ...d,
      strategy: 'sma-cross',
      params: { fast: 100, slow: 200 },
      venue: 'fut',
      stake: '10%',
    })),
    runtime: {
      barSeconds: 1,
      warmupBars: 2,
      pollMs: 100,
      staleAfterSeconds: 60,
      heartbeatSeconds: 1,
      fundingPollSeconds: 0.1,
    },
  });

/** Moves the simulator's clock just past its next funding time and returns that time. */
function passFundingTime(): number {
  const at = sim.futures.account.nextFundingTime;
  offset = at - Date.now() + 1_000;
  return at;
}

describe('funding in the live runtime (futures)', () => {
  it('books each funding payment once into cash and realised P&L, across a restart, as the wallet moved', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    // An unlocked vault lets the runtime append to the audit log.
    const seed = await openStore({ home });
    await Vault.create(seed, { masterKey: MASTER }, { redactor: new Redactor() });
    await seed.close();
    const env = { TRADEFORGE_MASTER_KEY: MASTER };
    const cfg = config([{ id: 'perp', symbols: ['BTC/USDT'] }]);
    runtime = await startRuntime({ config: cfg, profile: 'dev', home, env });
    let dep = runtime.deployments[0];
    const booked: EventMap['funding.booked.v1'][] = [];
    runtime.bus.subscribe('funding.booked.v1', (e) => booked.push(e.payload));
    await waitFor('a live price', () => dep.engine.portfolio.last[0] > 0);
    const buy = dep.engine.submitIntent({
      strategyId: 'perp',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.02,
    });
    expect(buy).not.toBeNull();
    await waitFor('the buy fill', () => dep.engine.portfolio.qty[0] > 0);
    const qty = dep.engine.portfolio.qty[0];
    expect(qty).toBeCloseTo(0.02, 10);
    const mark = sim.futures.account.markPrice(SYM);
    const wallet0 = sim.futures.account.walletBalance;
    const cash0 = dep.engine.portfolio.cash;
    const realised0 = dep.engine.portfolio.realizedPnl;
    // Hand calculation: a long pays a positive rate, position × mark × rate.
    const expected = -qty * mark * RATE;
    expect(expected).toBeLessThan(0);

    const first = passFundingTime();
    await waitFor('the first funding booked', () => dep.engine.portfolio.cash !== cash0);
    expect(dep.engine.portfolio.cash - cash0).toBeCloseTo(expected, 6);
    expect(dep.engine.portfolio.realizedPnl - realised0).toBeCloseTo(expected, 6);
    // The book's cash moved by what the venue's wallet moved.
    expect(dep.engine.portfolio.cash - cash0).toBeCloseTo(sim.futures.account.walletBalance - wallet0, 6);
    const rows = await runtime.store.funding.byDeployment('perp');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ symbol: 'BTC/USDT', asset: 'USDT', time: first, venue: 'fut' });
    // Shown in the status the API and CLI serve, and published (the audit log records it).
    const st = await runtime.status();
    const row = st.deployments.find((d) => d.id === 'perp');
    expect(row?.cash).toBeCloseTo(cash0 + expected, 6);
    expect(row?.realizedPnl).toBeCloseTo(realised0 + expected, 6);
    expect(row?.fundingPnl).toBeCloseTo(expected, 6);
    const line = await runCliAsync(['status'], { home: home.root, env });
    expect(line.code, line.err).toBe(0);
    expect(line.out).toContain(`(funding ${expected.toFixed(2)})`);
    expect(booked).toEqual([
      expect.objectContaining({ deploymentId: 'perp', venue: 'fut', symbol: 'BTC/USDT', time: first }),
    ]);
    expect(booked[0].amount).toBeCloseTo(expected, 6);
    await waitFor('the audit entry', async () => (await runtime!.store.audit.bySubjects(['funding:perp'])).length > 0);
    const audited = await runtime.store.audit.bySubjects(['funding:perp']);
    expect(audited.map((a) => a.action)).toEqual(['funding.booked']);

    // Restart: the payment is replayed from the store into the book, not booked again from the venue.
    await runtime.stop('restart');
    runtime = await startRuntime({ config: cfg, profile: 'dev', home, env });
    dep = runtime.deployments[0];
    expect(dep.engine.portfolio.qty[0]).toBeCloseTo(qty, 10);
    expect(dep.engine.portfolio.cash).toBeCloseTo(cash0 + expected, 6);
    // A second funding time: the poll that books it re-reads the first (since its time, inclusive) and skips it.
    const wallet1 = sim.futures.account.walletBalance;
    const second = passFundingTime();
    expect(second).toBeGreaterThan(first);
    await waitFor(
      'the second funding booked',
      async () => (await runtime!.store.funding.byDeployment('perp')).length >= 2,
    );
    await waitFor('booked into the book', () => Math.abs(dep.engine.portfolio.cash - (cash0 + 2 * expected)) < 1e-6);
    expect(await runtime.store.funding.byDeployment('perp')).toHaveLength(2);
    expect(dep.engine.portfolio.realizedPnl - realised0).toBeCloseTo(2 * expected, 6);
    expect(sim.futures.account.walletBalance - wallet1).toBeCloseTo(expected, 6);
    expect(dep.engine.portfolio.cash - cash0).toBeCloseTo(sim.futures.account.walletBalance - wallet0, 6);
    await waitFor(
      'the second audit entry',
      async () => (await runtime!.store.audit.bySubjects(['funding:perp'])).length >= 2,
    );
    expect(await runtime.store.audit.bySubjects(['funding:perp'])).toHaveLength(2);
    const cash2 = dep.engine.portfolio.cash;

    // The contract multipliers are recorded for the book the offline status rebuilds.
    expect(await runtime.store.kv.get('deployment.multipliers.perp')).toEqual({
      'BTC/USDT': dep.engine.portfolio.mult[0],
    });
    const lastOnline = (await runtime.status()).deployments.find((d) => d.id === 'perp');
    expect(lastOnline?.exact).toBeDefined();

    // Stopped: the status read from the store shows the same funding in the book, and the same exact book.
    await runtime.stop('test');
    runtime = undefined;
    const down = await runCliAsync(['status', '--json'], { home: home.root, env });
    expect(down.code, down.err).toBe(0);
    const stored = JSON.parse(down.out);
    expect(stored.source).toBe('store');
    const perp = stored.deployments.find((x: { id: string }) => x.id === 'perp');
    expect(perp.fundingPnl).toBeCloseTo(2 * expected, 6);
    expect(perp.cash).toBeCloseTo(cash2, 6);
    expect(perp.exact).toEqual(lastOnline?.exact);
    expect(perp.realizedPnl).toBe(lastOnline?.realizedPnl);
    expect(perp.fundingPnl).toBe(lastOnline?.fundingPnl);
  }, 240_000);

  it('refuses two deployments trading one symbol on one futures venue (their funding could not be attributed)', async () => {
    const home = resolveHome({}, join(dir, 'home2'));
    const cfg = config([
      { id: 'a', symbols: ['BTC/USDT'] },
      { id: 'b', symbols: ['BTC/USDT'] },
    ]);
    const err = await startRuntime({ config: cfg, profile: 'dev', home, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(
      /deployments\.1\.symbols.*b and a both trade BTC\/USDT on futures venue fut/,
    );
  });
});
