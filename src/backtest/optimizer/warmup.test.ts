import { describe, expect, it } from 'vitest';
import type { BarColumns } from '../../core/bar.js';
import { barsToColumns } from '../../core/bar.js';
import type { ClosedTrade } from '../../core/events.js';
import { checkWarmup, historyLadder, signalFingerprint, viewColumns } from './warmup.js';

const N = 600;
const data = barsToColumns(
  Array.from({ length: N }, (_, i) => {
    const c = 100 + 10 * Math.sin(i / 9) + 4 * Math.sin(i / 2.3);
    return { time: i * 60_000, open: c, high: c + 1, low: c - 1, close: c, volume: 1 };
  }),
);

/** Long while the close is above its `len`-bar mean; fills at the next bar's open (no look-ahead). */
function smaRule(len: number) {
  return (b: BarColumns): ClosedTrade[] => {
    const out: ClosedTrade[] = [];
    let entry = -1;
    for (let i = len - 1; i < b.length - 1; i++) {
      let s = 0;
      for (let k = i - len + 1; k <= i; k++) s += b.close[k];
      const above = b.close[i] > s / len;
      if (above && entry < 0) entry = i + 1;
      else if (!above && entry >= 0) {
        out.push(trade(b, entry, i + 1, 'exit_signal'));
        entry = -1;
      }
    }
    if (entry >= 0) out.push(trade(b, entry, b.length - 1, 'end_of_data'));
    return out;
  };
}

/** A look-ahead bug: the threshold is the mean of every close in the data, future included. */
function peekingRule(b: BarColumns): ClosedTrade[] {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += b.close[i];
  const mean = s / b.length;
  const out: ClosedTrade[] = [];
  let entry = -1;
  for (let i = 0; i < b.length - 1; i++) {
    const above = b.close[i] > mean;
    if (above && entry < 0) entry = i + 1;
    else if (!above && entry >= 0) {
      out.push(trade(b, entry, i + 1, 'exit_signal'));
      entry = -1;
    }
  }
  return out;
}

function trade(b: BarColumns, i: number, j: number, exitReason: string): ClosedTrade {
  return {
    strategyId: 't',
    symbol: 'X',
    side: 'long',
    entryTime: b.time[i],
    entryPrice: b.open[i],
    exitTime: b.time[j],
    exitPrice: b.open[j],
    quantity: 1,
    fees: 0,
    pnl: b.open[j] - b.open[i],
    pnlPct: 0,
    exitReason,
  };
}

describe('check-warmup', () => {
  it('history ladder: capped, unique, sorted, always ends with all history', () => {
    expect(historyLadder(300)).toEqual([0, 50, 100, 200, 300]);
    expect(historyLadder(300, [100, 20, 20])).toEqual([20, 100, 300]);
    expect(() => historyLadder(300, [-1])).toThrow('--history');
  });

  it('views share memory with the data', () => {
    const v = viewColumns(data, 10, 20);
    expect(v.length).toBe(10);
    expect(v.close.buffer).toBe(data.close.buffer);
    expect(v.time[0]).toBe(data.time[10]);
  });

  it('a causal 60-bar rule differs without warm-up, is stable with enough history, has no look-ahead', async () => {
    const r = await checkWarmup(data, smaRule(60), { testFrom: 300, histories: [0, 30, 200] });
    expect(r.rows.map((x) => x.history)).toEqual([0, 30, 200, 300]);
    expect(r.rows.at(-1)!.sameSignals).toBe(true);
    // Without history the window has no signal for its first 59 bars, where the reference run trades.
    expect(r.rows[0].sameSignals).toBe(false);
    expect(r.rows[0].trades).toBeLessThan(r.rows.at(-1)!.trades);
    expect(r.rows[0].firstDifference).toBeGreaterThanOrEqual(data.time[300]);
    expect(r.rows[2].sameSignals).toBe(true);
    expect(r.stableFrom).not.toBeNull();
    expect(r.stableFrom!).toBeLessThanOrEqual(200);
    expect(r.lookAhead.identical).toBe(true);
    expect(r.lookAhead.comparedTrades).toBeGreaterThan(3);
  });

  it('flags a strategy that reads future bars', async () => {
    const r = await checkWarmup(data, peekingRule, { testFrom: 300 });
    expect(r.lookAhead.identical).toBe(false);
    expect(r.lookAhead.firstDifference).not.toBeNull();
  });

  it('signal fingerprint ignores money fields but not times', () => {
    const t = trade(data, 1, 5, 'roi');
    expect(signalFingerprint([t])).toBe(signalFingerprint([{ ...t, quantity: 9, pnl: 3 }]));
    expect(signalFingerprint([t])).not.toBe(signalFingerprint([{ ...t, exitTime: t.exitTime + 1 }]));
  });

  it('rejects a test window outside the data', async () => {
    await expect(checkWarmup(data, smaRule(5), { testFrom: N })).rejects.toThrow('outside the data');
  });
});
