/**
 * The ccxt adapter in futures mode (ccxt's binanceusdm) against the simulator's USDⓈ-M futures API: leverage and
 * margin mode set at connect, reduce-only refusal (-2022), funding paid at the funding time on the simulator's clock
 * and reported as funding payments, a short round trip, and the free-margin floor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVenues } from '../src/app/venues.js';
import { resolveConfig } from '../src/core/config.js';
import { ConfigError, VenueError } from '../src/core/index.js';
import { CcxtVenue, VENUE_CODES } from '../src/venues/ccxt/index.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

const SYMBOL = 'BTC/USDT';
const FUNDING_RATE = 0.0005;
const LEVERAGE = 7;
const MMR = 0.004;

let sim: SimulatorHandle;
let venue: CcxtVenue;
// The simulator's clock: fixed unless a test moves it (funding happens at funding times on this clock).
let clock = Date.UTC(2026, 0, 5, 7, 0, 0);
let seq = 0;
const cid = (tag: string) => `fut${tag}${(seq++).toString(36)}`;

async function refusal(p: Promise<unknown>): Promise<VenueError> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VenueError);
  return err as VenueError;
}

const position = async () => (await venue.fetchFuturesPositions()).find((p) => p.symbol === SYMBOL);
const market = (side: 'buy' | 'sell', quantity: number, reduceOnly = false) =>
  venue.placeOrder({ clientOrderId: cid(side), symbol: SYMBOL, side, type: 'market', quantity, reduceOnly });

beforeAll(async () => {
  sim = await startSimulator({
    seed: 11,
    tickIntervalMs: 0,
    now: () => clock,
    // Signed requests and the clock-drift check stay on the wall clock, where ccxt's timestamps are.
    requestClock: Date.now,
    // A market that does not move on its own: the mark price at the funding time is the one read before it.
    markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })),
    futures: { wallet: 50_000, fundingRates: { BTCUSDT: FUNDING_RATE } },
  });
  venue = new CcxtVenue({
    exchange: 'binanceusdm',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    symbols: [SYMBOL],
    futures: { leverage: LEVERAGE, marginMode: 'isolated' },
  });
  await venue.connect();
});

afterAll(async () => {
  await venue.close();
  await sim.close();
});

describe('ccxt futures mode on the simulator', () => {
  it('sets the configured leverage and margin mode at connect and reports them with the position', async () => {
    const account = sim.futures.account.position('BTCUSDT');
    expect(account.leverage).toBe(LEVERAGE);
    expect(account.marginType).toBe('ISOLATED');
    expect(sim.requestCount('POST', '/fapi/v1/leverage')).toBe(1);
    expect(sim.requestCount('POST', '/fapi/v1/marginType')).toBe(1);
    const inst = (await venue.fetchInstruments()).find((i) => i.symbol === SYMBOL);
    expect(inst?.marginRate).toBeCloseTo(1 / LEVERAGE, 12);
    expect(inst?.kind).toBe('future');
    expect(venue.capabilities.positions).toBe(true);

    const o = await market('buy', 0.01);
    const p = await position();
    expect(p?.quantity).toBeCloseTo(0.01, 10);
    expect(p?.averagePrice).toBeCloseTo(o.averagePrice, 6);
    expect(p?.leverage).toBe(LEVERAGE);
    expect(p?.marginMode).toBe('isolated');
    // Isolated long, first bracket: EP × (1 − 1/leverage) / (1 − maintenance margin rate).
    expect(p?.liquidationPrice).toBeCloseTo((o.averagePrice * (1 - 1 / LEVERAGE)) / (1 - MMR), 4);
    expect(p?.unrealizedPnl).toBeCloseTo(((p?.markPrice ?? 0) - o.averagePrice) * 0.01, 6);
    expect((await venue.fetchPositions()).map((x) => x.symbol)).toEqual([SYMBOL]);
    await market('sell', 0.01, true);
    expect(await position()).toBeUndefined();
  });

  it('refuses reduce-only orders that would open, grow or flip a position (-2022) and records none', async () => {
    const posts = sim.state.orders.length + sim.futures.exchange.orders.length;
    const flat = await refusal(market('sell', 0.01, true));
    expect(flat.code).toBe(VENUE_CODES.reduceOnlyRejected);
    expect(flat.retryable).toBe(false);
    expect(flat.message).toMatch(/ReduceOnly Order is rejected/);
    await market('buy', 0.02);
    expect((await refusal(market('buy', 0.01, true))).code).toBe(VENUE_CODES.reduceOnlyRejected);
    expect((await refusal(market('sell', 0.03, true))).code).toBe(VENUE_CODES.reduceOnlyRejected);
    expect(sim.state.orders.length + sim.futures.exchange.orders.length).toBe(posts + 1);
    expect((await position())?.quantity).toBeCloseTo(0.02, 10);
    // Reducing is accepted, down to flat.
    await market('sell', 0.015, true);
    expect((await position())?.quantity).toBeCloseTo(0.005, 10);
    await market('sell', 0.005, true);
    expect(await position()).toBeUndefined();
  });

  it('round-trips a short: entry, unrealised P&L, and the wallet moved by the realised P&L less the fees', async () => {
    const before = (await venue.fetchBalances()).find((b) => b.asset === 'USDT');
    const since = clock;
    const open = await market('sell', 0.05);
    const short = await position();
    expect(short?.quantity).toBeCloseTo(-0.05, 10);
    expect(short?.averagePrice).toBeCloseTo(open.averagePrice, 6);
    expect(short?.unrealizedPnl).toBeCloseTo((open.averagePrice - (short?.markPrice ?? 0)) * 0.05, 6);
    sim.setPrice('BTCUSDT', 29_000); // the spot market: the perpetual has its own book
    sim.futures.exchange.setPrice('BTCUSDT', open.averagePrice * 0.95);
    const close = await market('buy', 0.05, true);
    expect(await position()).toBeUndefined();
    const fills = (await venue.fetchFills(SYMBOL, since)).filter(
      (f) => f.venueOrderId === open.venueOrderId || f.venueOrderId === close.venueOrderId,
    );
    const fees = fills.reduce((s, f) => s + f.fee, 0);
    expect(fees).toBeGreaterThan(0);
    const after = (await venue.fetchBalances()).find((b) => b.asset === 'USDT');
    const realised = (open.averagePrice - close.averagePrice) * 0.05;
    expect(realised).toBeGreaterThan(0);
    expect((after?.total ?? 0) - (before?.total ?? 0)).toBeCloseTo(realised - fees, 6);
  });

  it('pays funding at the funding time on the simulator clock: position notional × rate, reported as a payment', async () => {
    const rate = await venue.fetchFundingRate(SYMBOL);
    expect(rate.rate).toBeCloseTo(FUNDING_RATE, 12);
    expect(rate.nextFundingTime).toBeGreaterThan(clock);
    expect(rate.nextFundingTime % (8 * 3_600_000)).toBe(0);
    await market('sell', 0.1);
    const short = await position();
    const before = (await venue.fetchBalances()).find((b) => b.asset === 'USDT');
    const mark = (await venue.fetchFundingRate(SYMBOL)).markPrice;
    expect(await venue.fetchFundingPayments(rate.nextFundingTime - 1)).toEqual([]);

    clock = rate.nextFundingTime + 1_000;
    sim.tick();
    const payments = await venue.fetchFundingPayments(rate.nextFundingTime - 1);
    // A short receives a positive rate: −(−0.1) × mark × rate.
    const expected = -(short?.quantity ?? 0) * mark * FUNDING_RATE;
    expect(expected).toBeGreaterThan(0);
    expect(payments).toHaveLength(1);
    expect(payments[0].symbol).toBe(SYMBOL);
    expect(payments[0].asset).toBe('USDT');
    expect(payments[0].time).toBe(rate.nextFundingTime);
    expect(payments[0].amount).toBeCloseTo(expected, 6);
    const after = (await venue.fetchBalances()).find((b) => b.asset === 'USDT');
    expect((after?.total ?? 0) - (before?.total ?? 0)).toBeCloseTo(expected, 4);
    // The next funding time moved on by one interval; no second payment for the same time.
    expect((await venue.fetchFundingRate(SYMBOL)).nextFundingTime).toBe(rate.nextFundingTime + 8 * 3_600_000);
    sim.tick();
    expect(await venue.fetchFundingPayments(rate.nextFundingTime - 1)).toHaveLength(1);
    await market('buy', 0.1, true);
  });

  it('reports an outage as retryable and carries on after it; hedge-mode order sides are refused', async () => {
    sim.faults.failNext(2, 503, { path: '/fapi/v2/positionRisk' });
    for (let i = 0; i < 2; i++) {
      const err = await refusal(venue.fetchFuturesPositions());
      expect(err.retryable).toBe(true);
      expect(err.code).toBe(VENUE_CODES.unavailable);
    }
    expect(await venue.fetchFuturesPositions()).toEqual([]);
    // Straight through ccxt: the adapter never sends a position side (one-way mode).
    await expect(
      venue.exchange.createOrder(SYMBOL, 'market', 'buy', 0.01, undefined, { positionSide: 'LONG' }),
    ).rejects.toThrow(/-4061/);
  });

  it('refuses an order below the free-margin floor before sending it, on the venue’s figures', async () => {
    const floored = new CcxtVenue({
      exchange: 'binanceusdm',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
      symbols: [SYMBOL],
      futures: { marginFloor: 0.5 },
    });
    try {
      await floored.connect();
      const t = await floored.fetchTicker(SYMBOL);
      const free = (await floored.fetchBalances()).find((b) => b.asset === 'USDT')?.free ?? 0;
      // Margin of 60 % of the free balance at 7× leverage: the floor of 50 % refuses it.
      const quantity = Math.round(((free * 0.6 * LEVERAGE) / t.ask) * 1000) / 1000;
      const posts = sim.requestCount('POST', '/fapi/v1/order');
      const err = await refusal(
        floored.placeOrder({ clientOrderId: cid('floor'), symbol: SYMBOL, side: 'buy', type: 'market', quantity }),
      );
      expect(err.code).toBe(VENUE_CODES.insufficientFunds);
      expect(err.message).toMatch(/below the floor of 50\.0%/);
      expect(sim.requestCount('POST', '/fapi/v1/order')).toBe(posts);
      // A small order passes the floor.
      const ok = await floored.placeOrder({
        clientOrderId: cid('ok'),
        symbol: SYMBOL,
        side: 'buy',
        type: 'market',
        quantity: 0.01,
      });
      expect(ok.status).toBe('filled');
      await market('sell', 0.01, true);
    } finally {
      await floored.close();
    }
  });
});

describe('a futures venue from the config file', () => {
  const configFor = (venue: Record<string, unknown>) =>
    resolveConfig({
      venues: [{ id: 'fut', type: 'simulator', ...venue }],
      deployments: [{ id: 'd', strategy: 'sma-cross', venue: 'fut', symbols: ['BTC/USDT'] }],
    });

  it('builds the simulator venue in futures mode with leverage and margin mode set at connect', async () => {
    const venues = await buildVenues(
      configFor({
        exchange: 'binanceusdm',
        options: {
          tickIntervalMs: 0,
          futures: { leverage: 4, marginMode: 'isolated', marginFloor: 0.2, stopTrigger: 'mark' },
        },
      }),
      'dev',
      async () => undefined,
    );
    const built = venues.get('fut');
    try {
      expect(built?.venue.capabilities.positions).toBe(true);
      const cfg = built?.simulator?.futures.account.position('BTCUSDT');
      expect(cfg?.leverage).toBe(4);
      expect(cfg?.marginType).toBe('ISOLATED');
      const inst = (await built?.venue.fetchInstruments())?.find((i) => i.symbol === 'BTC/USDT');
      expect(inst?.marginRate).toBeCloseTo(0.25, 12);
      // Stops rest at the venue, triggered on the mark price as configured.
      expect(built?.venue.capabilities.stopOrders).toBe(true);
      const ask = (await built?.venue.fetchTicker('BTC/USDT'))?.ask ?? 0;
      await built?.venue.placeOrder({
        clientOrderId: 'cfg-stop',
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'stop',
        stopPrice: Math.round(ask * 1.2),
        quantity: 0.001,
      });
      expect(built?.simulator?.futures.algo.find(undefined, 'cfg-stop')?.workingType).toBe('MARK_PRICE');
    } finally {
      for (const v of venues.values()) await v.close();
    }
  });

  it('refuses bad futures settings and futures settings on a spot exchange, naming the field', async () => {
    const bad = await buildVenues(
      configFor({ exchange: 'binanceusdm', options: { tickIntervalMs: 0, futures: { leverage: 200 } } }),
      'dev',
      async () => undefined,
    ).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toMatch(/venues\.0\.options\.futures\.leverage/);
    const trigger = await buildVenues(
      configFor({ exchange: 'binanceusdm', options: { tickIntervalMs: 0, futures: { stopTrigger: 'index' } } }),
      'dev',
      async () => undefined,
    ).catch((e: unknown) => e);
    expect(trigger).toBeInstanceOf(ConfigError);
    expect((trigger as Error).message).toMatch(/venues\.0\.options\.futures\.stopTrigger/);
    const spot = await buildVenues(
      configFor({ options: { tickIntervalMs: 0, futures: { leverage: 3 } } }),
      'dev',
      async () => undefined,
    ).catch((e: unknown) => e);
    expect(spot).toBeInstanceOf(ConfigError);
    expect((spot as Error).message).toMatch(/venues\.0\.options\.futures.*futures exchange/);
  });
});
