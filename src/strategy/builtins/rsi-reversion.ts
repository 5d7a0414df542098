import { ValidationError } from '../../core/errors.js';
import { Rsi } from '../../indicators/index.js';
import type { Strategy, StrategyContext, StrategyDefinition } from '../types.js';
import { ALLOW_SHORT_PARAM } from './crossover.js';

/** Long when RSI falls below `lower` (oversold), out when it rises above `upper`; shorts mirror it. */
class RsiReversion implements Strategy {
  private rsi: Rsi[] = [];

  constructor(
    private readonly period: number,
    private readonly lower: number,
    private readonly upper: number,
    private readonly allowShort: boolean,
  ) {}

  onStart(ctx: StrategyContext): void {
    this.rsi = ctx.symbols.map(() => new Rsi(this.period));
  }

  onBar(ctx: StrategyContext): void {
    const r = this.rsi[ctx.symbolIndex].update(ctx.bar.close);
    if (Number.isNaN(r)) return;
    const pos = ctx.position();
    if (r < this.lower) {
      if (pos < 0) ctx.cover();
      if (pos <= 0) ctx.buy();
    } else if (r > this.upper) {
      if (pos > 0) ctx.sell();
      if (this.allowShort && pos >= 0) ctx.short();
    }
  }
}

/** RSI mean reversion. */
export const rsiReversion: StrategyDefinition = {
  name: 'rsi-reversion',
  description: 'RSI mean reversion: buy oversold, sell overbought',
  params: [
    { name: 'period', type: 'int', default: 14, min: 2, max: 200, step: 1, description: 'RSI period (Wilder)' },
    { name: 'lower', type: 'float', default: 30, min: 0, max: 100, step: 5, description: 'oversold level: buy below' },
    {
      name: 'upper',
      type: 'float',
      default: 70,
      min: 0,
      max: 100,
      step: 5,
      description: 'overbought level: exit above',
    },
    ALLOW_SHORT_PARAM,
  ],
  validate: (p) => {
    if ((p.lower as number) >= (p.upper as number)) {
      throw new ValidationError(`strategy rsi-reversion: lower (${p.lower}) must be below upper (${p.upper})`, 'lower');
    }
  },
  chartIndicators: (p) => [`rsi:${p.period}`],
  create: (p) => new RsiReversion(p.period as number, p.lower as number, p.upper as number, p.allowShort as boolean),
};
