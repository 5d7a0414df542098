import type { Strategy, StrategyContext, StrategyDefinition } from '../types.js';

/**
 * Trades precomputed signal columns of the data file: `enter_long`, `exit_long` (required), `enter_short`,
 * `exit_short` (used when present and shorting is allowed), all 0/1, and an optional text `enter_tag`.
 * A signal on bar N becomes a market order that executes at the open of bar N+1. An exit and an entry on
 * the same bar: the exit is sent first; an entry whose own exit column is also 1 is ignored.
 */
class SignalsStrategy implements Strategy {
  constructor(private readonly allowShort: boolean) {}

  onBar(ctx: StrategyContext): void {
    const enterLong = ctx.value('enter_long') === 1;
    const exitLong = ctx.value('exit_long') === 1;
    const enterShort = this.allowShort && ctx.value('enter_short') === 1;
    const exitShort = ctx.value('exit_short') === 1;
    const pos = ctx.position();
    if (pos > 0 && (exitLong || enterShort)) ctx.sell();
    if (pos < 0 && (exitShort || (enterLong && !exitLong))) ctx.cover();
    const tag = ctx.text('enter_tag') || undefined;
    if (enterLong && !exitLong && pos <= 0) ctx.buy(tag ? { tag } : undefined);
    else if (enterShort && !exitShort && pos >= 0) ctx.short(tag ? { tag } : undefined);
  }
}

/** Signals from data columns. */
export const signals: StrategyDefinition = {
  name: 'signals',
  description: 'Trades enter_long/exit_long/enter_short/exit_short columns of the data file (act at next open)',
  params: [
    {
      name: 'allowShort',
      type: 'bool',
      default: false,
      description: 'act on enter_short/exit_short columns (needs a run that allows shorting)',
    },
  ],
  requires: { columns: ['enter_long', 'exit_long'], optionalTextColumns: ['enter_tag'] },
  create: (p) => new SignalsStrategy(p.allowShort as boolean),
};
