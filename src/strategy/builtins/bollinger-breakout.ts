import { BollingerBands } from '../../indicators/index.js';
import type { Strategy, StrategyContext, StrategyDefinition } from '../types.js';
import { ALLOW_SHORT_PARAM } from './crossover.js';

/** Long on a close above the upper band, out on a close below the middle band; shorts mirror it. */
class BollingerBreakout implements Strategy {
  private bands: BollingerBands[] = [];

  constructor(
    private readonly period: number,
    private readonly k: number,
    private readonly allowShort: boolean,
  ) {}

  onStart(ctx: StrategyContext): void {
    this.bands = ctx.symbols.map(() => new BollingerBands(this.period, this.k));
  }

  onBar(ctx: StrategyContext): void {
    const b = this.bands[ctx.symbolIndex];
    const c = ctx.bar.close;
    b.update(c);
    if (!b.ready) return;
    const pos = ctx.position();
    if (pos > 0 && c < b.middle) ctx.sell();
    else if (pos < 0 && c > b.middle) ctx.cover();
    else if (pos === 0 && c > b.upper) ctx.buy();
    else if (pos === 0 && this.allowShort && c < b.lower) ctx.short();
  }
}

/** Bollinger band breakout. */
export const bollingerBreakout: StrategyDefinition = {
  name: 'bollinger-breakout',
  description: 'Bollinger band breakout: enter on a close outside the bands, exit at the middle band',
  params: [
    { name: 'period', type: 'int', default: 20, min: 2, max: 500, step: 1, description: 'band period' },
    { name: 'k', type: 'float', default: 2, min: 0.1, max: 10, step: 0.5, description: 'band width in std devs' },
    ALLOW_SHORT_PARAM,
  ],
  chartIndicators: (p) => [`bbands:${p.period},${p.k}`],
  create: (p) => new BollingerBreakout(p.period as number, p.k as number, p.allowShort as boolean),
};
