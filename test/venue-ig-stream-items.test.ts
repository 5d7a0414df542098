/**
 * IG's ACCOUNT and CHART streaming items through Lightstreamer's own Node client, against the IG simulator's stub:
 * account figures (and their change after a deal or a stop hit) reach the venue without a REST `/accounts` read;
 * candles close from the CHART item (a 1m bar on IG's 1-minute candles, a 15m bar assembled from three 5-minute
 * ones) with no price-history read, each equal to the bar REST price history gives for the same period; a stream
 * that drops raises an alert and the venue polls REST at the full rate until it is back; and the ACCOUNT and CHART
 * subscriptions count towards IG's 40.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bar } from '../src/core/bar.js';
import { IgClient } from '../src/venues/ig/client.js';
import { IgVenue, type IgVenueOptions } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';
import { IG_MAX_SUBSCRIPTIONS } from '../src/venues/ig/stream.js';
import { waitFor } from './fixtures/wait.js';

const EPIC = 'CS.D.EURUSD.CFD.IP';
const SYMBOL = 'EUR/USD';
// The simulator's clock runs `shift` ms ahead of ours: a test ends a candle by moving it past the candle's end.
let shift = 0;
const simNow = () => Date.now() + shift;
const sim = new IgSimulator({
  accounts: [{ accountId: 'ABC123', balance: 50_000 }],
  allowances: { accountTrading: 1_000, accountOverall: 10_000 },
  now: simNow,
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
  sim.streaming.refuseConnections = false;
  sim.streaming.sendSnapshots = true;
});

// Polling so slow that within a test only the stream can deliver.
const SLOW_MS = 600_000;
const count = (prefix: string) => sim.log.filter((l) => l.startsWith(prefix)).length;
const subscribed = (item: string) => sim.streaming.controls.some((c) => c.LS_op === 'add' && c.LS_group === item);

/** Moves the simulator's clock to `ms` past the next multiple of `stepMs`. */
function advanceTo(stepMs: number, ms = 5): void {
  const now = simNow();
  shift += stepMs - (now % stepMs) + ms;
}

function makeVenue(over: Partial<IgVenueOptions> = {}) {
  const alerts: string[] = [];
  const client = new IgClient({
    baseUrl,
    apiKey: sim.apiKey,
    identifier: sim.identifier,
    password: sim.password,
    nonTradingPerMinute: 10_000,
  });
  const venue = new IgVenue({
    client,
    markets: { [SYMBOL]: EPIC },
    stop: { kind: 'normal', distance: 20 },
    streaming: true,
    pollIntervalMs: SLOW_MS,
    streamPollIntervalMs: SLOW_MS,
    onAlert: (m) => alerts.push(m),
    ...over,
  });
  venues.push(venue);
  return { venue, client, alerts };
}

/** The bar REST price history gives for the period starting at `time`. */
async function restBar(client: IgClient, resolution: string, time: number): Promise<Bar | undefined> {
  return (await client.prices(EPIC, resolution, 5)).find((b) => b.time === time);
}

describe('IG ACCOUNT item', () => {
  it('streams the account figures: the same as REST /accounts, with no REST read while streaming', async () => {
    const { venue, client } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    await waitFor('the ACCOUNT figures', () => venue.accountStreamed);
    const reads = count('GET /accounts');
    const [b] = await venue.fetchBalances();
    expect(b).toMatchObject({ asset: 'USD', free: 50_000, used: 0, total: 50_000 });
    expect(count('GET /accounts')).toBe(reads);
    // A price move with no position changes nothing; the figures still match REST's.
    const [rest] = await client.accounts();
    expect(b).toEqual({
      asset: 'USD',
      free: rest?.balance.available,
      used: rest?.balance.deposit,
      total: (rest?.balance.available ?? 0) + (rest?.balance.deposit ?? 0),
    });
  });

  it('sees the margin of a deal and the margin a stop hit released through the stream', async () => {
    const { venue } = makeVenue();
    await venue.connect();
    await waitFor('the ACCOUNT figures', () => venue.accountStreamed);
    const order = await venue.placeOrder({
      clientOrderId: `a${Date.now().toString(36)}`,
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 2,
    });
    expect(order.status).toBe('filled');
    const reads = count('GET /accounts');
    // The market moves: IG streams the account's P&L, and with it the figures that follow the deal.
    sim.setPrice(EPIC, 11_010.2, 11_010.8);
    const margin = 2 * 11_000.8 * 0.0333;
    const pnl = 2 * (11_010.2 - 11_000.8);
    await waitFor(
      'the figures after the price move',
      async () =>
        venue.accountStreamed &&
        Math.abs(((await venue.fetchBalances())[0]?.free ?? 0) - (50_000 + pnl - margin)) < 1e-6,
    );
    const [b] = await venue.fetchBalances();
    expect(b?.used).toBeCloseTo(margin, 6);
    expect(b?.free).toBeCloseTo(50_000 + pnl - margin, 6);
    expect(count('GET /accounts')).toBe(reads);
    // IG closes the position at its stop: the TRADE item's OPU, then the ACCOUNT item with the margin released.
    const dealId = sim.positions[0]?.dealId as string;
    expect(sim.hitStop(dealId)).toBe(true);
    await waitFor(
      'the margin released',
      async () => venue.accountStreamed && (await venue.fetchBalances())[0]?.used === 0,
    );
    expect(count('GET /accounts')).toBe(reads);
    const [after] = await venue.fetchBalances();
    expect(after?.free).toBeCloseTo(50_000 - 20 * 2, 6);
  });

  it('refuses a deal below the free-margin floor on the streamed figures, with no REST account read', async () => {
    const { venue } = makeVenue({ marginFloor: 0.99 });
    await venue.connect();
    await waitFor('the ACCOUNT figures', () => venue.accountStreamed);
    const reads = count('GET /accounts');
    const deals = count('POST /positions/otc');
    const err = await venue
      .placeOrder({
        clientOrderId: `f${Date.now().toString(36)}`,
        symbol: SYMBOL,
        side: 'buy',
        type: 'market',
        quantity: 20,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: 'VENUE_INSUFFICIENT_FUNDS' });
    expect(count('GET /accounts')).toBe(reads);
    expect(count('POST /positions/otc')).toBe(deals);
  });
});

describe('IG ACCOUNT safety net', () => {
  it('reads REST /accounts when the ACCOUNT item has been silent for the safety-net period', async () => {
    const { venue } = makeVenue({ streamPollIntervalMs: 300 });
    await venue.connect();
    await waitFor('the ACCOUNT figures', () => venue.accountStreamed);
    const reads = count('GET /accounts');
    // A change the stream does not carry (the simulator publishes nothing for it): only the REST read can see it.
    const account = sim.accounts[0] as { balance: number };
    account.balance += 1_000;
    try {
      await waitFor(
        'the safety-net read',
        async () =>
          count('GET /accounts') > reads &&
          venue.accountStreamed &&
          (await venue.fetchBalances())[0]?.total === account.balance,
      );
    } finally {
      account.balance -= 1_000;
    }
  });
});

describe('IG CHART item', () => {
  it('closes 1m bars from the 1-minute candles (CONS_END) with no price-history read, equal to REST', async () => {
    // A fresh minute opening at a known quote.
    sim.setPrice(EPIC, 11_000.2, 11_000.8);
    advanceTo(60_000);
    const { venue, client } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const closed: Bar[] = [];
    const forming: Bar[] = [];
    const histories = count('GET /prices');
    const sub = venue.watchCandles(SYMBOL, '1m', (b, isClosed) => (isClosed ? closed : forming).push(b));
    await waitFor('the CHART item subscribed', () => subscribed(`CHART:${EPIC}:1MINUTE`));
    await waitFor('the forming candle (snapshot)', () => forming.length > 0);
    const minute = Math.floor(simNow() / 60_000) * 60_000;
    for (const [bid, offer] of [
      [11_004.2, 11_004.8],
      [10_996.1, 10_996.7],
      [11_001.5, 11_002.1],
    ] as const)
      sim.setPrice(EPIC, bid, offer);
    await waitFor('the last tick in the forming bar', () => Math.abs((forming.at(-1)?.close ?? 0) - 11_001.8) < 1e-6);
    advanceTo(60_000);
    await waitFor('the bar closed by IG', () => closed.length > 0, { log: () => JSON.stringify({ closed, forming }) });
    expect(count('GET /prices')).toBe(histories);
    const bar = closed[0] as Bar;
    expect(bar.time).toBe(minute);
    expect(bar.open).toBeCloseTo(11_000.5, 9);
    expect(bar.high).toBeCloseTo(11_004.5, 9);
    expect(bar.low).toBeCloseTo(10_996.4, 9);
    expect(bar.close).toBeCloseTo(11_001.8, 9);
    expect(bar.volume).toBe(3);
    expect(await restBar(client, 'MINUTE', minute)).toEqual(bar);
    sub.close();
  });

  it('assembles a 15m bar from three 5-minute candles, equal to REST, with no price-history read', async () => {
    advanceTo(900_000, 1_000);
    const { venue, client } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const closed: Bar[] = [];
    const histories = count('GET /prices');
    const quarter = Math.floor(simNow() / 900_000) * 900_000;
    let formed = 0;
    const sub = venue.watchCandles(SYMBOL, '15m', (b, isClosed) => {
      if (isClosed) closed.push(b);
      else formed++;
    });
    await waitFor('the forming candle (snapshot)', () => formed > 0);
    for (const [bid, offer] of [
      [11_020.2, 11_020.8],
      [10_990.2, 10_990.8],
      [11_005.2, 11_005.8],
    ] as const) {
      sim.setPrice(EPIC, bid, offer);
      const seen = formed;
      await waitFor('the tick streamed', () => formed > seen);
      advanceTo(300_000);
    }
    await waitFor('the 15m bar closed', () => closed.length > 0, { log: () => JSON.stringify({ closed, formed }) });
    expect(count('GET /prices')).toBe(histories);
    const bar = closed[0] as Bar;
    expect(bar.time).toBe(quarter);
    expect(bar.high).toBeCloseTo(11_020.5, 9);
    expect(bar.low).toBeCloseTo(10_990.5, 9);
    expect(bar.close).toBeCloseTo(11_005.5, 9);
    expect(await restBar(client, 'MINUTE_15', quarter)).toEqual(bar);
    sub.close();
  });
});

describe('IG CHART item, a bar seen in part', () => {
  it('reads a 15m bar begun before the subscription from REST once, when it closes', async () => {
    // Five minutes into a quarter: the bar's first 5-minute candle is never streamed to this subscriber.
    advanceTo(900_000, 1_000);
    const quarter = Math.floor(simNow() / 900_000) * 900_000;
    advanceTo(300_000);
    const { venue, client } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const closed: Bar[] = [];
    let formed = 0;
    const sub = venue.watchCandles(SYMBOL, '15m', (b, isClosed) => {
      if (isClosed) closed.push(b);
      else formed++;
    });
    await waitFor('the forming candle (snapshot)', () => formed > 0);
    const histories = count('GET /prices');
    sim.setPrice(EPIC, 11_031.2, 11_031.8);
    advanceTo(900_000);
    await waitFor('the 15m bar closed', () => closed.length > 0, { log: () => JSON.stringify({ closed, formed }) });
    expect(count('GET /prices')).toBe(histories + 1);
    expect(closed[0]?.time).toBe(quarter);
    expect(closed[0]).toEqual(await restBar(client, 'MINUTE_15', quarter));
    sub.close();
  });
});

describe('IG CHART item in a quiet market', () => {
  it('delivers the forming bar again every poll period while the item is active, with no request', async () => {
    const { venue } = makeVenue({ pollIntervalMs: 50 });
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const forming: Bar[] = [];
    const sub = venue.watchCandles(SYMBOL, '1m', (b, isClosed) => {
      if (!isClosed) forming.push(b);
    });
    await waitFor('the CHART item active', () => venue.streamLive && forming.length > 0);
    const histories = count('GET /prices');
    const seen = forming.length;
    // No tick: only the poller's repeat of the streamed bar can arrive (the runtime's stale check sees data).
    await waitFor('the forming bar repeated', () => forming.length >= seen + 3);
    expect(count('GET /prices')).toBe(histories);
    sub.close();
  });
});

describe('IG stream dropping', () => {
  it('alerts and polls REST at the full rate while the stream is down, then streams again', async () => {
    const { venue, client, alerts } = makeVenue({ pollIntervalMs: 50 });
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const closed: Bar[] = [];
    let formed = 0;
    let lastForming: Bar | undefined;
    const sub = venue.watchCandles(SYMBOL, '1m', (b, isClosed) => {
      if (isClosed) closed.push(b);
      else {
        formed++;
        lastForming = b;
      }
    });
    await waitFor('the CHART item active', () => venue.streamLive && formed > 0);
    // A position with its margin, in the streamed figures.
    await venue.placeOrder({
      clientOrderId: `d${Date.now().toString(36)}`,
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 1,
    });
    sim.setPrice(EPIC, 11_006.2, 11_006.8);
    await waitFor(
      'the ACCOUNT figures with the margin',
      async () => venue.accountStreamed && ((await venue.fetchBalances())[0]?.used ?? 0) > 0,
    );
    const histories = count('GET /prices');
    const accountReads = count('GET /accounts');
    await venue.fetchBalances();
    expect(count('GET /accounts')).toBe(accountReads);

    // An outage that lasts: the stub cuts every stream and refuses new ones.
    sim.streaming.refuseConnections = true;
    sim.streaming.dropAll();
    await waitFor('the drop alerted', () => alerts.some((a) => /IG stream down/.test(a)), {
      log: () => alerts.join('\n'),
    });
    expect(venue.streamLive).toBe(false);
    expect(venue.accountStreamed).toBe(false);
    // Price history is polled again, and balances are read over REST.
    await waitFor('price history polled', () => count('GET /prices') > histories + 2);
    await venue.fetchBalances();
    expect(count('GET /accounts')).toBeGreaterThan(accountReads);
    // A bar closes while the stream is down: REST brings it.
    sim.setPrice(EPIC, 11_007.2, 11_007.8);
    const minute = Math.floor(simNow() / 60_000) * 60_000;
    advanceTo(60_000);
    await waitFor('the bar closed over REST', () => closed.some((b) => b.time === minute));
    expect(closed.find((b) => b.time === minute)).toEqual(await restBar(client, 'MINUTE', minute));

    // IG stops the position out while the stream is down (no OPU reaches the venue), and is back without sending
    // snapshots: the figures held from before the drop (with the margin) must not be read as now.
    expect(sim.hitStop(sim.positions[0]?.dealId as string)).toBe(true);
    sim.streaming.sendSnapshots = false;
    sim.streaming.refuseConnections = false;
    await waitFor('the stream live again', () => venue.streamLive, { log: () => alerts.join('\n') });
    expect(venue.accountStreamed).toBe(false);
    expect((await venue.fetchBalances())[0]?.used).toBe(0);
    sim.setPrice(EPIC, 11_008.2, 11_008.8);
    await waitFor('a streamed candle again', () => Math.abs((lastForming?.close ?? 0) - 11_008.5) < 1e-6);
    await waitFor('the ACCOUNT figures again', () => venue.accountStreamed);
    const reads = count('GET /prices');
    const next = Math.floor(simNow() / 60_000) * 60_000;
    advanceTo(60_000);
    await waitFor('the next bar closed by IG', () => closed.some((b) => b.time === next));
    // At most the one read made on resubscribing (a bar could have closed while the items were away).
    expect(count('GET /prices')).toBeLessThanOrEqual(reads + 1);
    const accounts = count('GET /accounts');
    await venue.fetchBalances();
    expect(count('GET /accounts')).toBe(accounts);
    sub.close();
  });
});

describe('IG subscriptions', () => {
  it(`counts the ACCOUNT and CHART items towards IG's ${IG_MAX_SUBSCRIPTIONS}; past them, candles are polled`, async () => {
    const { venue, alerts } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const closers: { close(): void }[] = [];
    closers.push(venue.watchCandles(SYMBOL, '1m', () => {}));
    // TRADE, ACCOUNT and the CHART item.
    await waitFor('three subscriptions at the server', () => sim.streaming.subscriptionCount() === 3);
    for (let i = 0; i < IG_MAX_SUBSCRIPTIONS - 3; i++) closers.push(venue.watchTicker(SYMBOL, () => {}));
    await waitFor('forty at the server', () => sim.streaming.subscriptionCount() === IG_MAX_SUBSCRIPTIONS);
    const bars: Bar[] = [];
    const histories = count('GET /prices');
    closers.push(venue.watchCandles(SYMBOL, '5m', (b) => bars.push(b)));
    expect(alerts.some((a) => /CHART:.*:5MINUTE is polled over REST instead/.test(a))).toBe(true);
    await waitFor('the candle polled', () => bars.length > 0 && count('GET /prices') > histories);
    expect(sim.streaming.subscriptionCount()).toBe(IG_MAX_SUBSCRIPTIONS);
    for (const c of closers) c.close();
  });
});
