import { describe, expect, it } from 'vitest';
import { RequestBudget, requestBudgetFor } from './request-budget.js';
import { SlidingWindow } from './sliding-window.js';

describe('SlidingWindow', () => {
  it('answers the k-th most recent time and counts inside a window', () => {
    const w = new SlidingWindow(3);
    expect(w.kthMostRecent(1)).toBe(Number.NEGATIVE_INFINITY);
    for (const t of [10, 20, 30, 40]) w.push(t);
    expect(w.kthMostRecent(1)).toBe(40);
    expect(w.kthMostRecent(3)).toBe(20);
    expect(w.kthMostRecent(4)).toBe(Number.NEGATIVE_INFINITY);
    expect(w.countWithin(40, 15)).toBe(2); // 30, 40 inside (25, 40]
    expect(w.toArray()).toEqual([20, 30, 40]);
    expect(w.isFull(40, 21, 3)).toBe(true);
    expect(w.isFull(40, 20, 3)).toBe(false);
  });
});

describe('RequestBudget', () => {
  it('allows 30 requests per minute (IG) and tells how long to wait', () => {
    const b = requestBudgetFor('ig');
    expect(b).toBeDefined();
    const budget = b as RequestBudget;
    for (let i = 0; i < 30; i++) expect(budget.tryAcquire(1_000 + i * 100)).toBe(true);
    expect(budget.tryAcquire(5_000)).toBe(false);
    expect(budget.used(5_000)).toBe(30);
    // The first request (t=1000) leaves the window at t=61000.
    expect(budget.waitTime(5_000)).toBe(56_000);
    expect(budget.tryAcquire(60_999)).toBe(false);
    expect(budget.tryAcquire(61_000)).toBe(true);
    expect(budget.waitTime(61_000)).toBe(100);
  });

  it('has no default for venues without a known limit, and an explicit limit wins', () => {
    expect(requestBudgetFor('ccxt')).toBeUndefined();
    expect(requestBudgetFor('ccxt', 5)?.limit).toBe(5);
    expect(requestBudgetFor('ig', 12)?.limit).toBe(12);
    expect(() => new RequestBudget(0)).toThrow(/limit must be > 0/);
  });
});
