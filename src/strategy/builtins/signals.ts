import type { Strategy, StrategyContext, StrategyDefinition } from '../types.js';

/**
 * Trades precomputed signal columns of the data file the way Freqtrade reads them: `enter_long`, `exit_long`
 * (required), `enter_short`, `exit_short` (used when `allowShort` is on), all 0/1, and an optional text
 * `enter_tag`. A signal on bar N becomes a market order that executes at the open of bar N+1.
 * - Entries only from flat: long when `enter_long` is set and neither `exit_long` nor `enter_short` is; short
 *   mirrored. Both enter flags set means no trade. An open position is never reversed by an opposite entry.
 * - An open long exits on `exit_long` unless `enter_long` is also set (shorts mirrored); an entry signal in the
 *   position's direction is passed on to the exit rules (`ignoreRoiIfEntrySignal`).
 */
class SignalsStrategy implements Strategy {
  constructor(private readonly allowShort: boolean) {}

  onBar(ctx: StrategyContext): void {
    const enterLong = ctx.value('enter_long') === 1;
    const exitLong = ctx.value('exit_long') === 1;
    const enterShort = this.allowShort && ctx.value('enter_short') === 1;
    const exitShort = this.allowShort && ctx.value('exit_short') === 1;
    const pos = ctx.position();
    if (pos > 0) {
      if (enterLong) ctx.buy();
      else if (exitLong) ctx.sell();
      return;
    }
    if (pos < 0) {
      if (enterShort) ctx.short();
      else if (exitShort) ctx.cover();
      return;
    }
    const tag = ctx.text('enter_tag') || undefined;
    if (enterLong && !exitLong && !enterShort) ctx.buy(tag ? { tag } : undefined);
    else if (enterShort && !exitShort && !enterLong) ctx.short(tag ? { tag } : undefined);
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
