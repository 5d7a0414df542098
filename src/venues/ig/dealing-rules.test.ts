import { describe, expect, it } from 'vitest';
import { checkDeal, dealLevel, dealSize, type IgDealingRules, lotStep, roundLevel, tickStep } from './dealing-rules.js';

const rules: IgDealingRules = {
  epic: 'CS.D.EURUSD.CFD.IP',
  minDealSize: { unit: 'POINTS', value: 0.1 },
  minNormalStopOrLimitDistance: { unit: 'POINTS', value: 1 },
  minControlledRiskStopDistance: { unit: 'POINTS', value: 5 },
  maxStopOrLimitDistance: { unit: 'POINTS', value: 1000 },
  priceDecimals: 2,
  controlledRiskAllowed: true,
};

describe('IG dealing rules in exact decimals (docs/money.md)', () => {
  it('the lot and tick are exact powers of ten from the rules', () => {
    expect(lotStep(rules).toFixed()).toBe('0.1');
    expect(lotStep({ minDealSize: { unit: 'POINTS', value: 0.04 } }).toFixed()).toBe('0.01');
    expect(lotStep({ minDealSize: { unit: 'POINTS', value: 1 } }).toFixed()).toBe('1');
    expect(tickStep({ priceDecimals: 5 }).toFixed()).toBe('0.00001');
  });

  it('a size goes toward zero onto the lot: float residue is not a lot, and never more than asked', () => {
    expect(dealSize(rules, 0.1 + 0.2)).toBe(0.3);
    // Just under 0.3: the old float step (size / step + 1e-9, floored) sent 0.3, more than asked.
    expect(dealSize(rules, 0.29999999999)).toBe(0.2);
    expect(checkDeal(rules, { size: 0.29999999999, price: 1 }).size).toBe(0.2);
    expect(dealSize(rules, '0.7')).toBe(0.7);
  });

  it('a level goes onto the tick by the rounding asked, ties to even for the nearest', () => {
    // 1.015 × 100 is 101.49999999999999 in doubles: the old Math.round gave 1.01; the decimal tie goes to even.
    expect(roundLevel(rules, 1.015)).toBe(1.02);
    expect(roundLevel(rules, 1.025)).toBe(1.02);
    expect(dealLevel(rules, 1.011, 'ceil')).toBe(1.02);
    expect(dealLevel(rules, 1.019, 'floor')).toBe(1.01);
    expect(dealLevel(rules, 100.00999999999999, 'floor')).toBe(100.01);
  });
});
