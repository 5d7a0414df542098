import type { Command } from 'commander';

/** Registers `tradeforge demo` (what `npm start` runs): validates and summarises the bundled sample data offline. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('offline demo: validate and summarise the bundled S&P 500 sample data, list the commands')
    .action(async () => {
      const { importFile, formatTime } = await import('../../data/index.js');
      const { SAMPLE_DATA_FILE } = await import('../../app/home.js');
      const out = (s: string): boolean => process.stdout.write(`${s}\n`);
      const r = importFile(SAMPLE_DATA_FILE, { policy: 'none' });
      const c = r.columns;
      const first = c.close[0];
      const last = c.close[c.length - 1];
      out('tradeforge demo: bundled sample data (S&P 500 daily bars, real data, no network needed)');
      out(`  file          ${SAMPLE_DATA_FILE}`);
      out(`  rows          ${c.length} ${r.timeframe ?? ''} bars`);
      out(`  range         ${formatTime(c.time[0])} .. ${formatTime(c.time[c.length - 1])}`);
      out(`  first close   ${first}`);
      out(`  last close    ${last}`);
      out(`  total return  ${(((last - first) / first) * 100).toFixed(2)}%`);
      const kinds = Object.entries(r.report.counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`);
      out(
        `  validation    ${r.report.errors} errors, ${r.report.warnings} warnings${kinds.length ? ` (${kinds.join(', ')})` : ''}`,
      );
      for (const is of r.report.issues.slice(0, 5)) out(`                row ${is.row}: ${is.kind}: ${is.detail}`);
      out('');
      out('commands:');
      const walk = (cmd: Command, prefix: string): void => {
        for (const sub of cmd.commands) {
          const name = `${prefix}${sub.name()}`;
          if (sub.commands.length > 0) walk(sub, `${name} `);
          else out(`  tradeforge ${name.padEnd(22)} ${sub.description()}`);
        }
      };
      walk(program, '');
      out('');
      out('run `tradeforge <command> --help` for the options of a command.');
    });
}
