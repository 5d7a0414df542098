import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';
import { collectRepeated } from '../options.js';

// This file's name sorts after risk.ts, so `risk report` joins a `risk` command another module registered
// (e.g. `risk reset`) instead of creating a second one.

/** Registers `tradeforge risk report`: VaR/ES, stress tests and exposure of the current positions (RISK-8). */
export function register(program: Command): void {
  const risk =
    program.commands.find((c) => c.name() === 'risk') ?? program.command('risk').description('account risk: reports');
  risk
    .command('report')
    .description(
      'VaR and expected shortfall (historical, parametric; 95/99%; 1 and 10 days), stress scenarios and exposure',
    )
    .option(
      '--positions <file>',
      'positions (JSON or CSV: symbol, quantity, price, multiplier, strategy, venue, asset_class); default: the runtime, or the store when it is down',
    )
    .option(
      '--history <symbol=source>',
      'daily bars for a symbol (file or store spec); default: the store’s SYMBOL@1d',
      collectRepeated,
      [],
    )
    .option('--equity <amount>', 'account equity for the shares (default: the runtime’s, else gross exposure)')
    .option('--scenarios <file>', 'extra stress scenarios (JSON array of {name, description, window, shocks})')
    .option('--lookback <days>', 'most recent daily returns used', '250')
    .option('--format <format>', 'text, json or html', 'text')
    .option('--out <file>', 'write the report to a file (atomically) instead of stdout')
    .action(
      async (opts: {
        positions?: string;
        history: string[];
        equity?: string;
        scenarios?: string;
        lookback: string;
        format: string;
        out?: string;
      }) => {
        if (!['text', 'json', 'html'].includes(opts.format)) {
          throw new ValidationError(`--format must be text, json or html, got "${opts.format}"`, '--format');
        }
        const lookback = Number(opts.lookback);
        if (!(Number.isInteger(lookback) && lookback >= 2)) {
          throw new ValidationError(
            `--lookback must be an integer of at least 2, got "${opts.lookback}"`,
            '--lookback',
          );
        }
        const equityFlag = opts.equity === undefined ? undefined : Number(opts.equity);
        if (equityFlag !== undefined && !(equityFlag > 0)) {
          throw new ValidationError(`--equity must be a positive amount, got "${opts.equity}"`, '--equity');
        }
        const { readPositionsFile, loadDailyHistory, parseHistoryFlags } = await import(
          '../../app/risk-report-input.js'
        );
        const { buildRiskReport, renderRiskReportHtml, renderRiskReportText } = await import(
          '../../risk/risk-report.js'
        );
        const { BUILTIN_SCENARIOS, parseScenarios } = await import('../../risk/stress.js');
        let positions: import('../../risk/risk-report.js').ReportPosition[];
        let equity = equityFlag;
        if (opts.positions) positions = readPositionsFile(opts.positions);
        else {
          const live = await currentPositions();
          positions = live.positions;
          equity ??= live.equity;
        }
        const overrides = parseHistoryFlags(opts.history);
        const history = loadDailyHistory(
          positions.map((p) => p.symbol),
          overrides,
        );
        let scenarios = [...BUILTIN_SCENARIOS];
        if (opts.scenarios) {
          const { readFileSync } = await import('node:fs');
          let raw: unknown;
          try {
            raw = JSON.parse(readFileSync(opts.scenarios, 'utf8'));
          } catch (err) {
            throw new ValidationError(`${opts.scenarios}: ${(err as Error).message}`, '--scenarios');
          }
          scenarios = [...scenarios, ...parseScenarios(raw, opts.scenarios)];
        }
        const report = buildRiskReport({
          asOf: Date.now(),
          positions,
          history,
          lookback,
          scenarios,
          ...(equity !== undefined ? { equity } : {}),
        });
        const text =
          opts.format === 'json'
            ? `${JSON.stringify(report, null, 2)}\n`
            : opts.format === 'html'
              ? renderRiskReportHtml(report)
              : renderRiskReportText(report);
        if (opts.out) {
          const { writeTextAtomic } = await import('../../backtest/report/write.js');
          writeTextAtomic(opts.out, text);
          process.stderr.write(`wrote ${opts.out}\n`);
        } else process.stdout.write(text);
      },
    );
}

// Positions and equity of the running runtime, or from the store when it is down (the same sources as `status`).
async function currentPositions(): Promise<{
  positions: import('../../risk/risk-report.js').ReportPosition[];
  equity: number | undefined;
}> {
  const { resolveHome } = await import('../../app/home.js');
  const { currentStatus } = await import('../../app/store-status.js');
  const status = await currentStatus(resolveHome());
  const venues = new Map(status.deployments.map((d) => [d.id, d.venue]));
  const equity = status.deployments.reduce((s, d) => s + d.equity, 0);
  return {
    positions: status.positions.map((p) => ({
      symbol: p.symbol,
      quantity: p.quantity,
      ...(p.last > 0 ? { price: p.last } : {}),
      strategy: p.deployment,
      ...(venues.has(p.deployment) ? { venue: venues.get(p.deployment) } : {}),
    })),
    equity: equity > 0 ? equity : undefined,
  };
}
