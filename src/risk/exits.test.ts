import { describe, expect, it } from 'vitest';
import {
  compileExits,
  ENTER_SIGNAL,
  EXIT_SIGNAL,
  type ExitConfig,
  ExitDecision,
  ExitState,
  evaluateExits,
  profitRatio,
} from './exits.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

/**
 * One hand-built Freqtrade case: a position opened at the open of candle 0 (the entry candle), candles every
 * `tf` minutes written [open, high, low, close], optional signal bits per candle, and the expected first exit
 * (candle index, reason, price) worked out from Freqtrade's rules (see docs/backtesting.md), or null.
 */
interface Case {
  name: string;
  exits: ExitConfig;
  fee?: number;
  leverage?: number;
  /** Candle length in minutes (default 60). */
  tf?: number;
  /** Default long (1). */
  dir?: 1 | -1;
  /** Entry price (default: candle 0's open). */
  entry?: number;
  candles: [number, number, number, number][];
  signals?: Record<number, number>;
  expect: { bar: number; reason: string; price: number } | null;
}

const flat: [number, number, number, number] = [100, 100, 100, 100];

const cases: Case[] = [
  // ---- trailing stop: raised from the high before the low is tested, only while the stop is below the candle
  {
    name: 'trailing without positive trails at the stop-loss distance from each high',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true } },
    candles: [
      [100, 101, 99, 100],
      [100, 120, 110, 115],
      [115, 116, 107, 110],
    ],
    // 90 -> 90.9 (high 101) -> 108 (high 120); candle 2: 108 is not below its low 107, so no raise; 107 <= 108
    expect: { bar: 2, reason: 'trailing_stop', price: 108 },
  },
  {
    name: 'the high raises the stop and the same candle low hits the raised level',
    exits: { stopLoss: 0.05, trailingStop: { enabled: true } },
    candles: [flat, [100, 110, 103, 105]],
    // 95 < low 103 -> raised to 110 x 0.95 = 104.5; low 103 <= 104.5
    expect: { bar: 1, reason: 'trailing_stop', price: 104.5 },
  },
  {
    name: 'a stop inside the candle is not raised (it is hit first): plain stop-loss',
    exits: { stopLoss: 0.05, trailingStop: { enabled: true } },
    candles: [flat, [100, 120, 94, 110]],
    // 95 >= low 94: no raise to 114; the stop never trailed -> stop_loss at 95
    expect: { bar: 1, reason: 'stop_loss', price: 95 },
  },
  {
    name: 'the stop never moves down',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true } },
    candles: [flat, [100, 120, 110, 115], [115, 115, 112, 113], [113, 113, 108, 110]],
    // 108 after candle 1; candle 2 would give 103.5 (< 108, kept); candle 3 low 108 touches 108
    expect: { bar: 3, reason: 'trailing_stop', price: 108 },
  },
  {
    name: 'positive distance once the high profit is above the offset, stop-loss distance before',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.02, offset: 0.05 } },
    candles: [flat, [100, 104, 101, 103], [103, 106, 104.5, 105], [105, 105.5, 103, 104]],
    // +4%: 104 x 0.9 = 93.6; +6%: 106 x 0.98 = 103.88; candle 3 low 103 hits it
    expect: { bar: 3, reason: 'trailing_stop', price: 103.88 },
  },
  {
    name: 'onlyOffsetReached: no trailing below the offset; once above, raised and hit in the same candle',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.02, offset: 0.05, onlyOffsetReached: true } },
    candles: [flat, [100, 104, 95, 100], [100, 100, 91, 95], [95, 106, 100, 105]],
    // candles 1-2 keep the fixed 90; candle 3: +6% -> 103.88, low 100 <= 103.88
    expect: { bar: 3, reason: 'trailing_stop', price: 103.88 },
  },
  {
    name: 'onlyOffsetReached with the profit exactly at the offset trails at the stop-loss distance',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.02, offset: 0.05, onlyOffsetReached: true } },
    candles: [flat, [100, 105, 100, 104], [104, 104, 94, 95]],
    // +5% is not < 5% (trailing runs) and not > 5% (positive not used): 105 x 0.9 = 94.5
    expect: { bar: 2, reason: 'trailing_stop', price: 94.5 },
  },
  {
    name: 'the offset is compared with the fee-inclusive profit of the high',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.01, offset: 0.02, onlyOffsetReached: true } },
    fee: 0.001,
    candles: [flat, [100, 102.1, 101, 102], [102, 102.5, 101.5, 102], [102, 102, 101, 101.2]],
    // 102.1: 102.1 x .999 / 100.1 - 1 = 1.896% < 2% (no trail; without fees 2.1% would trail at 101.079 and exit);
    // 102.5: 2.295% -> 101.475; candle 3 low 101 hits it
    expect: { bar: 3, reason: 'trailing_stop', price: 101.475 },
  },
  {
    name: 'a trailing stop without a fixed stop starts once the offset is passed',
    exits: { trailingStop: { enabled: true, positive: 0.03, offset: 0.04 } },
    candles: [flat, [100, 103, 90, 95], [95, 110, 107, 108], [108, 108, 106, 107]],
    // no stop until +10% on candle 2: 110 x 0.97 = 106.7; candle 3 low 106
    expect: { bar: 3, reason: 'trailing_stop', price: 106.7 },
  },
  // ---- worst case on the entry candle
  {
    name: 'entry candle, onlyOffsetReached: worst case open x (1 + offset - positive)',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.02, offset: 0.03, onlyOffsetReached: true } },
    candles: [[100, 110, 96, 105]],
    // trails to 107.8 and the low hits it on the entry candle: 100 x (1 + 0.03 - 0.02) = 101
    expect: { bar: 0, reason: 'trailing_stop', price: 101 },
  },
  {
    name: 'entry candle, stop-loss distance: open x (1 - stop), not below the low',
    exits: { stopLoss: 0.05, trailingStop: { enabled: true } },
    candles: [[100, 110, 100.5, 104]],
    // 104.5 is hit; worst case 100 x 0.95 = 95 is below the low: 100.5
    expect: { bar: 0, reason: 'trailing_stop', price: 100.5 },
  },
  {
    name: 'entry candle, positive without onlyOffsetReached: open x (1 - positive)',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.02, offset: 0.03 } },
    candles: [[100, 110, 95, 100]],
    expect: { bar: 0, reason: 'trailing_stop', price: 98 },
  },
  {
    name: 'entry candle of a short: open x (1 - offset + positive), not above the high',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.02, offset: 0.03, onlyOffsetReached: true } },
    dir: -1,
    candles: [[100, 104, 90, 95]],
    // low 90 = +10%: stop 90 x 1.02 = 91.8, the high 104 hits it: 100 x (1 - 0.03 + 0.02) = 99
    expect: { bar: 0, reason: 'trailing_stop', price: 99 },
  },
  {
    name: 'the worst case applies to the entry candle only',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.02, offset: 0.03, onlyOffsetReached: true } },
    candles: [flat, [100, 110, 96, 105]],
    expect: { bar: 1, reason: 'trailing_stop', price: 107.8 },
  },
  // ---- ROI table
  {
    name: 'ROI: the largest key <= minutes held; a new entry at the candle open with the open above it exits at the open',
    exits: { roi: { '0': 0.05, '120': 0.02 } },
    candles: [
      [100, 101, 99, 100],
      [100, 104, 99.5, 103],
      [103, 103, 101, 102],
    ],
    // candle 1 (60 min): 5% needed, high +4%; candle 2 (120 min): 2% takes effect, open 103 > 102
    expect: { bar: 2, reason: 'roi', price: 103 },
  },
  {
    name: 'ROI: a new entry with the open below the target exits at the target',
    exits: { roi: { '0': 0.05, '120': 0.02 } },
    candles: [
      [100, 101, 99, 100],
      [100, 104, 99.5, 103],
      [101.5, 103, 101, 102],
    ],
    expect: { bar: 2, reason: 'roi', price: 102 },
  },
  {
    name: 'ROI needs the best profit strictly above the target',
    exits: { roi: { '0': 0.04 } },
    candles: [flat, [100, 104, 99, 103], [103, 104.01, 102, 103]],
    // 104 is exactly +4% (no exit); 104.01 is above: exit at the 104 target
    expect: { bar: 2, reason: 'roi', price: 104 },
  },
  {
    name: 'ROI compares the profit rounded to 8 decimals',
    exits: { roi: { '0': 0.1 } },
    candles: [flat, [100, 110.0000004, 100, 105], [105, 110.000002, 104, 106]],
    // +0.100000004 rounds to 0.1 (not above); +0.10000002 is above
    expect: { bar: 2, reason: 'roi', price: 110 },
  },
  {
    name: 'ROI exit price covers the fees of both sides',
    exits: { roi: { '0': 0.02 } },
    fee: 0.001,
    candles: [flat, [101, 103, 100.5, 102]],
    // (100 x 0.02 + 100 x 1.001) / 0.999
    expect: { bar: 1, reason: 'roi', price: 102.1 / 0.999 },
  },
  {
    name: 'ROI target below the candle is clamped to the low',
    exits: { roi: { '0': 0.05, '30': 0.01 } },
    candles: [flat, [104, 106, 103, 105]],
    // at 60 min the 30-minute entry (1%, target 101) applies; 30 is no multiple of 60: clamp to the low 103
    expect: { bar: 1, reason: 'roi', price: 103 },
  },
  {
    name: 'ROI -1 on a candle boundary exits at the open',
    exits: { roi: { '0': 0.1, '120': -1 } },
    candles: [flat, [99, 100, 97, 98], [97, 99, 95, 96]],
    expect: { bar: 2, reason: 'roi', price: 97 },
  },
  {
    name: 'ROI -1 off a candle boundary exits at the low',
    exits: { roi: { '0': 0.1, '90': -1 } },
    candles: [flat, [99, 100, 97, 98], [97, 99, 95, 96]],
    expect: { bar: 2, reason: 'roi', price: 95 },
  },
  {
    name: 'ROI on daily candles: a key of one day is a boundary (open)',
    exits: { roi: { '0': 0.5, '1440': 0.01 } },
    tf: 1440,
    candles: [flat, [103, 104, 102, 103]],
    expect: { bar: 1, reason: 'roi', price: 103 },
  },
  {
    name: 'ROI on daily candles: a key one minute short of a day is not (clamped to the low)',
    exits: { roi: { '0': 0.5, '1439': 0.01 } },
    tf: 1440,
    candles: [flat, [103, 104, 102, 103]],
    expect: { bar: 1, reason: 'roi', price: 102 },
  },
  {
    name: 'ROI can exit on the entry candle',
    exits: { roi: { '0': 0.01 } },
    candles: [[100, 102, 99.5, 101]],
    expect: { bar: 0, reason: 'roi', price: 101 },
  },
  {
    name: 'ROI on an entry candle running against an entry below its open is skipped',
    exits: { roi: { '0': 0.01 } },
    entry: 99,
    candles: [[100, 102, 98, 98.5]],
    // red candle, entry 99 < open 100, target 99.99 > close 98.5: no ROI exit on this candle
    expect: null,
  },
  {
    name: 'ROI of a short: the low decides, exit at the target',
    exits: { roi: { '0': 0.05 } },
    dir: -1,
    candles: [flat, [99, 99.5, 94, 96]],
    expect: { bar: 1, reason: 'roi', price: 95 },
  },
  {
    name: 'ignoreRoiIfEntrySignal: no ROI while the entry signal is set',
    exits: { roi: { '0': 0.02 }, ignoreRoiIfEntrySignal: true },
    candles: [flat, [100, 105, 99, 104], [104, 105, 103, 104]],
    signals: { 1: ENTER_SIGNAL },
    // candle 2: target 102 below the low 103 -> 103
    expect: { bar: 2, reason: 'roi', price: 103 },
  },
  {
    name: 'an entry signal does not block ROI unless ignoreRoiIfEntrySignal',
    exits: { roi: { '0': 0.02 } },
    candles: [flat, [100, 105, 99, 104]],
    signals: { 1: ENTER_SIGNAL },
    expect: { bar: 1, reason: 'roi', price: 102 },
  },
  // ---- stops
  {
    name: 'stop-loss exits at the stop when the low reaches it',
    exits: { stopLoss: 0.1 },
    candles: [flat, [95, 96, 85, 93]],
    expect: { bar: 1, reason: 'stop_loss', price: 90 },
  },
  {
    name: 'stop-loss touched exactly',
    exits: { stopLoss: 0.1 },
    candles: [flat, [95, 96, 90, 93]],
    expect: { bar: 1, reason: 'stop_loss', price: 90 },
  },
  {
    name: 'a candle entirely below the stop exits at the open',
    exits: { stopLoss: 0.1 },
    candles: [flat, [85, 88, 80, 87]],
    expect: { bar: 1, reason: 'stop_loss', price: 85 },
  },
  {
    name: 'a candle opening below the stop that trades back through it exits at the stop (Freqtrade)',
    exits: { stopLoss: 0.1 },
    candles: [flat, [88, 92, 80, 85]],
    expect: { bar: 1, reason: 'stop_loss', price: 90 },
  },
  {
    name: 'stop-loss before ROI in one candle',
    exits: { stopLoss: 0.05, roi: { '0': 0.05 } },
    candles: [flat, [100, 106, 94, 100]],
    expect: { bar: 1, reason: 'stop_loss', price: 95 },
  },
  {
    name: 'stop-loss with fees still exits at the stop price',
    exits: { stopLoss: 0.1 },
    fee: 0.001,
    candles: [flat, [95, 96, 85, 93]],
    expect: { bar: 1, reason: 'stop_loss', price: 90 },
  },
  {
    name: 'short stop at the stop when the high reaches it',
    exits: { stopLoss: 0.1 },
    dir: -1,
    candles: [flat, [101, 111, 100, 108]],
    expect: { bar: 1, reason: 'stop_loss', price: 110 },
  },
  {
    name: 'short candle entirely above the stop exits at the open',
    exits: { stopLoss: 0.1 },
    dir: -1,
    candles: [flat, [112, 115, 111, 113]],
    expect: { bar: 1, reason: 'stop_loss', price: 112 },
  },
  {
    name: 'stop-loss can exit on the entry candle',
    exits: { stopLoss: 0.05 },
    candles: [[100, 101, 94, 96]],
    expect: { bar: 0, reason: 'stop_loss', price: 95 },
  },
  // ---- leverage: distances divided by it, profit ratios multiplied
  {
    name: 'leverage 5: a 10% stop sits 2% from the entry',
    exits: { stopLoss: 0.1 },
    leverage: 5,
    candles: [flat, [99, 99.5, 97.5, 98.5]],
    expect: { bar: 1, reason: 'stop_loss', price: 98 },
  },
  {
    name: 'leverage 5: a 10% ROI needs +2% of price',
    exits: { roi: { '0': 0.1 } },
    leverage: 5,
    candles: [flat, [100, 101.9, 99.5, 101], [101, 102.5, 100.5, 102]],
    // +1.9% x 5 = 9.5% (no); +2.5% x 5 = 12.5%: exit at 100 x (1 + 0.1 / 5) = 102
    expect: { bar: 2, reason: 'roi', price: 102 },
  },
  {
    name: 'leverage 2: the trailing distance is halved',
    exits: { stopLoss: 0.1, trailingStop: { enabled: true } },
    leverage: 2,
    candles: [flat, [100, 110, 106, 108], [108, 108, 104, 105]],
    // 95 -> 110 x (1 - 0.05) = 104.5
    expect: { bar: 2, reason: 'trailing_stop', price: 104.5 },
  },
  {
    name: 'leverage 4 on a short: stop at 100 x (1 + 0.1 / 4)',
    exits: { stopLoss: 0.1 },
    leverage: 4,
    dir: -1,
    candles: [flat, [101, 103, 100, 102]],
    expect: { bar: 1, reason: 'stop_loss', price: 102.5 },
  },
  {
    name: 'leverage 3: the trailing offset is compared with the leveraged profit',
    exits: { stopLoss: 0.3, trailingStop: { enabled: true, positive: 0.03, offset: 0.06, onlyOffsetReached: true } },
    leverage: 3,
    candles: [flat, [100, 102.5, 101.5, 102], [102, 102, 101, 101.5]],
    // +2.5% x 3 = 7.5% > 6%: stop 102.5 x (1 - 0.01) = 101.475; candle 2 low 101
    expect: { bar: 2, reason: 'trailing_stop', price: 101.475 },
  },
  // ---- order of the checks and the exit signal
  {
    name: 'the exit signal comes first, at the open',
    exits: { stopLoss: 0.01 },
    candles: [flat, [99.5, 100, 90, 95]],
    signals: { 1: EXIT_SIGNAL },
    expect: { bar: 1, reason: 'exit_signal', price: 99.5 },
  },
  {
    name: 'an exit signal with the entry signal also set is ignored',
    exits: { stopLoss: 0.01 },
    candles: [flat, [99.5, 100, 90, 95]],
    signals: { 1: EXIT_SIGNAL | ENTER_SIGNAL },
    expect: { bar: 1, reason: 'stop_loss', price: 99 },
  },
  {
    name: 'useExitSignal false ignores the exit signal',
    exits: { stopLoss: 0.01, useExitSignal: false },
    candles: [flat, [99.5, 100, 90, 95]],
    signals: { 1: EXIT_SIGNAL },
    expect: { bar: 1, reason: 'stop_loss', price: 99 },
  },
  {
    name: 'exitProfitOnly: an exit signal at a loss waits for a profit at the open',
    exits: { exitProfitOnly: true, stopLoss: 0.5 },
    candles: [flat, [99.5, 100, 99, 99.8], [101, 101, 100, 100.5]],
    signals: { 1: EXIT_SIGNAL, 2: EXIT_SIGNAL },
    expect: { bar: 2, reason: 'exit_signal', price: 101 },
  },
  {
    name: 'exitProfitOffset: the profit at the open must be above the offset',
    exits: { exitProfitOnly: true, exitProfitOffset: 0.02, stopLoss: 0.5 },
    candles: [flat, [101, 101, 100, 100.5], [103, 103, 102, 102.5]],
    signals: { 1: EXIT_SIGNAL, 2: EXIT_SIGNAL },
    expect: { bar: 2, reason: 'exit_signal', price: 103 },
  },
  {
    name: 'the exit signal comes before ROI',
    exits: { roi: { '0': 0.01 } },
    candles: [flat, [100.5, 105, 100, 104]],
    signals: { 1: EXIT_SIGNAL },
    expect: { bar: 1, reason: 'exit_signal', price: 100.5 },
  },
  {
    name: 'ROI comes before a trailing stop hit in the same candle',
    exits: { stopLoss: 0.1, roi: { '0': 0.03 }, trailingStop: { enabled: true, positive: 0.01, offset: 0 } },
    candles: [flat, [100, 105, 103, 104]],
    // the trail rises to 103.95 and the low 103 hits it, but ROI (103, the target clamped to the low) is first
    expect: { bar: 1, reason: 'roi', price: 103 },
  },
  // ---- our additions (not in Freqtrade): take-profit and the break-even lock
  {
    name: 'take-profit exits at its target after ROI',
    exits: { takeProfit: 0.2 },
    candles: [flat, [110, 121, 109, 115]],
    expect: { bar: 1, reason: 'take_profit', price: 120 },
  },
  {
    name: 'break-even lock: once the high reaches the trigger the stop is entry plus both fees',
    exits: { stopLoss: 0.1, breakeven: { trigger: 0.02 } },
    fee: 0.001,
    candles: [flat, [100, 102.5, 100.5, 102], [101.5, 101.6, 99, 99.5]],
    expect: { bar: 2, reason: 'stop_loss', price: (100 * 1.001) / 0.999 },
  },
];

function run(c: Case): { bar: number; reason: string; price: number } | null {
  const tf = c.tf ?? 60;
  const rules = compileExits(c.exits, c.fee ?? 0, { leverage: c.leverage ?? 1, timeframeMs: tf * MIN });
  const st = new ExitState();
  st.open(c.dir ?? 1, c.entry ?? c.candles[0][0], T0, T0);
  const out = new ExitDecision();
  for (let i = 0; i < c.candles.length; i++) {
    const [open, high, low, close] = c.candles[i];
    const bar = { time: T0 + i * tf * MIN, open, high, low, close };
    if (evaluateExits(rules, st, bar, c.signals?.[i] ?? 0, out))
      return { bar: i, reason: out.reason, price: out.price };
  }
  return null;
}

describe('evaluateExits: Freqtrade backtesting semantics (hand-built candles)', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const got = run(c);
    if (c.expect === null) {
      expect(got).toBeNull();
      return;
    }
    expect(got).not.toBeNull();
    expect(got?.bar).toBe(c.expect.bar);
    expect(got?.reason).toBe(c.expect.reason);
    expect(got?.price).toBeCloseTo(c.expect.price, 9);
  });
});

describe('exit state', () => {
  it('profit ratio includes both fees and the leverage, rounded to 8 decimals', () => {
    const rules = compileExits({}, 0.001, { leverage: 2 });
    const st = new ExitState();
    st.open(1, 100, T0, T0);
    expect(profitRatio(rules, st, 110)).toBe(Math.round(((110 * 0.999) / 100.1 - 1) * 2 * 1e8) / 1e8);
    st.open(-1, 100, T0, T0);
    expect(profitRatio(rules, st, 90)).toBe(Math.round((1 - (90 * 1.001) / 99.9) * 2 * 1e8) / 1e8);
  });

  it('does not evaluate a bar before the position is active (intrabar entry)', () => {
    const rules = compileExits({ stopLoss: 0.01 });
    const st = new ExitState();
    st.open(1, 100, T0, T0 + MIN + 1);
    expect(
      evaluateExits(rules, st, { time: T0 + MIN, open: 100, high: 100, low: 50, close: 60 }, 0, new ExitDecision()),
    ).toBe(false);
  });

  it('a position that grows moves an untrailed stop to the new average entry', () => {
    const rules = compileExits({ stopLoss: 0.1 });
    const st = new ExitState();
    st.open(1, 100, T0, T0);
    const out = new ExitDecision();
    expect(evaluateExits(rules, st, { time: T0, open: 100, high: 100, low: 95, close: 99 }, 0, out)).toBe(false);
    expect(st.stopLevel).toBeCloseTo(90, 10);
    st.reprice(110);
    expect(evaluateExits(rules, st, { time: T0 + MIN, open: 110, high: 110, low: 98, close: 100 }, 0, out)).toBe(true);
    expect(out.price).toBeCloseTo(99, 10);
  });

  it('rejects a config key it does not know, and ROI ratios below -1', () => {
    expect(() => compileExits({ stoploss: 0.1 } as unknown as ExitConfig)).toThrow(/stoploss/);
    expect(() => compileExits({ roi: { '0': -2 } })).toThrow(/-1/);
  });
});
