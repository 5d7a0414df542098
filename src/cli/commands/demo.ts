import type { Command } from 'commander';

/** Prints the bundled sample data summary (the first lines of the demo, and `tradeforge data summary`). */
async function printDataSummary(out: (s: string) => void): Promise<void> {
  const { importFile, formatTime } = await import('../../data/index.js');
  const { SAMPLE_DATA_FILE } = await import('../../app/home.js');
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
}

function printCommands(program: Command, out: (s: string) => void): void {
  out('commands:');
  const walk = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const name = `${prefix}${sub.name()}`;
      if (sub.commands.length > 0) walk(sub, `${name} `);
      else out(`  tradeforge ${name.padEnd(22)} ${sub.description()}`);
    }
  };
  walk(program, '');
}

/** The demo's deployment: sma-cross paper trading on the built-in simulator, with fast bars. */
export const DEMO_CONFIG = {
  profile: 'dev',
  log: { level: 'info' },
  venues: [
    {
      id: 'demo',
      type: 'paper',
      options: { tickIntervalMs: 100, volatility: 0.002, seed: 11, balances: { USDT: 100_000 } },
    },
  ],
  deployments: [
    {
      id: 'demo-sma',
      strategy: 'sma-cross',
      params: { fast: 3, slow: 8 },
      venue: 'demo',
      symbols: ['BTC/USDT'],
      timeframe: '1m',
      capitalCap: 10_000,
      // Under the live default of 50% of equity in one symbol (risk.maxConcentration).
      stake: '40%',
      exits: { stopLoss: 0.03 },
    },
  ],
  runtime: { barSeconds: 2, warmupBars: 30, staleAfterSeconds: 10, pollMs: 250, heartbeatSeconds: 60 },
};

/**
 * Registers `tradeforge demo` (what `npm start` runs): a paper deployment of sma-cross on the built-in exchange
 * simulator, printing orders, fills and P&L as they happen — no key, no network. Also `tradeforge data summary`.
 */
export function register(program: Command): void {
  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  program
    .command('demo')
    .description('paper-trade sma-cross on the built-in simulator market (no key, no network); Ctrl-C stops')
    .option('--duration <seconds>', 'stop by itself after this many seconds')
    .action(async (opts: { duration?: string }) => {
      const { ValidationError } = await import('../../core/errors.js');
      const duration = opts.duration === undefined ? undefined : Number(opts.duration);
      if (duration !== undefined && !(duration > 0)) {
        throw new ValidationError(
          `--duration must be a positive number of seconds, got "${opts.duration}"`,
          'duration',
        );
      }
      await printDataSummary(out);
      out('');
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const { resolveConfig } = await import('../../core/config.js');
      const { resolveHome } = await import('../../app/home.js');
      const { startRuntime } = await import('../../app/runtime.js');
      // A throwaway home: the demo's paper account starts fresh every time and never touches your data.
      const root = mkdtempSync(join(tmpdir(), 'tradeforge-demo-'));
      const home = resolveHome({}, root);
      out("live demo: paper trading sma-cross(3, 8) on BTC/USDT, 2-second bars built from the simulator's ticker");
      out('           (warm-up from 1m candles first; orders, fills and P&L print below)');
      // A venue library's stray promise must not take the runtime (and its open positions' management) down.
      process.on('unhandledRejection', (err) => {
        process.stderr.write(
          `warning: unhandled rejection (ignored): ${err instanceof Error ? err.message : String(err)}\n`,
        );
      });
      const runtime = await startRuntime({
        // server.port (default 8080) follows TRADEFORGE__SERVER__PORT like every config; a taken port is a one-line error.
        config: resolveConfig(DEMO_CONFIG, process.env),
        profile: 'dev',
        home,
        env: {},
        print: out,
        printBars: true,
        runFile: false,
      });
      out(
        `API and metrics: ${runtime.url}/api/status  ${runtime.url}/metrics  ${runtime.url}/healthz  (dashboard: ${runtime.url}/)`,
      );
      const stop = (why: string) => void runtime.stop(why);
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      const timer = duration !== undefined ? setTimeout(() => stop('duration'), duration * 1000) : undefined;
      await runtime.stopped;
      if (timer) clearTimeout(timer);
      const st = runtime.deployments[0].engine.portfolio;
      out('');
      out(
        `demo finished: ${runtime.deployments[0].engine.exec.ordersCreated} orders, ${runtime.deployments[0].engine.fills} fills, ${st.trades.length} closed trades, gross realised P&L ${st.realizedPnl.toFixed(2)} USDT (before fees), fees ${st.feesPaid.toFixed(2)} USDT, net realised P&L ${(st.realizedPnl - st.feesPaid).toFixed(2)} USDT (after fees), equity ${st.equity().toFixed(2)} USDT`,
      );
      out('');
      printCommands(program, out);
      out('');
      out('run `tradeforge <command> --help` for the options of a command; docs/live.md explains the runtime.');
      rmSync(root, { recursive: true, force: true });
      process.exit(0);
    });

  const data = program.commands.find((c) => c.name() === 'data');
  if (data && !data.commands.some((c) => c.name() === 'summary')) {
    data
      .command('summary')
      .description('validate and summarise the bundled S&P 500 sample data (offline)')
      .action(async () => {
        await printDataSummary(out);
        out('');
        printCommands(program, out);
      });
  }
}
