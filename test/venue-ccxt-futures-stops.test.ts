/**
 * Stops resting at the venue on Binance USDⓈ-M (ccxt's binanceusdm against the simulator's Algo Service,
 * `/fapi/v1/algoOrder`): a reduce-only STOP_MARKET protecting a long rests untriggered, triggers on the contract or
 * the mark price as configured, and closes the position, its fill booked to our client id through the user-data
 * stream and through polling alike; a reduce-only stop that would open is refused; a restarted venue finds the stop
 * resting and cancels it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription, VenueError, VenueFill, VenueOrder } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './fixtures/wait.js';

const SYMBOL = 'BTC/USDT';
const SYM = 'BTCUSDT';
let sim: SimulatorHandle;

beforeAll(async () => {
  // Flat markets: the price moves only when a test moves it.
  sim = await startSimulator({
    seed: 41,
    tickIntervalMs: 50,
    markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })),
  });
});
afterAll(() => sim.close());

const venueOf = (opts: { userStream?: boolean; stopTrigger?: 'mark' | 'contract' } = {}) =>
  new CcxtVenue({
    exchange: 'binanceusdm',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
    pollIntervalMs: 50,
    userStreamRetryMs: 20,
    symbols: [SYMBOL],
    ...(opts.userStream === false ? { userStream: false } : {}),
    futures: { leverage: 10, ...(opts.stopTrigger ? { stopTrigger: opts.stopTrigger } : {}) },
  });

const refusal = async (p: Promise<unknown>): Promise<VenueError> => {
  try {
    await p;
  } catch (err) {
    return err as VenueError;
  }
  throw new Error('expected a refusal');
};

describe.each([
  { path: 'the user-data stream', userStream: true, stopTrigger: 'contract' as const },
  { path: 'REST polling', userStream: false, stopTrigger: 'mark' as const },
])('a protective stop at the venue, seen through $path', ({ userStream, stopTrigger }) => {
  it(`rests untriggered, triggers on the ${stopTrigger} price, closes the long and books the fill to our id`, async () => {
    const venue = venueOf({ userStream, stopTrigger });
    const orders: VenueOrder[] = [];
    const fills: VenueFill[] = [];
    const errors: Error[] = [];
    const subs: Subscription[] = [
      venue.watchOrders(
        (o) => orders.push(o),
        (e) => errors.push(e),
      ),
      venue.watchFills(
        (f) => fills.push(f),
        (e) => errors.push(e),
      ),
    ];
    try {
      sim.futures.setPrice(SYM, 30_000);
      const tag = `${stopTrigger}${userStream ? 's' : 'p'}`;
      const entry = await venue.placeOrder({
        clientOrderId: `stp-entry-${tag}`,
        symbol: SYMBOL,
        side: 'buy',
        type: 'market',
        quantity: 0.02,
      });
      expect(entry.status).toBe('filled');
      expect(sim.futures.account.position(SYM).qty).toBeCloseTo(0.02, 10);
      const cid = `stp-stop-${tag}`;
      const stop = await venue.placeOrder({
        clientOrderId: cid,
        symbol: SYMBOL,
        side: 'sell',
        type: 'stop',
        stopPrice: 29_500,
        quantity: 0.02,
        reduceOnly: true,
      });
      expect(stop).toMatchObject({ clientOrderId: cid, type: 'stop', status: 'accepted', stopPrice: 29_500 });
      expect(stop.venueOrderId).toMatch(/^algo-/);
      // At the venue's Algo Service, not in its order book, with the configured trigger price.
      const resting = sim.futures.algo.open(SYM);
      expect(resting.map((a) => [a.clientAlgoId, a.orderType, a.reduceOnly])).toEqual([[cid, 'STOP_MARKET', true]]);
      expect(resting[0].workingType).toBe(stopTrigger === 'mark' ? 'MARK_PRICE' : 'CONTRACT_PRICE');
      expect(sim.futures.exchange.openOrders(SYM)).toEqual([]);
      const listed = (await venue.fetchOpenOrders(SYMBOL)).find((o) => o.clientOrderId === cid);
      expect(listed).toMatchObject({ venueOrderId: stop.venueOrderId, type: 'stop', stopPrice: 29_500 });

      // Above the trigger nothing happens; at it, the venue sells the position.
      sim.futures.setPrice(SYM, 29_600);
      expect(sim.futures.algo.open(SYM)).toHaveLength(1);
      sim.futures.setPrice(SYM, 29_400);
      const algo = sim.futures.algo.orders.find((a) => a.clientAlgoId === cid)!;
      expect(algo.algoStatus).toBe('FINISHED');
      expect(sim.futures.account.position(SYM).qty).toBe(0);
      const trade = sim.futures.exchange.trades.find((t) => t.orderId === algo.actualOrderId)!;
      await waitFor('the stop fill', () => fills.some((f) => f.venueTradeId === String(trade.id)), {
        log: () => JSON.stringify({ fills, orders, errors: errors.map(String) }),
      });
      const fill = fills.find((f) => f.venueTradeId === String(trade.id))!;
      expect(fill).toMatchObject({ clientOrderId: cid, side: 'sell', quantity: 0.02, price: trade.price });
      await waitFor('the stop reported filled', () =>
        orders.some((o) => o.clientOrderId === cid && o.status === 'filled'),
      );
      // Looked up afterwards, by client id or by the stop's own id: the order it became, filled.
      for (const ref of [{ clientOrderId: cid }, { venueOrderId: stop.venueOrderId }]) {
        const after = await venue.fetchOrder({ symbol: SYMBOL, ...ref });
        expect(after).toMatchObject({ clientOrderId: cid, status: 'filled', filledQuantity: 0.02 });
        expect(after?.venueOrderId).toBe(String(algo.actualOrderId));
      }
      expect(orders.some((o) => o.clientOrderId === cid && o.status === 'filled' && o.filledQuantity === 0)).toBe(
        false,
      );
      expect(errors).toEqual([]);
    } finally {
      for (const s of subs) s.close();
      await venue.close();
    }
  });
});

describe('futures stops: refusals, cancel and a restart', () => {
  it('refuses a reduce-only stop that would open a position, and keeps nothing at the venue', async () => {
    const venue = venueOf();
    try {
      sim.futures.setPrice(SYM, 30_000);
      expect(sim.futures.account.position(SYM).qty).toBe(0);
      const before = sim.futures.algo.orders.length;
      const err = await refusal(
        venue.placeOrder({
          clientOrderId: 'stp-open',
          symbol: SYMBOL,
          side: 'sell',
          type: 'stop',
          stopPrice: 29_000,
          quantity: 0.01,
          reduceOnly: true,
        }),
      );
      expect(err.code).toBe('VENUE_REDUCE_ONLY_REJECTED');
      expect(sim.futures.algo.orders.length).toBe(before);
      expect(await venue.fetchOrder({ symbol: SYMBOL, clientOrderId: 'stp-open' })).toBeNull();
    } finally {
      await venue.close();
    }
  });

  it('a restarted venue finds the stop resting (by client id and in the open orders) and cancels it', async () => {
    const first = venueOf();
    sim.futures.setPrice(SYM, 30_000);
    await first.placeOrder({
      clientOrderId: 'stp-r-entry',
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    const stop = await first.placeOrder({
      clientOrderId: 'stp-r',
      symbol: SYMBOL,
      side: 'sell',
      type: 'stop',
      stopPrice: 28_000,
      quantity: 0.01,
      reduceOnly: true,
    });
    await first.close();
    // A new process: nothing remembered of what the first one placed.
    const second = venueOf();
    try {
      const found = await second.fetchOrder({ symbol: SYMBOL, clientOrderId: 'stp-r' });
      expect(found).toMatchObject({ venueOrderId: stop.venueOrderId, status: 'accepted', type: 'stop' });
      expect((await second.fetchOpenOrders(SYMBOL)).map((o) => o.clientOrderId)).toContain('stp-r');
      const cancelled = await second.cancelOrder({ symbol: SYMBOL, clientOrderId: 'stp-r' });
      expect(cancelled).toMatchObject({ venueOrderId: stop.venueOrderId, status: 'cancelled', filledQuantity: 0 });
      expect(sim.futures.algo.find(undefined, 'stp-r')?.algoStatus).toBe('CANCELED');
      // The position stays; the cancelled stop no longer guards it, and no order was placed for it.
      sim.futures.setPrice(SYM, 27_000);
      expect(sim.futures.account.position(SYM).qty).toBeCloseTo(0.01, 10);
      await second.placeOrder({
        clientOrderId: 'stp-r-exit',
        symbol: SYMBOL,
        side: 'sell',
        type: 'market',
        quantity: 0.01,
        reduceOnly: true,
      });
      expect(sim.futures.account.position(SYM).qty).toBe(0);
    } finally {
      await second.close();
    }
  });
});
