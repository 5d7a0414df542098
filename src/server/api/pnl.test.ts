import { describe, expect, it } from 'vitest';
import { periodStart } from './pnl.js';

describe('P&L periods (UTC)', () => {
  it('starts weeks on Monday and months on the 1st', () => {
    // 2026-01-04 is a Sunday: its week began on Monday 2025-12-29.
    expect(new Date(periodStart(Date.UTC(2026, 0, 4, 23, 59), 'week')).toISOString()).toBe('2025-12-29T00:00:00.000Z');
    expect(new Date(periodStart(Date.UTC(2026, 0, 5, 0, 1), 'week')).toISOString()).toBe('2026-01-05T00:00:00.000Z');
    expect(new Date(periodStart(Date.UTC(2026, 1, 28, 12), 'month')).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(new Date(periodStart(Date.UTC(2026, 1, 28, 12), 'day')).toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });
});
