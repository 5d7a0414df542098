import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { statusFromStore } from '../src/app/store-status.js';
import { type Config, resolveConfig } from '../src/core/config.js';
import type { DomainEvent } from '../src/core/events.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './fixtures/wait.js';

// The venue side of issue 9 through the whole runtime, real ccxt over HTTP to the simulator: a spot account with no
// BTC whose fees are taken in BTC, two deployments sharing one account, and a restart whose venue's trade ids start
// again.
let dir: string;
const sims: SimulatorHandle[] = [];
const runtimes: Runtime[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-venue-'));
});

afterAll(async () => {
  for (const r of runtimes) await r.stop('test end').catch(() => undefined);
  for (const s of sims) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

// A failure detector, not a time budget: generous because the box may be loaded.
function configFor(
  venue: Config['venues'][number]['options'],
  ids: string[],
  stopLoss = 0.02,
  extra: Record<string, unknown> = {},
): Config {
  return resolveConfig({
    ...extra,
    server: { port: 0 },
    venues: [{ id: 'sim', type: 'simulator', options: venue }],
    // Periods so long that the strategy never signals: the tests drive orders through the engine's order path.
    deployments: ids.map((id) => ({
      id,
      strategy: 'sma-cross',
      params: { fast: 100, slow: 200 },
      venue: 'sim',
      symbols: ['BTC/USDT'],
      exits: { stopLoss },
    })),
    runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 1 },
  });
}

async function start(config: Config, home: string): Promise<Runtime> {
  const rt = await startRuntime({ config, profile: 'dev', home: resolveHome({}, home), env: {}, runFile: false });
  runtimes.push(rt);
  await waitFor('live prices', () =>
    rt.deployments.every((d) => d.engine.portfolio.last[0] > 0 && d.feed.liveBars > 0),
  );
  return rt;
}

const buy = (rt: Runtime, k: number, quantity: number) =>
  rt.deployments[k].engine.submitIntent({
    strategyId: rt.deployments[k].id,
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'market',
    quantity,
  });

describe('runtime on a spot account without the base asset, fees taken in it', () => {
  it('entry, protective stop, partial exit and kill switch all go through: nothing rejected for funds', async () => {
    const sim = await startSimulator({ seed: 9, tickIntervalMs: 50, balances: { USDT: 100_000 } });
    sims.push(sim);
    const rt = await start(configFor({ url: sim.url }, ['nb']), join(dir, 'no-base'));
    const rejected: DomainEvent[] = [];
    rt.bus.subscribe('order.rejected.v1', (e: DomainEvent) => void rejected.push(e));
    const d = rt.deployments[0];
    const pf = d.engine.portfolio;
    const btc = () => sim.state.balance('BTC');

    expect(buy(rt, 0, 0.01)).not.toBeNull();
    await waitFor('the entry fill', () => pf.qty[0] > 0);
    // Booked what the venue credited: 0.01 less the 0.1% fee taken in BTC.
    expect(pf.qty[0]).toBeCloseTo(0.00999, 10);
    await waitFor('the protective stop', () => sim.state.openOrders('BTCUSDT').some((o) => o.type === 'STOP_LOSS'));
    const stop = sim.state.openOrders('BTCUSDT').find((o) => o.type === 'STOP_LOSS')!;
    expect(stop.origQty).toBeCloseTo(0.00999, 10);
    expect(btc().locked).toBeCloseTo(0.00999, 10);

    // A partial exit needs the coins the stop locks: the stop is freed for it and re-placed for the rest at once.
    const exit = d.engine.submitIntent({
      strategyId: 'nb',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      quantity: 0.005,
      reduceOnly: true,
    });
    expect(exit).not.toBeNull();
    await waitFor('the partial exit', () => Math.abs(pf.qty[0] - 0.00499) < 1e-10);
    await waitFor('the stop re-placed for the rest', () =>
      sim.state.openOrders('BTCUSDT').some((o) => o.type === 'STOP_LOSS' && Math.abs(o.origQty - 0.00499) < 1e-10),
    );

    // The kill switch cancels the stop and sells what the account holds.
    const k = await rt.control.kill('test');
    expect(k.ok).toBe(true);
    await waitFor('flat after the kill switch', () => pf.qty[0] === 0);
    await waitFor('no order left', () => sim.state.openOrders('BTCUSDT').length === 0);
    expect(btc().free + btc().locked).toBeLessThan(0.00001); // no dust beyond one lot
    expect(rejected).toEqual([]);
    const refused = sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/v3/order' && r.status !== 200);
    expect(refused).toEqual([]);
    await rt.stop('test');
  }, 300_000);
});

describe('client order ids and fills across deployments and restarts', () => {
  it('two deployments on one account never share a client order id, and each books only its own fill', async () => {
    const sim = await startSimulator({ seed: 10, tickIntervalMs: 50 });
    sims.push(sim);
    // Ids alike in their first ten characters: the old scheme cut them to "deployment" and collided.
    const rt = await start(configFor({ url: sim.url }, ['deployment-1', 'deployment-2'], 0.5), join(dir, 'two'));
    const a = buy(rt, 0, 0.01);
    const b = buy(rt, 1, 0.02);
    expect(a?.id).toBe(b?.id); // both engines number their orders alike
    const [da, db] = rt.deployments;
    expect(da.bridge.clientOrderIdOf(a!)).not.toBe(db.bridge.clientOrderIdOf(b!));
    await waitFor('both fills', () => da.engine.portfolio.qty[0] > 0 && db.engine.portfolio.qty[0] > 0);
    expect(da.engine.portfolio.qty[0]).toBeCloseTo(0.00999, 10);
    expect(db.engine.portfolio.qty[0]).toBeCloseTo(0.01998, 10);
    const buys = sim.state.orders.filter((o) => o.side === 'BUY');
    expect(buys).toHaveLength(2);
    expect(new Set(buys.map((o) => o.clientOrderId)).size).toBe(2);
    for (const o of buys) expect(o.clientOrderId.length).toBeLessThanOrEqual(36);
    await rt.stop('test');
  }, 300_000);

  it('a second start in the same home, on a venue whose trade ids start again, books every new fill', async () => {
    const home = join(dir, 'restart');
    // The runtime starts its own simulator each time: order and trade ids restart at the same numbers.
    const config = configFor({ seed: 12, tickIntervalMs: 50 }, ['rs'], 0.5);
    const first = await start(config, home);
    expect(buy(first, 0, 0.01)).not.toBeNull();
    await waitFor('the first fill', () => first.deployments[0].engine.portfolio.qty[0] > 0);
    const firstTrade = first.deployments[0].venue.simulator!.state.trades[0];
    await first.stop('test');

    const second = await start(config, home);
    const d = second.deployments[0];
    expect(d.engine.portfolio.qty[0]).toBeCloseTo(0.00999, 10); // replayed from the store
    expect(buy(second, 0, 0.01)).not.toBeNull();
    await waitFor('the second fill booked', () => d.engine.portfolio.qty[0] > 0.015);
    expect(d.venue.simulator!.state.trades[0].id).toBe(firstTrade.id); // the venue reused the trade id
    expect(d.engine.portfolio.qty[0]).toBeCloseTo(0.01998, 10);
    await second.stop('test');

    // Down: the status rebuilt from the store has numbers, not NaN.
    const store = await openStore({ home: resolveHome({}, home) });
    try {
      const st = await statusFromStore(store);
      const dep = st.deployments.find((x) => x.id === 'rs')!;
      expect(Number.isFinite(dep.equity)).toBe(true);
      expect(Number.isFinite(dep.cash)).toBe(true);
      expect(st.positions[0].quantity).toBeCloseTo(0.01998, 10);
      expect(st.recentFills).toHaveLength(2);
    } finally {
      await store.close();
    }
  }, 300_000);
});

describe('startup reconciliation against the account', () => {
  it('books the earlier fills of an adopted order, and alerts when the account holds less than was booked', async () => {
    const sim = await startSimulator({ seed: 13, tickIntervalMs: 50, balances: { USDT: 100_000 } });
    sims.push(sim);
    const home = join(dir, 'reconcile');
    // An order placed by hand on the account, half filled and still working.
    sim.state.pendingPartialFill = 0.5;
    const ask = sim.state.market('BTCUSDT').bestAsk();
    sim.state.placeOrder(
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        quantity: 0.02,
        price: Math.round(ask * 1.01 * 100) / 100,
        timeInForce: 'GTC',
      },
      'manual-order-1',
    );
    const manual = sim.state.orders.find((o) => o.clientOrderId === 'manual-order-1')!;
    expect(manual.status).toBe('PARTIALLY_FILLED');
    // Credited net of the BTC fee, booked in whole lots (0.00001) per execution.
    const credited = manual.fills.reduce(
      (q, t) => q + Math.floor((t.qty - t.commission) / 0.00001 + 1e-9) * 0.00001,
      0,
    );
    const config = configFor({ url: sim.url }, ['rc'], 0.5, { reconcile: { unknownOrders: 'adopt' } });
    const first = await start(config, home);
    const d = first.deployments[0];
    expect(d.reconcile.unknownAdopted).toBe(1);
    expect(d.reconcile.fillsApplied).toBe(manual.fills.length);
    expect(d.engine.portfolio.qty[0]).toBeCloseTo(credited, 10);
    await first.stop('test');

    // While we are down the coins leave the account (sold by hand, the working order cancelled).
    for (const o of sim.state.openOrders('BTCUSDT')) sim.state.cancelOrder('BTCUSDT', o.orderId);
    sim.state.balance('BTC').free = 0;
    const second = await start(config, home);
    expect(
      second.deployments[0].reconcile.mismatches.some((m) => m.startsWith('Venue balance below booked position')),
    ).toBe(true);
    await second.stop('test');
  }, 300_000);
});

describe('orders the journal lost (power loss inside the fsync window)', () => {
  it('are recovered from the venue by client order id at the next start: booked, tracked, never cancelled', async () => {
    const sim = await startSimulator({ seed: 17, tickIntervalMs: 50, balances: { USDT: 100_000 } });
    sims.push(sim);
    const home = join(dir, 'lost-commits');
    const config = configFor({ url: sim.url }, ['pl'], 0.5);
    const first = await start(config, home);
    const d = first.deployments[0];
    buy(first, 0, 0.01);
    await waitFor('the entry filled', () => d.engine.portfolio.qty[0] > 0);
    const booked = d.engine.portfolio.qty[0];
    const bid = sim.state.market('BTCUSDT').bestBid();
    d.engine.submitIntent({
      strategyId: 'pl',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price: Math.round(bid * 0.5 * 100) / 100,
      quantity: 0.001,
    });
    await waitFor('the resting order on the venue', () =>
      sim.state.openOrders('BTCUSDT').some((o) => o.side === 'BUY'),
    );
    await first.stop('test');
    const resting = sim.state.openOrders('BTCUSDT').find((o) => o.side === 'BUY')!;

    // The power loss: the journal's last commits (this run's orders and fills) never reached the disk.
    const store = await openStore({ home });
    try {
      await store.db.deleteFrom('fills').where('strategy_id', '=', 'pl').execute();
      await store.db.deleteFrom('orders').where('strategy_id', '=', 'pl').execute();
    } finally {
      await store.close();
    }

    const second = await start(config, home);
    const r = second.deployments[0].reconcile;
    // The entry (filled) and the resting limit (open): both carry the deployment's client id prefix.
    expect(r.recovered, r.mismatches.join('\n')).toBeGreaterThanOrEqual(2);
    expect(r.unknownCancelled).toBe(0);
    expect(r.mismatches.some((m) => m.startsWith('Order recovered from the venue'))).toBe(true);
    // The position is booked again from the venue's executions, and the resting order still works, tracked.
    expect(second.deployments[0].engine.portfolio.qty[0]).toBeCloseTo(booked, 10);
    expect(sim.state.openOrders('BTCUSDT').some((o) => o.clientOrderId === resting.clientOrderId)).toBe(true);
    expect(
      second.deployments[0].bridge.trackedOpenOrders().some((o) => o.clientOrderId === resting.clientOrderId),
    ).toBe(true);
    await second.stop('test');
    const after = await openStore({ home });
    try {
      const stored = await after.orders.list({ strategyId: 'pl', limit: 1_000 });
      expect(stored.some((o) => o.clientOrderId === resting.clientOrderId)).toBe(true);
    } finally {
      await after.close();
    }
  }, 300_000);
});
