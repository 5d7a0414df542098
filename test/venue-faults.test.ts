/** Fault tests: the real ccxt binance adapter, wrapped in ResilientVenue, against the simulator's injected faults. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Ticker, VenueError } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { RESILIENCE_CODES, ResilientVenue, type RetryOptions } from '../src/venues/resilience.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

let sim: SimulatorHandle;
let inner: CcxtVenue;
const venues: CcxtVenue[] = [];

// Sleeps are recorded and skipped so backoff is asserted without waiting; the clock advances by each sleep.
function fakeTime() {
  let t = 1_000_000;
  const sleeps: number[] = [];
  const retry: RetryOptions = {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => 0.5,
  };
  return { retry, sleeps };
}

const count = (method: string, path: string) =>
  sim.requests.filter((r) => r.method === method && r.path === path).length;
let seq = 0;
const cid = (tag: string) => `flt${tag}${Date.now().toString(36)}${seq++}`;

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, tickIntervalMs: 50 });
  inner = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 400,
  });
  venues.push(inner);
  await inner.connect();
});

afterEach(() => sim.faults.reset());

afterAll(async () => {
  for (const v of venues) await v.close();
  await sim.close();
});

describe('retries within the budget', () => {
  it('retries HTTP 5xx and succeeds', async () => {
    const { retry, sleeps } = fakeTime();
    const venue = new ResilientVenue(inner, { retry });
    const before = count('GET', '/api/v3/ticker/24hr');
    sim.faults.failNext(2, 503, { path: '/api/v3/ticker/24hr' });
    const t = await venue.fetchTicker('BTC/USDT');
    expect(t.last).toBeGreaterThan(0);
    expect(count('GET', '/api/v3/ticker/24hr') - before).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThan(sleeps[0]); // exponential steps (jitter fixed at 0.5)
  });

  it('honours Retry-After on HTTP 429', async () => {
    const { retry, sleeps } = fakeTime();
    const venue = new ResilientVenue(inner, { retry: { ...retry, baseMs: 10 } });
    sim.faults.rateLimitNext(1, 2, { path: '/api/v3/depth' });
    const book = await venue.fetchOrderBook('BTC/USDT', 5);
    expect(book.bids.length).toBeGreaterThan(0);
    expect(sleeps).toEqual([2_000]);
  });

  it('gives up after 5 attempts with a clear error', async () => {
    const { retry } = fakeTime();
    const venue = new ResilientVenue(inner, { retry });
    const before = count('GET', '/api/v3/time');
    sim.faults.failNext(50, 502, { path: '/api/v3/time' });
    const err = (await venue.fetchServerTime().catch((e: unknown) => e)) as VenueError;
    expect(err).toBeInstanceOf(VenueError);
    expect(err.code).toBe(RESILIENCE_CODES.exhausted);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/fetchServerTime: gave up after 5 attempts/);
    expect(count('GET', '/api/v3/time') - before).toBe(5);
  });

  it('gives up when the next wait would pass 30 s', async () => {
    const { retry, sleeps } = fakeTime();
    const venue = new ResilientVenue(inner, { retry });
    const before = count('GET', '/api/v3/time');
    sim.faults.rateLimitNext(50, 20, { path: '/api/v3/time' });
    const err = (await venue.fetchServerTime().catch((e: unknown) => e)) as VenueError;
    expect(err.code).toBe(RESILIENCE_CODES.exhausted);
    expect(err.message).toMatch(/next wait would pass 30000 ms/);
    expect(sleeps).toEqual([20_000]);
    expect(count('GET', '/api/v3/time') - before).toBe(2);
  });
});

describe('order placement under faults', () => {
  it('a timed-out placement that the venue executed is found, not sent again', async () => {
    const { retry } = fakeTime();
    const venue = new ResilientVenue(inner, { retry, place: { settleMs: 0 } });
    const clientOrderId = cid('hang');
    const posts = count('POST', '/api/v3/order');
    sim.faults.hangNext(1, true, { method: 'POST', path: '/api/v3/order' });
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.001,
    });
    expect(o.clientOrderId).toBe(clientOrderId);
    expect(o.status).toBe('filled');
    expect(count('POST', '/api/v3/order') - posts).toBe(1);
    const record = sim.state.orders.filter((x) => x.clientOrderId === clientOrderId);
    expect(record).toHaveLength(1);
    expect(
      sim.state.trades.filter((t) => t.clientOrderId === clientOrderId).reduce((s, t) => s + t.qty, 0),
    ).toBeCloseTo(0.001, 10);
  });

  it('a timed-out placement that never reached the book is sent once more', async () => {
    const { retry } = fakeTime();
    const venue = new ResilientVenue(inner, { retry, place: { settleMs: 0 } });
    const clientOrderId = cid('lost');
    const posts = count('POST', '/api/v3/order');
    sim.faults.hangNext(1, false, { method: 'POST', path: '/api/v3/order' });
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.001,
    });
    expect(o.status).toBe('filled');
    expect(count('POST', '/api/v3/order') - posts).toBe(2);
    expect(sim.state.orders.filter((x) => x.clientOrderId === clientOrderId)).toHaveLength(1);
  });

  it('a 5xx on placement is looked up before any re-send', async () => {
    const { retry } = fakeTime();
    const venue = new ResilientVenue(inner, { retry, place: { settleMs: 0 } });
    const clientOrderId = cid('5xx');
    const gets = count('GET', '/api/v3/order');
    sim.faults.failNext(1, 503, { method: 'POST', path: '/api/v3/order' });
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'ETH/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(o.status).toBe('filled');
    expect(count('GET', '/api/v3/order') - gets).toBeGreaterThanOrEqual(1);
    expect(sim.state.orders.filter((x) => x.clientOrderId === clientOrderId)).toHaveLength(1);
  });

  it('rejected orders are not retried', async () => {
    const { retry, sleeps } = fakeTime();
    const venue = new ResilientVenue(inner, { retry, place: { settleMs: 0 } });
    const clientOrderId = cid('rej');
    const posts = count('POST', '/api/v3/order');
    sim.faults.rejectNextOrders(1, 'This symbol is halted.');
    const err = (await venue
      .placeOrder({ clientOrderId, symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.001 })
      .catch((e: unknown) => e)) as VenueError;
    expect(err).toBeInstanceOf(VenueError);
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('VENUE_INVALID_ORDER');
    expect(err.message).toContain('This symbol is halted.');
    expect(count('POST', '/api/v3/order') - posts).toBe(1);
    expect(sleeps).toEqual([]);
    expect(sim.state.orders.filter((x) => x.clientOrderId === clientOrderId)).toHaveLength(0);
  });

  it('insufficient funds is a distinct non-retryable error', async () => {
    const err = (await inner
      .placeOrder({
        clientOrderId: cid('poor'),
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'limit',
        quantity: 100,
        price: 20_000,
        timeInForce: 'GTC',
      })
      .catch((e: unknown) => e)) as VenueError;
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('VENUE_INSUFFICIENT_FUNDS');
  });

  it('reports partial fills with the filled quantity', async () => {
    const t = await inner.fetchTicker('BTC/USDT');
    const clientOrderId = cid('part');
    sim.faults.partialFillNext(1, 0.4);
    const price = Math.round(t.ask * 1.02 * 100) / 100;
    const o = await inner.placeOrder({
      clientOrderId,
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price,
      timeInForce: 'GTC',
    });
    expect(o.status).toBe('partially_filled');
    expect(o.filledQuantity).toBeCloseTo(0.004, 10);
    const record = sim.state.orders.find((x) => x.clientOrderId === clientOrderId)!;
    expect(record.executedQty).toBeCloseTo(0.004, 10);
    const fills = (await inner.fetchFills('BTC/USDT')).filter((f) => f.venueOrderId === o.venueOrderId);
    expect(fills.reduce((s, f) => s + f.quantity, 0)).toBeCloseTo(0.004, 10);
    const c = await inner.cancelOrder({ symbol: 'BTC/USDT', clientOrderId });
    expect(c.status).toBe('cancelled');
    expect(c.filledQuantity).toBeCloseTo(0.004, 10);
  });

  it('a bad secret is an authentication error, not retried', async () => {
    const bad = new CcxtVenue({
      exchange: 'binance',
      apiKey: sim.apiKey,
      secret: 'wrong',
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
    });
    venues.push(bad);
    const err = (await new ResilientVenue(bad).fetchBalances().catch((e: unknown) => e)) as VenueError;
    expect(err.code).toBe('VENUE_AUTH');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('Signature for this request is not valid.');
  });
});

describe('streams', () => {
  it('a dropped WebSocket goes stale, reconnects and data resumes', async () => {
    const venue = new ResilientVenue(inner, {
      reconnect: { baseMs: 50, maxDelayMs: 200 },
      onStale: (s) => events.push(`stale:${s}`),
      onResumed: (s) => events.push(`resumed:${s}`),
    });
    const events: string[] = [];
    const got: Ticker[] = [];
    const sub = venue.watchTicker('BTC/USDT', (t) => got.push(t));
    const waitFor = async (cond: () => boolean, ms = 8_000) => {
      const end = Date.now() + ms;
      while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(cond()).toBe(true);
    };
    try {
      await waitFor(() => got.length >= 2);
      sim.faults.refuseWebSockets = true;
      expect(sim.faults.dropWebSockets()).toBeGreaterThan(0);
      await waitFor(() => events.includes('stale:ticker:BTC/USDT'));
      const atOutage = got.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(got.length).toBe(atOutage); // no data while the venue refuses connections
      sim.faults.refuseWebSockets = false;
      await waitFor(() => events.includes('resumed:ticker:BTC/USDT') && got.length >= atOutage + 2);
      expect(events.indexOf('stale:ticker:BTC/USDT')).toBeLessThan(events.indexOf('resumed:ticker:BTC/USDT'));
    } finally {
      sub.close();
    }
  });
});
