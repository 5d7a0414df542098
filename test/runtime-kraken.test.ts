/**
 * A deployment on Kraken spot, end to end in this process: the runtime builds ccxt's kraken class from config
 * (`type: simulator`, `exchange: kraken`) pointed at the simulator's Kraken mode; a manual order through the engine's
 * order path fills with Kraken's fee in quote (USD), booked as such (the whole quantity held, cash down by cost + fee),
 * its fill arriving over Kraken's private WebSocket (`userStream: true`; the REST trade history fails meanwhile); a
 * resting order that fills while the runtime is down is found by its client order id at restart and its fill booked
 * once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { openStore } from '../src/store/index.js';
import { krakenClientOrderId } from '../src/venues/ccxt/kraken.js';
import { type KrakenSimulatorHandle, startKrakenSimulator } from '../src/venues/simulator/index.js';

let sim: KrakenSimulatorHandle;
let dir = '';
let runtime: Runtime | undefined;
beforeAll(async () => {
  // The runtime's pollers sign concurrently: the key has a nonce window, as a real Kraken key used so needs.
  sim = await startKrakenSimulator({ seed: 21, tickIntervalMs: 50, nonceWindow: 10_000 });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-kraken-'));
});
afterAll(async () => {
  await runtime?.stop('test end');
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, cond: () => boolean, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('runtime with a Kraken venue', () => {
  it('trades BTC/USD on the Kraken mode with the fee in quote and reconciles a fill made while it was down', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    const config = resolveConfig({
      server: { port: 0 },
      venues: [
        {
          id: 'kr',
          type: 'simulator',
          exchange: 'kraken',
          userStream: true,
          options: { url: sim.url, apiKey: sim.apiKey, secret: sim.secret },
        },
      ],
      // Periods so long that the strategy never signals: the test places the orders itself.
      deployments: [
        {
          id: 'krk',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'kr',
          symbols: ['BTC/USD'],
          capitalCap: 50_000,
        },
      ],
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
    let dep = runtime.deployments[0];
    let engine = dep.engine;
    await until('a live price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);
    await until('the executions subscription', () => sim.ws.subscriptions() >= 1);
    // From here the REST trade history fails: the fill can only come through the private WebSocket.
    sim.faults.failNext(1_000_000, 503, { path: '/0/private/TradesHistory' });
    const cashBefore = engine.portfolio.cash;

    const buy = engine.submitIntent({
      strategyId: 'krk',
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(buy, JSON.stringify(engine.riskEvents.at(-1))).not.toBeNull();
    await until('the buy fill', () => engine.portfolio.qty[0] > 0);
    const cid = dep.bridge.clientOrderIdOf(buy!) as string;
    // Our client id is longer than Kraken's free text: it travels as the UUID derived from it.
    expect(cid.length).toBeGreaterThan(18);
    const order = sim.state.orders.find((o) => o.clientOrderId === krakenClientOrderId(cid));
    expect(order?.status).toBe('FILLED');
    const trades = sim.state.trades.filter((t) => t.orderId === order!.orderId);
    const cost = trades.reduce((s, t) => s + t.quoteQty, 0);
    const fee = trades.reduce((s, t) => s + t.commission, 0);
    expect(trades.every((t) => t.commissionAsset === 'ZUSD')).toBe(true);
    // Fee in quote: the whole quantity is held, and cash pays cost plus the fee.
    expect(engine.portfolio.qty[0]).toBeCloseTo(0.01, 10);
    await until('the fee booked', () => Math.abs(cashBefore - engine.portfolio.cash - (cost + fee)) < 1e-6);
    sim.faults.reset();

    // A resting buy far below the market, then the runtime stops; the market comes down and fills it meanwhile.
    const limitPrice = Math.floor(engine.portfolio.last[0] * 0.9);
    const rest = engine.submitIntent({
      strategyId: 'krk',
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'limit',
      price: limitPrice,
      quantity: 0.005,
    });
    expect(rest).not.toBeNull();
    const restCid = dep.bridge.clientOrderIdOf(rest!) as string;
    await until('the resting order at Kraken', () =>
      sim.state.orders.some((o) => o.clientOrderId === krakenClientOrderId(restCid) && o.status === 'NEW'),
    );
    await runtime.stop('test');
    runtime = undefined;
    sim.setPrice('XXBTZUSD', limitPrice * 0.98);
    const resting = sim.state.orders.find((o) => o.clientOrderId === krakenClientOrderId(restCid))!;
    expect(resting.status).toBe('FILLED');

    runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
    dep = runtime.deployments[0];
    engine = dep.engine;
    const report = dep.reconcile;
    expect(report.notPlaced).toBe(0);
    expect(report.finished + report.fillsApplied).toBeGreaterThan(0);
    await until('both buys held', () => Math.abs(engine.portfolio.qty[0] - 0.015) < 1e-9);
    const store = await openStore({ home });
    try {
      const fills = await store.fills.list({ strategyId: 'krk' });
      // Each Kraken execution booked once, with its fee in quote.
      const ids = fills.map((f) => f.venueTradeId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(fills.reduce((s, f) => s + f.quantity, 0)).toBeCloseTo(0.015, 10);
      // The fee was paid in quote: nothing was withheld from the quantity, and the booked fee is Kraken's in USD.
      for (const f of fills) expect(f.executedQuantity).toBeUndefined();
      const ours = new Set([order!.orderId, resting.orderId]);
      const venueFee = sim.state.trades.filter((t) => ours.has(t.orderId)).reduce((s, t) => s + t.commission, 0);
      expect(fills.reduce((s, f) => s + f.fee, 0)).toBeCloseTo(venueFee, 6);
    } finally {
      await store.close();
    }
  }, 240_000);
});
