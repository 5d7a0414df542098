import { describe, expect, it } from 'vitest';
import { ZIGZAG_RULES, zigzag } from '../../../test/fixtures/zigzag.js';
import { compileStrategySource } from '../resolve.js';
import { evaluateWalkForward, type GateEvaluation, type GateMetrics, judgeGate } from './gate.js';
import { DEFAULT_PROMOTION_POLICY } from './policy.js';

const T = DEFAULT_PROMOTION_POLICY.thresholds;
const good: GateMetrics = { bars: 150, trades: 40, sharpe: 1.2, maxDrawdownPct: 8, winRatePct: 55, totalReturnPct: 20 };
const oos: GateMetrics = { ...good, bars: 50, trades: 12 };
const evaluation = (inSample: Partial<GateMetrics>, outOfSample: Partial<GateMetrics> = {}): GateEvaluation => ({
  safety: { ok: true, findings: [] },
  folds: [{ inSample: { ...good, ...inSample }, outOfSample: { ...oos, ...outOfSample } }],
});

describe('the gate judges the walk-forward against the thresholds', () => {
  it('passes a version that meets every threshold in and out of sample', () => {
    expect(judgeGate(evaluation({}), T)).toEqual({ passed: true, reasons: [] });
  });

  it('refuses Sharpe 0.4 and says so', () => {
    const v = judgeGate(evaluation({ sharpe: 0.4 }), T);
    expect(v.passed).toBe(false);
    expect(v.reasons).toEqual(['in sample: Sharpe 0.40 is below 0.5']);
  });

  it('refuses 29 trades, a drawdown over 25% and a win rate under 35%', () => {
    expect(judgeGate(evaluation({ trades: 29 }), T).reasons).toEqual(['in sample: 29 trades are fewer than 30']);
    expect(judgeGate(evaluation({ maxDrawdownPct: 25.5 }), T).reasons).toEqual([
      'in sample: max drawdown 25.50% is above 25%',
    ]);
    expect(judgeGate(evaluation({ winRatePct: 34 }), T).reasons).toEqual(['in sample: win rate 34% is below 35%']);
  });

  it('refuses an out-of-sample part that fails, with its trade minimum scaled to its length', () => {
    const v = judgeGate(evaluation({}, { sharpe: -0.3, winRatePct: 20 }), T);
    expect(v.reasons).toEqual(['out of sample: Sharpe -0.30 is below 0.5', 'out of sample: win rate 20% is below 35%']);
    // 50 out-of-sample bars against 150 in sample: a third of the 30 trades.
    expect(judgeGate(evaluation({}, { trades: 9 }), T).reasons).toEqual(['out of sample: 9 trades are fewer than 10']);
    expect(judgeGate(evaluation({}, { trades: 10 }), T).passed).toBe(true);
  });

  it('refuses what the safety gate refused, and an evaluation without backtests', () => {
    const v = judgeGate({ safety: { ok: false, findings: ['process is not allowed'] }, folds: [] }, T);
    expect(v.reasons).toEqual(['the safety gate refused the source: process is not allowed', 'no backtest was run']);
  });
});

describe('the walk-forward backtests of a version', () => {
  const def = compileStrategySource(ZIGZAG_RULES, 'rules', 'zigzag.rules');

  it('counts the trades of each window on real backtests: 29 cycles in sample are 29 trades', () => {
    // 200 bars, one fold: in sample [0, 150), out of sample [150, 200).
    const data = zigzag([
      { bars: 1, amp: 0 },
      { bars: 58, amp: 2 },
      { bars: 91, amp: 0 },
      { bars: 1, amp: 0 },
      { bars: 24, amp: 2 },
      { bars: 25, amp: 0 },
    ]);
    const folds = evaluateWalkForward(def, {}, { symbol: 'ZZ', columns: data, timeframe: '1d' });
    expect(folds).toHaveLength(1);
    expect(folds[0].inSample.bars).toBe(150);
    expect(folds[0].inSample.trades).toBe(29);
    expect(folds[0].inSample.winRatePct).toBe(100);
    expect(folds[0].outOfSample.bars).toBe(50);
    expect(folds[0].outOfSample.trades).toBe(12);
    const v = judgeGate({ safety: { ok: true, findings: [] }, folds }, T);
    expect(v.reasons).toEqual(['in sample: 29 trades are fewer than 30']);
  });

  it('an edge that vanishes out of sample fails there (fees eat a tiny swing)', () => {
    const data = zigzag([
      { bars: 80, amp: 2 },
      { bars: 70, amp: 0 },
      { bars: 24, amp: 0.05 },
      { bars: 26, amp: 0 },
    ]);
    const folds = evaluateWalkForward(def, {}, { symbol: 'ZZ', columns: data, timeframe: '1d' });
    const v = judgeGate({ safety: { ok: true, findings: [] }, folds }, T);
    expect(v.reasons.every((r) => r.startsWith('out of sample: '))).toBe(true);
    expect(v.reasons).toContain('out of sample: win rate 0% is below 35%');
  });
});
