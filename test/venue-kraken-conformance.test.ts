/**
 * The ccxt adapter (real ccxt kraken class) passes the venue conformance suite against the simulator's Kraken mode,
 * with Kraken's rate-limit refusal, polling and with orders and fills from Kraken's private WebSocket; and Kraken's request signing: a wrong secret and a stale nonce are refused.
 */
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VenueError } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { krakenClientOrderId } from '../src/venues/ccxt/kraken.js';
import { ResilientVenue } from '../src/venues/resilience.js';
import { tradeTxid } from '../src/venues/simulator/kraken-format.js';
import { type KrakenSimulatorHandle, startKrakenSimulator } from '../src/venues/simulator/index.js';
import { describeVenueConformance } from './conformance/venue-conformance.js';

// Twice: orders and fills polled over REST, and from Kraken's private WebSocket v2 (`executions`; market data polled).
for (const userStream of [false, true]) {
  const name = `ccxt kraken on the simulator (Kraken mode)${userStream ? ', user-data stream on' : ''}`;
  describeVenueConformance(name, async () => {
    // A nonce window, as a Kraken key used by concurrent pollers needs (requests may arrive out of order).
    const sim = await startKrakenSimulator({ seed: userStream ? 13 : 11, tickIntervalMs: 50, nonceWindow: 10_000 });
    const venue = new CcxtVenue({
      exchange: 'kraken',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
      timeoutMs: 3_000,
      pollIntervalMs: 100,
      disableStreaming: true,
      ...(userStream ? { userStream } : {}),
    });
    if (venue.userStreaming !== userStream) throw new Error(`userStreaming should be ${userStream}`);
    return {
      venue,
      symbol: 'BTC/USD',
      teardown: async () => {
        // With the stream on, the suite's order and fill feeds subscribed over the simulator's private socket.
        const subscribes = sim.ws.stats.subscribes;
        await sim.close();
        if (userStream !== subscribes > 0) throw new Error(`${subscribes} executions subscriptions with ${name}`);
      },
      faults: { rateLimitNext: () => void sim.faults.rateLimitNext(1) },
    };
  });
}

// Kraken's documented signature, computed here independently of ccxt: base64(HMAC-SHA512(base64-decoded secret,
// path + SHA256(nonce + body))).
function krakenSign(path: string, body: string, nonce: string, secret: string): string {
  const digest = createHash('sha256')
    .update(nonce + body)
    .digest();
  return createHmac('sha512', Buffer.from(secret, 'base64'))
    .update(Buffer.concat([Buffer.from(path), digest]))
    .digest('base64');
}

async function privatePost(sim: KrakenSimulatorHandle, path: string, body: string, sign: string, key = sim.apiKey) {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'API-Key': key, 'API-Sign': sign, 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  return (await res.json()) as { error: string[]; result?: Record<string, unknown> };
}

describe('Kraken mode: request signing, nonces, faults and Kraken conventions', () => {
  let sim: KrakenSimulatorHandle;
  const venues: CcxtVenue[] = [];
  const krakenVenue = (over: Partial<ConstructorParameters<typeof CcxtVenue>[0]> = {}) => {
    const v = new CcxtVenue({
      exchange: 'kraken',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
      timeoutMs: 400,
      pollIntervalMs: 100,
      disableStreaming: true,
      ...over,
    });
    venues.push(v);
    return v;
  };

  beforeAll(async () => {
    // Several clients share the key here (a restart, two instances): a nonce window of 5 s, as such a key needs.
    sim = await startKrakenSimulator({ seed: 12, tickIntervalMs: 50, nonceWindow: 5_000 });
  });
  afterAll(async () => {
    for (const v of venues) await v.close();
    await sim.close();
  });

  it('accepts a request signed as Kraken documents it and refuses a replay of its nonce', async () => {
    const nonce = String(Date.now());
    const body = `nonce=${nonce}`;
    const sign = krakenSign('/0/private/BalanceEx', body, nonce, sim.secret);
    const first = await privatePost(sim, '/0/private/BalanceEx', body, sign);
    expect(first.error).toEqual([]);
    expect(first.result?.ZUSD).toEqual({ balance: '100000.0000000000', hold_trade: '0.0000000000' });
    const replay = await privatePost(sim, '/0/private/BalanceEx', body, sign);
    expect(replay).toEqual({ error: ['EAPI:Invalid nonce'] });
  });

  it('refuses a wrong signature and an unknown key with EAPI:Invalid key, and nothing is done', async () => {
    const nonce = String(Date.now() + 1);
    const body = `nonce=${nonce}&pair=XXBTZUSD&type=buy&ordertype=market&volume=0.001`;
    const wrong = krakenSign('/0/private/AddOrder', body, nonce, Buffer.from('not the secret').toString('base64'));
    const before = sim.state.orders.length;
    expect(await privatePost(sim, '/0/private/AddOrder', body, wrong)).toEqual({ error: ['EAPI:Invalid key'] });
    const right = krakenSign('/0/private/AddOrder', body, nonce, sim.secret);
    expect(await privatePost(sim, '/0/private/AddOrder', body, right, 'other-key')).toEqual({
      error: ['EAPI:Invalid key'],
    });
    expect(sim.state.orders.length).toBe(before);
  });

  it('maps a wrong secret to a non-retryable VENUE_AUTH error and places nothing', async () => {
    const venue = krakenVenue({ secret: Buffer.from('a wrong secret').toString('base64') });
    const before = sim.state.orders.length;
    const err = await venue
      .placeOrder({ clientOrderId: 'badsig1', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: 0.001 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).code).toBe('VENUE_AUTH');
    expect((err as VenueError).retryable).toBe(false);
    expect(sim.state.orders.length).toBe(before);
  });

  it('maps a nonce below the last one the key saw (a client whose clock is behind) to VENUE_CLOCK', async () => {
    const ahead = krakenVenue();
    await ahead.fetchBalances();
    const behind = krakenVenue();
    await behind.connect();
    // ccxt's kraken nonce is its clock minus `timeDifference`: a minute behind the other client's.
    (behind.exchange.options as Record<string, unknown>).timeDifference = 60_000;
    const err = await behind.fetchBalances().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).code).toBe('VENUE_CLOCK');
    // Retryable: a re-signed request has a fresh nonce; this client's stays behind, so its retries fail too.
    expect((err as VenueError).retryable).toBe(true);
    const again = await behind.fetchBalances().catch((e: unknown) => e);
    expect((again as VenueError).code).toBe('VENUE_CLOCK');
    expect((err as Error).message).toContain('EAPI:Invalid nonce');
  });

  it('rides out an outage (HTTP 5xx) through ResilientVenue and reconnects', async () => {
    const venue = new ResilientVenue(krakenVenue(), { retry: { baseMs: 1, sleep: async () => undefined } });
    sim.faults.failNext(2, 503, { path: '/0/private/BalanceEx' });
    const balances = await venue.fetchBalances();
    expect(balances.find((b) => b.asset === 'USD')?.total).toBeGreaterThan(0);
    expect(sim.faults.pending()).toEqual([]);
  });

  it('a timed-out placement the venue executed is found by its client id, not sent again', async () => {
    const venue = new ResilientVenue(krakenVenue(), {
      retry: { baseMs: 1, sleep: async () => undefined },
      place: { settleMs: 0 },
    });
    // Longer than Kraken's 18-character free text: it travels as a UUID derived from it.
    const clientOrderId = `0123abcd-${Date.now().toString(36)}-deployment-order-7`;
    const posts = sim.requestCount('/0/private/AddOrder');
    sim.faults.hangNext(1, true, { path: '/0/private/AddOrder' });
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'market',
      quantity: 0.001,
    });
    expect(o.clientOrderId).toBe(clientOrderId);
    expect(o.status).toBe('filled');
    expect(sim.requestCount('/0/private/AddOrder') - posts).toBe(1);
    const kid = krakenClientOrderId(clientOrderId);
    expect(kid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(sim.state.orders.filter((x) => x.clientOrderId === kid)).toHaveLength(1);
  });

  it('finds an order by our client id from a new adapter instance (after a restart)', async () => {
    const clientOrderId = `restart-${Date.now().toString(36)}-a-long-client-id`;
    const first = krakenVenue();
    const t = await first.fetchTicker('BTC/USD');
    const price = Math.floor(t.bid * 0.5);
    const placed = await first.placeOrder({
      clientOrderId,
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'limit',
      quantity: 0.001,
      price,
      timeInForce: 'GTC',
    });
    const second = krakenVenue();
    const found = await second.fetchOrder({ symbol: 'BTC/USD', clientOrderId });
    expect(found?.venueOrderId).toBe(placed.venueOrderId);
    expect(found?.clientOrderId).toBe(clientOrderId);
    const byId = await krakenVenue().fetchOrder({
      symbol: 'BTC/USD',
      venueOrderId: placed.venueOrderId,
      clientOrderId,
    });
    expect(byId?.clientOrderId).toBe(clientOrderId);
    const cancelled = await second.cancelOrder({ symbol: 'BTC/USD', clientOrderId });
    expect(cancelled.status).toBe('cancelled');
  });

  it('charges the fee in quote (Kraken default fciq): a buy pays cost plus fee in USD and receives the whole quantity', async () => {
    const venue = krakenVenue();
    const before = await venue.fetchBalances();
    const o = await venue.placeOrder({
      clientOrderId: `fee${Date.now().toString(36)}`,
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'market',
      quantity: 0.002,
    });
    const after = await venue.fetchBalances();
    const fills = (await venue.fetchFills('BTC/USD', o.createdAt - 1_000)).filter(
      (f) => f.venueOrderId === o.venueOrderId,
    );
    expect(fills.length).toBeGreaterThan(0);
    const cost = fills.reduce((s, f) => s + f.price * f.quantity, 0);
    const fee = fills.reduce((s, f) => s + f.fee, 0);
    for (const f of fills) expect(f.feeCurrency).toBe('USD');
    expect(fee).toBeCloseTo(cost * 0.0026, 6);
    const total = (bs: typeof before, a: string) => bs.find((b) => b.asset === a)?.total ?? 0;
    expect(total(after, 'BTC') - total(before, 'BTC')).toBeCloseTo(0.002, 10);
    expect(total(before, 'USD') - total(after, 'USD')).toBeCloseTo(cost + fee, 4);
  });

  it('a rejected placement is a non-retryable error; a partial fill of a market order ends expired', async () => {
    const venue = krakenVenue();
    const addOrder = { method: 'POST', path: '/0/private/AddOrder' };
    sim.faults.rejectNextOrders(1, 'Rejected by the test', addOrder);
    const before = sim.state.orders.length;
    const err = await venue
      .placeOrder({
        clientOrderId: `rej${Date.now().toString(36)}`,
        symbol: 'BTC/USD',
        side: 'buy',
        type: 'market',
        quantity: 0.001,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).retryable).toBe(false);
    expect((err as Error).message).toContain('EOrder:Rejected by the test');
    expect(sim.state.orders.length).toBe(before);
    sim.faults.partialFillNext(1, 0.5, addOrder);
    const o = await venue.placeOrder({
      clientOrderId: `half${Date.now().toString(36)}`,
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'market',
      quantity: 0.002,
    });
    expect(o.status).toBe('expired');
    expect(o.filledQuantity).toBeCloseTo(0.001, 10);
  });

  it('reads every fill of a trade history longer than one Kraken page (50)', async () => {
    const venue = krakenVenue();
    const since = Date.now() - 1;
    const mine = new Set<string>();
    for (let i = 0; i < 30; i++) {
      // Two pairs interleaved: Kraken's history is one list for all pairs.
      const btc = await venue.placeOrder({
        clientOrderId: `pg${i}b${Date.now().toString(36)}`,
        symbol: 'BTC/USD',
        side: 'buy',
        type: 'market',
        quantity: 0.0002,
      });
      mine.add(btc.venueOrderId);
      await venue.placeOrder({
        clientOrderId: `pg${i}e${Date.now().toString(36)}`,
        symbol: 'ETH/USD',
        side: 'buy',
        type: 'market',
        quantity: 0.003,
      });
    }
    const fills = await venue.fetchFills('BTC/USD', since);
    const expected = sim.state.trades.filter((t) => t.symbol === 'XXBTZUSD' && t.time >= since);
    expect(expected.length).toBeGreaterThanOrEqual(30);
    expect(fills.map((f) => f.venueTradeId).sort()).toEqual(expected.map((t) => tradeTxid(t.id)).sort());
    expect(new Set(fills.map((f) => f.venueOrderId))).toEqual(mine);
    expect(sim.requestCount('/0/private/TradesHistory')).toBeGreaterThanOrEqual(2);
  });
});
