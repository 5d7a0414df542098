/**
 * The ccxt venue reads Kraken's orders and fills from the private WebSocket v2 (`executions`, subscribed with a
 * `GetWebSocketsToken` token by ccxt's real kraken class against the simulator's Kraken mode), polls REST only while
 * the socket is down, and delivers every fill exactly once across the switches; a token Kraken refuses after a
 * reconnect is replaced by a new one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription, VenueFill, VenueOrder } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import type { UserFeedMode } from '../src/venues/ccxt/user-feed.js';
import { orderTxid, tradeTxid } from '../src/venues/simulator/kraken-format.js';
import { type KrakenSimulatorHandle, startKrakenSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './fixtures/wait.js';

const SYMBOL = 'BTC/USD';
const PAIR = 'XXBTZUSD';
// What the polling path reads; none of it may be requested while the stream is up.
const POLLED = [
  '/0/private/TradesHistory',
  '/0/private/OpenOrders',
  '/0/private/ClosedOrders',
  '/0/private/QueryOrders',
];

interface Rig {
  sim: KrakenSimulatorHandle;
  venue: CcxtVenue;
  fills: VenueFill[];
  orders: VenueOrder[];
  modes: { orders: UserFeedMode[]; fills: UserFeedMode[] };
  errors: Error[];
  subs: Subscription[];
  reads(): Record<string, number>;
}

let rig: Rig | undefined;
afterEach(async () => {
  if (!rig) return;
  for (const s of rig.subs) s.close();
  await rig.venue.close();
  await rig.sim.close();
  rig = undefined;
});

async function start(
  pollIntervalMs: number,
  { timeoutMs = 3_000, userStreamTimeoutMs = 3_000, ignoreSubscribes = false, waitStream = true, latencyMs = 0 } = {},
): Promise<Rig> {
  const sim = await startKrakenSimulator({ seed: 31, tickIntervalMs: 0, nonceWindow: 10_000 });
  sim.ws.ignoreSubscribes = ignoreSubscribes;
  sim.faults.latencyMs = latencyMs;
  const modes: Rig['modes'] = { orders: [], fills: [] };
  const venue = new CcxtVenue({
    exchange: 'kraken',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs,
    userStreamTimeoutMs,
    pollIntervalMs,
    // Market data polled (the Kraken mode serves none over WebSocket); orders and fills streamed.
    disableStreaming: true,
    userStream: true,
    userStreamRetryMs: 20,
    onUserStream: (feed, mode) => modes[feed].push(mode),
  });
  expect(venue.userStreaming).toBe(true);
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
  const reads = () => Object.fromEntries(POLLED.map((p) => [p, sim.requestCount(p)]));
  rig = { sim, venue, fills, orders, modes, errors, subs, reads };
  if (!waitStream) return rig;
  await waitFor('user stream up', () => modes.fills.at(-1) === 'stream' && modes.orders.at(-1) === 'stream');
  expect(errors).toEqual([]);
  expect(sim.ws.subscriptions()).toBe(1);
  return rig;
}

const simTradeIds = (r: Rig) => r.sim.state.trades.map((t) => tradeTxid(t.id)).sort();
const fillIds = (r: Rig) => r.fills.map((f) => f.venueTradeId).sort();
const orderStatus = (r: Rig, venueOrderId: string) => r.orders.filter((o) => o.venueOrderId === venueOrderId).at(-1);
// An order placed behind the adapter's back, straight on the matching core, with a Kraken client id.
const coreOrder = (
  r: Rig,
  cid: string,
  p: { side: 'BUY' | 'SELL'; type: 'MARKET' | 'LIMIT'; quantity: number; price?: number },
) => r.sim.state.placeOrder({ symbol: PAIR, ...p, ...(p.type === 'LIMIT' ? { timeInForce: 'GTC' } : {}) }, cid);

describe('ccxt kraken on the Kraken private WebSocket', () => {
  it('delivers orders, partial fills with their fee in quote, and fills without reading REST orders or trades', async () => {
    // A 10 ms poll period: had anything polled while the stream is up, the counters would move many times.
    const r = await start(10);
    const before = r.reads();
    const mid = r.sim.state.market(PAIR).last;

    // A marketable limit capped at half its quantity: a partial fill, then cancelled behind the adapter's back.
    r.sim.state.pendingPartialFill = 0.5;
    const part = coreOrder(r, 'ws-part', { side: 'BUY', type: 'LIMIT', quantity: 0.02, price: Math.ceil(mid * 1.01) });
    const partId = orderTxid(part.orderId);
    await waitFor(
      'the partial fill',
      () => r.fills.filter((f) => f.venueOrderId === partId).length === part.fills.length,
    );
    const partFills = r.fills.filter((f) => f.venueOrderId === partId);
    expect(partFills.reduce((s, f) => s + f.quantity, 0)).toBeCloseTo(0.01, 10);
    for (const f of partFills) {
      const t = part.fills.find((x) => tradeTxid(x.id) === f.venueTradeId)!;
      expect(f).toMatchObject({ clientOrderId: 'ws-part', side: 'buy', liquidity: 'taker', feeCurrency: 'USD' });
      expect(f.price).toBe(t.price);
      expect(f.fee).toBeCloseTo(t.commission, 8);
      expect(f.fee).toBeGreaterThan(0);
    }
    r.sim.state.cancelOrder(PAIR, part.orderId);
    await waitFor('the cancel', () => orderStatus(r, partId)?.status === 'cancelled');
    expect(orderStatus(r, partId)).toMatchObject({ clientOrderId: 'ws-part', filledQuantity: 0.01, quantity: 0.02 });

    // A resting limit filled by the market moving: the maker fill comes through the stream.
    const price = Math.round((mid - 200) * 10) / 10;
    const resting = coreOrder(r, 'ws-rest', { side: 'BUY', type: 'LIMIT', quantity: 0.01, price });
    const restId = orderTxid(resting.orderId);
    await waitFor('the resting order', () => orderStatus(r, restId) !== undefined);
    expect(orderStatus(r, restId)).toMatchObject({ status: 'accepted', symbol: SYMBOL, type: 'limit', price });
    r.sim.setPrice(PAIR, price - 100);
    await waitFor('the maker fill', () => r.fills.some((f) => f.venueOrderId === restId));
    expect(r.fills.find((f) => f.venueOrderId === restId)).toMatchObject({
      clientOrderId: 'ws-rest',
      price,
      quantity: 0.01,
      liquidity: 'maker',
      feeCurrency: 'USD',
    });
    await waitFor('the filled order', () => orderStatus(r, restId)?.status === 'filled');
    expect(r.reads(), 'REST order/trade reads while the stream was up').toEqual(before);

    // Through the adapter: a placement reads its own state once (QueryOrders); its fill and order come streamed.
    const placed = await r.venue.placeOrder({
      clientOrderId: 'a-client-id-longer-than-18',
      symbol: SYMBOL,
      side: 'sell',
      type: 'market',
      quantity: 0.01,
    });
    await waitFor('the market fill', () => r.fills.some((f) => f.venueOrderId === placed.venueOrderId));
    await waitFor('its filled order', () => orderStatus(r, placed.venueOrderId)?.status === 'filled');
    // Kraken carries our long id as a UUID: the stream gives it back as ours.
    expect(r.fills.find((f) => f.venueOrderId === placed.venueOrderId)?.clientOrderId).toBe(
      'a-client-id-longer-than-18',
    );
    expect(r.reads()).toEqual({ ...before, '/0/private/QueryOrders': before['/0/private/QueryOrders'] + 1 });
    expect(fillIds(r)).toEqual(simTradeIds(r));
    expect(r.errors).toEqual([]);
  });

  it('falls back to polling when the socket dies mid-run and resumes the stream, each fill delivered once', async () => {
    const r = await start(20);
    coreOrder(r, 'ws-a', { side: 'BUY', type: 'MARKET', quantity: 0.01 });
    await waitFor('first fill', () => r.fills.length === r.sim.state.trades.length);
    // The socket dies and new connections are refused; a fill lands in the instant nobody has noticed yet.
    r.sim.faults.refuseWebSockets = true;
    expect(r.sim.faults.dropUserDataStreams()).toBe(1);
    coreOrder(r, 'ws-b', { side: 'SELL', type: 'MARKET', quantity: 0.01 });
    await waitFor('polling', () => r.modes.fills.at(-1) === 'poll' && r.modes.orders.at(-1) === 'poll');
    // Placed through the adapter, so its polling follows the order (a market order is never seen open).
    const during = await r.venue.placeOrder({
      clientOrderId: 'ws-c',
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 0.02,
    });
    await waitFor('fills by polling', () => fillIds(r).join() === simTradeIds(r).join());
    await waitFor('order by polling', () => orderStatus(r, during.venueOrderId)?.status === 'filled');
    expect(r.sim.ws.subscriptions()).toBe(0);
    // The outage ends: the feeds subscribe again by themselves, reconcile and stop polling.
    r.sim.faults.refuseWebSockets = false;
    coreOrder(r, 'ws-d', { side: 'SELL', type: 'MARKET', quantity: 0.01 });
    await waitFor('resumed', () => r.modes.fills.at(-1) === 'stream' && r.modes.orders.at(-1) === 'stream');
    expect(r.sim.ws.subscriptions()).toBe(1);
    const after = coreOrder(r, 'ws-e', { side: 'BUY', type: 'MARKET', quantity: 0.01 });
    await waitFor('fill by stream', () => r.fills.some((f) => f.clientOrderId === 'ws-e'));
    await waitFor('order by stream', () => orderStatus(r, orderTxid(after.orderId))?.status === 'filled');
    // Counted from here: a poll that was under way at the switch has answered by now.
    const afterResume = r.reads();
    const last = coreOrder(r, 'ws-f', { side: 'SELL', type: 'MARKET', quantity: 0.01 });
    await waitFor('the next fill by stream', () => r.fills.some((f) => f.clientOrderId === 'ws-f'));
    await waitFor('its order by stream', () => orderStatus(r, orderTxid(last.orderId))?.status === 'filled');
    expect(r.reads(), 'REST reads after the stream resumed').toEqual(afterResume);
    await waitFor('every fill', () => fillIds(r).join() === simTradeIds(r).join());
    expect(new Set(fillIds(r)).size).toBe(r.fills.length);
  });

  it('asks for a new token when Kraken refuses the cached one after a reconnect', async () => {
    const r = await start(50);
    expect(r.sim.ws.stats).toMatchObject({ tokensIssued: 1, subscribes: 1, refused: 0 });
    // Sixteen minutes on: the token lived while its subscription did; once the socket dies, it is stale. ccxt would
    // reuse it (it keeps a token for 15 minutes of its own clock), Kraken refuses it, the adapter forgets it.
    r.sim.state.clockOffsetMs += 16 * 60_000;
    r.sim.faults.dropUserDataStreams();
    await waitFor('back on the stream', () => r.sim.ws.subscriptions() === 1 && r.modes.fills.at(-1) === 'stream');
    expect(r.sim.ws.stats.refused).toBeGreaterThanOrEqual(1);
    expect(r.sim.ws.stats.tokensIssued).toBe(2);
    coreOrder(r, 'ws-t', { side: 'BUY', type: 'MARKET', quantity: 0.01 });
    await waitFor('a fill on the new subscription', () => r.fills.some((f) => f.clientOrderId === 'ws-t'));
    expect(fillIds(r)).toEqual(simTradeIds(r));
  });

  it('polls while Kraken leaves the subscription unanswered, and streams once it answers', async () => {
    // The subscription's limit is userStreamTimeoutMs, not the REST timeout: with the REST one (10 min here) the
    // unanswered subscribe stayed pending on the old socket and every retry waited on it, so the stream never came back.
    const r = await start(20, {
      timeoutMs: 600_000,
      userStreamTimeoutMs: 300,
      ignoreSubscribes: true,
      waitStream: false,
    });
    // No acknowledgement within the timeout: the connection is closed and the feeds poll meanwhile.
    await waitFor('polling', () => r.modes.fills.at(-1) === 'poll' && r.modes.orders.at(-1) === 'poll');
    expect(r.sim.ws.subscriptions()).toBe(0);
    const polled = coreOrder(r, 'ws-q', { side: 'BUY', type: 'MARKET', quantity: 0.01 });
    await waitFor('the fill by polling', () => r.fills.some((f) => f.venueOrderId === orderTxid(polled.orderId)));
    r.sim.ws.ignoreSubscribes = false;
    await waitFor('the stream', () => r.modes.fills.at(-1) === 'stream' && r.modes.orders.at(-1) === 'stream');
    expect(r.sim.ws.subscriptions()).toBe(1);
    coreOrder(r, 'ws-r', { side: 'SELL', type: 'MARKET', quantity: 0.01 });
    await waitFor('every fill', () => fillIds(r).join() === simTradeIds(r).join());
    expect(new Set(fillIds(r)).size).toBe(r.fills.length);
  });
  it("closes cleanly while the WebSocket token request is out (no unhandled rejection from ccxt's token flight)", async () => {
    // ccxt's kraken registers its token flight as a future and awaits it only after the REST answer; closing the
    // exchange meanwhile rejected that future with nobody listening (an unhandled rejection: a crash in Node).
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on('unhandledRejection', onRejection);
    try {
      // Every request answered 300 ms late: the venue is closed while the token request waits.
      const { sim, venue, subs } = await start(60_000, { waitStream: false, latencyMs: 300 });
      await waitFor('token requested', () => sim.requestCount('/0/private/GetWebSocketsToken') >= 1);
      for (const sub of subs) sub.close();
      await venue.close();
      // Past the token's delayed answer: the flight is settled either way by then.
      await waitFor('the token request answered', () =>
        sim.requests.some((r) => r.path === '/0/private/GetWebSocketsToken' && r.status !== 0),
      );
      await new Promise((r) => setImmediate(r));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
