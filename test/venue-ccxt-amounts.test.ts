import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

// docs/money.md: amounts leave for ccxt as exact decimal strings on the market's grid (the double read as the
// decimal it stands for, then quantity toward zero), real ccxt over HTTP to the simulator.
let sim: SimulatorHandle;
let venue: CcxtVenue;
beforeAll(async () => {
  sim = await startSimulator({ seed: 7, tickIntervalMs: 0 });
  venue = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
  });
  await venue.connect();
});
afterAll(async () => {
  await venue?.close();
  await sim?.close();
});

const simOrder = (clientOrderId: string) => sim.state.orders.find((o) => o.clientOrderId === clientOrderId);

describe('CcxtVenue order amounts (BTCUSDT: tick 0.01, step 0.00001)', () => {
  it('a quantity carrying float noise is sent as the decimal it stands for, not truncated a lot short', async () => {
    const id = Date.now().toString(36);
    // 0.3 - 0.1 is 0.19999999999999998: ccxt's own truncation of that double sends 0.19999, a lot short.
    await venue.placeOrder({
      clientOrderId: `amb${id}`,
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price: 20_000.01,
      quantity: 0.3 - 0.1,
      timeInForce: 'GTC',
    });
    // 0.1 + 0.2 is 0.30000000000000004, and 40000.01 x 3 / 3 carries noise too.
    await venue.placeOrder({
      clientOrderId: `ams${id}`,
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'limit',
      price: (40_000.01 * 3) / 3,
      quantity: 0.1 + 0.2,
      timeInForce: 'GTC',
    });
    const buy = simOrder(`amb${id}`);
    const sell = simOrder(`ams${id}`);
    expect([buy?.price, buy?.origQty]).toEqual([20_000.01, 0.2]);
    expect([sell?.price, sell?.origQty]).toEqual([40_000.01, 0.3]);
  });
});
