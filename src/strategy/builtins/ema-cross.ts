import { Ema } from '../../indicators/index.js';
import type { StrategyDefinition } from '../types.js';
import { ALLOW_SHORT_PARAM, CrossoverStrategy } from './crossover.js';
import { checkFastSlow } from './sma-cross.js';

/** EMA crossover: long when EMA(fast) crosses above EMA(slow), out when it crosses below. */
export const emaCross: StrategyDefinition = {
  name: 'ema-cross',
  description: 'Exponential moving average crossover (long only unless allowShort)',
  params: [
    { name: 'fast', type: 'int', default: 12, min: 1, max: 500, step: 1, description: 'fast EMA period' },
    { name: 'slow', type: 'int', default: 26, min: 2, max: 2000, step: 1, description: 'slow EMA period' },
    ALLOW_SHORT_PARAM,
  ],
  validate: (p) => checkFastSlow('ema-cross', p),
  chartIndicators: (p) => [`ema:${p.fast}`, `ema:${p.slow}`],
  create: (p) =>
    new CrossoverStrategy(
      () => new Ema(p.fast as number),
      () => new Ema(p.slow as number),
      p.allowShort as boolean,
    ),
};
