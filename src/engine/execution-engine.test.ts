import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExactExecution } from '../core/fill.js';
import { decimalText, exact } from '../core/money.js';
import type { Order } from '../core/order.js';
import { SimulatedClock } from './clock.js';
import { InProcessEventBus } from './event-bus.js';
import { ExecutionEngine, type ExecutionSink } from './execution-engine.js';
import type { ExecutionVenue, VenueListener } from './execution-venue.js';

/** A venue that keeps what it was sent; the test plays the venue's answers through the listener. */
class HeldVenue implements ExecutionVenue {
  readonly id = 'held';
  listener!: VenueListener;
  attach(listener: VenueListener): void {
    this.listener = listener;
  }
  submit(): void {}
  cancel(): void {}
}

/** Records what the sink was told. */
class Sink implements ExecutionSink {
  fills: { booked: number; exact?: ExactExecution }[] = [];
  onOrderUpdate(): void {}
  onOrderFill(
    _o: Order,
    _p: number,
    booked: number,
    _f: number,
    _l: unknown,
    _t: number,
    _e?: number,
    x?: ExactExecution,
  ): void {
    this.fills.push({ booked, ...(x ? { exact: x } : {}) });
  }
  checkFill(): string | null {
    return null;
  }
}

function setup() {
  const venue = new HeldVenue();
  const sink = new Sink();
  const exec = new ExecutionEngine(venue, new SimulatedClock(0), new InProcessEventBus(), sink);
  exec.attach(['BTC/USDT']);
  return { venue, sink, exec };
}

const exactFill = (price: string, quantity: string, fee = '0'): ExactExecution => ({
  price: exact(price),
  executed: exact(quantity),
  booked: exact(quantity),
  fee: exact(fee),
});

describe('ExecutionEngine: exact running sums on the paper and live paths', () => {
  it('ten partial fills of 0.1 complete an order of 1 exactly, with an exact average and fee sum', () => {
    const { venue, sink, exec } = setup();
    const o = exec.submit({ strategyId: 's', symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: 1, price: 101 });
    const prices = ['100.1', '100.2', '100.3', '100.4', '100.5', '100.6', '100.7', '100.8', '100.9', '101'];
    for (let k = 0; k < 10; k++) {
      expect(o.status).not.toBe('filled');
      // The doubles handed beside the exact amounts carry float residue; the exact amounts decide.
      venue.listener.onFill(o, Number(prices[k]), 0.1, 0.1 + 0.2, 'maker', k, 0.1, exactFill(prices[k], '0.1', '0.3'));
    }
    expect(o.status).toBe('filled');
    expect(o.exact).toMatchObject({ quantity: '1', filledQuantity: '1', averageFillPrice: '100.55', fees: '3' });
    // The doubles are the nearest readings of the exact sums, not running float sums (0.1 × 10 = 0.9999999999999999).
    expect(o.filledQuantity).toBe(1);
    expect(o.averageFillPrice).toBe(100.55);
    expect(o.fees).toBe(3);
    expect(exec.openOrders()).toHaveLength(0);
    expect(sink.fills).toHaveLength(10);
    expect(sink.fills.every((f) => f.exact !== undefined)).toBe(true);
  });

  it('an order is complete only when the exact sum equals its quantity, not within an epsilon', () => {
    const { venue, exec } = setup();
    const o = exec.submit({ strategyId: 's', symbol: 'BTC/USDT', side: 'sell', type: 'limit', quantity: 1, price: 99 });
    // 1 − 1e-13: within the double path's relative 1e-12 of the quantity, but one 1e-13 lot short.
    venue.listener.onFill(o, 99, 0.9999999999999, 0, 'maker', 1, undefined, exactFill('99', '0.9999999999999'));
    expect(o.status).toBe('partially_filled');
    expect(o.exact?.filledQuantity).toBe('0.9999999999999');
    venue.listener.onFill(o, 99, 1e-13, 0, 'maker', 2, undefined, exactFill('99', '0.0000000000001'));
    expect(o.status).toBe('filled');
    expect(o.exact?.filledQuantity).toBe('1');
  });

  it('an average that is not a finite decimal rounds at the 40th digit, and the next fill continues from it', () => {
    const { venue, exec } = setup();
    const o = exec.submit({ strategyId: 's', symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: 3, price: 3 });
    venue.listener.onFill(o, 1, 1, 0, 'maker', 1, undefined, exactFill('1', '1'));
    venue.listener.onFill(o, 1, 1, 0, 'maker', 2, undefined, exactFill('1', '1'));
    venue.listener.onFill(o, 2, 1, 0, 'maker', 3, undefined, exactFill('2', '1'));
    expect(o.exact?.averageFillPrice).toBe(decimalText(exact('4').div(3)));
    expect(o.exact?.averageFillPrice).toBe('1.333333333333333333333333333333333333333');
    expect(o.status).toBe('filled');
  });

  it('property: any split of an order into partial fills of whole lots completes it exactly on the last fill', () => {
    const lots = ['0.00000001', '0.001', '0.1', '1'];
    fc.assert(
      fc.property(
        fc.constantFrom(...lots),
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 40, maxLength: 40 }),
        (lotText, parts, ticks) => {
          const { venue, exec } = setup();
          const lot = exact(lotText);
          const total = parts.reduce((s, p) => s.plus(lot.mul(p)), exact(0));
          const o = exec.submit({
            strategyId: 's',
            symbol: 'BTC/USDT',
            side: 'buy',
            type: 'limit',
            quantity: total.toNumber(),
            price: 1e6,
          });
          o.exact = { quantity: decimalText(total), filledQuantity: '0', averageFillPrice: '0', fees: '0' };
          let notional = exact(0);
          parts.forEach((p, k) => {
            expect(o.status).not.toBe('filled');
            const q = lot.mul(p);
            const price = exact(ticks[k]).div(100);
            notional = notional.plus(price.mul(q));
            // The double of each part is what a float sum would add up; the exact part decides.
            venue.listener.onFill(o, price.toNumber(), q.toNumber(), 0, 'maker', k, undefined, {
              price,
              executed: q,
              booked: q,
              fee: exact(0),
            });
          });
          expect(o.status).toBe('filled');
          expect(o.exact?.filledQuantity).toBe(decimalText(total));
          expect(o.exact?.averageFillPrice).toBe(decimalText(notional.div(total)));
          expect(o.filledQuantity).toBe(total.toNumber());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a backtest fill (no exact amounts) keeps the double path and leaves the order without exact decimals', () => {
    const { venue, exec } = setup();
    const o = exec.submit({ strategyId: 's', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.3 });
    venue.listener.onFill(o, 100, 0.1, 0, 'taker', 1);
    venue.listener.onFill(o, 100, 0.2, 0, 'taker', 2);
    expect(o.status).toBe('filled');
    expect(o.exact).toBeUndefined();
    expect(o.filledQuantity).toBe(0.1 + 0.2);
  });
});
