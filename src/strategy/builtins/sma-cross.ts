import { ValidationError } from '../../core/errors.js';
import { Sma } from '../../indicators/index.js';
import type { ParamValues, StrategyDefinition } from '../types.js';
import { ALLOW_SHORT_PARAM, CrossoverStrategy } from './crossover.js';

/** Checks a fast/slow pair. */
export function checkFastSlow(name: string, p: ParamValues): void {
  if ((p.fast as number) >= (p.slow as number)) {
    throw new ValidationError(`strategy ${name}: fast (${p.fast}) must be below slow (${p.slow})`, 'fast');
  }
}

/** SMA crossover: long when SMA(fast) crosses above SMA(slow), out when it crosses below. */
export const smaCross: StrategyDefinition = {
  name: 'sma-cross',
  description: 'Simple moving average crossover (long only unless allowShort)',
  params: [
    { name: 'fast', type: 'int', default: 10, min: 1, max: 500, step: 1, description: 'fast SMA period' },
    { name: 'slow', type: 'int', default: 30, min: 2, max: 2000, step: 1, description: 'slow SMA period' },
    ALLOW_SHORT_PARAM,
  ],
  validate: (p) => checkFastSlow('sma-cross', p),
  chartIndicators: (p) => [`sma:${p.fast}`, `sma:${p.slow}`],
  create: (p) =>
    new CrossoverStrategy(
      () => new Sma(p.fast as number),
      () => new Sma(p.slow as number),
      p.allowShort as boolean,
    ),
};
