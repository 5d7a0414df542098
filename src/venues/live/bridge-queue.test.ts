import { describe, expect, it } from 'vitest';
import type { Fill, Order, QueueOverflow } from '../../core/index.js';
import type { VenueListener } from '../../engine/execution-venue.js';
import { MemoryJournal } from '../../../test/fixtures/runtime/kit.js';
import { MemoryVenue } from '../../../test/fixtures/runtime/memory-venue.js';
import { type BridgeNotice, LiveVenueBridge } from './bridge.js';

/** A journal whose writes wait for `open()`: the bridge's lanes back up behind it like behind a slow disk. */
class GatedJournal extends MemoryJournal {
  private gate: Promise<void>;
  private release!: () => void;
  constructor() {
    super();
    this.gate = new Promise((r) => {
      this.release = r;
    });
  }
  open(): void {
    this.release();
  }
  override async persistOrder(order: Readonly<Order>): Promise<void> {
    await this.gate;
    return super.persistOrder(order);
  }
  override async persistFill(fill: Fill): Promise<void> {
    await this.gate;
    return super.persistFill(fill);
  }
}

class Listener implements VenueListener {
  readonly rejected = new Map<string, string>();
  fills = 0;
  onAccepted(o: Order): void {
    o.status = 'accepted';
  }
  onFill(o: Order, _p: number, q: number): void {
    this.fills++;
    o.filledQuantity += q;
    o.status = o.filledQuantity >= o.quantity - 1e-12 ? 'filled' : 'partially_filled';
  }
  onCancelled(o: Order): void {
    o.status = 'cancelled';
  }
  onRejected(o: Order, code: string): void {
    o.status = 'rejected';
    this.rejected.set(o.id, code);
  }
  checkFill(): string | null {
    return null;
  }
}

let seq = 0;
function order(side: 'buy' | 'sell', type: 'market' | 'limit' = 'market'): Order {
  const id = `q${++seq}`;
  return {
    id,
    clientOrderId: id,
    strategyId: 's',
    symbol: 'BTC/USDT',
    side,
    type,
    quantity: 1,
    ...(type === 'limit' ? { price: 50 } : {}),
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

function setup(maxQueued: number) {
  const venue = new MemoryVenue();
  const journal = new GatedJournal();
  const overflows: QueueOverflow[] = [];
  const notices: BridgeNotice[] = [];
  const bridge = new LiveVenueBridge({
    venue,
    journal,
    clientIdPrefix: 'q-',
    strategyId: 's',
    maxQueued,
    onOverflow: (o) => overflows.push(o),
    notify: (n) => notices.push(n),
  });
  const listener = new Listener();
  bridge.attach(listener);
  bridge.start();
  return { venue, journal, bridge, listener, overflows, notices };
}

describe('LiveVenueBridge bounded queues', () => {
  it('refuses new entries past the order queue bound (QUEUE_FULL, halt), still queues exits and cancels, drops nothing', async () => {
    const { journal, bridge, listener, overflows, notices } = setup(3);
    const entries = [order('buy'), order('buy'), order('buy')];
    for (const o of entries) bridge.submit(o);
    expect(bridge.orderQueue.depth).toBe(3);
    expect(overflows).toEqual([]);

    const refused = order('buy');
    bridge.submit(refused);
    expect(listener.rejected.get(refused.id)).toBe('QUEUE_FULL');
    expect(overflows).toEqual([{ queue: 'orders.s', capacity: 3, depth: 3, policy: 'halt' }]);
    expect(notices.some((n) => n.severity === 'critical' && n.title.includes('Order queue full'))).toBe(true);

    // What reduces risk is never refused, even past the bound.
    const exit = order('sell');
    const resting = order('buy', 'limit');
    bridge.submit(exit);
    expect(exit.status).toBe('submitted');
    expect(bridge.orderQueue.depth).toBe(4);
    // A second refusal in the same crossing reports no second overflow.
    bridge.submit(order('buy'));
    expect(overflows).toHaveLength(1);

    journal.open();
    await bridge.drain();
    for (const o of entries) expect(o.status).toBe('filled');
    expect(exit.status).toBe('filled');
    expect(bridge.orderQueue.depth).toBe(0);

    // Back under the bound: orders pass again, and a later crossing is reported again.
    bridge.submit(resting);
    await bridge.drain();
    expect(resting.status).toBe('accepted');
    bridge.cancel(resting, 'test');
    await bridge.drain();
    expect(resting.status).toBe('cancelled');
  });

  it('keeps every venue report past the report queue bound and reports the overflow once', async () => {
    const { venue, journal, bridge, listener, overflows } = setup(2);
    journal.open();
    const orders = Array.from({ length: 5 }, () => order('buy', 'limit'));
    for (const o of orders) {
      bridge.submit(o);
      await bridge.drain();
    }
    expect(orders.every((o) => o.status === 'accepted')).toBe(true);
    // Fill reports arrive faster than they are stored: the fill journal is slow from now on.
    let release!: () => void;
    const slow = new Promise<void>((r) => {
      release = r;
    });
    const store = journal.persistFill.bind(journal);
    journal.persistFill = async (f) => {
      await slow;
      return store(f);
    };
    for (const [k, o] of orders.entries()) {
      venue.pushFill({
        venueTradeId: `x${k}`,
        venueOrderId: o.venueOrderId as string,
        clientOrderId: bridge.clientOrderIdOf(o),
        symbol: o.symbol,
        side: 'buy',
        price: 50,
        quantity: 1,
        fee: 0,
        feeCurrency: 'USDT',
        liquidity: 'maker',
        time: 1,
      });
    }
    expect(bridge.reportQueue.depth).toBe(5);
    expect(overflows.map((o) => o.queue)).toEqual(['venue_reports.s']);
    expect(bridge.reportQueue.dropped).toBe(0);
    release();
    await bridge.drain();
    expect(listener.fills).toBe(5);
    expect(journal.fills).toHaveLength(5);
  });
});
