import { describe, expect, it } from 'vitest';
import type { ClosedTrade } from '../core/events.js';
import {
  annualisation,
  computeMetrics,
  type EquityCurve,
  isWeekend,
  resolveBarsPerYear,
  tradesWeekends,
} from './metrics.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

function curve(values: number[], step = DAY): EquityCurve {
  return {
    time: Float64Array.from(values.map((_, i) => T0 + i * step)),
    value: Float64Array.from(values),
  };
}

function trade(p: Partial<ClosedTrade> & { pnl: number }): ClosedTrade {
  return {
    strategyId: 's',
    symbol: 'AAA',
    side: 'long',
    entryTime: T0,
    entryPrice: 100,
    exitTime: T0 + DAY,
    exitPrice: 100,
    quantity: 1,
    fees: 0,
    pnlPct: p.pnl,
    exitReason: 'exit_signal',
    ...p,
  };
}

describe('computeMetrics: equity curve metrics', () => {
  // Hand computation for 100 -> 110 -> 99 -> 121, daily bars, 252 bars a year:
  // returns 0.1, -0.1, 0.2222...; mean 0.0740741; sample sd 0.1626681; downside dev sqrt(0.01/3) = 0.0577350.
  const m = computeMetrics({ trades: [], equity: curve([100, 110, 99, 121]), initialCash: 100, barsPerYear: 252 });

  it('total return', () => {
    expect(m.finalEquity).toBe(121);
    expect(m.totalReturn).toBe(21);
    expect(m.totalReturnPct).toBeCloseTo(21, 10);
  });

  it('Sharpe and Sortino from per-bar returns, annualised by sqrt(252)', () => {
    expect(m.sharpe).toBeCloseTo((0.0740740741 / 0.1626680834) * Math.sqrt(252), 6);
    expect(m.sharpe).toBeCloseTo(7.228766, 5);
    expect(m.sortino).toBeCloseTo((0.0740740741 / Math.sqrt(0.01 / 3)) * Math.sqrt(252), 6);
    expect(m.annualVolatilityPct).toBeCloseTo(0.1626680834 * Math.sqrt(252) * 100, 5);
  });

  it('max drawdown percent, absolute, times and duration', () => {
    expect(m.maxDrawdownPct).toBeCloseTo(10, 10); // 110 -> 99
    expect(m.maxDrawdownAbs).toBeCloseTo(11, 10);
    expect(m.maxDrawdownPeakTime).toBe(T0 + DAY);
    expect(m.maxDrawdownTroughTime).toBe(T0 + 2 * DAY);
    expect(m.maxDrawdownRecoveryTime).toBe(T0 + 3 * DAY);
    expect(m.maxDrawdownDurationBars).toBe(2);
    expect(m.maxDrawdownDurationMs).toBe(2 * DAY);
  });

  it('CAGR over the calendar span and Calmar = CAGR / max DD', () => {
    // 3 days, 21 % -> (1.21)^(365.25/3) - 1
    expect(m.cagrPct).toBeCloseTo((1.21 ** (365.25 / 3) - 1) * 100, 0);
    expect(m.calmar).toBeCloseTo(((1.21 ** (365.25 / 3) - 1) * 100) / 100 / 0.1, -2);
    const year = computeMetrics({
      trades: [],
      equity: { time: Float64Array.of(T0, T0 + 365.25 * DAY * 2), value: Float64Array.of(100, 121) },
      initialCash: 100,
      barsPerYear: 252,
    });
    expect(year.cagrPct).toBeCloseTo(10, 10); // 1.21 over two years = 10 % a year
    expect(year.calmar).toBeNull(); // never under water
  });

  it('risk-free rate is taken per bar from the annual rate', () => {
    const withRf = computeMetrics({
      trades: [],
      equity: curve([100, 110, 99, 121]),
      initialCash: 100,
      barsPerYear: 252,
      riskFreeRate: 0.05,
    });
    const rfBar = 1.05 ** (1 / 252) - 1;
    expect(withRf.sharpe).toBeCloseTo(((0.0740740741 - rfBar) / 0.1626680834) * Math.sqrt(252), 5);
    expect(withRf.sharpe!).toBeLessThan(m.sharpe!);
  });

  it('an unrecovered drawdown lasts to the last bar and has no recovery time', () => {
    const u = computeMetrics({ trades: [], equity: curve([100, 120, 90, 100]), initialCash: 100, barsPerYear: 365 });
    expect(u.maxDrawdownPct).toBeCloseTo(25, 10);
    expect(u.maxDrawdownAbs).toBeCloseTo(30, 10);
    expect(u.maxDrawdownRecoveryTime).toBeNull();
    expect(u.maxDrawdownDurationBars).toBe(2);
  });

  it('longest time under water can belong to a shallower episode; absolute DD can too', () => {
    // Episode A: 100 -> 50 -> 100 (50 %, 2 bars). Episode B: 1000 -> 900 -> 950 -> 980 -> 1000 (10 %, abs 100, 4 bars).
    const e = computeMetrics({
      trades: [],
      equity: curve([100, 50, 100, 1000, 900, 950, 980, 1000]),
      initialCash: 100,
      barsPerYear: 365,
    });
    expect(e.maxDrawdownPct).toBeCloseTo(50, 10);
    expect(e.maxDrawdownPeakTime).toBe(T0);
    expect(e.maxDrawdownRecoveryTime).toBe(T0 + 2 * DAY);
    expect(e.maxDrawdownAbs).toBeCloseTo(100, 10);
    expect(e.maxDrawdownDurationBars).toBe(4);
  });

  it('drawdown counts from the initial cash when the first bar is already below it', () => {
    const e = computeMetrics({ trades: [], equity: curve([90, 95]), initialCash: 100, barsPerYear: 365 });
    expect(e.maxDrawdownPct).toBeCloseTo(10, 10);
  });

  it('constant equity: Sharpe, Sortino and Calmar are null and the JSON has no NaN/Infinity', () => {
    const c = computeMetrics({ trades: [], equity: curve([100, 100, 100, 100]), initialCash: 100, barsPerYear: 252 });
    expect(c.sharpe).toBeNull();
    expect(c.sortino).toBeNull();
    expect(c.calmar).toBeNull();
    expect(c.maxDrawdownPct).toBe(0);
    expect(c.totalReturnPct).toBe(0);
    expect(c.cagrPct).toBe(0);
    const json = JSON.stringify(c);
    expect(json).not.toMatch(/NaN|Infinity/);
    expect(JSON.parse(json).sharpe).toBeNull();
  });

  it('empty curve: final equity is the initial cash, nothing is NaN', () => {
    const c = computeMetrics({ trades: [], equity: curve([]), initialCash: 1000 });
    expect(c.finalEquity).toBe(1000);
    expect(c.bars).toBe(0);
    expect(c.exposurePct).toBeNull();
    expect(JSON.stringify(c)).not.toMatch(/NaN|Infinity/);
    expect(Object.values(c).every((v) => v === null || typeof v !== 'number' || Number.isFinite(v))).toBe(true);
  });

  it('a loss of everything gives CAGR -100 %', () => {
    const c = computeMetrics({ trades: [], equity: curve([100, 50, 0]), initialCash: 100, barsPerYear: 365 });
    expect(c.cagrPct).toBe(-100);
    expect(c.maxDrawdownPct).toBeCloseTo(100, 10);
  });
});

describe('computeMetrics: annualisation', () => {
  it('uses the timeframe with the trading days convention', () => {
    const eq = curve([1, 2]);
    expect(resolveBarsPerYear({ equity: eq, timeframe: '1d', tradingDaysPerYear: 252 })).toBe(252);
    expect(resolveBarsPerYear({ equity: eq, timeframe: '1d' })).toBe(365);
    expect(resolveBarsPerYear({ equity: eq, timeframe: '1h', tradingDaysPerYear: 252 })).toBe(252 * 24);
    expect(resolveBarsPerYear({ equity: eq, timeframe: '1h', barsPerYear: 1000 })).toBe(1000);
  });

  it('infers bars per year from the median spacing when no timeframe is given', () => {
    // Hourly bars with one weekend gap: the median spacing is still one hour.
    const times = [0, 1, 2, 3, 60, 61, 62].map((h) => T0 + h * 3_600_000);
    const eq = { time: Float64Array.from(times), value: new Float64Array(times.length).fill(1) };
    expect(resolveBarsPerYear({ equity: eq })).toBe(365 * 24);
    expect(resolveBarsPerYear({ equity: eq, tradingDaysPerYear: 252 })).toBe(252 * 24);
  });
});

describe('annualisation from the data calendar', () => {
  const HOUR = 3_600_000;
  /** Times of `days` calendar days from T0 (a Monday), `perDay` bars a day from `startHour`, weekdays only or all. */
  function times(days: number, perDay: number, weekdaysOnly: boolean, startHour = 0, step = HOUR): number[] {
    const out: number[] = [];
    for (let d = 0; d < days; d++) {
      const dow = new Date(T0 + d * DAY).getUTCDay();
      if (weekdaysOnly && (dow === 0 || dow === 6)) continue;
      for (let k = 0; k < perDay; k++) out.push(T0 + d * DAY + startHour * HOUR + k * step);
    }
    return out;
  }

  it('24/7 data (weekend bars) is annualised over 365 days', () => {
    expect(tradesWeekends(times(60, 1, false))).toBe(true);
    expect(annualisation(times(60, 1, false), '1d')).toEqual({ barsPerYear: 365, basis: 'calendar-365' });
    expect(annualisation(times(60, 24, false), '1h')).toEqual({ barsPerYear: 365 * 24, basis: 'calendar-365' });
  });

  it('weekday-only data is annualised over 252 trading days; intraday by its bars per trading day', () => {
    expect(tradesWeekends(times(60, 1, true))).toBe(false);
    expect(annualisation(times(60, 1, true), '1d')).toEqual({ barsPerYear: 252, basis: 'calendar-252' });
    // A stock session: 7 hourly bars a weekday (13:30 .. 19:30 UTC) -> 252 x 7.
    expect(annualisation(times(60, 7, true, 13), '1h')).toEqual({ barsPerYear: 252 * 7, basis: 'calendar-252' });
  });

  it('a forex week (Sunday evening open, about 2 % of bars at the weekend) counts as trading days', () => {
    const fx = times(70, 24, true);
    for (let d = 0; d < 70; d++) {
      if (new Date(T0 + d * DAY).getUTCDay() === 0) for (let h = 22; h < 24; h++) fx.push(T0 + d * DAY + h * HOUR);
    }
    fx.sort((a, b) => a - b);
    expect(tradesWeekends(fx)).toBe(false);
  });

  it('under a week of data cannot tell: 365; explicit --periods-per-year and --trading-days win', () => {
    expect(annualisation(times(4, 1, true), '1d').basis).toBe('calendar-365');
    expect(annualisation(times(60, 1, false), '1d', { periodsPerYear: 1000 })).toEqual({
      barsPerYear: 1000,
      basis: 'periods-per-year',
    });
    expect(annualisation(times(60, 1, false), '1h', { tradingDaysPerYear: 252 })).toEqual({
      barsPerYear: 252 * 24,
      basis: 'trading-days',
    });
  });

  it('the Sharpe ratio follows the basis: sqrt(252) against sqrt(365) on the same returns', () => {
    const c = curve([100, 101, 100.5, 102, 101, 103]);
    const m252 = computeMetrics({ trades: [], equity: c, initialCash: 100, barsPerYear: 252 });
    const m365 = computeMetrics({ trades: [], equity: c, initialCash: 100, barsPerYear: 365 });
    expect(m365.sharpe! / m252.sharpe!).toBeCloseTo(Math.sqrt(365 / 252), 12);
  });
});

describe('computeMetrics: trade metrics', () => {
  // Closing order: +10, -5, +20, 0, -15, -5, +30  -> wins 3, losses 3, breakeven 1.
  const trades: ClosedTrade[] = [
    trade({ pnl: 10, pnlPct: 1, entryTime: T0, exitTime: T0 + DAY, fees: 1 }),
    trade({ pnl: -5, pnlPct: -0.5, entryTime: T0 + DAY, exitTime: T0 + 2 * DAY, fees: 1, exitReason: 'stop_loss' }),
    trade({
      pnl: 20,
      pnlPct: 2,
      entryTime: T0 + 2 * DAY,
      exitTime: T0 + 5 * DAY,
      fees: 1,
      symbol: 'BBB',
      side: 'short',
    }),
    trade({ pnl: 0, pnlPct: 0, entryTime: T0 + 5 * DAY, exitTime: T0 + 6 * DAY, fees: 1 }),
    trade({
      pnl: -15,
      pnlPct: -1.5,
      entryTime: T0 + 6 * DAY,
      exitTime: T0 + 8 * DAY,
      fees: 1,
      exitReason: 'stop_loss',
    }),
    trade({ pnl: -5, pnlPct: -0.5, entryTime: T0 + 8 * DAY, exitTime: T0 + 9 * DAY, fees: 1, symbol: 'BBB' }),
    trade({ pnl: 30, pnlPct: 3, entryTime: T0 + 10 * DAY, exitTime: T0 + 14 * DAY, fees: 2, exitReason: 'roi' }),
  ];
  // Feed them out of order: the metrics sort by exit time for the streaks.
  const shuffled = [trades[3], trades[0], trades[6], trades[1], trades[5], trades[2], trades[4]];
  const values = Array.from({ length: 16 }, (_, i) => 1000 + i);
  const m = computeMetrics({ trades: shuffled, equity: curve(values), initialCash: 1000, barsPerYear: 365 });

  it('net P&L is after fees, gross P&L before them', () => {
    const m = computeMetrics({
      trades: [trade({ pnl: 10, fees: 1 }), trade({ pnl: -4, fees: 0.5 })],
      equity: curve([100, 106]),
      initialCash: 100,
    });
    expect(m.netPnl).toBeCloseTo(6, 12);
    expect(m.grossPnl).toBeCloseTo(7.5, 12);
  });

  it('counts, win rate, profit factor, expectancy', () => {
    expect(m.trades).toBe(7);
    expect(m.longTrades).toBe(6);
    expect(m.shortTrades).toBe(1);
    expect(m.wins).toBe(3);
    expect(m.losses).toBe(3);
    expect(m.winRatePct).toBeCloseTo((3 / 7) * 100, 10);
    expect(m.grossProfit).toBe(60);
    expect(m.grossLoss).toBe(-25);
    expect(m.profitFactor).toBeCloseTo(2.4, 12);
    expect(m.expectancy).toBeCloseTo(35 / 7, 12);
    expect(m.expectancyPct).toBeCloseTo((3.5 / 7) * 100, 10); // trade pnlPct is a ratio, metrics are percent
    expect(m.totalFees).toBe(8);
  });

  it('average win/loss, best/worst, streaks', () => {
    expect(m.avgWin).toBeCloseTo(20, 12);
    expect(m.avgLoss).toBeCloseTo(-25 / 3, 12);
    expect(m.avgWinPct).toBeCloseTo(200, 10);
    expect(m.avgLossPct).toBeCloseTo((-2.5 / 3) * 100, 10);
    expect(m.bestTradePnl).toBe(30);
    expect(m.worstTradePnl).toBe(-15);
    expect(m.bestTradePct).toBe(300);
    expect(m.worstTradePct).toBe(-150);
    expect(m.maxConsecutiveWins).toBe(1); // the breakeven trade breaks the streak
    expect(m.maxConsecutiveLosses).toBe(2); // -15, -5
  });

  it('average and median duration', () => {
    // durations in days: 1,1,3,1,2,1,4 -> mean 13/7, median 1
    expect(m.avgTradeDurationMs).toBeCloseTo((13 / 7) * DAY, 3);
    expect(m.medianTradeDurationMs).toBe(DAY);
  });

  it('exposure from the trades: bars with entry <= t < exit', () => {
    // Held days: 0..8 continuously (9 bars: 0-8), then 10..13 (4 bars) -> 13 of 16 bars.
    expect(m.exposureBars).toBe(13);
    expect(m.exposurePct).toBeCloseTo((13 / 16) * 100, 10);
    const given = computeMetrics({ trades, equity: curve(values), initialCash: 1000, exposureBars: 4 });
    expect(given.exposureBars).toBe(4);
    expect(given.exposurePct).toBeCloseTo(25, 10);
  });

  it('a trade opened and closed on the same bar counts that bar', () => {
    const same = computeMetrics({
      trades: [trade({ pnl: 1, entryTime: T0 + DAY, exitTime: T0 + DAY })],
      equity: curve([1, 1, 1]),
      initialCash: 1,
    });
    expect(same.exposureBars).toBe(1);
  });

  it('per-symbol and per-exit-reason breakdowns', () => {
    expect(m.bySymbol).toEqual([
      { symbol: 'AAA', trades: 5, winRatePct: 40, totalPnl: 20, avgPnlPct: 40, fees: 6 },
      { symbol: 'BBB', trades: 2, winRatePct: 50, totalPnl: 15, avgPnlPct: 75, fees: 2 },
    ]);
    expect(m.byExitReason.map((r) => [r.exitReason, r.trades, r.winRatePct, r.totalPnl])).toEqual([
      ['exit_signal', 4, 50, 25],
      ['roi', 1, 100, 30],
      ['stop_loss', 2, 0, -20],
    ]);
    expect(m.byExitReason.find((r) => r.exitReason === 'stop_loss')!.avgPnlPct).toBeCloseTo(-100, 10);
  });

  it('zero trades: counts are 0 and per-trade statistics null', () => {
    const z = computeMetrics({ trades: [], equity: curve([1, 1]), initialCash: 1 });
    expect(z.trades).toBe(0);
    expect(z.winRatePct).toBeNull();
    expect(z.profitFactor).toBeNull();
    expect(z.expectancy).toBeNull();
    expect(z.medianTradeDurationMs).toBeNull();
    expect(z.bestTradePnl).toBeNull();
    expect(z.exposureBars).toBe(0);
    expect(z.bySymbol).toEqual([]);
    expect(z.byExitReason).toEqual([]);
  });

  it('profit factor is null without losing trades', () => {
    const w = computeMetrics({ trades: [trade({ pnl: 5 })], equity: curve([1, 1]), initialCash: 1 });
    expect(w.profitFactor).toBeNull();
    expect(w.winRatePct).toBe(100);
  });
});

describe('computeMetrics: buy-and-hold benchmark', () => {
  it('return, CAGR and max drawdown of the closes', () => {
    const m = computeMetrics({
      trades: [],
      equity: { time: Float64Array.of(T0, T0 + 365.25 * DAY), value: Float64Array.of(100, 100) },
      initialCash: 100,
      benchmark: { close: Float64Array.of(10, 15) },
    });
    expect(m.benchmarkReturnPct).toBeCloseTo(50, 10);
    expect(m.benchmarkCagrPct).toBeCloseTo(50, 10);
    const d = computeMetrics({
      trades: [],
      equity: curve([1, 1, 1, 1]),
      initialCash: 1,
      benchmark: { close: Float64Array.of(10, 12, 9, 15) },
    });
    expect(d.benchmarkReturnPct).toBeCloseTo(50, 10);
    expect(d.benchmarkMaxDrawdownPct).toBeCloseTo(25, 10);
  });

  it('is null without a benchmark', () => {
    const m = computeMetrics({ trades: [], equity: curve([1, 1]), initialCash: 1 });
    expect(m.benchmarkReturnPct).toBeNull();
    expect(m.benchmarkMaxDrawdownPct).toBeNull();
  });
});

describe('isWeekend', () => {
  it('answers what Date.getUTCDay answers, before and after 1970, at day edges, fractional and out of range', () => {
    const day = 86_400_000;
    const cases = [0, -1, -0.5, 0.5, day - 1, day, -day, -day - 1, 8.64e15, -8.64e15, 8.64e15 + 1, Number.NaN];
    let s = 12345;
    for (let k = 0; k < 20_000; k++) {
      s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
      cases.push((s / 2 ** 32 - 0.5) * 2e13 + (k % 3 === 0 ? 0.25 : 0));
    }
    for (const ms of cases) {
      const dow = new Date(ms).getUTCDay();
      expect(isWeekend(ms), String(ms)).toBe(dow === 0 || dow === 6);
    }
  });
});
