import { describe, expect, it } from 'vitest';
import { inSession, parseTradingHours } from './trading-hours.js';

describe('IB trading hours', () => {
  it('reads sessions in the contract zone, across a daylight-saving change, and skips closed days', () => {
    // New York: EDT (UTC-4) until 2026-11-01, EST (UTC-5) after.
    const s = parseTradingHours(
      '20261030:0930-20261030:1600;20261031:CLOSED;20261101:CLOSED;20261102:0930-20261102:1600',
      'US/Eastern',
    );
    expect(s).toEqual([
      { open: Date.UTC(2026, 9, 30, 13, 30), close: Date.UTC(2026, 9, 30, 20, 0) },
      { open: Date.UTC(2026, 10, 2, 14, 30), close: Date.UTC(2026, 10, 2, 21, 0) },
    ]);
    expect(inSession(s, Date.UTC(2026, 10, 2, 14, 30))).toBe(true);
    expect(inSession(s, Date.UTC(2026, 10, 2, 21, 0))).toBe(false);
    expect(inSession(s, Date.UTC(2026, 9, 31, 15, 0))).toBe(false);
  });

  it('reads the older form without a date on the close and sessions that end the next day', () => {
    expect(parseTradingHours('20261202:0930-1200,1300-1600', 'UTC')).toEqual([
      { open: Date.UTC(2026, 11, 2, 9, 30), close: Date.UTC(2026, 11, 2, 12, 0) },
      { open: Date.UTC(2026, 11, 2, 13, 0), close: Date.UTC(2026, 11, 2, 16, 0) },
    ]);
    const fx = parseTradingHours('20261201:1715-20261202:1700', 'EST5EDT');
    expect(fx).toEqual([{ open: Date.UTC(2026, 11, 1, 22, 15), close: Date.UTC(2026, 11, 2, 22, 0) }]);
  });

  it('names a string it cannot read', () => {
    expect(() => parseTradingHours('20261202:9:30-16', 'UTC')).toThrow(/cannot read/);
  });
});
