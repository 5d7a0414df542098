import { describe, expect, it } from 'vitest';
import type { RiskActions } from '../core/risk-port.js';
import { StaleOrderTracker } from './stale-orders.js';

const MIN = 60_000;

function recorder(): RiskActions & { cancelled: string[] } {
  const cancelled: string[] = [];
  return { cancelled, cancelAllOrders: () => {}, flattenAll: () => {}, cancelOrder: (id) => cancelled.push(id) };
}

describe('StaleOrderTracker', () => {
  it('cancels a buy after 10 minutes and a sell after 30 by default', () => {
    const t = new StaleOrderTracker();
    const a = recorder();
    t.track({ id: 'b1', side: 'buy', type: 'limit', createdAt: 0 });
    t.track({ id: 's1', side: 'sell', type: 'limit', createdAt: 0 });
    expect(t.poll(10 * MIN - 1, a)).toEqual([]);
    expect(t.poll(10 * MIN, a)).toEqual(['b1']);
    expect(a.cancelled).toEqual(['b1']);
    expect(t.poll(29 * MIN, a)).toEqual([]);
    expect(t.poll(30 * MIN, a)).toEqual(['s1']);
    expect(t.size).toBe(0);
  });

  it('never times stop orders and forgets untracked ones', () => {
    const t = new StaleOrderTracker({ buy: 1, sell: 1 });
    expect(t.track({ id: 'st', side: 'sell', type: 'stop', createdAt: 0, reduceOnly: true })).toBe(false);
    t.track({ id: 'x', side: 'buy', type: 'limit', createdAt: 0 });
    t.untrack('x');
    expect(t.poll(100 * MIN)).toEqual([]);
  });

  it('uses per-order minutes when given', () => {
    const t = new StaleOrderTracker();
    t.track({ id: 'b', side: 'buy', type: 'limit', createdAt: 1000 }, { buy: 2, sell: 5 });
    expect(t.deadline('b')).toBe(1000 + 2 * MIN);
  });
});
