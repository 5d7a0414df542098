import { describe, expect, it } from 'vitest';
import type { Order, VenueFill } from '../../core/index.js';
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

function setup() {
  const venue = new MemoryVenue();
  const journal = new MemoryJournal();
  const bridge = new LiveVenueBridge({ venue, journal, clientIdPrefix: 't-', strategyId: 's' });
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
});
