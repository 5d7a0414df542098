import { describe, expect, it } from 'vitest';
import { type BacktestOptions, runBacktest } from '../src/backtest/runner.js';
import { candles, MIN, T0 } from './backtest-helpers.js';

type Row = [number, number, number, number];
type Flags = Partial<Record<'enter_long' | 'exit_long' | 'enter_short' | 'exit_short', readonly number[]>>;

// Hour candles with Freqtrade signal columns (a flag on candle N acts at the open of candle N+1).
function run(rows: Row[], flags: Flags, opts: Partial<BacktestOptions> = {}, allowShort = false) {
  const base = candles(rows, 60 * MIN);
  const col = (name: keyof Flags) => Float64Array.from(rows, (_r, i) => flags[name]?.[i] ?? 0);
  const columns = {
    ...base,
    extra: {
      enter_long: col('enter_long'),
      exit_long: col('exit_long'),
      enter_short: col('enter_short'),
      exit_short: col('exit_short'),
    },
  };
  return runBacktest({
    data: { symbol: 'X', columns, timeframe: '1h' },
    strategy: 'signals',
    params: { allowShort },
    fee: 0,
    lot: 1,
    stake: { kind: 'amount', value: 1000 },
    ...(allowShort ? { allowShort: true } : {}),
    ...opts,
  });
}

const H = 60 * MIN;
const flat: Row = [100, 100, 100, 100];

describe('Freqtrade exits through the backtest (signals strategy)', () => {
  it('entry and exit on the same candle: entered at the open, stopped out on that candle', () => {
    const r = run([flat, [100, 101, 94, 96], [96, 96, 96, 96]], { enter_long: [1] }, { exits: { stopLoss: 0.05 } });
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({
      entryTime: T0 + H,
      exitTime: T0 + H,
      entryPrice: 100,
      exitReason: 'stop_loss',
    });
    expect(r.trades[0].exitPrice).toBeCloseTo(95, 10);
  });

  it('a trailing stop hit on the entry candle takes the worst case', () => {
    const r = run(
      [flat, [100, 110, 96, 105], flat],
      { enter_long: [1] },
      {
        exits: {
          stopLoss: 0.1,
          trailingStop: { enabled: true, positive: 0.02, offset: 0.03, onlyOffsetReached: true },
        },
      },
    );
    expect(r.trades[0].exitReason).toBe('trailing_stop');
    expect(r.trades[0].exitPrice).toBeCloseTo(101, 10);
  });

  it('both enter flags on one candle: no trade', () => {
    const r = run([flat, flat, flat], { enter_long: [1], enter_short: [1] }, {}, true);
    expect(r.trades).toHaveLength(0);
    expect(r.orders).toBe(0);
  });

  it('enter_long with exit_long on the same candle: no trade', () => {
    const r = run([flat, flat, flat], { enter_long: [1], exit_long: [1] });
    expect(r.trades).toHaveLength(0);
  });

  it('an exit signal with the entry signal still set does not exit', () => {
    const rows: Row[] = [flat, flat, [101, 101, 101, 101], [102, 102, 102, 102], [103, 103, 103, 103]];
    const r = run(rows, { enter_long: [1, 1, 0], exit_long: [0, 1, 1] });
    expect(r.trades).toHaveLength(1);
    // candle 1 has both flags (held); candle 2 exit only -> exit at candle 3's open
    expect(r.trades[0]).toMatchObject({ exitTime: T0 + 3 * H, exitPrice: 102, exitReason: 'exit_signal' });
  });

  it('shorts through enter_short/exit_short, with ROI mirrored', () => {
    const rows: Row[] = [flat, [100, 100.5, 99, 99.5], [99.5, 99.6, 97, 97.5], [97, 97, 97, 97], [97, 97, 97, 97]];
    const plain = run(rows, { enter_short: [1, 0, 0, 1], exit_short: [0, 0, 1] }, {}, true);
    expect(plain.trades).toHaveLength(2);
    expect(plain.trades[0]).toMatchObject({ side: 'short', entryPrice: 100, exitPrice: 97, exitReason: 'exit_signal' });
    expect(plain.trades[0].pnl).toBeCloseTo(3 * 10, 10);
    const roi = run(rows, { enter_short: [1], exit_short: [0, 0, 1] }, { exits: { roi: { '0': 0.02 } } }, true);
    // candle 2 low 97 = +3% > 2%: exit at 100 x 0.98 = 98
    expect(roi.trades[0]).toMatchObject({ side: 'short', exitReason: 'roi', exitTime: T0 + 2 * H });
    expect(roi.trades[0].exitPrice).toBeCloseTo(98, 10);
  });

  it('an opposite entry signal does not reverse an open position', () => {
    const rows: Row[] = [flat, flat, [101, 101, 101, 101], [102, 102, 102, 102]];
    const r = run(rows, { enter_long: [1], enter_short: [0, 1] }, {}, true);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ side: 'long', exitReason: 'end_of_data', exitPrice: 102 });
  });

  it('leverage: the stop distance is divided by it', () => {
    const r = run(
      [flat, [100, 100, 100, 100], [99, 99.5, 97.5, 98.5]],
      { enter_long: [1] },
      {
        exits: { stopLoss: 0.1 },
        margin: true,
        leverage: 5,
      },
    );
    expect(r.trades[0].exitReason).toBe('stop_loss');
    expect(r.trades[0].exitPrice).toBeCloseTo(98, 10);
  });

  it('exitProfitOnly: an exit signal at a loss is not executed; a later one in profit is', () => {
    const rows: Row[] = [flat, flat, [99, 99, 99, 99], [99, 99, 99, 99], [101, 101, 101, 101], [101, 101, 101, 101]];
    const r = run(rows, { enter_long: [1], exit_long: [0, 1, 0, 1] }, { exits: { exitProfitOnly: true } });
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ exitReason: 'exit_signal', exitTime: T0 + 4 * H, exitPrice: 101 });
    const off = run(rows, { enter_long: [1], exit_long: [0, 1, 0, 1] });
    expect(off.trades[0]).toMatchObject({ exitTime: T0 + 2 * H, exitPrice: 99 });
  });

  it('useExitSignal false: exit_long is ignored, the exit rules still run', () => {
    const rows: Row[] = [flat, flat, [101, 101, 101, 101], [102, 104, 101, 103], [103, 103, 103, 103]];
    const r = run(
      rows,
      { enter_long: [1], exit_long: [0, 1] },
      { exits: { useExitSignal: false, roi: { '0': 0.03 } } },
    );
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ exitReason: 'roi', exitTime: T0 + 3 * H });
    expect(r.trades[0].exitPrice).toBeCloseTo(103, 10);
  });

  it('ignoreRoiIfEntrySignal: ROI waits while the entry signal repeats', () => {
    const rows: Row[] = [flat, flat, [103, 105, 102.5, 104], [104, 105, 103, 104], [104, 104, 104, 104]];
    const opts = { exits: { roi: { '0': 0.02 }, ignoreRoiIfEntrySignal: true } };
    const held = run(rows, { enter_long: [1, 1] }, opts);
    // candle 2 sees the repeated entry signal of candle 1: no ROI; candle 3: target 102 below its low -> 103
    expect(held.trades[0]).toMatchObject({ exitReason: 'roi', exitTime: T0 + 3 * H });
    expect(held.trades[0].exitPrice).toBeCloseTo(103, 10);
    const plain = run(rows, { enter_long: [1, 1] }, { exits: { roi: { '0': 0.02 } } });
    // without the flag: candle 2 high 105 is +5% > 2%: the 102 target, clamped to its low 102.5
    expect(plain.trades[0]).toMatchObject({ exitReason: 'roi', exitTime: T0 + 2 * H });
    expect(plain.trades[0].exitPrice).toBeCloseTo(102.5, 10);
  });
});
