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
  it('allows 30 requests per minute (IG), 3 of them kept for urgent calls, and tells how long to wait', () => {
    const b = requestBudgetFor('ig');
    expect(b).toBeDefined();
    const budget = b as RequestBudget;
    expect(budget.ordinaryLimit).toBe(27);
    for (let i = 0; i < 27; i++) expect(budget.tryAcquire(1_000 + i * 100)).toBe(true);
    expect(budget.tryAcquire(5_000)).toBe(false);
    // The kill switch still gets through: the reserve is its alone.
    expect(budget.waitTime(5_000, true)).toBe(0);
    for (let i = 0; i < 3; i++) expect(budget.tryAcquire(5_000, true)).toBe(true);
    expect(budget.tryAcquire(5_000, true)).toBe(false);
    expect(budget.used(5_000)).toBe(30);
    // The first request (t=1000) leaves the window at t=61000 — for urgent calls; ordinary ones wait for the 4th.
    expect(budget.waitTime(5_000, true)).toBe(56_000);
    expect(budget.waitTime(5_000)).toBe(56_300);
    expect(budget.tryAcquire(61_299)).toBe(false);
    expect(budget.tryAcquire(61_300)).toBe(true);
  });

  it('has no default for venues without a known limit, and an explicit limit wins', () => {
    expect(requestBudgetFor('unknown-type')).toBeUndefined();
    expect(requestBudgetFor('ccxt')?.limit).toBe(1_200);
    expect(requestBudgetFor('ccxt', 5)?.limit).toBe(5);
    expect(requestBudgetFor('ig', 12)?.limit).toBe(12);
    expect(() => new RequestBudget(0)).toThrow(/limit must be > 0/);
  });
});
