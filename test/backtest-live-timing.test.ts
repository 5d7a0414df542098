import { describe, expect, it } from 'vitest';
import { type BacktestOptions, runBacktest } from '../src/backtest/runner.js';
import { candles, MIN } from './backtest-helpers.js';

type Row = [number, number, number, number];

// The runner's settings that reproduce a live deployment (docs/backtesting.md 18, docs/live.md "Parity with the
// backtest"): exitTiming "live" and the fee taken in the base asset.
function run(rows: Row[], enter: readonly number[], opts: Partial<BacktestOptions> = {}) {
  const base = candles(rows, MIN);
  const zeros = Float64Array.from(rows, () => 0);
  const columns = {
    ...base,
    extra: {
      enter_long: Float64Array.from(rows, (_r, i) => enter[i] ?? 0),
      exit_long: zeros,
      enter_short: zeros,
      exit_short: zeros,
    },
  };
  return runBacktest({
    data: { symbol: 'X', columns, timeframe: '1m' },
    strategy: 'signals',
    fee: 0,
    lot: 1,
    stake: { kind: 'amount', value: 1000 },
    ...opts,
  });
}

const flat: Row = [100, 100, 100, 100];

describe('exitTiming "live"', () => {
  it('ROI: decided on the bar that reaches it, filled at the next open (intrabar: at the ROI price on that bar)', () => {
    const rows: Row[] = [flat, flat, [100, 112, 100, 111], [108, 109, 107, 108], [108, 108, 108, 108]];
    const exits = { roi: { '0': 0.05 } };
    const intrabar = run(rows, [1], { exits });
    expect(intrabar.trades[0]).toMatchObject({
      exitReason: 'roi',
      exitPrice: 105,
      exitTime: candles(rows, MIN).time[2],
    });
    const live = run(rows, [1], { exits, exitTiming: 'live' });
    expect(live.trades[0]).toMatchObject({ exitReason: 'roi', exitPrice: 108, exitTime: candles(rows, MIN).time[3] });
  });

  it('the fixed stop-loss (kept on the venue live) still fills within its bar, at the stop or the open on a gap', () => {
    const rows: Row[] = [flat, flat, [100, 100, 94, 95], [95, 95, 95, 95]];
    const exits = { stopLoss: 0.05 };
    const live = run(rows, [1], { exits, exitTiming: 'live' });
    expect(live.trades[0]).toMatchObject({
      exitReason: 'stop_loss',
      exitPrice: 95,
      exitTime: candles(rows, MIN).time[2],
    });
    const gap: Row[] = [flat, flat, [90, 91, 89, 90], [90, 90, 90, 90]];
    expect(run(gap, [1], { exits, exitTiming: 'live' }).trades[0]).toMatchObject({
      exitReason: 'stop_loss',
      exitPrice: 90,
    });
  });

  it('break-even and trailing stops (engine-side live) fill at the next open', () => {
    const t = candles([flat, flat, flat, flat, flat, flat], MIN).time;
    // Break-even armed at +3%, then the bar falls back to the entry: stop_loss at the entry intrabar, next open live.
    const be: Row[] = [flat, flat, [100, 103, 101, 103], [103, 103, 99, 99], [98, 98, 98, 98]];
    const beExits = { stopLoss: 0.1, breakeven: { trigger: 0.02 } };
    expect(run(be, [1], { exits: beExits }).trades[0]).toMatchObject({
      exitReason: 'stop_loss',
      exitPrice: 100,
      exitTime: t[3],
    });
    expect(run(be, [1], { exits: beExits, exitTiming: 'live' }).trades[0]).toMatchObject({
      exitReason: 'stop_loss',
      exitPrice: 98,
      exitTime: t[4],
    });
    // Trailing 1% once 3% is reached: up to 105, then down through 103.95.
    const tr: Row[] = [flat, flat, [100, 105, 104, 105], [105, 105, 103, 103], [102, 102, 102, 102]];
    const trExits = {
      stopLoss: 0.1,
      trailingStop: { enabled: true, positive: 0.01, offset: 0.03, onlyOffsetReached: true },
    };
    expect(run(tr, [1], { exits: trExits }).trades[0]).toMatchObject({
      exitReason: 'trailing_stop',
      exitPrice: 103.95,
    });
    expect(run(tr, [1], { exits: trExits, exitTiming: 'live' }).trades[0]).toMatchObject({
      exitReason: 'trailing_stop',
      exitPrice: 102,
      exitTime: t[4],
    });
  });
});

describe('feeAsset "base"', () => {
  it('books a buy net of its fee in whole lots, the rest counted as fee, and sells what was booked', () => {
    const rows: Row[] = [flat, [200, 200, 200, 200], [220, 220, 220, 220], [220, 220, 220, 220]];
    const exits = { roi: { '0': 0.05 } };
    const r = run(rows, [1], {
      exits,
      fee: 0.001,
      lot: 0.001,
      stake: { kind: 'amount', value: 1000 },
      feeAsset: 'base',
      exitTiming: 'live',
    });
    const t = r.trades[0];
    // The stake buys a whole number of lots; the venue credits 0.1% less, rounded down to the lot.
    const bought = r.config.stake as { value: number };
    expect(bought.value).toBe(1000);
    const gross = Math.round(t.quantity / 0.999 / 0.001) * 0.001;
    expect(t.quantity).toBeCloseTo(Math.floor((gross * 0.999) / 0.001 + 1e-9) * 0.001, 9);
    expect(t.quantity).toBeLessThan(gross);
    // Entry fee: the quantity not booked at the entry price; exit fee: 0.1% of the exit notional in quote.
    const entryFee = (gross - t.quantity) * t.entryPrice;
    expect(t.fees).toBeCloseTo(entryFee + t.exitPrice * t.quantity * 0.001, 6);
    expect(t.pnl).toBeCloseTo(t.quantity * t.exitPrice * 0.999 - gross * t.entryPrice, 6);
    // Quote fees (the default) book the whole quantity.
    const quote = run(rows, [1], {
      exits,
      fee: 0.001,
      lot: 0.001,
      stake: { kind: 'amount', value: 1000 },
      exitTiming: 'live',
    });
    expect(quote.trades[0].quantity).toBeCloseTo(gross, 9);
  });
});
