import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../src/strategy/types.js';
import type { UserFeedMode } from '../src/venues/ccxt/user-feed.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { assembleDeployment, type MemoryJournal } from './fixtures/runtime/kit.js';
import { waitFor } from './fixtures/wait.js';

// A deployment on a futures venue reading its fills from the futures user-data stream (the live bridge over ccxt's
// binanceusdm against the simulator): fills are booked with no REST order/trade read while the stream is up; an
// outage in which the listen key expires sends the venue to polling and back to the stream on a new key, and every
// execution is booked exactly once — the book's position is the venue's.
const idle: Strategy = {};
const SYM = 'BTCUSDT';
const POLLED = [
  ['GET', '/fapi/v1/userTrades'],
  ['GET', '/fapi/v1/openOrders'],
  ['GET', '/fapi/v1/order'],
] as const;

let sim: SimulatorHandle;
let venue: CcxtVenue;
const modes: UserFeedMode[] = [];
beforeAll(async () => {
  sim = await startSimulator({
    seed: 61,
    tickIntervalMs: 50,
    markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })),
  });
  venue = new CcxtVenue({
    exchange: 'binanceusdm',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    pollIntervalMs: 20,
    userStreamRetryMs: 20,
    symbols: ['BTC/USDT'],
    futures: { leverage: 5 },
    onUserStream: (feed, mode) => {
      if (feed === 'fills') modes.push(mode);
    },
  });
  await venue.connect();
});

afterAll(async () => {
  await venue?.close();
  await sim?.close();
});

describe('a futures deployment on the user-data stream', () => {
  it('books each fill once across a listen key expiry and the polling in between', async () => {
    const d = await assembleDeployment(venue, idle);
    d.feed.start();
    d.bridge.start();
    const e = d.engine;
    const pf = e.portfolio;
    const journal = d.journal as MemoryJournal;
    const polled = () => POLLED.reduce((n, [m, p]) => n + sim.requestCount(m, p), 0);
    const buy = (quantity: number) =>
      e.submitIntent({ strategyId: 'kit', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity });
    const booked = (qty: number) => () => Math.abs(pf.qty[0] - qty) < 1e-9;
    try {
      await waitFor('a live price and the stream', () => pf.last[0] > 0 && modes.at(-1) === 'stream');
      const before = polled();
      buy(0.01);
      await waitFor('the first fill booked', booked(0.01));
      expect(polled(), 'REST order/trade reads while the stream was up').toBe(before);

      // The stream service goes down and the listen key runs out meanwhile: polling books the next fill.
      sim.faults.refuseWebSockets = true;
      const [key] = sim.futures.userData.listenKeys();
      expect(sim.futures.userData.expireNow(key)).toBe(true);
      await waitFor('polling', () => modes.at(-1) === 'poll');
      buy(0.02);
      await waitFor('the second fill booked', booked(0.03), { log: () => JSON.stringify({ q: pf.qty[0], modes }) });
      sim.faults.refuseWebSockets = false;
      await waitFor('the stream again', () => modes.at(-1) === 'stream');
      buy(0.01);
      await waitFor('the third fill booked', booked(0.04));
      await d.bridge.drain();

      // Every execution once: the journal holds the venue's trades, the book the venue's position.
      const trades = sim.futures.exchange.trades.map((t) => String(t.id)).sort();
      expect(journal.fills.map((f) => f.venueTradeId).sort()).toEqual(trades);
      expect(pf.qty[0]).toBeCloseTo(sim.futures.account.position(SYM).qty, 10);
      expect(sim.futures.userData.listenKeys()).toHaveLength(1);
      expect(sim.futures.userData.listenKeys()[0]).not.toBe(key);
    } finally {
      d.feed.close();
      d.bridge.close();
    }
  });
});
