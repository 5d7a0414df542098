import { describe, expect, it } from 'vitest';
import { localTime, TradingCalendar, zonedInstant } from './trading-day.js';

const Z = (s: string) => Date.parse(s);

describe('TradingCalendar: the firm day boundary in its own zone, across daylight saving', () => {
  const prague = new TradingCalendar({ timeZone: 'Europe/Prague', time: '00:00' });
  const chicago = new TradingCalendar({ timeZone: 'America/Chicago', time: '17:00' });

  it('Prague midnight is 23:00 UTC in winter and 22:00 UTC in summer (change on 2026-03-29)', () => {
    expect(new Date(prague.startOf('2026-03-29')).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(new Date(prague.startOf('2026-03-30')).toISOString()).toBe('2026-03-29T22:00:00.000Z');
    // The day of the change is 23 hours long.
    expect(prague.startOf('2026-03-30') - prague.startOf('2026-03-29')).toBe(23 * 3_600_000);
    // 22:30 UTC is still Saturday in winter, but already Monday after the change.
    expect(prague.dayOf(Z('2026-03-28T22:30:00Z'))).toBe('2026-03-28');
    expect(prague.dayOf(Z('2026-03-29T22:30:00Z'))).toBe('2026-03-30');
    // Autumn: 2026-10-25 is 25 hours long.
    expect(prague.startOf('2026-10-26') - prague.startOf('2026-10-25')).toBe(25 * 3_600_000);
  });

  it("Chicago 17:00 opens the next date's session; 22:00 UTC after the March change, 23:00 UTC before", () => {
    expect(new Date(chicago.startOf('2026-03-06')).toISOString()).toBe('2026-03-05T23:00:00.000Z');
    expect(new Date(chicago.startOf('2026-03-09')).toISOString()).toBe('2026-03-08T22:00:00.000Z');
    expect(chicago.dayOf(Z('2026-03-06T22:30:00Z'))).toBe('2026-03-06'); // Friday 16:30 CST
    expect(chicago.dayOf(Z('2026-03-06T23:00:00Z'))).toBe('2026-03-07'); // Friday 17:00 CST
    expect(chicago.dayOf(Z('2026-03-08T22:30:00Z'))).toBe('2026-03-09'); // Sunday 17:30 CDT
    expect(chicago.dayOf(Z('2026-03-08T21:59:00Z'))).toBe('2026-03-08'); // Sunday 16:59 CDT
    expect(chicago.endOf(Z('2026-11-01T12:00:00Z'))).toBe(Z('2026-11-01T23:00:00Z')); // 17:00 CST after fall back
  });

  it('resolves repeated and skipped wall times', () => {
    // 02:30 happens twice in Prague on 2026-10-25: the first (summer time) is chosen.
    expect(zonedInstant(2026, 10, 25, 2, 30, 'Europe/Prague')).toBe(Z('2026-10-25T00:30:00Z'));
    // 02:30 does not exist in Chicago on 2026-03-08: shifted forward by the gap (03:30 CDT).
    const t = zonedInstant(2026, 3, 8, 2, 30, 'America/Chicago');
    expect(localTime(t, 'America/Chicago')).toMatchObject({ hour: 3, minute: 30 });
  });

  it('names the bad value', () => {
    expect(() => new TradingCalendar({ timeZone: 'Mars/Olympus', time: '00:00' })).toThrow(/Mars\/Olympus/);
    expect(() => new TradingCalendar({ timeZone: 'UTC', time: '25:00' })).toThrow(/dayBoundary.time: "25:00"/);
  });
});
