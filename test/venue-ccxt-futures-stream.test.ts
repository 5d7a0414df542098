/**
 * The ccxt venue in futures mode (ccxt's binanceusdm) reads orders and fills from Binance USDⓈ-M's user-data stream:
 * a listen key from `POST /fapi/v1/listenKey`, one socket on it carrying `ORDER_TRADE_UPDATE` and `ACCOUNT_UPDATE`;
 * REST is polled only while that stream is down (a drop, an expired listen key), and every fill is counted once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription, VenueFill, VenueOrder } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import type { UserFeedMode } from '../src/venues/ccxt/user-feed.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './fixtures/wait.js';

const SYMBOL = 'BTC/USDT';
// What the polling path reads; none of it may be requested while the stream is up.
const POLLED = [
  ['GET', '/fapi/v1/userTrades'],
  ['GET', '/fapi/v1/openOrders'],
  ['GET', '/fapi/v1/order'],
  ['GET', '/fapi/v1/allOrders'],
] as const;

interface Rig {
  sim: SimulatorHandle;
  venue: CcxtVenue;
  fills: VenueFill[];
  orders: VenueOrder[];
  errors: Error[];
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

const streaming = (r: Rig) => r.modes.fills.at(-1) === 'stream' && r.modes.orders.at(-1) === 'stream';
const polling = (r: Rig) => r.modes.fills.at(-1) === 'poll' && r.modes.orders.at(-1) === 'poll';

async function start(pollIntervalMs: number, options?: Record<string, unknown>): Promise<Rig> {
  const sim = await startSimulator({ seed: 21, tickIntervalMs: 0 });
  const modes: Rig['modes'] = { orders: [], fills: [] };
  const venue = new CcxtVenue({
    exchange: 'binanceusdm',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
    pollIntervalMs,
    userStreamRetryMs: 20,
    symbols: [SYMBOL],
    futures: { leverage: 10 },
    ...(options ? { options } : {}),
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
  rig = { sim, venue, fills, orders, errors, modes, subs, polled };
  await waitFor('the futures user stream up', () => streaming(rig!));
  expect(errors).toEqual([]);
  return rig;
}

const market = (r: Rig, side: 'buy' | 'sell', cid: string, reduceOnly = false) =>
  r.venue.placeOrder({
    clientOrderId: cid,
    symbol: SYMBOL,
    side,
    type: 'market',
    quantity: 0.01,
    ...(reduceOnly ? { reduceOnly } : {}),
  });

const simTradeIds = (r: Rig) => r.sim.futures.exchange.trades.map((t) => String(t.id)).sort();
const fillIds = (r: Rig) => r.fills.map((f) => f.venueTradeId).sort();
const filled = (r: Rig, venueOrderId: string) =>
  r.orders.some((o) => o.venueOrderId === venueOrderId && o.status === 'filled');

describe('ccxt futures venue on the user-data stream', () => {
  it('opens one listen key and socket, and delivers fills with commission and orders without polling REST', async () => {
    // A 10 ms poll period: had anything polled while the stream is up, the counters would move many times.
    const r = await start(10);
    const ud = r.sim.futures.userData;
    expect(ud.stats.listenKeysCreated).toBe(1);
    expect(ud.listenKeys()).toHaveLength(1);
    expect(ud.connections()).toBe(1);
    const before = r.polled();
    const open = await market(r, 'buy', 'fus-a');
    await waitFor('the opening fill', () => r.fills.some((f) => f.venueOrderId === open.venueOrderId));
    await waitFor('the filled order', () => filled(r, open.venueOrderId));
    const trade = r.sim.futures.exchange.trades.find((t) => t.orderId === Number(open.venueOrderId))!;
    const fill = r.fills.find((f) => f.venueOrderId === open.venueOrderId)!;
    expect(fill).toMatchObject({
      clientOrderId: 'fus-a',
      symbol: SYMBOL,
      side: 'buy',
      price: trade.price,
      quantity: 0.01,
      fee: trade.commission,
      feeCurrency: 'USDT',
      liquidity: 'taker',
    });
    // Closing it realises P&L on the venue; the fill still comes through the stream only.
    const close = await market(r, 'sell', 'fus-b', true);
    await waitFor('the closing fill', () => r.fills.some((f) => f.venueOrderId === close.venueOrderId));
    await waitFor('the closing order', () => filled(r, close.venueOrderId));
    expect(r.sim.futures.account.position('BTCUSDT').qty).toBe(0);
    expect(r.polled(), 'REST order/trade reads while the stream was up').toBe(before);
    expect(fillIds(r)).toEqual(simTradeIds(r));
    expect(r.errors).toEqual([]);
  });

  it('falls back to polling when the listen key expires, comes back on a new key, each fill counted once', async () => {
    const r = await start(20);
    await market(r, 'buy', 'fus-c');
    await waitFor('first fill', () => r.fills.length === r.sim.futures.exchange.trades.length);
    const ud = r.sim.futures.userData;
    const [key] = ud.listenKeys();
    // An outage of the stream service that lasts, and the key running out meanwhile (`listenKeyExpired`, close).
    r.sim.faults.refuseWebSockets = true;
    expect(ud.expireNow(key)).toBe(true);
    await waitFor('polling', () => polling(r), {
      log: () => JSON.stringify(r.modes) + JSON.stringify(r.sim.requests.slice(-15)),
    });
    const polledBefore = r.polled();
    const during = await market(r, 'buy', 'fus-d');
    await waitFor('fill by polling', () => r.fills.some((f) => f.venueOrderId === during.venueOrderId));
    await waitFor('order by polling', () => filled(r, during.venueOrderId));
    expect(r.polled()).toBeGreaterThan(polledBefore);
    // The outage ends: the feeds take a new listen key and stream again, and stop polling.
    r.sim.faults.refuseWebSockets = false;
    await waitFor('resumed', () => streaming(r), {
      log: () =>
        JSON.stringify(r.modes) + JSON.stringify(r.sim.requests.slice(-15)) + JSON.stringify(r.errors.map(String)),
    });
    expect(ud.stats.expired).toBe(1);
    expect(ud.listenKeys()).toHaveLength(1);
    expect(ud.listenKeys()[0]).not.toBe(key);
    const afterResume = r.polled();
    const after = await market(r, 'sell', 'fus-e', true);
    await waitFor('fill by stream', () => r.fills.some((f) => f.venueOrderId === after.venueOrderId));
    await waitFor('order by stream', () => filled(r, after.venueOrderId));
    expect(r.polled(), 'REST reads after the stream resumed').toBe(afterResume);
    expect(fillIds(r)).toEqual(simTradeIds(r));
    expect(new Set(fillIds(r)).size).toBe(r.fills.length);
  });

  it('keeps the listen key alive with PUT /fapi/v1/listenKey while streaming', async () => {
    // ccxt's refresh period (20 min on Binance) made short through its option.
    const r = await start(10, { listenKeyRefreshRate: 50 });
    const ud = r.sim.futures.userData;
    await waitFor('keepalives', () => ud.stats.keepalives >= 3, {
      log: () => JSON.stringify({ stats: ud.stats, requests: r.sim.requests.slice(-10) }),
    });
    expect(r.sim.requestCount('PUT', '/fapi/v1/listenKey')).toBeGreaterThanOrEqual(3);
    // Still the one key, and the stream never left.
    expect(ud.listenKeys()).toHaveLength(1);
    expect(r.modes.fills).toEqual(['stream']);
  });

  it('reconciles over REST after a dropped socket: a fill made while nothing listened is delivered once', async () => {
    // Polling so slow it never runs again during the test: only the reconciliation can find the fill.
    const r = await start(600_000);
    r.sim.faults.refuseWebSockets = true;
    expect(r.sim.faults.dropUserDataStreams()).toBe(1);
    await waitFor('polling', () => r.modes.fills.at(-1) === 'poll');
    const answered = () => r.sim.requests.filter((q) => q.path === '/fapi/v1/userTrades' && q.status === 200).length;
    await waitFor('first fallback poll', () => answered() >= 1);
    const reads = answered();
    const o = r.sim.futures.exchange.placeOrder(
      { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: 0.01 },
      'fus-f',
    );
    expect(o.status).toBe('FILLED');
    expect(answered()).toBe(reads);
    r.sim.faults.refuseWebSockets = false;
    await waitFor('resumed', () => r.modes.fills.at(-1) === 'stream');
    await waitFor('reconciled fill', () => r.fills.some((f) => f.venueOrderId === String(o.orderId)));
    expect(fillIds(r)).toEqual(simTradeIds(r));
  });
});
