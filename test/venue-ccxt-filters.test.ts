/**
 * The ccxt venue enforces the market's filters before sending (tick size, step size, minimum quantity and notional,
 * PERCENT_PRICE_BY_SIDE): a violating order is refused locally and never reaches the exchange, which would reject it
 * the same way (-1013 Filter failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VenueError } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

const SYMBOL = 'BTC/USDT';
const BAND = { bidMultiplierUp: 1.2, bidMultiplierDown: 0.8, askMultiplierUp: 1.25, askMultiplierDown: 0.75 };
let sim: SimulatorHandle;
let venue: CcxtVenue;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 9,
    tickIntervalMs: 0,
    markets: DEFAULT_MARKETS.map((m) => (m.symbol === 'BTCUSDT' ? { ...m, percentPriceBySide: BAND } : m)),
  });
  venue = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    userStream: false,
  });
  await venue.connect();
});
afterAll(async () => {
  await venue.close();
  await sim.close();
});

const posts = () => sim.requestCount('POST', '/api/v3/order');

async function refusal(p: Promise<unknown>): Promise<VenueError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VenueError);
  const v = err as VenueError;
  expect(v.retryable).toBe(false);
  expect(v.code).toBe('VENUE_INVALID_ORDER');
  return v;
}

describe('exchange filters before sending', () => {
  const limit = (price: number, quantity: number, side: 'buy' | 'sell' = 'buy') =>
    venue.placeOrder({
      clientOrderId: `flt${Math.random().toString(36).slice(2, 10)}`,
      symbol: SYMBOL,
      side,
      type: 'limit',
      price,
      quantity,
    });

  it('refuses a price off the tick, a quantity off the step and a notional under the minimum, sending nothing', async () => {
    const before = posts();
    expect((await refusal(limit(25_000.005, 0.01))).message).toMatch(
      /price 25000\.005 is not a multiple of the tick size 0\.01 \(PRICE_FILTER\)/,
    );
    expect((await refusal(limit(25_000, 0.000015))).message).toMatch(/step size 0\.00001 \(LOT_SIZE\)/);
    expect((await refusal(limit(25_000, 0.0001))).message).toMatch(/notional 2\.5 is below the minimum 5 \(NOTIONAL\)/);
    expect(posts()).toBe(before);
    expect(sim.state.orders).toHaveLength(0);
  });

  it('refuses a limit price outside PERCENT_PRICE_BY_SIDE of the average price; the exchange would reject it too', async () => {
    const avg = sim.state.averagePrice('BTCUSDT');
    const before = posts();
    const tooHigh = Math.round(avg * 1.21 * 100) / 100;
    const err = await refusal(limit(tooHigh, 0.001));
    expect(err.message).toMatch(/buy price .* is outside .*PERCENT_PRICE_BY_SIDE/);
    // The sell side has its own, wider band: the same price is a valid sell.
    const tooLowSell = Math.round(avg * 0.74 * 100) / 100;
    expect((await refusal(limit(tooLowSell, 0.001, 'sell'))).message).toMatch(/sell price/);
    expect(posts()).toBe(before);
    expect(sim.requestCount('GET', '/api/v3/avgPrice')).toBeGreaterThanOrEqual(2);
    // Sent anyway (bypassing the adapter), the simulator rejects it as Binance does.
    await expect(
      venue.exchange.createOrder(SYMBOL, 'limit', 'buy', 0.001, tooHigh, { timeInForce: 'GTC' }),
    ).rejects.toThrow(/-1013.*PERCENT_PRICE_BY_SIDE|PERCENT_PRICE_BY_SIDE/);
    expect(posts()).toBe(before + 1);
    expect(sim.state.orders).toHaveLength(0);
  });

  it('sends an order inside every filter', async () => {
    const avg = sim.state.averagePrice('BTCUSDT');
    const price = Math.round(avg * 0.9 * 100) / 100;
    const o = await limit(price, 0.001);
    expect(o.status).toBe('accepted');
    expect(sim.state.orders.map((x) => String(x.orderId))).toContain(o.venueOrderId);
    await venue.cancelOrder({ symbol: SYMBOL, venueOrderId: o.venueOrderId });
  });
});
