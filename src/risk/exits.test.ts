import { describe, expect, it } from 'vitest';
import { compileExits, ExitDecision, ExitState, evaluateExits } from './exits.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const bar = (i: number, open: number, high: number, low: number, close: number) => ({
  time: T0 + i * MIN,
  open,
  high,
  low,
  close,
});

function longAt(entry: number, activeFrom = T0): ExitState {
  const s = new ExitState();
  s.open(1, entry, T0, activeFrom);
  return s;
}

describe('evaluateExits', () => {
  it('exits at the stop price when the low reaches it', () => {
    const rules = compileExits({ stopLoss: 0.1 });
    const out = new ExitDecision();
    expect(evaluateExits(rules, longAt(100), bar(1, 98, 99, 89, 95), false, out)).toBe(true);
    expect(out.reason).toBe('stop_loss');
    expect(out.price).toBeCloseTo(90, 10);
  });

  it('exits at the open when the bar gaps through the stop', () => {
    const rules = compileExits({ stopLoss: 0.1 });
    const out = new ExitDecision();
    expect(evaluateExits(rules, longAt(100), bar(1, 85, 88, 80, 87), false, out)).toBe(true);
    expect(out.reason).toBe('stop_loss');
    expect(out.price).toBe(85);
  });

  it('stop wins over ROI when both trigger in one bar (adverse side first)', () => {
    const rules = compileExits({ stopLoss: 0.05, roi: { '0': 0.04 } });
    const out = new ExitDecision();
    // low 94 hits the 95 stop, high 105 would reach the 104 ROI target
    expect(evaluateExits(rules, longAt(100), bar(1, 100, 105, 94, 101), false, out)).toBe(true);
    expect(out.reason).toBe('stop_loss');
    expect(out.price).toBeCloseTo(95, 10);
  });

  it('ROI table uses the entry for the minutes held', () => {
    const rules = compileExits({ roi: { '0': 0.04, '30': 0.01 } });
    const out = new ExitDecision();
    const st = longAt(100);
    // 10 minutes in: target 104, high 103 -> no exit
    expect(evaluateExits(rules, st, bar(10, 101, 103, 100.5, 102), false, out)).toBe(false);
    // 30 minutes in: target 101, high 101.5 -> exit at 101
    expect(evaluateExits(rules, st, bar(30, 100.2, 101.5, 100, 100.8), false, out)).toBe(true);
    expect(out.reason).toBe('roi');
    expect(out.price).toBeCloseTo(101, 10);
  });

  it('ROI gapped beyond exits at the open', () => {
    const rules = compileExits({ roi: { '0': 0.04 } });
    const out = new ExitDecision();
    expect(evaluateExits(rules, longAt(100), bar(1, 107, 108, 106, 107), false, out)).toBe(true);
    expect(out.price).toBe(107);
  });

  it('take-profit exits at its target', () => {
    const rules = compileExits({ takeProfit: 0.2 });
    const out = new ExitDecision();
    expect(evaluateExits(rules, longAt(100), bar(1, 110, 121, 109, 115), false, out)).toBe(true);
    expect(out.reason).toBe('take_profit');
    expect(out.price).toBeCloseTo(120, 10);
  });

  it('exit signal comes first, at the open', () => {
    const rules = compileExits({ stopLoss: 0.01 });
    const out = new ExitDecision();
    expect(evaluateExits(rules, longAt(100), bar(1, 99.5, 100, 90, 95), true, out)).toBe(true);
    expect(out.reason).toBe('exit_signal');
    expect(out.price).toBe(99.5);
    const off = compileExits({ stopLoss: 0.01, useExitSignal: false });
    expect(evaluateExits(off, longAt(100), bar(1, 99.5, 100, 90, 95), true, out)).toBe(true);
    expect(out.reason).toBe('stop_loss');
  });

  it('trailing stop without positive trails at the stop-loss distance from the high', () => {
    const rules = compileExits({ stopLoss: 0.1, trailingStop: { enabled: true } });
    const out = new ExitDecision();
    const st = longAt(100);
    expect(evaluateExits(rules, st, bar(1, 100, 120, 99, 119), false, out)).toBe(false);
    expect(st.trailLevel).toBeCloseTo(108, 10);
    // next bar: low 107 goes through 108 -> trailing stop at 108
    expect(evaluateExits(rules, st, bar(2, 118, 118, 107, 110), false, out)).toBe(true);
    expect(out.reason).toBe('trailing_stop');
    expect(out.price).toBeCloseTo(108, 10);
  });

  it('trailing activates only once the offset is reached (onlyOffsetReached)', () => {
    const rules = compileExits({
      stopLoss: 0.1,
      trailingStop: { enabled: true, positive: 0.01, offset: 0.02, onlyOffsetReached: true },
    });
    const out = new ExitDecision();
    const st = longAt(100);
    // +1.5% best: offset not reached, no trailing; a drop to 95 does not exit (fixed stop 90)
    expect(evaluateExits(rules, st, bar(1, 100, 101.5, 99, 100), false, out)).toBe(false);
    expect(Number.isNaN(st.trailLevel)).toBe(true);
    expect(evaluateExits(rules, st, bar(2, 100, 100, 95, 96), false, out)).toBe(false);
    // +3%: offset reached, stop trails 1% under 103 = 101.97; close 103 stays above
    expect(evaluateExits(rules, st, bar(3, 96, 103, 96, 103), false, out)).toBe(false);
    expect(st.trailLevel).toBeCloseTo(101.97, 10);
    // gap down through it: exit at the open
    expect(evaluateExits(rules, st, bar(4, 101, 101.5, 100, 100.5), false, out)).toBe(true);
    expect(out.reason).toBe('trailing_stop');
    expect(out.price).toBe(101);
  });

  it('a trailing level raised inside the bar exits when the close falls back through it', () => {
    const rules = compileExits({ trailingStop: { enabled: true, positive: 0.02, offset: 0 } });
    const out = new ExitDecision();
    const st = longAt(100);
    // high 110 -> trail 107.8; close 107 is below it: open->low->high->close passed 107.8 on the way down
    expect(evaluateExits(rules, st, bar(1, 100, 110, 99.5, 107), false, out)).toBe(true);
    expect(out.reason).toBe('trailing_stop');
    expect(out.price).toBeCloseTo(107.8, 10);
  });

  it('break-even lock keeps the stop at entry plus fees once the trigger is reached', () => {
    const rules = compileExits({ stopLoss: 0.1, breakeven: { trigger: 0.02 } }, 0.001);
    const out = new ExitDecision();
    const st = longAt(100);
    expect(evaluateExits(rules, st, bar(1, 100, 102.5, 100, 102), false, out)).toBe(false);
    expect(st.breakevenLocked).toBe(true);
    const be = (100 * 1.001) / 0.999;
    expect(evaluateExits(rules, st, bar(2, 101.5, 101.6, 99, 99.5), false, out)).toBe(true);
    expect(out.reason).toBe('stop_loss');
    expect(out.price).toBeCloseTo(be, 10);
  });

  it('mirrors every rule for a short', () => {
    const rules = compileExits({ stopLoss: 0.1, roi: { '0': 0.05 } });
    const out = new ExitDecision();
    const st = new ExitState();
    st.open(-1, 100, T0, T0);
    expect(evaluateExits(rules, st, bar(1, 101, 111, 100, 108), false, out)).toBe(true);
    expect(out.reason).toBe('stop_loss');
    expect(out.price).toBeCloseTo(110, 10);
    st.open(-1, 100, T0, T0);
    expect(evaluateExits(rules, st, bar(1, 99, 99.5, 94, 96), false, out)).toBe(true);
    expect(out.reason).toBe('roi');
    expect(out.price).toBeCloseTo(95, 10);
    st.open(-1, 100, T0, T0);
    expect(evaluateExits(rules, st, bar(1, 112, 115, 111, 113), false, out)).toBe(true);
    expect(out.price).toBe(112);
  });

  it('does not evaluate a bar before the position is active (intrabar entry)', () => {
    const rules = compileExits({ stopLoss: 0.01 });
    const out = new ExitDecision();
    expect(evaluateExits(rules, longAt(100, T0 + MIN + 1), bar(1, 100, 100, 50, 60), false, out)).toBe(false);
  });
});
