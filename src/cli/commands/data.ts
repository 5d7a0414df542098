import { type Command, InvalidArgumentError, Option } from 'commander';
import type { BarColumns, Timeframe } from '../../core/index.js';
import type { ImportResult, ValidationReport } from '../../data/index.js';

const POLICIES = ['reject', 'drop', 'ffill'] as const;
const MAX_LISTED_ISSUES = 20;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return n;
}

function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

function policyOption(defaultValue?: string): Option {
  const o = new Option('--policy <policy>', 'what to do with bad rows: reject, drop or ffill (forward-fill)').choices(
    POLICIES,
  );
  return defaultValue ? o.default(defaultValue) : o;
}

async function tf(value: string | undefined): Promise<Timeframe | undefined> {
  if (value === undefined) return undefined;
  const { parseTimeframe } = await import('../../core/index.js');
  return parseTimeframe(value);
}

async function rangeText(c: BarColumns): Promise<string> {
  const { formatTime } = await import('../../data/index.js');
  if (c.length === 0) return 'empty';
  const first = c.time[0];
  const last = c.time[c.length - 1];
  const dateOnly = first % 86_400_000 === 0 && last % 86_400_000 === 0;
  return `${formatTime(first, dateOnly)} .. ${formatTime(last, dateOnly)}`;
}

function countsText(r: ValidationReport): string {
  const parts = Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return `${r.issues.length} issue${r.issues.length === 1 ? '' : 's'} (${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'})${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

function printIssues(r: ValidationReport, limit: number): void {
  for (const is of r.issues.slice(0, limit)) {
    process.stdout.write(`  row ${is.row}  ${is.severity}  ${is.kind}  ${is.column}: ${is.detail}\n`);
  }
  if (r.issues.length > limit) process.stdout.write(`  ... ${r.issues.length - limit} more (use --json for all)\n`);
}

function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Prints rows as an aligned text table. */
function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    `${r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()}\n`;
  process.stdout.write(line(head));
  for (const r of rows) process.stdout.write(line(r));
}

async function importWithProgress(
  file: string,
  opts: Parameters<typeof import('../../data/index.js').importFile>[1],
): Promise<ImportResult> {
  const { importFile } = await import('../../data/index.js');
  const { ProgressBar } = await import('../progress.js');
  let bar: InstanceType<typeof ProgressBar> | undefined;
  try {
    return importFile(file, {
      ...opts,
      onProgress: (done, total) => {
        bar ??= new ProgressBar('reading', total);
        bar.update(done);
      },
    });
  } finally {
    bar?.finish();
  }
}

/** Registers `tradeforge data ...`: import, list, validate, generate, resample, export. */
export function register(program: Command): void {
  const data = program
    .command('data')
    .description('market data: import, list, validate, generate, resample, export')
    .addHelpText('after', '\nMarket data is stored under $TRADEFORGE_HOME/data (default ~/.tradeforge/data).');

  data
    .command('import')
    .description(
      'import a CSV or JSON OHLCV file, or Freqtrade candle files (a file or a user_data/data/<exchange> folder)',
    )
    .argument('<path>', 'CSV or JSON file, a Freqtrade .json/.feather candle file, or a Freqtrade data folder')
    .option(
      '--symbol <symbol>',
      'symbol to store it under, e.g. BTC/USDT or SPX (required for CSV/JSON; Freqtrade files: the pair in the name)',
    )
    .option(
      '--timeframe <tf>',
      'bar timeframe: 1m, 5m, 15m, 1h, 4h, 1d, 1w (inferred when omitted; a folder: only this one)',
    )
    .addOption(policyOption('reject'))
    .option('--append', 'incremental update: add only bars newer than the stored ones')
    .option('--delimiter <char>', 'CSV delimiter (detected when omitted)')
    .option('--outlier-z <z>', 'robust z-score above which a return is an outlier (0 disables)', finiteNumber)
    .action(async (file: string, o: Record<string, string | number | boolean | undefined>) => {
      const { MarketDataStore } = await import('../../data/index.js');
      const { resolveHome } = await import('../../app/home.js');
      const { ValidationError } = await import('../../core/index.js');
      const freqtrade = await import('../../data/freqtrade/index.js');
      const { statSync } = await import('node:fs');
      const { basename } = await import('node:path');
      const timeframe = await tf(o.timeframe as string | undefined);
      const common = {
        policy: o.policy as (typeof POLICIES)[number],
        ...(timeframe ? { timeframe } : {}),
        ...(o.outlierZ !== undefined ? { validation: { outlierZ: Number(o.outlierZ) } } : {}),
      };
      let isDir = false;
      try {
        isDir = statSync(file).isDirectory();
      } catch {
        isDir = false;
      }
      // Freqtrade: a whole user_data/data/<exchange> folder, or one of its files named like BTC_USDT-5m.feather.
      const ftName = isDir ? undefined : freqtrade.parseFreqtradeFileName(basename(file));
      let batch: { symbol: string; r: ImportResult; from: string }[];
      if (isDir) {
        if (o.symbol !== undefined) {
          throw new ValidationError(
            '--symbol names one series; a Freqtrade folder stores each pair under its own name',
            'symbol',
          );
        }
        const read = freqtrade.readFreqtradeFolder(file, common);
        for (const f of read.skipped)
          process.stdout.write(`skipped ${f.path} (the feather file of ${f.pair} ${f.timeframe} is imported)\n`);
        for (const f of read.unsupported)
          process.stdout.write(`skipped ${f.path} (timeframe ${f.timeframe} is not one tradeforge stores)\n`);
        batch = read.imports.map((x) => ({ symbol: x.file.pair, r: x.result, from: x.file.path }));
      } else if (ftName && (ftName.format === 'feather' || o.symbol === undefined)) {
        const r = freqtrade.importFreqtradeFile({ path: file, ...ftName }, common);
        batch = [{ symbol: o.symbol === undefined ? ftName.pair : String(o.symbol), r, from: file }];
      } else {
        if (o.symbol === undefined)
          throw new ValidationError('--symbol is required to import a CSV/JSON file', 'symbol');
        const r = await importWithProgress(file, {
          ...common,
          ...(o.delimiter ? { delimiter: String(o.delimiter).replace('\\t', '\t') } : {}),
        });
        batch = [{ symbol: String(o.symbol), r, from: file }];
      }
      for (const { r } of batch) {
        if (!r.timeframe) {
          throw new ValidationError('cannot infer the timeframe from the bar spacing; pass --timeframe', 'timeframe');
        }
      }
      if (timeframe) {
        // A declared timeframe the timestamps contradict is refused before anything is stored.
        const { checkTimeframeMatches } = await import('../../data/timeframe-check.js');
        for (const { r, from } of batch) checkTimeframeMatches(r.columns.time, timeframe, from);
      }
      const store = new MarketDataStore(resolveHome().data);
      for (const { symbol, r } of batch) {
        const rtf = r.timeframe as Timeframe;
        let note = '';
        if (o.append) {
          const res = store.append(symbol, rtf, r.columns, { skipExisting: true });
          note = `appended ${res.appended} new bars, ${res.rows} stored`;
        } else {
          const existed = store.has(symbol, rtf);
          store.write(symbol, rtf, r.columns);
          note = existed ? 'replaced the stored series' : 'new series';
        }
        process.stdout.write(
          `imported ${symbol} ${rtf}: ${r.columns.length} rows, ${await rangeText(r.columns)} (${note})\n`,
        );
        process.stdout.write(
          `validation: ${countsText(r.report)}${r.report.issues.length ? `; policy ${o.policy}` : ''}\n`,
        );
        printIssues(r.report, MAX_LISTED_ISSUES);
        process.stdout.write(`stored in ${store.pathOf(symbol, rtf)}\n`);
      }
    });

  data
    .command('list')
    .description('list stored market data')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { MarketDataStore, formatTime } = await import('../../data/index.js');
      const { resolveHome } = await import('../../app/home.js');
      const store = new MarketDataStore(resolveHome().data);
      const series = store.list();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(series, null, 2)}\n`);
        return;
      }
      if (series.length === 0) {
        process.stdout.write(`no market data stored in ${store.dir} (add some with \`tradeforge data import\`)\n`);
        return;
      }
      printTable(
        ['SYMBOL', 'TIMEFRAME', 'ROWS', 'FROM', 'TO', 'SIZE'],
        series.map((s) => {
          const dateOnly = s.from % 86_400_000 === 0 && s.to % 86_400_000 === 0;
          return [
            s.symbol,
            s.timeframe,
            String(s.rows),
            formatTime(s.from, dateOnly),
            formatTime(s.to, dateOnly),
            humanBytes(s.bytes),
          ];
        }),
      );
    });

  data
    .command('validate')
    .description('check a CSV/JSON file for gaps, duplicates, order, OHLC consistency, bad prices and outliers')
    .argument('<file>', 'CSV or JSON file')
    .option('--timeframe <tf>', 'bar timeframe for gap detection (inferred when omitted)')
    .addOption(policyOption())
    .option('--outlier-z <z>', 'robust z-score above which a return is an outlier (0 disables)', finiteNumber)
    .option('--json', 'print the full report as JSON')
    .addHelpText('after', '\nExit code: 0 clean, 1 issues found, 2 unreadable input.')
    .action(async (file: string, o: Record<string, string | number | boolean | undefined>) => {
      const { applyPolicy } = await import('../../data/index.js');
      const { isUserError } = await import('../../core/index.js');
      const timeframe = await tf(o.timeframe as string | undefined);
      const r = await importWithProgress(file, {
        policy: 'none',
        ...(timeframe ? { timeframe } : {}),
        ...(o.outlierZ !== undefined ? { validation: { outlierZ: Number(o.outlierZ) } } : {}),
      });
      let policyResult: { policy: string; rows?: number; error?: string } | undefined;
      if (o.policy) {
        try {
          const fixed = applyPolicy(r.columns, r.report, o.policy as (typeof POLICIES)[number]);
          policyResult = { policy: String(o.policy), rows: fixed.length };
        } catch (err) {
          if (!isUserError(err)) throw err;
          policyResult = { policy: String(o.policy), error: err.message };
        }
      }
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify({ file, rows: r.report.rows, timeframe: r.timeframe ?? null, clean: r.report.clean, errors: r.report.errors, warnings: r.report.warnings, counts: r.report.counts, issues: r.report.issues, ...(policyResult ? { policyResult } : {}) }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(
          `${file}: ${r.report.rows} rows, ${r.timeframe ?? 'unknown timeframe'}, ${await rangeText(r.columns)}\n`,
        );
        process.stdout.write(r.report.clean ? 'clean: no issues found\n' : `${countsText(r.report)}\n`);
        printIssues(r.report, MAX_LISTED_ISSUES);
        if (policyResult) {
          process.stdout.write(
            policyResult.error
              ? `policy reject: would refuse the file: ${policyResult.error}\n`
              : `policy ${policyResult.policy}: ${policyResult.rows} rows after applying it\n`,
          );
        }
      }
      process.exitCode = r.report.clean ? 0 : 1;
    });

  data
    .command('generate')
    .description('write seeded synthetic bars (geometric Brownian motion) to a CSV or .json file')
    .requiredOption('--bars <n>', 'number of bars', positiveInt)
    .requiredOption('--seed <n>', 'random seed (same seed, same bars)', integer)
    .requiredOption('--out <file>', 'output file (.json for JSON, otherwise CSV)')
    .option('--timeframe <tf>', 'bar timeframe', '1m')
    .option('--start <iso>', 'time of the first bar (ISO-8601, UTC)', '2020-01-01T00:00:00Z')
    .option('--start-price <p>', 'first price', finiteNumber, 100)
    .option('--drift <mu>', 'annual drift', finiteNumber, 0.05)
    .option('--volatility <sigma>', 'annual volatility', finiteNumber, 0.2)
    .option('--regimes', 'switch between bull, bear and sideways regimes')
    .option('--volatility-clustering', 'GARCH(1,1)-like volatility clustering')
    .action(async (o: Record<string, string | number | boolean | undefined>) => {
      const { generateBars, parseTime, writeBarsFile } = await import('../../data/index.js');
      const { ValidationError } = await import('../../core/index.js');
      const { ProgressBar } = await import('../progress.js');
      const timeframe = (await tf(String(o.timeframe))) as Timeframe;
      const start = parseTime(String(o.start));
      if (Number.isNaN(start)) throw new ValidationError(`--start "${o.start}" is not an ISO-8601 time`, 'start');
      const bars = generateBars({
        bars: Number(o.bars),
        seed: Number(o.seed),
        timeframe,
        start,
        startPrice: Number(o.startPrice),
        drift: Number(o.drift),
        volatility: Number(o.volatility),
        regimes: Boolean(o.regimes),
        volatilityClustering: Boolean(o.volatilityClustering),
      });
      const bar = new ProgressBar('writing', bars.length);
      try {
        writeBarsFile(String(o.out), bars, (done) => bar.update(done));
      } finally {
        bar.finish();
      }
      process.stdout.write(`wrote ${bars.length} ${timeframe} bars (${await rangeText(bars)}) to ${o.out}\n`);
    });

  data
    .command('resample')
    .description('resample a stored series to a larger timeframe and store the result')
    .requiredOption('--symbol <symbol>', 'stored symbol')
    .requiredOption('--from <tf>', 'stored timeframe')
    .requiredOption('--to <tf>', 'target timeframe (larger)')
    .action(async (o: { symbol: string; from: string; to: string }) => {
      const { MarketDataStore, resample } = await import('../../data/index.js');
      const { resolveHome } = await import('../../app/home.js');
      const from = (await tf(o.from)) as Timeframe;
      const to = (await tf(o.to)) as Timeframe;
      const store = new MarketDataStore(resolveHome().data);
      const src = store.read(o.symbol, from);
      const out = resample(src, from, to);
      store.write(o.symbol, to, out);
      process.stdout.write(
        `resampled ${o.symbol} ${from} -> ${to}: ${src.length} -> ${out.length} bars (${await rangeText(out)}), stored in ${store.pathOf(o.symbol, to)}\n`,
      );
    });

  data
    .command('export')
    .description('write a stored series to a CSV or .json file')
    .requiredOption('--symbol <symbol>', 'stored symbol')
    .requiredOption('--timeframe <tf>', 'stored timeframe')
    .requiredOption('--out <file>', 'output file (.json for JSON, otherwise CSV)')
    .action(async (o: { symbol: string; timeframe: string; out: string }) => {
      const { MarketDataStore, writeBarsFile } = await import('../../data/index.js');
      const { resolveHome } = await import('../../app/home.js');
      const store = new MarketDataStore(resolveHome().data);
      const timeframe = (await tf(o.timeframe)) as Timeframe;
      const c = store.read(o.symbol, timeframe);
      writeBarsFile(o.out, c);
      process.stdout.write(`wrote ${c.length} bars of ${o.symbol} ${timeframe} to ${o.out}\n`);
    });

  registerDownload(data);
}

// `tradeforge data download`: candles from an exchange through ccxt, or stocks/forex from Yahoo, into the store
// (which is also the cache).
function registerDownload(data: Command): void {
  data
    .command('download')
    .description(
      'download candles from an exchange (ccxt fetchOHLCV) or stocks/forex (Yahoo) into the store; only missing bars are fetched',
    )
    .addOption(
      new Option('--provider <name>', 'ccxt (crypto exchanges) or yahoo (stocks, ETFs, indices, forex)')
        .choices(['ccxt', 'yahoo'])
        .default('ccxt'),
    )
    .option('--exchange <id>', 'ccxt exchange id, e.g. binance (required with --provider ccxt)')
    .requiredOption(
      '--symbols <list>',
      'comma-separated symbols as the provider names them, e.g. BTC/USDT,ETH/USDT or AAPL,^GSPC,EURUSD=X',
    )
    .requiredOption('--from <date>', 'first bar (YYYY-MM-DD or ISO time, UTC)')
    .option('--to <date>', 'last bar, inclusive (default: now)')
    .option('--timeframe <tf>', 'bar timeframe', '1m')
    .option(
      '--url <url>',
      'ccxt: a Binance-compatible server instead of the exchange (the venue simulator), with --exchange binance; yahoo: the chart API base URL',
    )
    .option('--page-limit <n>', 'candles per request (default: the exchange maximum)', positiveInt)
    .action(async (o: Record<string, string | number | undefined>) => {
      const { ValidationError } = await import('../../core/index.js');
      const { parseDateBound } = await import('../../backtest/settings.js');
      const { MarketDataStore } = await import('../../data/index.js');
      const { resolveHome } = await import('../../app/home.js');
      const { downloadCandles } = await import('../../app/data-download.js');
      const { createCcxtOhlcvSource } = await import('../../venues/ccxt/ohlcv-source.js');
      const { ProgressBar } = await import('../progress.js');
      const timeframe = (await tf(String(o.timeframe))) as Timeframe;
      const symbols = String(o.symbols)
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
      if (symbols.length === 0) throw new ValidationError('--symbols needs at least one symbol', 'symbols');
      const from = parseDateBound(String(o.from), 'from');
      const to = o.to === undefined ? Date.now() : parseDateBound(String(o.to), 'to');
      if (to < from) throw new ValidationError(`--to (${o.to}) is before --from (${o.from})`, 'to');
      let source: Awaited<ReturnType<typeof createCcxtOhlcvSource>>;
      if (o.provider === 'yahoo') {
        if (o.exchange !== undefined) throw new ValidationError('--exchange is for --provider ccxt', 'exchange');
        const { createYahooChartSource } = await import('../../venues/yahoo/chart-source.js');
        source = createYahooChartSource(o.url !== undefined ? { baseUrl: String(o.url) } : {});
      } else {
        if (o.exchange === undefined) {
          throw new ValidationError(
            '--exchange is required with --provider ccxt (e.g. --exchange binance)',
            'exchange',
          );
        }
        const exchange = String(o.exchange);
        let urls: Record<string, unknown> | undefined;
        if (o.url !== undefined) {
          if (exchange !== 'binance') throw new ValidationError('--url works with --exchange binance only', 'url');
          const { simulatorCcxtUrls } = await import('../../app/venues.js');
          urls = simulatorCcxtUrls(String(o.url).replace(/\/+$/, ''));
        }
        source = createCcxtOhlcvSource({ exchange, ...(urls ? { urls } : {}) });
      }
      const store = new MarketDataStore(resolveHome().data);
      try {
        for (const symbol of symbols) {
          let bar: InstanceType<typeof ProgressBar> | undefined;
          try {
            const r = await downloadCandles({
              source,
              store,
              symbol,
              timeframe,
              from,
              to,
              ...(o.pageLimit !== undefined ? { pageLimit: Number(o.pageLimit) } : {}),
              onProgress: (done, expected) => {
                bar ??= new ProgressBar(`${symbol} ${timeframe}`, expected);
                bar.update(done);
              },
            });
            bar?.finish();
            process.stdout.write(
              `${symbol} ${timeframe}: ${r.added} new bars in ${r.pages} request${r.pages === 1 ? '' : 's'} to ${source.id}, ${r.stored} stored\n`,
            );
            process.stdout.write(`wrote ${r.path}\n`);
          } finally {
            bar?.finish();
          }
        }
      } finally {
        await source.close();
      }
    });
}
