/**
 * The ccxt venue reads orders and fills from Binance's user-data stream (ccxt's binance subscribes over the simulator's
 * WebSocket API), polls REST only while the stream is down, and counts every fill exactly once across the switch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription, VenueFill, VenueOrder } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import type { UserFeedMode } from '../src/venues/ccxt/user-feed.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor as waitForEvent } from './fixtures/wait.js';
import { waitFor } from './ops-fakes.js';

const SYMBOL = 'BTC/USDT';
// What the polling path reads; none of it may be requested while the stream is up.
const POLLED = [
  ['GET', '/api/v3/myTrades'],
  ['GET', '/api/v3/openOrders'],
  ['GET', '/api/v3/order'],
  ['GET', '/api/v3/allOrders'],
] as const;

interface Rig {
  sim: SimulatorHandle;
  venue: CcxtVenue;
  fills: VenueFill[];
  orders: VenueOrder[];
  modes: { orders: UserFeedMode[]; fills: UserFeedMode[] };
  subs: Subscription[];
  polled(): number;
}

let rig: Rig | undefined;
afterEach(async () => {
  if (!rig) return;
  for (const s of rig.subs) s.close();
  await rig.venue.close();
  await rig.sim.close();
  rig = undefined;
});

async function start(pollIntervalMs: number): Promise<Rig> {
  const sim = await startSimulator({ seed: 11, tickIntervalMs: 0 });
  const modes: Rig['modes'] = { orders: [], fills: [] };
  const venue = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
    pollIntervalMs,
    userStreamRetryMs: 20,
    onUserStream: (feed, mode) => modes[feed].push(mode),
  });
  const fills: VenueFill[] = [];
  const orders: VenueOrder[] = [];
  const errors: Error[] = [];
  const subs = [
    venue.watchFills(
      (f) => fills.push(f),
      (e) => errors.push(e),
    ),
    venue.watchOrders(
      (o) => orders.push(o),
      (e) => errors.push(e),
    ),
  ];
  const polled = () => POLLED.reduce((n, [m, p]) => n + sim.requestCount(m, p), 0);
  rig = { sim, venue, fills, orders, modes, subs, polled };
  await waitFor(() => modes.fills.at(-1) === 'stream' && modes.orders.at(-1) === 'stream', 5_000, 'user stream up');
  expect(errors).toEqual([]);
  return rig;
}

const market = (r: Rig, side: 'buy' | 'sell', cid: string) =>
  r.venue.placeOrder({ clientOrderId: cid, symbol: SYMBOL, side, type: 'market', quantity: 0.01 });

const simTradeIds = (r: Rig) => r.sim.state.trades.map((t) => String(t.id)).sort();
const fillIds = (r: Rig) => r.fills.map((f) => f.venueTradeId).sort();

describe('ccxt venue on the user-data stream', () => {
  it('delivers orders and fills through the stream without polling REST', async () => {
    // A 10 ms poll period: had anything polled while the stream is up, the counters would move many times.
    const r = await start(10);
    expect(r.sim.userData.subscriptions()).toBe(1);
    const before = r.polled();
    const placed = await market(r, 'buy', 'uds-a');
    await waitFor(() => r.fills.some((f) => f.venueOrderId === placed.venueOrderId), 5_000, 'the market fill');
    await waitFor(
      () => r.orders.some((o) => o.venueOrderId === placed.venueOrderId && o.status === 'filled'),
      5_000,
      'the filled order',
    );
    // A resting limit filled by the market moving: the maker fill comes through the stream too.
    const t = await r.venue.fetchTicker(SYMBOL);
    const price = Math.round((t.bid - 50) * 100) / 100;
    const limit = await r.venue.placeOrder({
      clientOrderId: 'uds-b',
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      price,
      quantity: 0.01,
    });
    await waitFor(() => r.orders.some((o) => o.venueOrderId === limit.venueOrderId), 5_000, 'the new limit order');
    r.sim.setPrice('BTCUSDT', price - 20);
    await waitFor(() => r.fills.some((f) => f.venueOrderId === limit.venueOrderId), 5_000, 'the maker fill');
    const maker = r.fills.find((f) => f.venueOrderId === limit.venueOrderId)!;
    expect(maker).toMatchObject({ clientOrderId: 'uds-b', price, quantity: 0.01, liquidity: 'maker', side: 'buy' });
    expect(maker.feeCurrency).toBe('BTC');
    expect(r.polled(), 'REST order/trade reads while the stream was up').toBe(before);
    expect(fillIds(r)).toEqual(simTradeIds(r));
  });

  it('falls back to polling when the stream drops and resumes it, each fill counted once', async () => {
    const r = await start(20);
    await market(r, 'buy', 'uds-c');
    await waitFor(() => r.fills.length === r.sim.state.trades.length, 5_000, 'first fill');
    // An outage that lasts: the socket drops and new connections are refused.
    r.sim.faults.refuseWebSockets = true;
    expect(r.sim.faults.dropUserDataStreams()).toBe(1);
    await waitFor(() => r.modes.fills.at(-1) === 'poll' && r.modes.orders.at(-1) === 'poll', 5_000, 'polling');
    const polledBefore = r.polled();
    const during = await market(r, 'sell', 'uds-d');
    await waitFor(() => r.fills.some((f) => f.venueOrderId === during.venueOrderId), 5_000, 'fill by polling');
    await waitFor(
      () => r.orders.some((o) => o.venueOrderId === during.venueOrderId && o.status === 'filled'),
      5_000,
      'order by polling',
    );
    expect(r.polled()).toBeGreaterThan(polledBefore);
    expect(r.sim.userData.subscriptions()).toBe(0);
    // The outage ends: the feeds subscribe again by themselves and stop polling.
    r.sim.faults.refuseWebSockets = false;
    await waitFor(() => r.modes.fills.at(-1) === 'stream' && r.modes.orders.at(-1) === 'stream', 10_000, 'resumed');
    expect(r.sim.userData.subscriptions()).toBe(1);
    const afterResume = r.polled();
    const after = await market(r, 'buy', 'uds-e');
    await waitFor(() => r.fills.some((f) => f.venueOrderId === after.venueOrderId), 5_000, 'fill by stream');
    await waitFor(
      () => r.orders.some((o) => o.venueOrderId === after.venueOrderId && o.status === 'filled'),
      5_000,
      'order by stream',
    );
    expect(r.polled(), 'REST reads after the stream resumed').toBe(afterResume);
    expect(fillIds(r)).toEqual(simTradeIds(r));
    expect(new Set(fillIds(r)).size).toBe(r.fills.length);
  });

  it('reconciles over REST on resubscribing: a fill made while nothing listened is delivered once', async () => {
    // Polling so slow it never runs again during the test: only the reconciliation can find the fill.
    const r = await start(600_000);
    r.sim.faults.refuseWebSockets = true;
    r.sim.faults.dropUserDataStreams();
    await waitFor(() => r.modes.fills.at(-1) === 'poll', 5_000, 'polling');
    // Let the fallback's first poll finish, so the fill below is made after it read.
    const answered = () => r.sim.requests.filter((q) => q.path === '/api/v3/myTrades' && q.status === 200).length;
    await waitFor(() => answered() >= 2, 5_000, 'first fallback poll (both markets)');
    const reads = answered();
    const o = r.sim.state.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: 0.01 }, 'uds-f');
    expect(o.status).toBe('FILLED');
    expect(answered()).toBe(reads);
    r.sim.faults.refuseWebSockets = false;
    await waitFor(() => r.modes.fills.at(-1) === 'stream', 10_000, 'resumed');
    await waitFor(() => r.fills.some((f) => f.venueOrderId === String(o.orderId)), 5_000, 'reconciled fill');
    const f = r.fills.find((x) => x.venueOrderId === String(o.orderId))!;
    // Placed behind the venue's back, so the REST trade carries no client id: the bridge's orphan path handles it.
    expect(f).toMatchObject({ quantity: 0.01, side: 'buy', price: r.sim.state.trades.at(-1)!.price });
    expect(fillIds(r)).toEqual(simTradeIds(r));
  });

  it('polls only, as before, with userStream: false', async () => {
    const sim = await startSimulator({ seed: 12, tickIntervalMs: 0 });
    const venue = new CcxtVenue({
      exchange: 'binance',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
      pollIntervalMs: 20,
      userStream: false,
    });
    const fills: VenueFill[] = [];
    const sub = venue.watchFills((f) => fills.push(f));
    try {
      const o = await venue.placeOrder({
        clientOrderId: 'uds-g',
        symbol: SYMBOL,
        side: 'buy',
        type: 'market',
        quantity: 0.01,
      });
      await waitFor(() => fills.some((f) => f.venueOrderId === o.venueOrderId), 5_000, 'polled fill');
      expect(sim.requestCount('GET', '/api/v3/myTrades')).toBeGreaterThan(0);
      expect(sim.userData.stats.subscribes).toBe(0);
    } finally {
      sub.close();
      await venue.close();
      await sim.close();
    }
  });
  it('a subscription the exchange never confirms: fills are polled meanwhile, it times out to polling and subscribes again', async () => {
    const sim = await startSimulator({ seed: 13, tickIntervalMs: 0 });
    // The exchange takes the subscribe but its answer never comes while `hold` is on (a lost answer, a stuck gateway).
    let hold = true;
    const ud = sim.userData as unknown as { acceptWsApi(ws: { send(d: string): void }): void };
    const accept = ud.acceptWsApi.bind(ud);
    ud.acceptWsApi = (ws) => {
      const send = ws.send.bind(ws);
      ws.send = (d: string) => {
        if (hold && /"subscriptionId"/.test(d) && !/"event"/.test(d)) return;
        send(d);
      };
      accept(ws);
    };
    const modes: UserFeedMode[] = [];
    const venue = new CcxtVenue({
      exchange: 'binance',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
      pollIntervalMs: 20,
      userStreamRetryMs: 20,
      userStreamTimeoutMs: 300,
      onUserStream: (feed, mode) => {
        if (feed === 'fills') modes.push(mode);
      },
    });
    const fills: VenueFill[] = [];
    const sub = venue.watchFills((f) => fills.push(f));
    try {
      await waitForEvent('the held subscribe', () => sim.userData.stats.subscribes >= 1);
      // Made while the subscription is unconfirmed: polled, not left until an answer that does not come.
      const o = await venue.placeOrder({
        clientOrderId: 'uds-h',
        symbol: SYMBOL,
        side: 'buy',
        type: 'market',
        quantity: 0.01,
      });
      await waitForEvent('the fill, by polling', () => fills.some((f) => f.venueOrderId === o.venueOrderId));
      await waitForEvent('the timeout reported as polling', () => modes.includes('poll'));
      hold = false;
      await waitForEvent('the stream, subscribed afresh', () => modes.at(-1) === 'stream');
      const after = await venue.placeOrder({
        clientOrderId: 'uds-i',
        symbol: SYMBOL,
        side: 'sell',
        type: 'market',
        quantity: 0.01,
      });
      await waitForEvent('the fill, by the stream', () => fills.some((f) => f.venueOrderId === after.venueOrderId));
      expect(fills.map((f) => f.venueTradeId).sort()).toEqual(sim.state.trades.map((t) => String(t.id)).sort());
    } finally {
      sub.close();
      await venue.close();
      await sim.close();
    }
  });
});
