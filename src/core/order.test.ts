import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, ValidationError } from './errors.js';
import {
  canTransition,
  isOpen,
  isTerminal,
  ORDER_TRANSITIONS,
  type Order,
  type OrderIntent,
  type OrderStatus,
  transitionOrder,
  validateIntent,
} from './order.js';

const ALL: OrderStatus[] = [
  'new',
  'submitted',
  'accepted',
  'partially_filled',
  'filled',
  'cancelled',
  'rejected',
  'expired',
];

const LEGAL: [OrderStatus, OrderStatus][] = [
  ['new', 'submitted'],
  ['new', 'rejected'],
  ['submitted', 'accepted'],
  ['submitted', 'rejected'],
  ['submitted', 'partially_filled'],
  ['submitted', 'filled'],
  ['submitted', 'cancelled'],
  ['submitted', 'expired'],
  ['accepted', 'partially_filled'],
  ['accepted', 'filled'],
  ['accepted', 'cancelled'],
  ['accepted', 'expired'],
  ['partially_filled', 'partially_filled'],
  ['partially_filled', 'filled'],
  ['partially_filled', 'cancelled'],
  ['partially_filled', 'expired'],
];

function order(status: OrderStatus): Order {
  return {
    id: 'o-1',
    clientOrderId: 'c-1',
    strategyId: 's',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'limit',
    quantity: 1,
    price: 100,
    timeInForce: 'GTC',
    reduceOnly: false,
    status,
    filledQuantity: 0,
    averageFillPrice: 0,
    fees: 0,
    createdAt: 1,
    updatedAt: 1,
    source: 'strategy',
    correlationId: 'k',
  };
}

describe('order state machine', () => {
  it.each(LEGAL)('%s -> %s is legal and updates status, time and reason', (from, to) => {
    const o = order(from);
    const same = transitionOrder(o, to, 42, 'why');
    expect(same).toBe(o);
    expect(o.status).toBe(to);
    expect(o.updatedAt).toBe(42);
    expect(o.reason).toBe('why');
  });

  it('every pair not in the legal list is rejected with IllegalTransitionError', () => {
    const legal = new Set(LEGAL.map(([a, b]) => `${a}>${b}`));
    let illegal = 0;
    for (const from of ALL) {
      for (const to of ALL) {
        expect(canTransition(from, to)).toBe(legal.has(`${from}>${to}`));
        if (legal.has(`${from}>${to}`)) continue;
        illegal++;
        const o = order(from);
        expect(() => transitionOrder(o, to, 99)).toThrow(IllegalTransitionError);
        // A refused move leaves the order untouched.
        expect(o.status).toBe(from);
        expect(o.updatedAt).toBe(1);
      }
    }
    expect(illegal).toBe(ALL.length * ALL.length - LEGAL.length);
  });

  it('names the order and both states in the error', () => {
    expect(() => transitionOrder(order('filled'), 'cancelled', 2)).toThrow(
      'order o-1: illegal transition filled -> cancelled',
    );
    expect(() => transitionOrder(order('new'), 'filled', 2)).toThrow(/new -> filled/);
  });

  it('keeps the previous reason when none is given', () => {
    const o = order('submitted');
    o.reason = 'earlier';
    transitionOrder(o, 'accepted', 5);
    expect(o.reason).toBe('earlier');
  });

  it('classifies terminal and open states', () => {
    expect(ALL.filter(isTerminal)).toEqual(['filled', 'cancelled', 'rejected', 'expired']);
    expect(ALL.filter(isOpen)).toEqual(['submitted', 'accepted', 'partially_filled']);
    for (const s of ALL) expect(isTerminal(s)).toBe(ORDER_TRANSITIONS[s].length === 0);
  });
});

describe('validateIntent', () => {
  const base: OrderIntent = { strategyId: 's', symbol: 'ETH/USDT', side: 'buy', type: 'market', quantity: 1 };

  it('accepts coherent intents of every type', () => {
    expect(() => validateIntent(base)).not.toThrow();
    expect(() => validateIntent({ ...base, type: 'limit', price: 10 })).not.toThrow();
    expect(() => validateIntent({ ...base, type: 'stop', stopPrice: 9 })).not.toThrow();
    expect(() => validateIntent({ ...base, type: 'stop_limit', price: 10, stopPrice: 9, side: 'sell' })).not.toThrow();
  });

  it.each([
    [{ symbol: '' }, 'symbol', 'order symbol is required'],
    [{ side: 'hold' }, 'side', 'bad side "hold"'],
    [{ quantity: 0 }, 'quantity', 'order quantity must be a positive number, got 0'],
    [{ quantity: -1 }, 'quantity', 'got -1'],
    [{ quantity: Number.NaN }, 'quantity', 'got NaN'],
    [{ quantity: Number.POSITIVE_INFINITY }, 'quantity', 'got Infinity'],
    [{ type: 'limit' }, 'price', 'limit order needs a positive price'],
    [{ type: 'limit', price: 0 }, 'price', 'limit order needs a positive price'],
    [{ type: 'stop' }, 'stopPrice', 'stop order needs a positive stopPrice'],
    [{ type: 'stop_limit', price: 10 }, 'stopPrice', 'stop_limit order needs a positive stopPrice'],
    [{ type: 'stop_limit', stopPrice: 10 }, 'price', 'stop_limit order needs a positive price'],
    [{ type: 'iceberg' }, 'type', 'bad order type "iceberg"'],
  ])('rejects %j naming field %s', (patch, field, message) => {
    let caught: unknown;
    try {
      validateIntent({ ...base, ...(patch as Partial<OrderIntent>) });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe(field);
    expect((caught as ValidationError).message).toContain(message);
  });
});
