import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_DATA_FILE } from '../src/app/home.js';
import { runBacktest } from '../src/backtest/runner.js';
import { loadBars } from '../src/data/index.js';

// Independent hand calculation from the raw CSV numbers: no engine, no indicator library.
function handTrades(count: number) {
  const lines = readFileSync(SAMPLE_DATA_FILE, 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((l) => {
    const [date, open, , , close] = l.split(',');
    return { time: Date.parse(`${date}T00:00:00Z`), date, open: Number(open), close: Number(close) };
  });
  const mean = (i: number, n: number) => {
    let s = 0;
    for (let k = i - n + 1; k <= i; k++) s += rows[k].close;
    return s / n;
  };
  const diff = (i: number) => mean(i, 10) - mean(i, 30);
  let cash = 100_000;
  const out: {
    signal: string;
    entryDate: string;
    entryPrice: number;
    quantity: number;
    exitSignal: string;
    exitDate: string;
    exitPrice: number;
    fees: number;
    pnl: number;
    cashAfter: number;
  }[] = [];
  let open: { signal: string; i: number; qty: number; price: number; fee: number } | null = null;
  for (let i = 30; i < rows.length - 1 && out.length < count; i++) {
    const prev = diff(i - 1);
    const d = diff(i);
    if (open === null && prev <= 0 && d > 0) {
      const qty = Math.floor((cash * 0.95) / rows[i].close);
      const price = rows[i + 1].open;
      const fee = qty * price * 0.001;
      cash -= qty * price + fee;
      open = { signal: rows[i].date, i: i + 1, qty, price, fee };
    } else if (open !== null && prev >= 0 && d < 0) {
      const price = rows[i + 1].open;
      const fee = open.qty * price * 0.001;
      cash += open.qty * price - fee;
      const fees = open.fee + fee;
      out.push({
        signal: open.signal,
        entryDate: rows[open.i].date,
        entryPrice: open.price,
        quantity: open.qty,
        exitSignal: rows[i].date,
        exitDate: rows[i + 1].date,
        exitPrice: price,
        fees,
        pnl: (price - open.price) * open.qty - fees,
        cashAfter: cash,
      });
      open = null;
    }
  }
  return out;
}

describe('sma-cross on the bundled S&P 500 data (--stake 95% --lot 1 --fee 0.001)', () => {
  it('matches an independent hand calculation for the first three round trips', () => {
    const loaded = loadBars(SAMPLE_DATA_FILE);
    const r = runBacktest({
      data: { symbol: 'SP500', columns: loaded.columns, timeframe: '1d' },
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
      stake: { kind: 'percent', value: 95 },
      lot: 1,
      fee: 0.001,
    });
    const hand = handTrades(3);
    expect(hand).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      const t = r.trades[k];
      const h = hand[k];
      expect(new Date(t.entryTime).toISOString().slice(0, 10)).toBe(h.entryDate);
      expect(new Date(t.exitTime).toISOString().slice(0, 10)).toBe(h.exitDate);
      expect(t.entryPrice).toBe(h.entryPrice);
      expect(t.exitPrice).toBe(h.exitPrice);
      expect(t.quantity).toBe(h.quantity);
      expect(t.fees).toBeCloseTo(h.fees, 8);
      expect(t.pnl).toBeCloseTo(h.pnl, 8);
      expect(t.side).toBe('long');
      expect(t.exitReason).toBe('exit_signal');
    }
    // The worked example in docs/backtesting.md quotes these numbers.
    expect(hand.map((h) => [h.signal, h.entryDate, h.quantity, h.exitDate, Number(h.pnl.toFixed(2))])).toEqual([
      ['2000-03-16', '2000-03-17', 65, '2000-04-19', -1284.4],
      ['2000-06-07', '2000-06-08', 63, '2000-08-01', -2736.23],
      ['2000-08-16', '2000-08-17', 61, '2000-09-19', -2334.12],
    ]);
  });
});
