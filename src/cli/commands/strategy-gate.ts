import type { Command } from 'commander';

/** What a promotion command works with: the pipeline over the configured store, and who the caller is. */
export interface PromotionSession {
  promotion: import('../../app/promotion.js').Promotion;
  actor: import('../../app/promotion.js').Actor;
}

/**
 * Opens the configured store with the vault unlocked (every move is recorded in the audit log, signed with the
 * vault's audit key) and runs `fn`. The command line is the owner's: whoever can unlock the vault acts as an admin
 * (`cli:<os user>`); the API's viewers cannot reach these commands.
 */
export async function withPromotion(
  configFile: string | undefined,
  fn: (s: PromotionSession) => Promise<void>,
): Promise<void> {
  const { userInfo } = await import('node:os');
  const { openConfiguredStore } = await import('../../app/open-store.js');
  const { unlockVaultForCli } = await import('../../security/cli-unlock.js');
  const { Promotion } = await import('../../app/promotion.js');
  const { store, config, home } = await openConfiguredStore({ ...(configFile ? { configFile } : {}) });
  try {
    await unlockVaultForCli(store, process.env);
    const promotion = new Promotion({ store, dataDir: home.data, accountRisk: config.risk });
    await fn({ promotion, actor: { name: `cli:${userInfo().username}`, role: 'admin' } });
  } finally {
    await store.close();
  }
}

const pct = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}%`);
const num = (x: number | null) => (x === null ? '-' : x.toFixed(2));

/** Registers `strategy gate ID@vN`, `strategy policy` and `strategy history ID@vN` (DEPLOY-1/2, docs/promotion.md). */
export function registerGate(strategy: Command): void {
  strategy
    .command('gate <ref>')
    .description(
      'the promotion gate for a stored version ID@vN: the safety gate, then a walk-forward backtest with its stored ' +
        'parameters; draft -> backtested -> gated when the thresholds hold in sample and out of sample (audited)',
    )
    .requiredOption('--data <source>', 'candles: a CSV/JSON file or a stored SYMBOL (data/)')
    .option('--timeframe <tf>', 'the timeframe of the data (default: detected)')
    .option('--folds <n>', 'walk-forward folds (default 1: the first 75% in sample, the rest out of sample)')
    .option('--fee <rate>', 'fee rate of the backtests (default 0.001)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(
      async (
        ref: string,
        o: {
          data: string;
          timeframe?: string;
          folds?: string;
          fee?: string;
          config?: string;
        },
      ) => {
        const { ValidationError } = await import('../../core/errors.js');
        const { loadBars } = await import('../../data/load.js');
        const { parseTimeframe } = await import('../../core/timeframe.js');
        const folds = o.folds === undefined ? undefined : Number(o.folds);
        if (folds !== undefined && !(Number.isInteger(folds) && folds > 0))
          throw new ValidationError(`--folds expects a positive whole number, got "${o.folds}"`, 'folds');
        const fee = o.fee === undefined ? undefined : Number(o.fee);
        if (fee !== undefined && !(fee >= 0 && fee < 1))
          throw new ValidationError(`--fee expects a rate in [0, 1), got "${o.fee}"`, 'fee');
        const bars = loadBars(o.data, o.timeframe ? { timeframe: parseTimeframe(o.timeframe) } : {});
        const timeframe = bars.timeframe;
        if (timeframe === undefined)
          throw new ValidationError(`${o.data}: the timeframe could not be detected; give --timeframe`, 'timeframe');
        await withPromotion(o.config, async ({ promotion, actor }) => {
          const r = await promotion.gate(actor, ref, {
            data: { symbol: bars.symbol, columns: bars.columns, timeframe },
            label: o.data,
            ...(folds ? { split: { folds } } : {}),
            ...(fee !== undefined ? { run: { fee } } : {}),
          });
          for (const [i, f] of r.evaluation.folds.entries()) {
            for (const [part, m] of [
              ['in sample', f.inSample],
              ['out of sample', f.outOfSample],
            ] as const) {
              process.stdout.write(
                `fold ${i + 1} ${part.padEnd(13)} ${m.bars} bars, ${m.trades} trades, Sharpe ${num(m.sharpe)}, max drawdown ${pct(m.maxDrawdownPct)}, win rate ${pct(m.winRatePct)}\n`,
              );
            }
          }
          process.stdout.write(`${ref}: gate passed, now ${r.state}\n`);
        });
      },
    );
  strategy
    .command('policy')
    .description('show the promotion thresholds, or make them stricter (admin only; a lowering is refused and audited)')
    .option('--min-sharpe <x>', 'Sharpe ratio at least')
    .option('--max-drawdown <pct>', 'maximum drawdown at most, percent')
    .option('--min-win-rate <pct>', 'win rate at least, percent')
    .option('--min-trades <n>', 'closed trades at least (in sample)')
    .option('--dry-run-days <n>', 'days of dry run at least')
    .option('--reason <text>', 'why (kept in the audit log)', 'policy change')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(
      async (o: {
        minSharpe?: string;
        maxDrawdown?: string;
        minWinRate?: string;
        minTrades?: string;
        dryRunDays?: string;
        reason: string;
        config?: string;
      }) => {
        const { ValidationError } = await import('../../core/errors.js');
        const n = (v: string | undefined, flag: string) => {
          if (v === undefined) return undefined;
          const x = Number(v);
          if (!Number.isFinite(x)) throw new ValidationError(`--${flag} expects a number, got "${v}"`, flag);
          return x;
        };
        const thresholds = {
          ...(o.minSharpe !== undefined ? { minSharpe: n(o.minSharpe, 'min-sharpe') } : {}),
          ...(o.maxDrawdown !== undefined ? { maxDrawdownPct: n(o.maxDrawdown, 'max-drawdown') } : {}),
          ...(o.minWinRate !== undefined ? { minWinRatePct: n(o.minWinRate, 'min-win-rate') } : {}),
          ...(o.minTrades !== undefined ? { minTrades: n(o.minTrades, 'min-trades') } : {}),
        } as Record<string, number>;
        const dryRunDays = n(o.dryRunDays, 'dry-run-days');
        await withPromotion(o.config, async ({ promotion, actor }) => {
          const changing = Object.keys(thresholds).length > 0 || dryRunDays !== undefined;
          const p = changing
            ? await promotion.setPolicy(
                actor,
                { thresholds, ...(dryRunDays !== undefined ? { dryRunDays } : {}) },
                o.reason,
              )
            : await promotion.policy();
          const t = p.thresholds;
          process.stdout.write(
            `Sharpe >= ${t.minSharpe}, max drawdown <= ${t.maxDrawdownPct}%, win rate >= ${t.minWinRatePct}%, trades >= ${t.minTrades}; ` +
              `dry run >= ${p.dryRunDays} days; divergence tolerance time ${p.tolerance.timeMs} ms, price ${p.tolerance.priceBps} bp, ` +
              `quantity ${p.tolerance.quantityRatio}, P&L ${p.tolerance.pnl}\n`,
          );
        });
      },
    );
  strategy
    .command('history <ref>')
    .description('the lifecycle of a stored version ID@vN: its state and every transition (who, when, why)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (ref: string, o: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { parseVersionRef } = await import('../../authoring/versions.js');
      const { ValidationError } = await import('../../core/errors.js');
      const r = parseVersionRef(ref);
      if (r === undefined) throw new ValidationError(`"${ref}" is not a strategy version (use ID@vN)`, 'strategy');
      const { store } = await openConfiguredStore({ ...(o.config ? { configFile: o.config } : {}) });
      try {
        const state = await store.lifecycle.state(r.id, r.version);
        if (state === undefined) throw new ValidationError(`no stored strategy version ${ref}`, 'strategy');
        process.stdout.write(`${ref}: ${state}\n`);
        for (const t of await store.lifecycle.history(r.id, r.version)) {
          process.stdout.write(`  ${new Date(t.time).toISOString()} ${t.from} -> ${t.to} by ${t.actor}: ${t.reason}\n`);
        }
      } finally {
        await store.close();
      }
    });
}
