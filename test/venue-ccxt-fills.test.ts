import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

// Reconciliation reads every execution, not the first page of them (issue 9): fetchFills pages through the
// venue's myTrades until a short page, with real ccxt over HTTP to the simulator.
let sim: SimulatorHandle;
let venue: CcxtVenue;
beforeAll(async () => {
  sim = await startSimulator({ seed: 41, tickIntervalMs: 0 });
  venue = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    fillsPageSize: 3,
  });
  await venue.connect();
});
afterAll(async () => {
  await venue?.close();
  await sim?.close();
});

describe('CcxtVenue.fetchFills', () => {
  it('pages through every execution since a time, each once', async () => {
    const since = Date.now() - 1;
    for (let i = 0; i < 8; i++) {
      await venue.placeOrder({
        clientOrderId: `pg${i}${Date.now().toString(36)}`,
        symbol: 'BTC/USDT',
        side: i % 2 === 0 ? 'buy' : 'sell',
        type: 'market',
        quantity: 0.001,
      });
    }
    const trades = sim.state.trades.filter((t) => t.symbol === 'BTCUSDT' && t.time >= since);
    expect(trades.length).toBeGreaterThan(3);
    const pages = () => sim.requests.filter((r) => r.path === '/api/v3/myTrades').length;
    const before = pages();
    const fills = await venue.fetchFills('BTC/USDT', since);
    expect(fills.map((f) => f.venueTradeId).sort()).toEqual(trades.map((t) => String(t.id)).sort());
    expect(pages() - before).toBeGreaterThan(1);
  });
});
