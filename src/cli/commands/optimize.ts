import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { RunFlags } from '../../backtest/optimizer/run-setup.js';
import type { OptimizeResult, TrialResult } from '../../backtest/optimizer/search.js';
import type { Evaluator } from '../../backtest/optimizer/types.js';
import type { WalkForwardResult } from '../../backtest/optimizer/walk-forward.js';
import { collectRepeated } from '../options.js';

/** Flags of `tradeforge optimize`. */
interface OptimizeFlags extends RunFlags {
  param: string[];
  objective: string;
  method: 'grid' | 'random' | 'tpe';
  trials?: string;
  seed: string;
  walkForward?: string;
  isRatio: string;
  workers?: string;
  json?: string;
  top: string;
  minTrades?: string;
  config?: string;
  distributed?: boolean;
  inFlight?: string;
  redis?: string;
  queuePrefix?: string;
}

function int(
  flag: string,
  raw: string | undefined,
  min: number,
  ValidationError: new (m: string, f?: string) => Error,
) {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new ValidationError(`--${flag} must be an integer >= ${min}, got "${raw}"`, flag);
  return n;
}

function num(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** The ranked table: rank, parameters, objective, then the usual suspects. */
function rankedTable(res: OptimizeResult, top: number, paramText: (r: TrialResult) => string): string {
  const rows = res.ranked
    .slice(0, top)
    .map((r, i) => [
      String(i + 1),
      paramText(r),
      num(r.score, 4),
      num(r.metrics?.totalReturnPct),
      num(r.metrics?.sharpe, 3),
      num(r.metrics?.maxDrawdownPct),
      String(r.metrics?.trades ?? '-'),
      num(r.metrics?.winRatePct, 1),
    ]);
  const head = ['#', 'params', res.objective.name, 'return%', 'sharpe', 'maxDD%', 'trades', 'win%'];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  return all
    .map((row) => row.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n');
}

function summaryLine(res: OptimizeResult, workers: number | string): string {
  const firstSkip = res.notRun.find((r) => r.status === 'skipped')?.reason;
  const firstFail = res.notRun.find((r) => r.status === 'failed')?.reason;
  return (
    `${res.total} trials (${res.method}) on ${typeof workers === 'string' ? workers : `${workers} worker${workers === 1 ? '' : 's'}`} in ${(res.elapsedMs / 1000).toFixed(2)} s: ` +
    `${res.evaluated} evaluated, ${res.skipped} skipped, ${res.failed} failed` +
    (firstSkip ? `\n  skipped, e.g.: ${firstSkip}` : '') +
    (firstFail ? `\n  failed, e.g.: ${firstFail}` : '')
  );
}

function trialJson(r: TrialResult) {
  return {
    index: r.index,
    params: r.params,
    status: r.status,
    score: r.score,
    ...(r.fingerprint ? { fingerprint: r.fingerprint } : {}),
    ...(r.metrics ? { metrics: r.metrics } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

function optimizeJson(res: OptimizeResult) {
  return {
    method: res.method,
    ...(res.window ? { window: res.window } : {}),
    total: res.total,
    evaluated: res.evaluated,
    skipped: res.skipped,
    failed: res.failed,
    elapsedMs: res.elapsedMs,
    best: res.best ? trialJson(res.best) : null,
    ranked: res.ranked.map(trialJson),
    notRun: res.notRun.map(trialJson),
  };
}

function walkForwardText(wf: WalkForwardResult, time: Float64Array, paramText: (r: TrialResult) => string): string {
  const day = (i: number) => new Date(time[Math.min(i, time.length - 1)]).toISOString().slice(0, 10);
  const head = [
    'fold',
    'in-sample',
    'out-of-sample',
    'best params',
    'IS score',
    'OOS score',
    'OOS return%',
    'OOS trades',
  ];
  const rows = wf.folds.map((f) => [
    String(f.fold.index + 1),
    `${day(f.fold.inSample.from)}..${day(f.fold.inSample.to - 1)}`,
    `${day(f.fold.outOfSample.from)}..${day(f.fold.outOfSample.to - 1)}`,
    f.best ? paramText(f.best) : '(none valid)',
    num(f.inSampleScore, 4),
    num(f.outOfSampleScore, 4),
    num(f.outOfSampleMetrics?.totalReturnPct),
    String(f.outOfSampleMetrics?.trades ?? '-'),
  ]);
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const table = all.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n');
  return (
    `${table}\n` +
    `mean IS ${num(wf.meanInSampleScore, 4)}, mean OOS ${num(wf.meanOutOfSampleScore, 4)}, ` +
    `efficiency (OOS/IS) ${num(wf.efficiency, 3)}, compounded OOS return ${num(wf.compoundedOutOfSampleReturnPct)}%`
  );
}

/** Registers `tradeforge optimize`: grid or random parameter search on all cores, optionally walk-forward. */
export function register(program: Command): void {
  program
    .command('optimize')
    .description(
      'search strategy parameters (grid, random or TPE) on all cores or a worker queue; optional walk-forward',
    )
    .option('--data <source>', 'bar file (CSV/JSON) or stored symbol (SYMBOL or SYMBOL@1d)')
    .option('--strategy <name>', 'built-in strategy (e.g. sma-cross) or strategy file: .ts/.js, .rules')
    .option(
      '--param <spec>',
      'search axis, repeatable: name=lo..hi:step, name=a,b,c or name=value',
      collectRepeated,
      [],
    )
    .option(
      '--objective <name>',
      'sharpe|sortino|calmar|profit|return|cagr|win_rate|profit_factor|max_drawdown|expectancy, or an expression ' +
        'such as "sharpe - 0.05 * max_drawdown" ("min: EXPR" to minimise)',
      'sharpe',
    )
    .addOption(
      new Option('--method <method>', 'search method (tpe: Bayesian, learns from scores)')
        .choices(['grid', 'random', 'tpe'])
        .default('grid'),
    )
    .option('--trials <n>', 'random and tpe search: number of distinct points')
    .option('--seed <n>', 'random and tpe search seed', '1')
    .option('--walk-forward <k>', 'walk-forward with K rolling folds (optimise in-sample, test out-of-sample)')
    .option('--is-ratio <r>', 'walk-forward in-sample share of each fold window', '0.75')
    .option('--workers <n>', 'worker threads (default: all cores)')
    .option('--distributed', 'run the trials as jobs on the worker queue (tradeforge worker; docs/scale-out.md)')
    .option('--in-flight <n>', 'distributed tpe: trials queued at once (default 4; grid/random queue them all)')
    .option('--redis <url>', 'distributed: Redis URL of the queue (config queue.url, default redis://127.0.0.1:6379)')
    .option('--queue-prefix <p>', 'distributed: key prefix of the queue (config queue.prefix, default tradeforge)')
    .option('--top <n>', 'rows of the ranked table', '10')
    .option('--min-trades <n>', 'rank runs with fewer trades last')
    .option('--json <file>', 'write every trial and the ranking as JSON')
    .option('--timeframe <tf>', 'timeframe of the data when it cannot be inferred')
    .option('--cash <amount>', 'starting cash (default 100000)')
    .option('--fee <rate>', 'fee rate, e.g. 0.001 (default)')
    .option('--stake <stake>', 'entry size: 95% of cash (default) or an amount of quote currency')
    .option('--lot <size>', 'lot size quantities are rounded down to')
    .option('--allow-short', 'let strategies go short (margin account, leverage 1)')
    .option(
      '--trading-days <n>',
      'days per year for annualising Sharpe etc. (default from the data: 365 with weekend bars, else 252)',
    )
    .option('--periods-per-year <n>', 'bars per year for annualising (overrides --trading-days and the calendar)')
    .option('--margin', 'margin account: short and borrow up to --leverage')
    .option('--leverage <n>', 'leverage of a margin account (default 1)')
    .option('--config <file>', 'JSON or YAML run settings, as for `tradeforge backtest --config` (flags win)')
    .option('--risk-defaults', 'apply the live risk defaults in every run')
    .option('--from <date>', 'first bar time (inclusive)')
    .option('--to <date>', 'last bar time (inclusive)')
    .action(async (o: OptimizeFlags) => {
      const { ValidationError } = await import('../../core/errors.js');
      const { isStrategyFile, resolveStrategy, strategyExits, withStrategyRunSettings } = await import(
        '../../authoring/resolve.js'
      );
      const { resolve: resolvePath } = await import('node:path');
      const { parseParamSpace, spaceSize, formatPoint } = await import('../../backtest/optimizer/space.js');
      const { parseObjective } = await import('../../backtest/optimizer/objective.js');
      const { checkSpace } = await import('../../backtest/optimizer/check-space.js');
      const { searchSize, optimize } = await import('../../backtest/optimizer/search.js');
      const { walkForward } = await import('../../backtest/optimizer/walk-forward.js');
      const { WorkerEvaluator, shareColumns } = await import('../../backtest/optimizer/evaluators.js');
      const { defaultWorkerCount } = await import('../../backtest/optimizer/pool.js');
      const { loadRunData, runSetupFromFlags } = await import('../../backtest/optimizer/run-setup.js');
      const { parseBacktestConfig } = await import('../../backtest/settings.js');
      const { readStructuredFile } = await import('../../app/load-config.js');
      const { writeTextAtomic } = await import('../../backtest/report/write.js');
      const { ProgressBar } = await import('../progress.js');

      // Every flag is checked before any data is read or worker started.
      if (o.json) (await import('../output-paths.js')).checkOutputFile('json', o.json);
      const cfg = o.config ? parseBacktestConfig(readStructuredFile(o.config), o.config) : {};
      const run = runSetupFromFlags(o, cfg);
      if (!run.strategy) throw new ValidationError('missing --strategy NAME', 'strategy');
      if (o.param.length === 0) throw new ValidationError('give at least one --param name=lo..hi:step', 'param');
      // ID@vN: a stored version, read from the store (hash-checked); each worker thread compiles it again.
      const { versionFileName } = await import('../../authoring/versions.js');
      const stored = await (await import('../../app/strategy-catalogue.js')).configuredStrategyVersion(run.strategy);
      const def = stored?.def ?? resolveStrategy(run.strategy);
      // A strategy file is compiled again in each worker, from its absolute path, by the authoring trial module.
      const strategyFile = !stored && isStrategyFile(run.strategy) ? resolvePath(run.strategy) : undefined;
      const space = parseParamSpace(o.param);
      checkSpace(def, space);
      // Config-file parameters the search does not vary stay fixed in every trial.
      const fixed = Object.fromEntries(Object.entries(run.params).filter(([k]) => !space.some((a) => a.name === k)));
      checkSpace(
        def,
        Object.entries(fixed).map(([name, v]) => ({ name, values: [v] })),
      );
      const objective = parseObjective(o.objective);
      const trials = int('trials', o.trials, 1, ValidationError);
      const seed = int('seed', o.seed, 0, ValidationError) ?? 1;
      const top = int('top', o.top, 1, ValidationError) ?? 10;
      const folds = int('walk-forward', o.walkForward, 1, ValidationError);
      const minTrades = int('min-trades', o.minTrades, 0, ValidationError);
      const requested = int('workers', o.workers, 1, ValidationError) ?? defaultWorkerCount();
      const isRatio = Number(o.isRatio);
      if (!(isRatio > 0 && isRatio < 1))
        throw new ValidationError(`--is-ratio must be in (0, 1), got "${o.isRatio}"`, 'is-ratio');
      const points = searchSize(space, o.method, trials, seed);
      const declaredExits = strategyExits(def);
      // Exits of the config file win over those a rules file declares.
      const options = withStrategyRunSettings(
        def,
        !run.options.exits && declaredExits ? { ...run.options, exits: declaredExits } : run.options,
      );
      const data = loadRunData(o, cfg);

      const varying = space.filter((a) => a.values.length > 1).map((a) => a.name);
      const paramText = (r: TrialResult) =>
        formatPoint(
          Object.fromEntries(Object.entries(r.params).filter(([k]) => varying.includes(k) || varying.length === 0)),
        );
      const workers = Math.max(1, Math.min(requested, points));
      process.stderr.write(
        `optimize ${def.name} on ${data.symbol} (${data.columns.length} bars ${data.timeframe}): ${spaceSize(space)} points, ` +
          `${points} trials${folds ? ` x ${folds} folds` : ''}, objective ${objective.name} (${objective.direction}), ${o.distributed ? 'distributed' : `${workers} workers`}\n`,
      );
      const trialSetup = {
        symbol: data.symbol,
        timeframe: data.timeframe,
        strategy: stored ? run.strategy : (strategyFile ?? def.name),
        options,
        risk: run.risk,
      };
      const bar = new ProgressBar('optimize', folds ? points * folds : points);
      let evaluator: Evaluator;
      let detach = () => {};
      let closeSweep = async () => {};
      const where = o.distributed ? 'the queue' : workers;
      if (o.distributed) {
        const inFlight = int('in-flight', o.inFlight, 1, ValidationError) ?? 4;
        const { queueSettings } = await import('../queue-flags.js');
        const { Sweep, DistributedEvaluator } = await import('../../scale/sweep.js');
        const { attachSweepProgress } = await import('../sweep-progress.js');
        const sweep = await Sweep.open(await queueSettings(o));
        closeSweep = () => sweep.close();
        const dataHash = await sweep.publish(data.columns);
        evaluator = new DistributedEvaluator(
          sweep,
          { ...trialSetup, dataHash, ...(stored ? { strategyHash: stored.version.source_hash } : {}) },
          o.method === 'tpe' ? inFlight : points,
        );
        process.stderr.write(
          `sweep ${sweep.id}: jobs on queue ${sweep.prefix}; Ctrl-C or \`tradeforge queue cancel ${sweep.id}\` cancels it\n`,
        );
        detach = attachSweepProgress(sweep, 'optimize', folds ? points * folds : points);
      } else {
        // Code we did not write runs under the sandbox's CPU watchdog in every trial thread.
        const { sandboxTrialGuard } = await import('../../authoring/sandbox/trial-guard.js');
        // The stop report names the file as the user wrote it.
        const guardFile = stored
          ? versionFileName(stored.version)
          : strategyFile !== undefined
            ? run.strategy
            : undefined;
        evaluator = await WorkerEvaluator.start({
          workers,
          ...(guardFile !== undefined ? { guard: sandboxTrialGuard({ strategy: def.name, file: guardFile }) } : {}),
          ...(stored
            ? {
                module: new URL('../../scale/queue-trial.ts', import.meta.url),
                setup: {
                  plugins: [],
                  trial: { ...trialSetup, columns: shareColumns(data.columns) },
                  version: stored.version,
                },
              }
            : {
                module: strategyFile
                  ? new URL('../../authoring/strategy-trial.ts', import.meta.url)
                  : new URL('../../backtest/optimizer/backtest-trial.ts', import.meta.url),
                setup: { ...trialSetup, columns: shareColumns(data.columns) },
              }),
        });
      }
      const common = {
        space,
        objective,
        evaluator,
        method: o.method,
        seed,
        fixed,
        ...(trials !== undefined ? { trials } : {}),
        ...(minTrades !== undefined ? { minTrades } : {}),
        onProgress: (d: number) => {
          if (!o.distributed) bar.update(d);
        },
      };
      try {
        if (folds) {
          const wf = await walkForward({ ...common, bars: data.columns.length, folds, inSampleRatio: isRatio });
          bar.finish();
          process.stdout.write(`${walkForwardText(wf, data.columns.time, paramText)}\n`);
          if (o.json) {
            const doc = {
              strategy: def.name,
              data: data.symbol,
              timeframe: data.timeframe,
              objective: objective.name,
              direction: objective.direction,
              space,
              workers,
              walkForward: {
                ...wf,
                folds: wf.folds.map((f) => ({ ...f, best: f.best ? trialJson(f.best) : null })),
              },
            };
            writeTextAtomic(
              o.json,
              `${JSON.stringify(doc, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
            );
          }
          return;
        }
        const res = await optimize(common);
        bar.finish();
        process.stdout.write(`${summaryLine(res, where)}\n`);
        if (res.ranked.length === 0) {
          // Nothing to rank: an error (exit code 2), with nothing written or stored.
          const why = res.notRun.find((r) => r.reason)?.reason;
          throw new ValidationError(
            `no valid parameter combination: ${res.skipped} skipped, ${res.failed} failed of ${res.skipped + res.failed + res.evaluated}${why ? ` (e.g. ${why})` : ''}; nothing written`,
            'param',
          );
        }
        process.stdout.write(`${rankedTable(res, top, paramText)}\n`);
        if (res.best) process.stdout.write(`best: ${formatPoint(res.best.params)}\n`);
        if (o.json) {
          const doc = {
            strategy: def.name,
            data: data.symbol,
            timeframe: data.timeframe,
            bars: data.columns.length,
            objective: objective.name,
            direction: objective.direction,
            space,
            workers,
            options,
            ...optimizeJson(res),
          };
          writeTextAtomic(
            o.json,
            `${JSON.stringify(doc, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
          );
          process.stdout.write(`wrote ${o.json}\n`);
        }
        await storeOptimization(
          def.name,
          data,
          res,
          { objective: objective.name, method: o.method, space, options },
          o.json,
        );
      } finally {
        bar.finish();
        detach();
        await evaluator.close();
        await closeSweep();
      }
    });
}

// Every optimisation is recorded in the store (`tradeforge backtests list`) with its best trial.
async function storeOptimization(
  strategy: string,
  data: { symbol: string; columns: import('../../core/bar.js').BarColumns },
  res: OptimizeResult,
  spec: Record<string, unknown>,
  json: string | undefined,
): Promise<void> {
  const { saveOptimization } = await import('../../app/backtest-records.js');
  const { dataHash } = await import('../../backtest/data-hash.js');
  const { openConfiguredStore } = await import('../../app/open-store.js');
  const { store } = await openConfiguredStore();
  try {
    const id = await saveOptimization(store, {
      strategy,
      spec: { ...spec, bestParams: res.best?.params ?? null, evaluated: res.evaluated },
      source: data.symbol,
      dataHash: dataHash([data]),
      best: res.best
        ? {
            ...(res.best.metrics ? { metrics: res.best.metrics } : {}),
            ...(res.best.fingerprint ? { fingerprint: res.best.fingerprint } : {}),
          }
        : null,
      ...(json ? { outputs: { json: resolve(json) } } : {}),
      // Whole milliseconds: the column is an integer (PostgreSQL refuses a fraction).
      startedAt: Math.round(Date.now() - res.elapsedMs),
    });
    process.stdout.write(`stored as ${id} (tradeforge backtests show ${id})\n`);
  } finally {
    await store.close();
  }
}
