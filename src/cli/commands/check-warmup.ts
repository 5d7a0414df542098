import type { Command } from 'commander';
import type { RunFlags } from '../../backtest/optimizer/run-setup.js';
import { collectRepeated } from '../options.js';

/** Flags of `tradeforge check-warmup`. */
interface WarmupFlags extends RunFlags {
  param: string[];
  testBars?: string;
  history?: string;
  json?: string;
  config?: string;
}

/**
 * Registers `tradeforge check-warmup`: runs a strategy on one test window with different amounts of history
 * before it (warm-up sensitivity) and with the data after a cut removed (look-ahead), and says what changed.
 */
export function register(program: Command): void {
  program
    .command('check-warmup')
    .description('check whether signals depend on the history before the test window (warm-up) or on future bars')
    .option('--data <source>', 'bar file (CSV/JSON) or stored symbol')
    .option('--strategy <name>', 'strategy name (e.g. sma-cross) or file: .ts/.js, .rules')
    .option('--param <k=v>', 'strategy parameter, repeatable', collectRepeated, [])
    .option('--test-bars <n>', 'bars in the test window at the end of the data (default: the last third)')
    .option('--history <list>', 'history lengths to try, in bars, e.g. 0,50,200 (all history is always tried)')
    .option('--json <file>', 'write the report as JSON')
    .option('--timeframe <tf>', 'timeframe of the data when it cannot be inferred')
    .option('--cash <amount>', 'starting cash (default 100000)')
    .option('--fee <rate>', 'fee rate (default 0.001)')
    .option('--stake <stake>', 'entry size: 95% (default) or an amount')
    .option('--lot <size>', 'lot size')
    .option('--allow-short', 'let strategies go short')
    .option('--margin', 'margin account: short and borrow up to --leverage')
    .option('--leverage <n>', 'leverage of a margin account (default 1)')
    .option('--config <file>', 'JSON or YAML run settings, as for `tradeforge backtest --config` (flags win)')
    .option('--risk-defaults', 'apply the live risk defaults in every run')
    .option('--from <date>', 'first bar time (inclusive)')
    .option('--to <date>', 'last bar time (inclusive)')
    .action(async (o: WarmupFlags) => {
      const { ValidationError } = await import('../../core/errors.js');
      const { isCodeSource, isStrategyFile, readStrategyFile, resolveStrategy, strategyExits } = await import(
        '../../authoring/resolve.js'
      );
      const { parseParamArgs, resolveParams } = await import('../../strategy/params.js');
      const { runBacktest } = await import('../../backtest/runner.js');
      const { checkWarmup } = await import('../../backtest/optimizer/warmup.js');
      const { loadRunData, runSetupFromFlags } = await import('../../backtest/optimizer/run-setup.js');
      const { parseBacktestConfig } = await import('../../backtest/settings.js');
      const { readStructuredFile } = await import('../../app/load-config.js');
      const { writeTextAtomic } = await import('../../backtest/report/write.js');

      const cfg = o.config ? parseBacktestConfig(readStructuredFile(o.config), o.config) : {};
      const run = runSetupFromFlags(o, cfg);
      if (!run.strategy) throw new ValidationError('missing --strategy NAME', 'strategy');
      const def = resolveStrategy(run.strategy);
      const params = resolveParams(def, { ...run.params, ...parseParamArgs(o.param) });
      let histories: number[] | undefined;
      if (o.history !== undefined) {
        histories = o.history.split(',').map((s) => {
          const n = Number(s.trim());
          if (s.trim() === '' || !Number.isInteger(n) || n < 0) {
            throw new ValidationError(`--history "${o.history}": expected bar counts like 0,50,200`, 'history');
          }
          return n;
        });
      }
      const { buildRiskHook } = await import('../../backtest/risk-wiring.js');
      const declaredExits = strategyExits(def);
      // Exits of the config file win over those a rules file declares.
      const options = !run.options.exits && declaredExits ? { ...run.options, exits: declaredExits } : run.options;
      const data = loadRunData(o, cfg);
      const n = data.columns.length;
      let testBars = Math.max(2, Math.floor(n / 3));
      if (o.testBars !== undefined) {
        testBars = Number(o.testBars);
        if (!Number.isInteger(testBars) || testBars < 2 || testBars >= n) {
          throw new ValidationError(
            `--test-bars must be an integer in [2, ${n - 1}], got "${o.testBars}"`,
            'test-bars',
          );
        }
      }
      // A code file runs each window in a sandboxed backtest worker: its callbacks under the CPU watchdog and a heap cap.
      const file = isStrategyFile(run.strategy) ? readStrategyFile(run.strategy) : undefined;
      const code = isCodeSource(file) ? file : undefined;
      const sandboxed = code && (await import('../../authoring/sandbox/backtest-worker.js')).runSandboxedBacktest;
      const report = await checkWarmup(
        data.columns,
        async (columns) =>
          code !== undefined && sandboxed !== undefined
            ? (
                await sandboxed({
                  source: code.source,
                  file: code.file,
                  options: {
                    ...options,
                    data: { symbol: data.symbol, timeframe: data.timeframe, columns },
                    params,
                    ...(run.risk.config ? { riskConfig: run.risk.config } : {}),
                    riskDefaults: run.risk.defaults,
                  },
                })
              ).trades
            : runBacktest({
                ...options,
                data: { symbol: data.symbol, timeframe: data.timeframe, columns },
                strategy: def,
                params,
                risk: buildRiskHook(run.risk.config, run.risk.defaults),
              }).trades,
        { testFrom: n - testBars, ...(histories ? { histories } : {}) },
      );
      const iso = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
      const out: string[] = [];
      out.push(
        `check-warmup ${def.name} on ${data.symbol}: test window ${iso(report.testStartTime)} .. ${iso(data.columns.time[n - 1])} (${testBars} bars)`,
      );
      out.push('history  trades  signals   trades    first difference');
      for (const r of report.rows) {
        out.push(
          `${String(r.history).padStart(7)}  ${String(r.trades).padStart(6)}  ${(r.sameSignals ? 'same' : 'DIFFER').padEnd(8)}  ${(r.sameTrades ? 'same' : 'differ').padEnd(8)}  ${r.firstDifference === null ? '-' : iso(r.firstDifference)}`,
        );
      }
      const warm =
        report.stableFrom === null
          ? 'warm-up: signals differ even with the longest histories tried below all history'
          : report.stableFrom === 0
            ? 'warm-up: signals do not depend on the history before the window'
            : `warm-up: signals are stable from ${report.stableFrom} bars of history; with less they differ`;
      out.push(warm);
      out.push(
        report.lookAhead.identical
          ? `look-ahead: none seen (${report.lookAhead.comparedTrades} trades before ${iso(report.lookAhead.cutTime)} unchanged when later bars are removed)`
          : `look-ahead: SUSPECTED - trades before ${iso(report.lookAhead.cutTime)} change when later bars are removed (first at ${iso(report.lookAhead.firstDifference ?? report.lookAhead.cutTime)})`,
      );
      process.stdout.write(`${out.join('\n')}\n`);
      if (o.json) {
        const doc = { strategy: def.name, params, data: data.symbol, timeframe: data.timeframe, testBars, ...report };
        writeTextAtomic(o.json, `${JSON.stringify(doc, null, 2)}\n`);
      }
    });
}
