import { describe, expect, it } from 'vitest';
import { PropFirmAccount } from './prop-firm-account.js';
import { parseCustomParams, resolveRuleSet } from './prop-firm-rules.js';

const Z = (s: string) => Date.parse(s);
const account = (ref: string, size?: number) => new PropFirmAccount(resolveRuleSet(ref, size).params);

describe('FTMO (Europe/Prague midnight)', () => {
  it("1-Step maximum loss: the firm's example (highest end-of-day balance − 10%, never down)", () => {
    const a = account('ftmo-1step', 100_000);
    // Day 1 (Tuesday 2026-01-06 in Prague): limit 90 000; closes with balance 104 000.
    a.mark(Z('2026-01-06T08:00:00Z'), 100_000);
    expect(a.maxFloor).toBe(90_000);
    a.recordPnl(Z('2026-01-06T15:00:00Z'), 4_000);
    a.mark(Z('2026-01-06T15:00:00Z'), 104_000);
    expect(a.maxFloor).toBe(90_000); // intraday balance changes do not move it
    // Day 2: limit 94 000; closes at 103 000.
    a.mark(Z('2026-01-07T08:00:00Z'), 104_000);
    expect(a.maxFloor).toBe(94_000);
    a.recordPnl(Z('2026-01-07T15:00:00Z'), -1_000);
    // Day 3: still 94 000 (the higher close of day 1 counts).
    a.mark(Z('2026-01-08T08:00:00Z'), 103_000);
    expect(a.maxFloor).toBe(94_000);
    expect(a.history.map((d) => [d.day, d.maxLossFloor])).toEqual([
      ['2026-01-06', 90_000],
      ['2026-01-07', 94_000],
      ['2026-01-08', 94_000],
    ]);
  });

  it("2-Step daily loss: the academy's $200 000 example, breached by the midnight reset", () => {
    const a = account('ftmo-2step', 200_000);
    // Monday: +4 000 closed, so 14 000 may still be lost today (floor 190 000 from the day's opening balance).
    a.mark(Z('2026-01-05T08:00:00Z'), 200_000);
    a.recordPnl(Z('2026-01-05T10:00:00Z'), 4_000);
    expect(a.mark(Z('2026-01-05T10:00:00Z'), 204_000)).toEqual([]);
    expect(a.dailyFloor).toBe(190_000);
    // A new trade floats −13 000: equity 191 000, still above the floor until midnight.
    expect(a.mark(Z('2026-01-05T22:59:00Z'), 191_000)).toEqual([]);
    // Midnight Prague (23:00 UTC in January): floor resets to 204 000 − 10 000 = 194 000; 191 000 breaches it.
    const breaches = a.mark(Z('2026-01-05T23:00:00Z'), 191_000);
    expect(a.dailyFloor).toBe(194_000);
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ limit: 'dailyLoss', scope: 'account', day: '2026-01-06', floor: 194_000 });
    expect(a.failed).toBe(true);
    expect(a.status(Z('2026-01-06T08:00:00Z')).state).toBe('breached');
  });

  it('2-Step: the reset follows Prague midnight across the March daylight-saving change', () => {
    const a = account('ftmo-2step', 100_000);
    a.mark(Z('2026-03-27T10:00:00Z'), 100_000);
    a.recordPnl(Z('2026-03-27T12:00:00Z'), 2_000); // Friday closes at 102 000
    // 22:30 UTC Saturday 28th is 23:30 CET: still Saturday, anchor 102 000.
    a.mark(Z('2026-03-28T22:30:00Z'), 102_000);
    expect(a.status(Z('2026-03-28T22:30:00Z')).day).toBe('2026-03-28');
    expect(a.dailyFloor).toBe(97_000);
    a.recordPnl(Z('2026-03-29T10:00:00Z'), -1_500); // Sunday closes at 100 500
    // 22:30 UTC Sunday 29th is already 00:30 CEST Monday: the floor moved to 100 500 − 5 000.
    a.mark(Z('2026-03-29T22:30:00Z'), 100_500);
    expect(a.status(Z('2026-03-29T22:30:00Z')).day).toBe('2026-03-30');
    expect(a.dailyFloor).toBe(95_500);
  });

  it('2-Step maximum loss is static: 90% of the initial balance whatever the profit', () => {
    const a = account('ftmo-2step', 100_000);
    a.recordPnl(Z('2026-01-05T10:00:00Z'), 8_000);
    a.mark(Z('2026-01-06T10:00:00Z'), 108_000);
    expect(a.maxFloor).toBe(90_000);
  });

  it('1-Step best-day rule: 5 000 on one day of 5 000 total is 100%; another 5 000 brings it to 50%', () => {
    const a = account('ftmo-1step', 100_000);
    a.recordPnl(Z('2026-01-05T10:00:00Z'), 5_000);
    let c = a.status(Z('2026-01-05T12:00:00Z')).consistency;
    expect(c).toMatchObject({ bestDay: 5_000, share: 1, met: false });
    a.recordPnl(Z('2026-01-06T10:00:00Z'), 2_500);
    a.recordPnl(Z('2026-01-07T10:00:00Z'), 2_500);
    c = a.status(Z('2026-01-07T12:00:00Z')).consistency;
    expect(c).toMatchObject({ bestDay: 5_000, basis: 10_000, share: 0.5, met: true });
  });
});

describe('Topstep (America/Chicago 17:00)', () => {
  it("maximum loss limit: the help centre's $50K example, locked at the starting balance", () => {
    const a = account('topstep', 50_000);
    a.mark(Z('2026-01-05T15:00:00Z'), 50_000);
    expect(a.maxFloor).toBe(48_000);
    // Day 1: +500 → balance 50 500; the limit is set at the end of the day: 48 500.
    a.recordPnl(Z('2026-01-05T18:00:00Z'), 500);
    expect(a.maxFloor).toBe(48_000);
    a.mark(Z('2026-01-05T23:30:00Z'), 50_500); // 17:30 CST: next trading day
    expect(a.maxFloor).toBe(48_500);
    // Day 2: −500 → 50 000; the limit stays 48 500.
    a.recordPnl(Z('2026-01-06T18:00:00Z'), -500);
    a.mark(Z('2026-01-06T23:30:00Z'), 50_000);
    expect(a.maxFloor).toBe(48_500);
    // Day 3: +2 500 → 52 500; the limit moves to 50 000 and stays there.
    a.recordPnl(Z('2026-01-07T18:00:00Z'), 2_500);
    a.mark(Z('2026-01-07T23:30:00Z'), 52_500);
    expect(a.maxFloor).toBe(50_000);
    a.recordPnl(Z('2026-01-08T18:00:00Z'), 3_000);
    a.mark(Z('2026-01-08T23:30:00Z'), 55_500);
    expect(a.maxFloor).toBe(50_000);
    const s = a.status(Z('2026-01-08T23:30:00Z'));
    expect(s.limits.find((l) => l.limit === 'maxLoss')).toMatchObject({ floor: 50_000, distance: 5_500, locked: true });
  });

  it('daily loss limit is a soft breach: the rest of the day is halted, the next day trades again', () => {
    const a = account('topstep', 50_000);
    a.mark(Z('2026-01-05T15:00:00Z'), 50_000);
    const b = a.mark(Z('2026-01-05T19:00:00Z'), 49_000);
    expect(b).toEqual([expect.objectContaining({ limit: 'dailyLoss', scope: 'day', floor: 49_000 })]);
    expect(a.failed).toBe(false);
    expect(a.dayHalted(Z('2026-01-05T22:59:00Z'))).toBe(true); // 16:59 CST
    expect(a.status(Z('2026-01-05T22:59:00Z')).state).toBe('day-halted');
    expect(a.dayHalted(Z('2026-01-05T23:00:00Z'))).toBe(false); // 17:00 CST: the next session
  });

  it('the session boundary is 17:00 Chicago on both sides of the March change', () => {
    const a = account('topstep', 50_000);
    a.mark(Z('2026-03-06T20:00:00Z'), 50_000); // Friday 14:00 CST
    a.recordPnl(Z('2026-03-06T20:00:00Z'), 700);
    // Sunday 8 March 16:30 CDT (21:30 UTC) is still the weekend session; 17:00 CDT (22:00 UTC) opens Monday.
    a.mark(Z('2026-03-08T21:30:00Z'), 50_700);
    expect(a.status(Z('2026-03-08T21:30:00Z')).day).toBe('2026-03-08');
    a.mark(Z('2026-03-08T22:00:00Z'), 50_700);
    const s = a.status(Z('2026-03-08T22:00:00Z'));
    expect(s.day).toBe('2026-03-09');
    expect(s.dayStartsAt).toBe(Z('2026-03-08T22:00:00Z'));
    expect(s.dayEndsAt).toBe(Z('2026-03-09T22:00:00Z'));
    expect(a.maxFloor).toBe(48_700);
  });
});

describe('Apex (intraday trailing threshold)', () => {
  it('trails the highest equity including open profit and stops at the starting balance + 100', () => {
    const a = account('apex', 50_000);
    a.mark(Z('2026-01-05T15:00:00Z'), 50_000);
    expect(a.maxFloor).toBe(47_500);
    a.mark(Z('2026-01-05T15:01:00Z'), 51_000); // open profit only
    expect(a.maxFloor).toBe(48_500);
    a.mark(Z('2026-01-05T15:02:00Z'), 50_300); // gives some back: the threshold stays
    expect(a.maxFloor).toBe(48_500);
    a.mark(Z('2026-01-05T15:03:00Z'), 52_600);
    expect(a.maxFloor).toBe(50_100);
    a.mark(Z('2026-01-05T15:04:00Z'), 54_000);
    expect(a.maxFloor).toBe(50_100);
    const b = a.mark(Z('2026-01-05T15:05:00Z'), 50_100);
    expect(b).toEqual([expect.objectContaining({ limit: 'maxLoss', scope: 'account', floor: 50_100 })]);
  });
});

describe('custom rule sets and objectives', () => {
  it('balance-or-equity daily anchor, minimum trading days and profit target', () => {
    const a = new PropFirmAccount(
      parseCustomParams({
        initialBalance: 10_000,
        dayBoundary: { timeZone: 'UTC', time: '00:00' },
        dailyLoss: { amount: 400, anchor: 'max-balance-equity' },
        maxLoss: { amount: 1_000 },
        profitTarget: 500,
        minTradingDays: 2,
      }).params,
    );
    a.recordFill(Z('2026-01-05T10:00:00Z'));
    a.mark(Z('2026-01-05T23:00:00Z'), 10_300); // open profit at the boundary
    a.mark(Z('2026-01-06T00:00:00Z'), 10_300);
    expect(a.dailyFloor).toBe(9_900); // max(10 000 balance, 10 300 equity) − 400
    a.recordFill(Z('2026-01-06T01:00:00Z'));
    a.recordPnl(Z('2026-01-06T01:00:00Z'), 600);
    const s = a.status(Z('2026-01-06T02:00:00Z'));
    expect(s.tradingDays).toEqual({ count: 2, required: 2, met: true });
    expect(s.profitTarget).toEqual({ target: 500, profit: 600, remaining: 0, reached: true });
    expect(s.state).toBe('passed');
  });

  it('state survives a restart', () => {
    const a = account('ftmo-1step');
    a.mark(Z('2026-01-05T10:00:00Z'), 100_000);
    a.recordPnl(Z('2026-01-05T12:00:00Z'), 3_000);
    a.mark(Z('2026-01-06T10:00:00Z'), 103_000);
    const b = account('ftmo-1step');
    b.restore(JSON.parse(JSON.stringify(a.getState())));
    expect(b.maxFloor).toBe(93_000);
    expect(b.status(Z('2026-01-06T11:00:00Z'))).toEqual(a.status(Z('2026-01-06T11:00:00Z')));
  });

  it('rejects unknown sets, versions, sizes and bad custom keys with the key named', () => {
    expect(() => resolveRuleSet('ftmo-3step')).toThrow(/risk.propFirm.rules: unknown prop-firm rule set "ftmo-3step"/);
    expect(() => resolveRuleSet('ftmo-2step@1999-01')).toThrow(/no version "1999-01"/);
    expect(() => resolveRuleSet('topstep', 75_000)).toThrow(/risk.propFirm.accountSize: topstep accounts come in/);
    expect(() =>
      parseCustomParams({ initialBalance: 1, dayBoundary: { timeZone: 'UTC', time: '0' }, maxLoss: {} }),
    ).toThrow(/risk.propFirm.custom.maxLoss.amount/);
    expect(resolveRuleSet('ftmo-2step').label).toBe('ftmo-2step@2025-06');
  });
});
