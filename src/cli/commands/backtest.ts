import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EngineLog } from '../../engine/engine.js';
import { collectRepeated } from '../options.js';

interface BacktestFlags {
  data?: string;
  strategy?: string;
  param: string[];
  config?: string;
  freqtradeConfig?: string;
  cash?: string;
  fee?: string;
  stake?: string;
  lot?: string;
  allowShort?: boolean;
  margin?: boolean;
  leverage?: string;
  from?: string;
  to?: string;
  timeframe?: string;
  json?: string;
  csv?: string;
  html?: string;
  riskDefaults?: boolean;
  tradingDays?: string;
  periodsPerYear?: string;
  quiet?: boolean;
  /** False with `--no-store`. */
  store?: boolean;
  distributed?: boolean;
  symbols?: string;
  redis?: string;
  queuePrefix?: string;
}

/** Registers `tradeforge backtest`. Heavy modules load inside the action so `--help` stays fast. */
export function register(program: Command): void {
  program
    .command('backtest')
    .description('Backtest a strategy on a data file or a stored symbol')
    .option('--data <fileOrSymbol>', 'CSV/JSON file, or a stored symbol (SYMBOL or SYMBOL@1d)')
    .option(
      '--strategy <name>',
      'strategy name (see `tradeforge strategies`), file (.ts/.js, .rules; docs/strategy-files.md) or stored version ID@vN',
    )
    .option('--param <k=v>', 'strategy parameter (repeatable)', collectRepeated, [])
    .option('--config <file>', 'JSON or YAML file with the same settings plus exits and risk')
    .option(
      '--freqtrade-config <file>',
      'a Freqtrade config.json: its minimal_roi, stoploss, trailing_*, stake, fee, timeframe, max_open_trades and pair_whitelist (pairs from --data as a Freqtrade data folder, or from the store); see docs/backtesting.md',
    )
    .option('--cash <amount>', 'starting cash (default 100000)')
    .option('--fee <rate>', 'fee rate for maker and taker (default 0.001 = 0.1%)')
    .option('--stake <amount|P%>', 'entry size: P% of available cash, or an amount of quote currency (default 95%)')
    .option('--lot <size>', 'lot size quantities are rounded down to (default 0.00000001)')
    .option('--allow-short', 'let strategies short (implies a margin account at leverage 1)')
    .option('--margin', 'margin account: short and borrow up to --leverage')
    .option('--leverage <n>', 'leverage of a margin account (default 1)')
    .option('--from <date>', 'first bar (YYYY-MM-DD or ISO time, UTC)')
    .option('--to <date>', 'last bar, inclusive (YYYY-MM-DD includes the whole day)')
    .option('--timeframe <tf>', 'timeframe of the data when it cannot be inferred or the symbol has several')
    .option('--json <file>', 'write the full result as JSON')
    .option('--csv <dir>', 'write trades.csv and equity.csv into this folder')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--risk-defaults', 'apply the live risk defaults (otherwise only rules named in the config apply)')
    .option(
      '--trading-days <n>',
      'days per year for annualising Sharpe etc. (default from the data: 365 with weekend bars, else 252)',
    )
    .option('--periods-per-year <n>', 'bars per year for annualising (overrides --trading-days and the calendar)')
    .option('--quiet', 'no summary table on stdout')
    .option('--no-store', 'do not record the run in the store (`tradeforge backtests list`)')
    .option('--distributed', 'run one job per --symbols entry on the worker queue (docs/scale-out.md)')
    .option('--symbols <list>', 'distributed: comma-separated stored symbols or files')
    .option('--redis <url>', 'distributed: Redis URL of the queue (config queue.url)')
    .option('--queue-prefix <p>', 'distributed: key prefix of the queue (config queue.prefix)')
    .action(async (flags: BacktestFlags) => {
      if (flags.distributed) {
        const { runDistributedBacktest } = await import('../distributed-backtest.js');
        return runDistributedBacktest(flags);
      }
      await runBacktestCommand(flags);
    });
}

/** The action of `tradeforge backtest`: config + flags -> load -> run -> summary and reports. */
export async function runBacktestCommand(flags: BacktestFlags): Promise<void> {
  const core = await import('../../core/index.js');
  const num = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) {
      throw new core.ValidationError(`--${flag} expects a number, got "${value}"`, flag);
    }
    return n;
  };
  const { readStructuredFile } = await import('../../app/load-config.js');
  const { loadBars } = await import('../../data/index.js');
  const { runBacktest } = await import('../../backtest/runner.js');
  const { parseBacktestConfig, parseStake, parseDateBound } = await import('../../backtest/settings.js');
  const { parseParamArgs, resolveParams } = await import('../../strategy/params.js');
  const {
    compileStrategySource,
    isCodeSource,
    isStrategyFile,
    readStrategyFile,
    resolveStrategy,
    strategyExits,
    strategyRunSettings,
  } = await import('../../authoring/resolve.js');
  const { checkedVersionSource, findStrategyVersion, parseVersionRef } = await import('../../authoring/versions.js');
  const { formatSummary } = await import('../../backtest/summary.js');
  const { windowColumns } = await import('../../backtest/runner.js');

  // Output paths are checked before anything runs, so a bad one fails fast and nothing is half-written.
  const { checkOutputDir, checkOutputFile } = await import('../output-paths.js');
  if (flags.json) checkOutputFile('json', flags.json);
  if (flags.html) checkOutputFile('html', flags.html);
  if (flags.csv) checkOutputDir('csv', flags.csv, ['trades.csv', 'fills.csv', 'equity.csv']);
  const cfg = flags.config ? parseBacktestConfig(readStructuredFile(flags.config), flags.config) : {};
  // A Freqtrade config brings its pairs' data (a Freqtrade data folder or the store) and settings under ours.
  const ft = flags.freqtradeConfig
    ? (await import('../../app/freqtrade-run.js')).loadFreqtradeRun(flags.freqtradeConfig, {
        ...((flags.data ?? cfg.data) !== undefined ? { data: flags.data ?? cfg.data } : {}),
        ...((flags.timeframe ?? cfg.timeframe) !== undefined ? { timeframe: flags.timeframe ?? cfg.timeframe } : {}),
      })
    : undefined;
  const dataSource = ft?.source ?? flags.data ?? cfg.data;
  if (!dataSource) throw new core.ValidationError('--data is required (a data file or a stored symbol)', 'data');
  const strategyName = flags.strategy ?? cfg.strategy;
  if (!strategyName) throw new core.ValidationError('--strategy is required', 'strategy');
  // Validate the strategy and its parameters before touching the data (fast feedback on typos).
  // A strategy file named in a config file is relative to that file; on the command line, to the working folder.
  const { dirname, resolve: resolvePath } = await import('node:path');
  const baseDir = flags.strategy === undefined && flags.config ? dirname(resolvePath(flags.config)) : process.cwd();
  // ID@vN: a stored strategy version, from the store (hash-checked, gated and sandboxed like a file).
  const source = parseVersionRef(strategyName)
    ? await (async () => {
        const { openConfiguredStore } = await import('../../app/open-store.js');
        const { store } = await openConfiguredStore();
        try {
          return checkedVersionSource(await findStrategyVersion(store.strategies, strategyName));
        } finally {
          await store.close();
        }
      })()
    : isStrategyFile(strategyName)
      ? readStrategyFile(strategyName, baseDir)
      : undefined;
  // Code files (.ts/.js and stored versions of them) run whole in a sandbox worker (CPU budget per callback, heap
  // cap): their definition lives there. Built-ins, rules and Pine (interpreters with their own loop guard) run here.
  const code = isCodeSource(source) ? source : undefined;
  const def =
    code !== undefined
      ? undefined
      : source !== undefined
        ? compileStrategySource(source.source, source.kind, source.file)
        : resolveStrategy(strategyName, baseDir);
  const params = { ...(cfg.params ?? {}), ...parseParamArgs(flags.param) };
  if (def !== undefined) resolveParams(def, params);

  const tfRaw = flags.timeframe ?? cfg.timeframe;
  const timeframe = tfRaw ? core.parseTimeframe(tfRaw) : undefined;
  const t0 = performance.now();
  const loaded = ft ? { ...ft.data[0], timeframe: ft.timeframe } : loadBars(dataSource, timeframe ? { timeframe } : {});
  const datasets = ft?.data ?? [loaded];
  const loadMs = performance.now() - t0;
  const tf = loaded.timeframe ?? timeframe;
  if (!tf) {
    throw new core.ValidationError(
      `cannot infer the timeframe of ${dataSource}; pass --timeframe (e.g. 1d)`,
      'timeframe',
    );
  }

  const stakeRaw = flags.stake ?? cfg.stake;
  const fromRaw = flags.from ?? cfg.from;
  const toRaw = flags.to ?? cfg.to;
  const fee = num('fee', flags.fee) ?? cfg.fee ?? ft?.settings.fee;
  if (fee !== undefined && !(fee >= 0 && fee < 0.5))
    throw new core.ValidationError(`--fee must be in [0, 0.5), got ${fee}`, 'fee');
  const lot = num('lot', flags.lot) ?? cfg.lot;
  if (lot !== undefined && !(lot > 0)) throw new core.ValidationError(`--lot must be positive, got ${lot}`, 'lot');
  const leverage = num('leverage', flags.leverage) ?? cfg.leverage;
  const margin = flags.margin ?? cfg.margin;
  const cash = num('cash', flags.cash) ?? cfg.cash ?? ft?.settings.cash;
  const ftExits = ft && Object.keys(ft.settings.exits).length > 0 ? ft.settings.exits : undefined;
  const maxOpenTrades = cfg.maxOpenTrades ?? ft?.settings.maxOpenTrades;
  const tradingDays = num('trading-days', flags.tradingDays) ?? cfg.tradingDaysPerYear;
  if (tradingDays !== undefined && !(Number.isInteger(tradingDays) && tradingDays >= 1 && tradingDays <= 366)) {
    throw new core.ValidationError(`--trading-days must be an integer in [1, 366], got ${tradingDays}`, 'trading-days');
  }
  const periodsPerYear = num('periods-per-year', flags.periodsPerYear) ?? cfg.periodsPerYear;
  if (periodsPerYear !== undefined && !(periodsPerYear > 0)) {
    throw new core.ValidationError(`--periods-per-year must be positive, got ${periodsPerYear}`, 'periods-per-year');
  }
  const riskDefaults = flags.riskDefaults ?? cfg.riskDefaults ?? false;
  const from = fromRaw !== undefined ? parseDateBound(fromRaw, 'from') : undefined;
  const to = toRaw !== undefined ? parseDateBound(toRaw, 'to') : undefined;
  const startedAt = Date.now();
  // A Pine script's strategy(...) settings (capital, commission, fill on close) apply where flags and config don't.
  const declared = (def && strategyRunSettings(def)) ?? {};
  const declaredExits = def && strategyExits(def);
  const settings = {
    data: datasets.map((d) => ({ symbol: d.symbol, columns: d.columns, timeframe: tf })),
    params,
    ...((cash ?? declared.cash) !== undefined ? { cash: cash ?? declared.cash } : {}),
    ...(fee !== undefined
      ? { fee }
      : cfg.fees
        ? { fees: cfg.fees }
        : declared.fee !== undefined
          ? { fee: declared.fee }
          : {}),
    ...(stakeRaw !== undefined
      ? { stake: parseStake(stakeRaw) }
      : ft?.settings.stake
        ? { stake: ft.settings.stake }
        : {}),
    ...(maxOpenTrades !== undefined ? { maxOpenTrades } : {}),
    ...(lot !== undefined ? { lot } : {}),
    ...((flags.allowShort ?? cfg.allowShort) !== undefined ? { allowShort: flags.allowShort ?? cfg.allowShort } : {}),
    ...(margin !== undefined ? { margin } : {}),
    ...(leverage !== undefined ? { leverage } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    // Exits of the config file win over those a rules file declares.
    // Exits of the config file win over a Freqtrade config's, and both over those a rules file declares.
    ...((cfg.exits ?? ftExits ?? declaredExits) ? { exits: cfg.exits ?? ftExits ?? declaredExits } : {}),
    ...(cfg.slippage ? { slippage: cfg.slippage } : {}),
    ...(cfg.participation !== undefined ? { participation: cfg.participation } : {}),
    ...(cfg.latency ? { latency: cfg.latency } : {}),
    ...((cfg.marketFill ?? declared.marketFill) ? { marketFill: cfg.marketFill ?? declared.marketFill } : {}),
    ...(tradingDays !== undefined ? { tradingDaysPerYear: tradingDays } : {}),
    ...(periodsPerYear !== undefined ? { periodsPerYear } : {}),
    ...(cfg.risk ? { riskConfig: cfg.risk } : {}),
    riskDefaults,
    loadMs,
  };
  const log: EngineLog = (level, message) => {
    if (level === 'warn' || level === 'error') process.stderr.write(`${level}: ${message}\n`);
  };
  const result =
    code !== undefined
      ? await (await import('../../authoring/sandbox/backtest-worker.js')).runSandboxedBacktest(
          { source: code.source, file: code.file, options: settings },
          { log },
        )
      : runBacktest({ ...settings, strategy: def ?? strategyName, log });

  const outputs: Record<string, string> = {};
  if (flags.json || flags.csv || flags.html) {
    const report = await import('../../backtest/report/index.js');
    if (flags.json) {
      report.writeJsonReport(flags.json, result);
      outputs.json = resolve(flags.json);
    }
    if (flags.csv) {
      const written = report.writeCsvReports(flags.csv, result);
      for (const [name, path] of Object.entries(written)) outputs[name] = resolve(path);
    }
    if (flags.html) {
      const { chartIndicators } = await import('../../backtest/report/indicators.js');
      const shown = windowColumns(loaded.columns, from, to);
      // A code file's definition lives in its worker; code files declare no chart indicators (the realm carries none).
      const indicators = def === undefined ? [] : chartIndicators(def, result.params, shown);
      report.writeHtmlReport(flags.html, result, shown, { indicators });
      outputs.html = resolve(flags.html);
    }
  }
  if (!flags.quiet) process.stdout.write(formatSummary(result));
  for (const path of Object.values(outputs)) process.stdout.write(`wrote ${path}\n`);
  if (flags.store !== false) {
    const { dataHash } = await import('../../backtest/data-hash.js');
    const { saveBacktest } = await import('../../app/backtest-records.js');
    const { openConfiguredStore } = await import('../../app/open-store.js');
    const { store, home } = await openConfiguredStore();
    try {
      const saved = await saveBacktest(store, home, result, {
        source: existsSync(dataSource) ? resolve(dataSource) : dataSource,
        dataHash: dataHash(datasets.map((d) => ({ symbol: d.symbol, columns: windowColumns(d.columns, from, to) }))),
        outputs,
        startedAt,
      });
      process.stdout.write(`stored as ${saved.id} (tradeforge backtests show ${saved.id}); wrote ${saved.path}\n`);
    } finally {
      await store.close();
    }
  }
}
