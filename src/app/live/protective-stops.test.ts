import { describe, expect, it } from 'vitest';
import { assembleDeployment } from '../../../test/fixtures/runtime/kit.js';
import { MemoryVenue } from '../../../test/fixtures/runtime/memory-venue.js';
import { waitFor } from '../../../test/fixtures/wait.js';
import { defineInstrument } from '../../core/instrument.js';
import { VenueError } from '../../core/errors.js';
import type { VenueCapabilities, VenueOrder, VenueOrderRequest } from '../../core/venue.js';
import type { Strategy } from '../../strategy/types.js';
import { PROTECTIVE_STOP_TAG } from '../../venues/live/bridge.js';
import { protectiveSide, protectiveStopPrice } from './protective-stops.js';

const idle: Strategy = {};
const SYM = 'BTC/USDT';

/** The in-memory venue as a futures account: it holds positions, so a short can exist. */
class PositionsVenue extends MemoryVenue {
  override readonly capabilities: VenueCapabilities = { ...new MemoryVenue().capabilities, positions: true };
  /** Every placement request, as the bridge sent it. */
  readonly requests: VenueOrderRequest[] = [];
  /** Refuse reduce-only market orders (an exit the venue rejects). */
  refuseExits = false;
  override placeOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    this.requests.push(req);
    if (this.refuseExits && req.reduceOnly && req.type === 'market')
      return Promise.reject(new VenueError('exit refused', { retryable: false, code: 'VENUE_REJECTED' }));
    return super.placeOrder(req);
  }
}

/** The venue's resting protective stops of the symbol. */
function restingStops(venue: MemoryVenue): VenueOrder[] {
  return [...venue.orders.values()].filter((o) => o.type === 'stop' && o.status === 'accepted');
}

/** Moves the venue's price and waits until the engine has seen it (orders are sized and checked on it). */
async function priceAt(venue: MemoryVenue, d: { engine: { portfolio: { last: Float64Array } } }, price: number) {
  venue.pushTicker(SYM, price);
  await waitFor(`the price ${price}`, () => d.engine.portfolio.last[0] === price);
}

async function deployment(venue: MemoryVenue, opts: Parameters<typeof assembleDeployment>[2] = {}) {
  const d = await assembleDeployment(venue, idle, { stopLoss: 0.05, ...opts });
  d.feed.start();
  d.bridge.start();
  const e = d.engine;
  const pf = e.portfolio;
  await priceAt(venue, d, 100);
  const trade = (side: 'buy' | 'sell', quantity: number, reduceOnly = false) =>
    e.submitIntent({
      strategyId: 'kit',
      symbol: SYM,
      side,
      type: 'market',
      quantity,
      ...(reduceOnly ? { reduceOnly: true, source: 'exit' as const } : {}),
    });
  /** Waits for the booked position, then for every queued placement and cancel. */
  const settle = async (qty: number) => {
    await waitFor(`position ${qty}`, () => Math.abs(pf.qty[0] - qty) < 1e-9);
    await d.bridge.drain();
  };
  const close = () => {
    d.feed.close();
    d.bridge.close();
  };
  return { d, e, pf, trade, settle, close };
}

describe('protectiveSide', () => {
  it('closes a long with a sell, a short with a buy only where positions are held, and nothing when flat', () => {
    expect(protectiveSide(0.5, false)).toBe('sell');
    expect(protectiveSide(0.5, true)).toBe('sell');
    expect(protectiveSide(-0.5, true)).toBe('buy');
    // A spot account cannot be short: a buy stop there would be an entry, never protection.
    expect(protectiveSide(-0.5, false)).toBeNull();
    expect(protectiveSide(0, true)).toBeNull();
  });
});

describe('protectiveStopPrice', () => {
  const inst = defineInstrument({ symbol: SYM, tickSize: 0.5, lotSize: 0.001 });
  it('lies below a long rounded down and above a short rounded up: away from the market', () => {
    expect(protectiveStopPrice(inst, 'sell', 101, 0.05)).toBe(95.5); // 95.95 down
    expect(protectiveStopPrice(inst, 'buy', 101, 0.05)).toBe(106.5); // 106.05 up
  });
});

describe('ProtectiveStops on a venue that holds positions', () => {
  it('keeps a reduce-only buy stop over a short: placed, resized on adds and covers, cancelled when closed', async () => {
    const venue = new PositionsVenue();
    const { d, pf, trade, settle, close } = await deployment(venue);
    try {
      trade('sell', 0.5);
      await settle(-0.5);
      let [stop] = restingStops(venue);
      expect(restingStops(venue)).toHaveLength(1);
      expect(stop).toMatchObject({ side: 'buy', quantity: 0.5, stopPrice: 105 });
      expect(venue.requests.at(-1)).toMatchObject({ side: 'buy', type: 'stop', reduceOnly: true });
      expect(d.bridge.protectiveStop(SYM)?.tag).toBe(PROTECTIVE_STOP_TAG);
      expect(d.stops?.covered(SYM)).toBe(true);

      // An add at 110: one stop for the whole short at the new average entry (105 × 1.05 = 110.25).
      await priceAt(venue, d, 110);
      trade('sell', 0.5);
      await settle(-1);
      expect(pf.avg[0]).toBeCloseTo(105, 9);
      [stop] = restingStops(venue);
      expect(restingStops(venue)).toHaveLength(1);
      expect(stop).toMatchObject({ side: 'buy', quantity: 1, stopPrice: 110.25 });

      // A partial cover: the stop shrinks to what is left.
      trade('buy', 0.4, true);
      await settle(-0.6);
      [stop] = restingStops(venue);
      expect(restingStops(venue)).toHaveLength(1);
      expect(stop).toMatchObject({ side: 'buy', quantity: 0.6 });

      // Closed: no stop left.
      trade('buy', 0.6, true);
      await settle(0);
      expect(restingStops(venue)).toEqual([]);
      expect(d.bridge.protectiveStop(SYM)).toBeUndefined();
    } finally {
      close();
    }
  });

  it('covers what a resting buy exit does not hold, and swaps sides when the position flips', async () => {
    const venue = new PositionsVenue();
    const { d, e, trade, settle, close } = await deployment(venue);
    try {
      trade('sell', 1);
      await settle(-1);
      // A take-profit resting below the short holds 0.3 of it: the stop covers the other 0.7.
      e.submitIntent({ strategyId: 'kit', symbol: SYM, side: 'buy', type: 'limit', price: 90, quantity: 0.3 });
      await d.bridge.drain();
      expect(d.stops?.sync(SYM)?.quantity).toBeCloseTo(0.7, 9);
      await d.bridge.drain();
      expect(restingStops(venue)).toMatchObject([{ side: 'buy', quantity: 0.7 }]);
      expect(d.stops?.covered(SYM)).toBe(true);
      for (const o of e.exec.openOrders()) if (o.type === 'limit') e.cancelOrder(o.id, 'test');
      await d.bridge.drain();

      // Buying 2 flips the short into a long of 1: the buy stop goes, a sell stop below the long comes.
      trade('buy', 2);
      await settle(1);
      expect(restingStops(venue)).toMatchObject([{ side: 'sell', quantity: 1, stopPrice: 95 }]);
    } finally {
      close();
    }
  });

  it('re-syncs protection when a short’s cover is rejected by the venue', async () => {
    const venue = new PositionsVenue();
    const needed: string[] = [];
    const { d, trade, settle, close } = await deployment(venue, {
      bridge: { onProtectionNeeded: (_sym, reason) => needed.push(reason) },
    });
    try {
      trade('sell', 0.5);
      await settle(-0.5);
      venue.refuseExits = true;
      trade('buy', 0.5, true);
      await d.bridge.drain();
      expect(needed).toContain('exit_rejected');
    } finally {
      close();
    }
  });
});

describe('ProtectiveStops on a spot venue', () => {
  it('never sends a buy stop: a negative book there is not a short a stop could protect', async () => {
    const venue = new MemoryVenue();
    const { d, trade, settle, close } = await deployment(venue);
    try {
      trade('sell', 0.5);
      await settle(-0.5);
      expect(d.stops?.sync(SYM)).toBeNull();
      await d.bridge.drain();
      expect(restingStops(venue)).toEqual([]);
      expect(d.stops?.covered(SYM)).toBe(false);
    } finally {
      close();
    }
  });
});
