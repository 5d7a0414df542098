import { Macd } from '../../indicators/index.js';
import type { StrategyDefinition } from '../types.js';
import { ALLOW_SHORT_PARAM, CrossoverStrategy, type Line } from './crossover.js';
import { checkFastSlow } from './sma-cross.js';

// The MACD line and its signal line fed from one Macd instance: `fast` updates it, `slow` reads the signal.
function macdLines(fast: number, slow: number, signal: number): { line: Line; signal: Line } {
  const m = new Macd(fast, slow, signal);
  return {
    line: {
      update: (x) => {
        m.update(x);
        return m.macd;
      },
    },
    signal: { update: () => m.signal },
  };
}

/** MACD: long when the MACD line crosses above its signal line, out when it crosses below. */
export const macdStrategy: StrategyDefinition = {
  name: 'macd',
  description: 'MACD line / signal line crossover',
  params: [
    { name: 'fast', type: 'int', default: 12, min: 1, max: 200, step: 1, description: 'fast EMA period' },
    { name: 'slow', type: 'int', default: 26, min: 2, max: 400, step: 1, description: 'slow EMA period' },
    { name: 'signal', type: 'int', default: 9, min: 1, max: 200, step: 1, description: 'signal EMA period' },
    ALLOW_SHORT_PARAM,
  ],
  validate: (p) => checkFastSlow('macd', p),
  chartIndicators: (p) => [`macd:${p.fast},${p.slow},${p.signal}`],
  create: (p) => {
    // CrossoverStrategy builds fast then slow per symbol, so the pair shares one Macd through this queue.
    let pending: { line: Line; signal: Line } | null = null;
    return new CrossoverStrategy(
      () => {
        pending = macdLines(p.fast as number, p.slow as number, p.signal as number);
        return pending.line;
      },
      () => pending!.signal,
      p.allowShort as boolean,
    );
  },
};
