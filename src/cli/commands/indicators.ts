import { type Command, Option } from 'commander';
import { collectRepeated } from '../options.js';

const POLICIES = ['reject', 'drop', 'ffill', 'none'] as const;
/** Rows per stdout write: big enough to be fast, small enough to keep memory flat on million-bar files. */
const ROWS_PER_CHUNK = 2000;

/** Registers `tradeforge indicators`: computes indicator columns over a bar file and prints one row per bar. */
export function register(program: Command): void {
  program
    .command('indicators')
    .description(
      'compute indicators over a bar file or a stored symbol and print one row per bar (time, then one column per output)',
    )
    .option(
      '--data <fileOrSymbol>',
      'CSV or JSON bar file (header time,open,high,low,close,volume), or a stored symbol (SYMBOL or SYMBOL@1d)',
    )
    .option('--timeframe <tf>', 'timeframe of a stored symbol kept in several timeframes')
    .option(
      '--indicator <spec>',
      'indicator spec, repeatable: sma:10 ema:12 wma:10 rsi:14 roc:10 stddev:20 macd:12,26,9 bbands:20,2 atr:14 ' +
        'stoch:14,3,3 adx:14 cci:20 donchian:20 obv vwap vwap:1d (see --list)',
      collectRepeated,
      [],
    )
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .addOption(
      new Option('--policy <policy>', 'what to do with bad rows in the data').choices(POLICIES).default('reject'),
    )
    .option('--list', 'list the known indicators and their parameters')
    .action(
      async (o: {
        data?: string;
        indicator: string[];
        format: 'csv' | 'json';
        policy: (typeof POLICIES)[number];
        timeframe?: string;
        list?: boolean;
      }) => {
        // `tradeforge indicators ... | head` closes the pipe early; that is a normal end, not a crash.
        process.stdout.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE') process.exit(0);
          throw err;
        });
        const { ValidationError } = await import('../../core/errors.js');
        const { listIndicators, parseIndicatorSpec, computeIndicators } = await import('../../indicators/index.js');
        if (o.list) {
          for (const d of listIndicators()) {
            const aliases = d.aliases.length ? ` (also ${d.aliases.join(', ')})` : '';
            process.stdout.write(`${d.usage.padEnd(28)} ${d.summary}${aliases}\n`);
          }
          return;
        }
        if (o.indicator.length === 0) {
          throw new ValidationError('give at least one --indicator (e.g. --indicator sma:10)', 'indicator');
        }
        if (!o.data) throw new ValidationError('missing --data FILE_OR_SYMBOL', 'data');
        // Parse every spec before touching the file so a typo is reported even when the file is large.
        const specs = o.indicator.map((s) => parseIndicatorSpec(s));
        const { existsSync, statSync } = await import('node:fs');
        const { importFile, loadBars } = await import('../../data/index.js');
        const { parseTimeframe } = await import('../../core/timeframe.js');
        const timeframe = o.timeframe ? parseTimeframe(o.timeframe) : undefined;
        // A file (or a name with a data-file extension, so a missing one says "file not found") is read under
        // --policy; anything else is a stored symbol (BTC/USDT, SPX@1d), found as `backtest --data` finds it.
        const isFile = (existsSync(o.data) && statSync(o.data).isFile()) || /\.(csv|tsv|json|txt)$/i.test(o.data);
        const columns = isFile
          ? importFile(o.data, { policy: o.policy, ...(timeframe ? { timeframe } : {}) }).columns
          : loadBars(o.data, timeframe ? { timeframe } : {}).columns;
        const outputs = computeIndicators(specs, columns);
        await printRows(columns.time, outputs, o.format);
      },
    );
}

/** Writes the rows in chunks, waiting for stdout to drain so a million rows never sit in memory at once. */
async function printRows(
  time: Float64Array,
  outputs: readonly { name: string; values: Float64Array }[],
  format: 'csv' | 'json',
): Promise<void> {
  const { ProgressBar } = await import('../progress.js');
  const n = time.length;
  const bar = new ProgressBar('writing', n);
  const write = (s: string): Promise<void> =>
    new Promise((resolve) => {
      if (process.stdout.write(s)) resolve();
      else process.stdout.once('drain', resolve);
    });
  const names = outputs.map((c) => c.name);
  const cols = outputs.map((c) => c.values);
  if (format === 'csv') await write(`${['time', ...names].join(',')}\n`);
  else await write(n === 0 ? '[' : '[\n');
  for (let start = 0; start < n; start += ROWS_PER_CHUNK) {
    const end = Math.min(n, start + ROWS_PER_CHUNK);
    let chunk = '';
    for (let i = start; i < end; i++) {
      const t = new Date(time[i]).toISOString();
      if (format === 'csv') {
        chunk += t;
        for (const c of cols) chunk += Number.isNaN(c[i]) ? ',' : `,${String(c[i])}`;
        chunk += '\n';
      } else {
        // JSON.stringify prints the shortest round-trip form, the same digits as String(number).
        chunk += `  {"time":${JSON.stringify(t)}`;
        for (let j = 0; j < cols.length; j++) {
          const v = cols[j][i];
          chunk += `,${JSON.stringify(names[j])}:${Number.isFinite(v) ? String(v) : 'null'}`;
        }
        chunk += i === n - 1 ? '}\n' : '},\n';
      }
    }
    await write(chunk);
    bar.update(end);
  }
  if (format === 'json') await write(']\n');
  bar.finish();
}
