import { describe, expect, it } from 'vitest';
import { defineInstrument } from '../core/instrument.js';
import type { Order } from '../core/order.js';
import { SimulatedClock } from '../engine/clock.js';
import type { BarLike, VenueListener } from '../engine/execution-venue.js';
import { VolumeParticipation } from './fill-model.js';
import { SimulatedVenue } from './simulated-venue.js';

const bar = (time: number, price: number): BarLike => ({
  time,
  open: price,
  high: price,
  low: price,
  close: price,
  volume: 1000,
});

function order(id: string): Order {
  return {
    id,
    clientOrderId: id,
    strategyId: 's',
    symbol: 'X',
    side: 'buy',
    type: 'market',
    quantity: 1,
    timeInForce: 'GTC',
    reduceOnly: false,
    status: 'submitted',
    filledQuantity: 0,
    averageFillPrice: 0,
    fees: 0,
    createdAt: 0,
    updatedAt: 0,
    source: 'strategy',
    correlationId: id,
  };
}

function venueWithLatency(bars: number): { venue: SimulatedVenue; fills: number[]; clock: SimulatedClock } {
  const clock = new SimulatedClock(0);
  const venue = new SimulatedVenue({
    clock,
    latency: { bars },
    instruments: [defineInstrument({ symbol: 'X', lotSize: 1 })],
  });
  const fills: number[] = [];
  const listener: VenueListener = {
    onAccepted: () => {},
    onFill: (o, price) => {
      o.filledQuantity = o.quantity;
      fills.push(price);
    },
    onCancelled: () => {},
    onRejected: () => {},
    checkFill: () => null,
  };
  venue.attach(listener, ['X']);
  return { venue, fills, clock };
}

describe('SimulatedVenue bar skipping (the backtest sparse loop)', () => {
  it('counts skipped bars as bars seen: a market order with two bars of latency fills where it would have', () => {
    const a = venueWithLatency(2);
    const b = venueWithLatency(2);
    // a sees 5 bars one by one, b skips 4 of them in one call; both then take an order and see bars 6, 7, 8.
    for (let i = 1; i <= 5; i++) a.venue.onMarketBar(0, bar(i, i));
    b.venue.onMarketBar(0, bar(1, 1));
    expect(b.venue.idle(0)).toBe(true);
    b.venue.skipBars(0, bar(5, 5), 4);
    for (const v of [a, b]) {
      v.venue.submit(order('o1'));
      expect(v.venue.idle(0)).toBe(false);
      for (let i = 6; i <= 9; i++) v.venue.onMarketBar(0, bar(i, i * 10));
    }
    // Executable from the third bar after submission: bar 8, opening at 80.
    expect(a.fills).toEqual([80]);
    expect(b.fills).toEqual(a.fills);
    expect(b.venue.idle(0)).toBe(true);
  });

  it('a skipped bar is a new bar: the participation room of the bar an order last used is not carried over', () => {
    const clock = new SimulatedClock(0);
    const venue = new SimulatedVenue({
      clock,
      marketFill: 'now',
      participation: new VolumeParticipation(0.5),
      instruments: [defineInstrument({ symbol: 'X', lotSize: 1 })],
    });
    const filled: number[] = [];
    venue.attach(
      {
        onAccepted: () => {},
        onFill: (o, _price, qty) => {
          o.filledQuantity += qty;
          filled.push(qty);
        },
        onCancelled: () => {},
        onRejected: () => {},
        checkFill: () => null,
      },
      ['X'],
    );
    const small = (time: number): BarLike => ({ ...bar(time, 10), volume: 10 });
    venue.onMarketBar(0, small(1));
    const first = { ...order('o1'), quantity: 5 };
    venue.submit(first);
    // The first order took the whole room of bar 1 (half of 10); three bars pass with nothing resting.
    expect(filled).toEqual([5]);
    venue.skipBars(0, small(4), 3);
    venue.submit({ ...order('o2'), quantity: 5 });
    expect(filled).toEqual([5, 5]);
  });

  it('refuses to skip bars while an order rests (it would miss its fill)', () => {
    const { venue } = venueWithLatency(0);
    venue.onMarketBar(0, bar(1, 1));
    venue.submit(order('o1'));
    expect(() => venue.skipBars(0, bar(2, 2), 1)).toThrow(/orders rest/);
  });
});
