import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';

/** Registers `tradeforge propfirm rules|check`: the prop-firm rule sets (RISK-7) and a day-by-day history check. */
export function register(program: Command): void {
  const pf = program
    .command('propfirm')
    .description('prop-firm rule sets (FTMO, Topstep, Apex, custom): list them, check a history');
  pf.command('rules')
    .description('list the built-in rule sets with their version, source and parameters for an account size')
    .option('--size <amount>', 'account size to show the parameters for (default: each set’s default)')
    .option('--json', 'print JSON')
    .action(async (opts: { size?: string; json?: boolean }) => {
      const { PROP_FIRM_RULE_SETS, resolveRuleSet } = await import('../../risk/prop-firm-rules.js');
      const size = opts.size === undefined ? undefined : parseSize(opts.size);
      const sets = PROP_FIRM_RULE_SETS.filter(
        (s) => size === undefined || s.sizes === undefined || s.sizes.includes(size),
      ).map((s) => ({
        ...resolveRuleSet(`${s.id}@${s.version}`, size ?? s.defaultSize),
        sizes: s.sizes ?? 'any',
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(sets, null, 2)}\n`);
        return;
      }
      for (const s of sets) {
        const p = s.params;
        const lines = [
          `${s.label}  ${s.name}`,
          `  source: ${s.source}`,
          `  sizes: ${Array.isArray(s.sizes) ? s.sizes.join(', ') : 'any'}; shown for ${p.initialBalance}`,
          `  day starts ${p.dayBoundary.time} ${p.dayBoundary.timeZone}`,
          p.dailyLoss
            ? `  daily loss ${p.dailyLoss.amount} from the ${p.dailyLoss.anchor === 'balance' ? 'day-start balance' : 'higher of day-start balance and equity'} (breach: ${p.dailyLoss.breach === 'day' ? 'rest of the day halted' : 'account failed'})`
            : '  daily loss: none',
          `  max loss ${p.maxLoss.amount}, ${p.maxLoss.trailing === 'none' ? 'static' : `trailing ${p.maxLoss.trailing}`}${p.maxLoss.lockAt !== undefined ? `, locks at ${p.maxLoss.lockAt}` : ''}`,
          `  profit target ${p.profitTarget ?? 'none'}; min trading days ${p.minTradingDays ?? 'none'}${p.consistency ? `; best day ≤ ${p.consistency.maxBestDayShare * 100}% of ${p.consistency.of}` : ''}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
    });
  pf.command('check')
    .description('replay a trade history against a rule set and report each rule day by day')
    .requiredOption(
      '--rules <id>',
      'rule set: ftmo-2step, ftmo-2step-verification, ftmo-1step, topstep, apex (optionally @version)',
    )
    .requiredOption('--trades <file>', 'closed trades: a backtest trades.csv, or JSON (array or {trades: [...]})')
    .option('--size <amount>', 'account size (default: the set’s default)')
    .option('--equity <file>', 'equity marks with open P&L (a backtest equity.csv) to check intraday excursions')
    .option('--json', 'print JSON')
    .action(async (opts: { rules: string; trades: string; size?: string; equity?: string; json?: boolean }) => {
      const { resolveRuleSet } = await import('../../risk/prop-firm-rules.js');
      const { checkPropFirmHistory, renderPropFirmCheck } = await import('../../risk/prop-firm-check.js');
      const { readTradeHistory, readEquityMarks } = await import('../../app/trade-history.js');
      const set = resolveRuleSet(opts.rules, opts.size === undefined ? undefined : parseSize(opts.size), '--rules');
      const trades = readTradeHistory(opts.trades);
      const marks = opts.equity ? readEquityMarks(opts.equity) : [];
      const result = checkPropFirmHistory(set, trades, marks);
      process.stdout.write(
        opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderPropFirmCheck(result, marks.length > 0),
      );
      // Scripts can gate on the outcome: 0 passed, 4 failed (a breach), 3 still in progress.
      process.exitCode = result.result === 'passed' ? 0 : result.result === 'failed' ? 4 : 3;
    });
}

function parseSize(text: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new ValidationError(`--size must be a positive amount, got "${text}"`, '--size');
  return n;
}
