import { describe, expect, it } from 'vitest';
import { defineInstrument, type Order, type VenueFill, type VenueOrderRequest } from '../../core/index.js';
import type { VenueListener } from '../../engine/execution-venue.js';
import { MemoryJournal } from '../../../test/fixtures/runtime/kit.js';
import { MemoryVenue } from '../../../test/fixtures/runtime/memory-venue.js';
import { LiveVenueBridge, PROTECTIVE_STOP_TAG } from './bridge.js';

/** Moves orders through their states the way the execution engine does, and counts what it was told. */
class Listener implements VenueListener {
  fills = 0;
  onAccepted(o: Order): void {
    o.status = 'accepted';
  }
  onFill(o: Order, _price: number, quantity: number): void {
    this.fills++;
    o.filledQuantity += quantity;
    o.status = o.filledQuantity >= o.quantity - 1e-12 ? 'filled' : 'partially_filled';
  }
  onCancelled(o: Order): void {
    o.status = 'cancelled';
  }
  onRejected(o: Order): void {
    o.status = 'rejected';
  }
  checkFill(): string | null {
    return null;
  }
}

let seq = 0;
function order(side: 'buy' | 'sell', type: 'market' | 'stop', tag?: string): Order {
  const id = `o${++seq}`;
  return {
    id,
    clientOrderId: id,
    strategyId: 's',
    symbol: 'BTC/USDT',
    side,
    type,
    quantity: 1,
    ...(type === 'stop' ? { stopPrice: 90 } : {}),
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
    ...(tag ? { tag } : {}),
  };
}

const BTC = defineInstrument({ symbol: 'BTC/USDT', tickSize: 0.01, lotSize: 0.00001 });

function setup(withInstrument = false) {
  const venue = new MemoryVenue();
  const journal = new MemoryJournal();
  const bridge = new LiveVenueBridge({
    venue,
    journal,
    clientIdPrefix: 't-',
    strategyId: 's',
    ...(withInstrument ? { instruments: [BTC] } : {}),
  });
  const listener = new Listener();
  bridge.attach(listener);
  bridge.start();
  return { venue, journal, bridge, listener };
}

describe('LiveVenueBridge', () => {
  it('drain waits for work one lane queues on another while draining (a fill that cancels the stop)', async () => {
    const { venue, bridge, listener } = setup();
    // A resting stop the exit does not touch on its own lane (untagged: no cancel before the exit is placed).
    const stop = order('sell', 'stop');
    bridge.submit(stop);
    await bridge.drain();
    expect(stop.status).toBe('accepted');
    // As the runtime's protective stops do: once the exit's fill flattens the position, cancel the stop.
    const onFill = listener.onFill.bind(listener);
    listener.onFill = (o, price, quantity) => {
      onFill(o, price, quantity);
      if (o.side === 'sell' && o.type === 'market') bridge.cancel(stop, 'position flat');
    };
    let release!: () => void;
    const cancelAnswered = new Promise<void>((r) => {
      release = r;
    });
    const cancel = venue.cancelOrder.bind(venue);
    venue.cancelOrder = async (ref) => {
      await cancelAnswered;
      return cancel(ref);
    };
    const exit = order('sell', 'market');
    bridge.submit(exit);
    let drained = false;
    const draining = bridge.drain().then(() => {
      drained = true;
    });
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(drained).toBe(false);
    release();
    await draining;
    expect(stop.status).toBe('cancelled');
  });

  it('cancels the open protective stop before an exit is placed, and forgets a finished stop', async () => {
    const { venue, bridge } = setup();
    const stop = order('sell', 'stop', PROTECTIVE_STOP_TAG);
    bridge.submit(stop);
    await bridge.drain();
    expect(stop.status).toBe('accepted');
    expect(bridge.protectiveStop('BTC/USDT')).toBe(stop);
    expect(bridge.protectiveStop('ETH/USDT')).toBeUndefined();
    const statusAtExit: string[] = [];
    venue.onPlace = (req) => {
      if (req.side === 'sell') statusAtExit.push(stop.status);
    };
    const exit = order('sell', 'market');
    bridge.submit(exit);
    await bridge.drain();
    await bridge.drain();
    expect(statusAtExit).toEqual(['cancelled']);
    expect(exit.status).toBe('filled');
    expect(bridge.protectiveStop('BTC/USDT')).toBeUndefined();
    bridge.close();
  });

  it('keeps a bounded number of finished orders; a recently cancelled one still books its late fill once', async () => {
    const { venue, journal, bridge, listener } = setup();
    journal.keep = false;
    for (let i = 0; i < 6000; i++) bridge.submit(order(i % 2 === 0 ? 'buy' : 'sell', 'market'));
    await bridge.drain();
    await bridge.drain();
    expect(listener.fills).toBe(6000);
    expect(bridge.tracked).toBeLessThanOrEqual(4096);
    expect(bridge.tracked).toBeGreaterThan(4000);
    // A resting order cancelled on the venue, whose execution report arrives only after the cancel.
    const resting = order('sell', 'stop');
    bridge.submit(resting);
    bridge.cancel(resting, 'test');
    await bridge.drain();
    await bridge.drain();
    expect(resting.status).toBe('cancelled');
    const late: VenueFill = {
      venueTradeId: 'late-1',
      venueOrderId: resting.venueOrderId as string,
      clientOrderId: bridge.clientOrderIdOf(resting),
      symbol: 'BTC/USDT',
      side: 'sell',
      price: 90,
      quantity: 0.5,
      fee: 0,
      feeCurrency: 'USDT',
      liquidity: 'taker',
      time: 1,
    };
    venue.pushFill(late);
    venue.pushFill(late); // a duplicate report is booked once
    await bridge.drain();
    expect(listener.fills).toBe(6001);
    expect(journal.fills).toHaveLength(0); // keep is off: nothing retained by the double either
    bridge.close();
  });

  it('quantises an order onto tick and lot before it is sent (docs/money.md) and refuses one below a lot', async () => {
    const { venue, journal, bridge } = setup(true);
    const sent: VenueOrderRequest[] = [];
    venue.onPlace = (req) => sent.push(req);
    const limit = (side: 'buy' | 'sell', price: number, quantity: number): Order => ({
      ...order(side, 'market'),
      type: 'limit',
      price,
      quantity,
    });
    bridge.submit(limit('buy', 20_000.019, 0.1 + 0.2));
    bridge.submit(limit('sell', 40_000.001, 0.000019999));
    const stop = { ...order('sell', 'stop'), stopPrice: 89.999 };
    bridge.submit(stop);
    const dust = limit('buy', 100, 0.000009);
    bridge.submit(dust);
    await bridge.drain();
    expect(sent.map((r) => [r.side, r.type, r.price ?? r.stopPrice, r.quantity])).toEqual([
      ['buy', 'limit', 20_000.01, 0.3],
      ['sell', 'limit', 40_000.01, 0.00001],
      ['sell', 'stop', 89.99, 1],
    ]);
    expect(dust.status).toBe('rejected');
    // The journal holds what was sent, not what was asked.
    expect(new Set(journal.orders.map((o) => o.price ?? o.stopPrice))).toEqual(new Set([20_000.01, 40_000.01, 89.99]));
    bridge.close();
  });

  it('books a fill read exactly: noise in price and quantity lands on tick and lot, a base-asset fee in whole lots', async () => {
    const { venue, journal, bridge } = setup(true);
    const buy = { ...order('buy', 'market'), quantity: 0.001 };
    venue.fillMarket = false;
    bridge.submit(buy);
    await bridge.drain();
    venue.pushFill({
      venueTradeId: 'x1',
      venueOrderId: buy.venueOrderId as string,
      clientOrderId: bridge.clientOrderIdOf(buy),
      symbol: 'BTC/USDT',
      side: 'buy',
      price: 0.1 + 0.2,
      quantity: 0.0001 * 10,
      fee: 0.0000011,
      feeCurrency: 'BTC',
      liquidity: 'taker',
      time: 1,
    });
    await bridge.drain();
    const f = journal.fills[0];
    // Executed 0.001, credited 0.0009989, booked 0.00099 (whole lots of 0.00001); 0.00001 BTC at 0.3 is the fee.
    expect([f.price, f.quantity, f.fee]).toEqual([0.3, 0.00099, 0.000003]);
    bridge.close();
  });
});
