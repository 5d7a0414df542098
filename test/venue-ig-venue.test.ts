/**
 * The IG adapter against the IG simulator on loopback, beyond the conformance suite: sessions that expire or are
 * invalidated over the weekend, IG's 403 allowance refusals, rounding to the dealing rules, a broker-side stop on
 * every position, the free-margin floor, a stop hit seen by polling, and a restart that reconciles positions.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VenueError } from '../src/core/errors.js';
import type { VenueFill } from '../src/core/venue.js';
import { IgClient, type IgClientOptions } from '../src/venues/ig/client.js';
import { IgVenue, type IgVenueOptions } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';

const EPIC = 'CS.D.EURUSD.CFD.IP';
const SYMBOL = 'EUR/USD';
// One simulated clock for the simulator (allowance windows, token expiry) and the client (budgets, back-off).
let clock = Date.UTC(2026, 0, 5, 9);
const sim = new IgSimulator({
  accounts: [{ accountId: 'ABC123', balance: 50_000 }],
  allowances: { accountTrading: 100, accountOverall: 1_000 },
  accessTokenSeconds: 60,
  now: () => clock,
});
let baseUrl = '';
beforeAll(async () => {
  baseUrl = await sim.start();
});
afterAll(() => sim.stop());
const venues: IgVenue[] = [];
afterEach(async () => {
  for (const v of venues.splice(0)) await v.close();
  sim.positions.splice(0);
  sim.workingOrders.splice(0);
  clock += 61_000; // fresh allowance windows
});

let seq = 0;
const cid = (tag: string) => `t${tag}${(seq++).toString(36)}`;

function makeVenue(over: Partial<IgVenueOptions> = {}, client: Partial<IgClientOptions> = {}) {
  const alerts: string[] = [];
  const c = new IgClient({
    baseUrl,
    apiKey: sim.apiKey,
    identifier: sim.identifier,
    password: sim.password,
    nonTradingPerMinute: 1_000,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    onAlert: (m) => alerts.push(m),
    ...client,
  });
  const venue = new IgVenue({
    client: c,
    markets: { [SYMBOL]: EPIC },
    stop: { kind: 'normal', distance: 20 },
    pollIntervalMs: 20,
    onAlert: (m) => alerts.push(m),
    ...over,
  });
  venues.push(venue);
  return { venue, client: c, alerts };
}

async function rejection(p: Promise<unknown>): Promise<VenueError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VenueError);
  return err as VenueError;
}

const buy = (venue: IgVenue, quantity: number, tag = 'b') =>
  venue.placeOrder({ clientOrderId: cid(tag), symbol: SYMBOL, side: 'buy', type: 'market', quantity });

describe('IgVenue against the IG simulator', () => {
  it('v2: keeps trading after IG invalidates the session over the weekend (one re-login)', async () => {
    const { venue, client } = await (async () => {
      const v = makeVenue();
      await v.venue.connect();
      return v;
    })();
    expect(client.logins).toBe(1);
    await buy(venue, 1);
    sim.invalidateSessions();
    const o = await buy(venue, 1);
    expect(o.status).toBe('filled');
    expect(client.logins).toBe(2);
    expect((await venue.fetchPositions())[0].quantity).toBeCloseTo(2, 10);
  });

  it('v3: refreshes the OAuth token before expiry and logs in again when the refresh token is gone', async () => {
    const { venue, client } = makeVenue({}, { sessionVersion: 3 });
    await venue.connect();
    clock += 58_000;
    await venue.fetchBalances();
    expect(client.logins).toBe(1);
    expect(sim.log).toContain('POST /session/refresh-token v1');
    clock += 120_000; // access and refresh token both expired
    sim.invalidateSessions();
    const [b] = await venue.fetchBalances();
    expect(b.asset).toBe('USD');
    expect(client.logins).toBe(2);
  });

  it('a 403 exceeded-allowance backs off a minute without sending, alerts, and trades again after it', async () => {
    const { venue, alerts } = makeVenue();
    await venue.connect();
    sim.failNext(403, 'error.public-api.exceeded-account-trading-allowance');
    const first = await rejection(buy(venue, 1));
    expect(first.retryable).toBe(true);
    expect(first.code).toBe('VENUE_RATE_LIMIT');
    expect(first.retryAfterMs).toBe(60_000);
    expect(alerts.some((a) => /exceeded-account-trading-allowance.*paused for 60 s/.test(a))).toBe(true);
    const sent = sim.log.filter((l) => l.startsWith('POST /positions/otc')).length;
    const again = await rejection(buy(venue, 1));
    expect(again.retryable).toBe(true);
    expect(again.message).toMatch(/backing off/);
    expect(sim.log.filter((l) => l.startsWith('POST /positions/otc')).length).toBe(sent);
    clock += 60_001;
    expect((await buy(venue, 1)).status).toBe('filled');
  });

  it('rounds sizes and prices to the dealing rules and refuses what breaks them before sending', async () => {
    const { venue } = makeVenue();
    await venue.connect();
    const [inst] = await venue.fetchInstruments();
    expect(inst).toMatchObject({ symbol: SYMBOL, tickSize: 0.1, lotSize: 0.1, minQty: 0.5, marginRate: 0.0333 });
    const o = await buy(venue, 1.27);
    expect(o.filledQuantity).toBeCloseTo(1.2, 10);
    expect(sim.positions[0].size).toBeCloseTo(1.2, 10);
    const limit = await venue.placeOrder({
      clientOrderId: cid('l'),
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      quantity: 0.66,
      price: 10_500.04,
    });
    expect(limit.price).toBe(10_500);
    expect(sim.workingOrders[0]).toMatchObject({ orderLevel: 10_500, orderSize: 0.6 });
    const sent = sim.log.length;
    const small = await rejection(buy(venue, 0.4));
    expect(small.code).toBe('VENUE_INVALID_ORDER');
    expect(small.message).toMatch(/below the minimum deal size 0.5/);
    expect(sim.log.slice(sent).filter((l) => l.includes('/otc'))).toEqual([]);
    // A stop policy the market cannot take fails at connect, naming the rule.
    const tight = makeVenue({ stop: { kind: 'normal', distance: 1 } });
    expect((await rejection(tight.venue.connect())).message).toMatch(/stop distance 1 is below the minimum 2/);
    const noGuarantee = new IgSimulator({
      markets: [
        {
          epic: EPIC,
          name: 'EUR/USD',
          bid: 11_000.2,
          offer: 11_000.8,
          decimals: 1,
          minDealSize: 0.5,
          minStopDistance: 2,
          minGuaranteedStopDistance: 10,
          maxStopDistance: 5_000,
          controlledRiskAllowed: false,
        },
      ],
    });
    const url = await noGuarantee.start();
    try {
      const c = new IgClient({ baseUrl: url, apiKey: 'sim-api-key', identifier: 'trader', password: 'secret' });
      const v = new IgVenue({ client: c, markets: { [SYMBOL]: EPIC }, stop: { kind: 'guaranteed', distance: 20 } });
      expect((await rejection(v.connect())).message).toMatch(/guaranteed stops are not allowed/);
    } finally {
      await noGuarantee.stop();
    }
  });

  it('puts a broker-side stop on every position it opens: normal, trailing with its increment, guaranteed', async () => {
    const normal = makeVenue();
    await normal.venue.connect();
    await buy(normal.venue, 1);
    // A sell larger than the long closes it and opens a short with the rest: that short gets a stop too.
    await normal.venue.placeOrder({
      clientOrderId: cid('s'),
      symbol: SYMBOL,
      side: 'sell',
      type: 'market',
      quantity: 1.5,
    });
    expect(sim.positions.map((p) => [p.direction, p.size])).toEqual([['SELL', 0.5]]);
    expect(sim.positions[0].stopLevel).toBeCloseTo(11_000.2 + 20, 6);
    const trailing = makeVenue({ stop: { kind: 'trailing', distance: 15, increment: 2 } });
    await trailing.venue.connect();
    await buy(trailing.venue, 3); // closes the 0.5 short, opens 2.5 long
    const long = sim.positions.find((p) => p.direction === 'BUY');
    expect(long).toMatchObject({ size: 2.5, trailingStopDistance: 15, trailingStep: 2, stopLevel: 11_000.8 - 15 });
    const guaranteed = makeVenue({ stop: { kind: 'guaranteed', distance: 12 } });
    await guaranteed.venue.connect();
    await guaranteed.venue.placeOrder({
      clientOrderId: cid('g'),
      symbol: SYMBOL,
      side: 'buy',
      type: 'stop',
      quantity: 1,
      stopPrice: 11_500,
    });
    expect(sim.workingOrders.at(-1)).toMatchObject({ stopDistance: 12, guaranteedStop: true });
    await buy(guaranteed.venue, 1);
    expect(sim.positions.at(-1)).toMatchObject({ controlledRisk: true, stopLevel: 11_000.8 - 12 });
    for (const p of sim.positions) expect(p.stopLevel, p.dealId).not.toBeNull();
  });

  it('a deal whose answer was lost is settled by the next lookup and never sent twice', async () => {
    const { venue, alerts } = makeVenue();
    await venue.connect();
    // The open: IG deals, the answer never arrives; the lookup finds the deal by its reference.
    sim.dropNextAnswer('POST', '/positions/otc');
    const req = {
      clientOrderId: cid('lost'),
      symbol: SYMBOL,
      side: 'buy' as const,
      type: 'market' as const,
      quantity: 2,
    };
    expect((await rejection(venue.placeOrder(req))).retryable).toBe(true);
    expect(await venue.fetchOrder({ symbol: SYMBOL, clientOrderId: req.clientOrderId })).toMatchObject({
      status: 'filled',
      filledQuantity: 2,
      averagePrice: 11_000.8,
    });
    expect((await venue.placeOrder(req)).status).toBe('filled');
    expect(sim.positions.map((p) => p.size)).toEqual([2]);
    // A netting sell of 3: the close of the long deals but its answer is lost, so the open of the rest never goes.
    sim.dropNextAnswer('DELETE', '/positions/otc');
    const sell = { ...req, clientOrderId: cid('lost'), side: 'sell' as const, quantity: 3 };
    expect((await rejection(venue.placeOrder(sell))).retryable).toBe(true);
    const settled = await venue.fetchOrder({ symbol: SYMBOL, clientOrderId: sell.clientOrderId });
    expect(settled).toMatchObject({ status: 'expired', filledQuantity: 2, averagePrice: 11_000.2 });
    // IG's numbers read as their decimals, the average an exact division (docs/money.md).
    expect(settled?.exact).toEqual({ filledQuantity: '2', averagePrice: '11000.2' });
    expect(alerts.some((a) => a.includes('answer to closing 2') && a.includes('was lost'))).toBe(true);
    expect((await venue.placeOrder(sell)).status).toBe('expired'); // no second close, no short opened
    expect(sim.positions).toEqual([]);
    const fills = (await venue.fetchFills(SYMBOL)).filter((f) => f.clientOrderId === sell.clientOrderId);
    expect(fills.map((f) => [f.side, f.quantity, f.price])).toEqual([['sell', 2, 11_000.2]]);
    expect(fills[0].exact).toEqual({ price: '11000.2', quantity: '2', fee: '0' });
    // Nothing dealt (refused before the answer could be lost): forgotten, so placing again is safe.
    sim.failNext(503, 'error.sim.unavailable');
    const lonely = { ...req, clientOrderId: cid('lost'), quantity: 1 };
    expect((await rejection(venue.placeOrder(lonely))).retryable).toBe(true);
    expect(await venue.fetchOrder({ symbol: SYMBOL, clientOrderId: lonely.clientOrderId })).toBeNull();
  });

  it('price history: alerts when the weekly allowance runs low; exhausted, it stops only price history', async () => {
    const { venue, alerts } = makeVenue();
    await venue.connect();
    sim.historicalAllowance = 1_000;
    const bars = await venue.fetchCandles(SYMBOL, '1m', undefined, 20);
    expect(bars).toHaveLength(20);
    expect(alerts.some((a) => /historical-data allowance low: 980 of 10000 points left/.test(a))).toBe(true);
    sim.historicalAllowance = 5;
    const err = await rejection(venue.fetchCandles(SYMBOL, '1m', undefined, 20));
    expect(err).toMatchObject({ retryable: true, code: 'VENUE_RATE_LIMIT' });
    expect(alerts.some((a) => /exceeded-account-historical-data-allowance; history requests paused/.test(a))).toBe(
      true,
    );
    const sent = sim.log.filter((l) => l.startsWith('GET /prices')).length;
    expect((await rejection(venue.fetchCandles(SYMBOL, '1m', undefined, 2))).message).toMatch(/no price history/);
    expect(sim.log.filter((l) => l.startsWith('GET /prices')).length).toBe(sent);
    // Everything else carries on.
    expect((await venue.fetchTicker(SYMBOL)).bid).toBe(11_000.2);
    expect((await buy(venue, 1)).status).toBe('filled');
    sim.historicalAllowance = 10_000;
  });

  it('refuses an opening deal that would take free margin below the floor, sending nothing', async () => {
    const { venue } = makeVenue({ marginFloor: 0.5 });
    await venue.connect();
    const [b] = await venue.fetchBalances();
    // Margin of 0.6 x equity would leave 40% free: below the 50% floor.
    const quantity = Math.floor(((b.total * 0.6) / (11_000.8 * 0.0333)) * 10) / 10;
    const sent = sim.log.filter((l) => l.startsWith('POST /positions/otc')).length;
    const err = await rejection(buy(venue, quantity));
    expect(err.code).toBe('VENUE_INSUFFICIENT_FUNDS');
    expect(err.message).toMatch(/below the floor of 50.0%/);
    expect(sim.log.filter((l) => l.startsWith('POST /positions/otc')).length).toBe(sent);
    expect((await buy(venue, 1)).status).toBe('filled');
  });

  it('reports a position IG closed at its stop as a fill, with an alert (position polling)', async () => {
    const { venue, alerts } = makeVenue();
    await venue.connect();
    const o = await buy(venue, 2);
    // The engine's own protective stop for the long: it closes the position (nets), so it takes no stop of its own.
    const guard = await venue.placeOrder({
      clientOrderId: cid('ps'),
      symbol: SYMBOL,
      side: 'sell',
      type: 'stop',
      quantity: 2,
      stopPrice: 10_900,
    });
    expect(sim.workingOrders.find((w) => w.dealId === guard.venueOrderId)).toMatchObject({
      direction: 'SELL',
      forceOpen: false,
      stopDistance: null,
    });
    const fills: VenueFill[] = [];
    const polled = () => sim.log.filter((l) => l === 'GET /positions v2').length;
    const before = polled();
    const sub = venue.watchFills((f) => fills.push(f));
    try {
      // Let the poller take its starting point (it includes the position), then IG stops the position out.
      await until(() => polled() >= before + 2);
      const dealId = sim.positions[0].dealId;
      const stop = sim.positions[0].stopLevel as number;
      expect(sim.hitStop(dealId)).toBe(true);
      await until(() => fills.some((f) => f.side === 'sell'));
      const f = fills.find((x) => x.side === 'sell') as VenueFill;
      expect(f).toMatchObject({ symbol: SYMBOL, price: stop, venueOrderId: `position:${dealId}` });
      // IG's fill, not the opening order's: no client order id that would book it as that order's buy.
      expect(f.clientOrderId).toBeUndefined();
      expect(f.clientOrderId).not.toBe(o.clientOrderId);
      // The same deal, by IG's reference, in the activity history: one fill, whichever way it is read.
      const listed = (await venue.fetchFills(SYMBOL, o.createdAt)).filter((x) => x.side === 'sell');
      expect(listed.map((x) => x.venueTradeId)).toEqual([f.venueTradeId]);
      expect(f.quantity).toBeCloseTo(2, 10);
      expect(alerts.some((a) => a.includes(`position ${dealId}`) && a.includes('stop or limit hit'))).toBe(true);
      expect(await venue.fetchPositions()).toEqual([]);
      // With the long gone, that sell stop would open a short if it triggered: it is cancelled, with an alert.
      await until(() => sim.workingOrders.length === 0);
      expect((await venue.fetchOrder({ symbol: SYMBOL, clientOrderId: guard.clientOrderId }))?.status).toBe(
        'cancelled',
      );
      expect(alerts.some((a) => a.includes(guard.clientOrderId) && a.includes('no position left to close'))).toBe(true);
    } finally {
      sub.close();
    }
  });

  it('a restart reconciles: positions and orders are found by deal reference, a stopless position gets a stop', async () => {
    const first = makeVenue();
    await first.venue.connect();
    const a = await buy(first.venue, 1);
    const w = await first.venue.placeOrder({
      clientOrderId: cid('w'),
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      quantity: 1,
      price: 10_000,
    });
    await first.venue.close();
    // A position opened elsewhere (the IG platform) without a stop.
    sim.positions.push({
      dealId: 'DIMANUAL1',
      dealReference: 'manual',
      epic: EPIC,
      direction: 'BUY',
      size: 2,
      level: 11_000.8,
      stopLevel: null,
      limitLevel: null,
      controlledRisk: false,
      trailingStopDistance: null,
      trailingStep: null,
      createdDateUTC: new Date(clock).toISOString().slice(0, 23),
    });
    // A start where IG refuses the stop (e.g. the market is closed) still starts, and says the position has none.
    const refused = makeVenue();
    sim.failNext(400, 'error.service.market-closed', { method: 'PUT', path: '/positions/otc/' });
    await refused.venue.connect();
    expect(refused.alerts.some((m) => m.includes('DIMANUAL1') && m.includes('has NO broker-side stop'))).toBe(true);
    expect(sim.positions.find((p) => p.dealId === 'DIMANUAL1')?.stopLevel).toBeNull();
    await refused.venue.close();
    const second = makeVenue();
    await second.venue.connect();
    expect(second.alerts.some((m) => m.includes('DIMANUAL1') && m.includes('had no broker-side stop'))).toBe(true);
    for (const p of await second.venue.igPositions()) expect(p.position.stopLevel, p.position.dealId).not.toBeNull();
    expect(sim.positions.find((p) => p.dealId === 'DIMANUAL1')?.stopLevel).toBe(11_000.2 - 20);
    expect((await second.venue.fetchPositions())[0].quantity).toBeCloseTo(3, 10);
    // The earlier process's deal is a fill here too, from IG's activity history, under the same ids.
    const earlier = (await second.venue.fetchFills(SYMBOL, a.createdAt)).filter(
      (f) => f.venueOrderId === a.venueOrderId,
    );
    expect(earlier.map((f) => [f.clientOrderId, f.side, f.quantity, f.price])).toEqual([
      [a.clientOrderId, 'buy', 1, 11_000.8],
    ]);
    const found = await second.venue.fetchOrder({ symbol: SYMBOL, clientOrderId: a.clientOrderId });
    expect(found).toMatchObject({ status: 'filled', filledQuantity: 1, venueOrderId: a.venueOrderId });
    const resting = await second.venue.fetchOrder({ symbol: SYMBOL, clientOrderId: w.clientOrderId });
    expect(resting).toMatchObject({ status: 'accepted', venueOrderId: w.venueOrderId, price: 10_000 });
    expect((await second.venue.fetchOpenOrders(SYMBOL)).map((o) => o.clientOrderId)).toEqual([w.clientOrderId]);
    // Placing the filled order again is no second deal.
    const again = await second.venue.placeOrder({
      clientOrderId: a.clientOrderId,
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 1,
    });
    expect(again.venueOrderId).toBe(a.venueOrderId);
    expect(sim.positions).toHaveLength(2);
  });
});

// Waits for a condition the venue's pollers make true (a hang guard, not a clock budget).
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !check(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
