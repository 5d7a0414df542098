import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';

interface ReplayFlags {
  deployment: string;
  from?: string;
  to?: string;
  json?: string;
  html?: string;
  tolerance?: string;
  slippage?: string;
  feeAsset?: string;
}

/** Registers `tradeforge replay`: a paper or live period replayed through the simulated venue, fill by fill (BT-8). */
export function register(program: Command): void {
  program
    .command('replay')
    .description(
      "replay a deployment's recorded bars through the simulated venue with its stored run spec and compare fill by fill with the fills that happened; exits 1 when they diverge beyond the tolerance",
    )
    .requiredOption('--deployment <id>', 'the deployment (its run spec, recorded bars and fills come from the home)')
    .option('--from <date>', 'first bar (YYYY-MM-DD, ISO time or epoch ms, UTC)')
    .option('--to <date>', 'last bar (YYYY-MM-DD, ISO time or epoch ms, UTC)')
    .option('--json <file>', 'write the comparison as JSON')
    .option('--html <file>', 'write the comparison as one self-contained HTML page')
    .option(
      '--tolerance <spec>',
      'allowed differences, e.g. "price=0.5bp,time=1000ms,qty=0.001,pnl=0.05" (default: exact, float noise only)',
    )
    .option(
      '--slippage <spec>',
      "price model of the replay: percentage:RATE, fixed:AMOUNT or none (default percentage:0.0001, the simulator's spread)",
    )
    .option('--fee-asset <asset>', 'the asset a buy pays its fee in: base (default, Binance spot) or quote')
    .action(async (flags: ReplayFlags) => {
      process.exitCode = await runReplay(flags);
    });
}

async function runReplay(flags: ReplayFlags): Promise<number> {
  const { parseDateBound } = await import('../../backtest/settings.js');
  const { EXACT_TOLERANCE } = await import('../../backtest/divergence.js');
  const { openConfiguredStore } = await import('../../app/open-store.js');
  const { replayDeployment } = await import('../../app/replay.js');
  const tolerance = flags.tolerance !== undefined ? parseTolerance(flags.tolerance, EXACT_TOLERANCE) : EXACT_TOLERANCE;
  const slippage = flags.slippage !== undefined ? parseSlippage(flags.slippage) : undefined;
  if (flags.feeAsset !== undefined && flags.feeAsset !== 'base' && flags.feeAsset !== 'quote') {
    throw new ValidationError(`--fee-asset expects base or quote, got "${flags.feeAsset}"`, 'fee-asset');
  }
  const from = flags.from !== undefined ? parseDateBound(flags.from, 'from') : undefined;
  const to = flags.to !== undefined ? parseDateBound(flags.to, 'to') : undefined;
  if (from !== undefined && to !== undefined && from > to) {
    throw new ValidationError('--from is after --to', 'from');
  }
  const { store, config, home } = await openConfiguredStore();
  try {
    const result = await replayDeployment({
      store,
      dataDir: home.data,
      deploymentId: flags.deployment,
      tolerance,
      accountRisk: config.risk,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(slippage ? { slippage } : {}),
      ...(flags.feeAsset ? { feeAsset: flags.feeAsset as 'base' | 'quote' } : {}),
    });
    const r = result.report;
    const out = process.stdout;
    out.write(
      `replay of ${result.deployment} (${result.mode} on ${result.venue}, ${result.symbols.join(',')} ${result.timeframe}): ${result.bars} bars ${new Date(result.from).toISOString()} .. ${new Date(result.to).toISOString()}\n`,
    );
    out.write(
      `fills: ${r.expectedCount} expected, ${r.actualCount} happened, ${r.matched.length} matched, ${r.missed.length} missed, ${r.extra.length} extra\n`,
    );
    for (const [type, s] of Object.entries(r.slippageByOrderType)) {
      out.write(
        `slippage ${type}: ${s.count} fills, mean ${s.meanBps.toFixed(4)} bp, worst ${s.maxBps.toFixed(4)} bp\n`,
      );
    }
    out.write(
      `P&L: expected ${money(r.pnl.expected)}, actual ${money(r.pnl.actual)}, difference ${money(r.pnl.difference)}\n`,
    );
    for (const d of r.differences) out.write(`  ${d}\n`);
    out.write(`verdict: ${r.verdict === 'match' ? 'match (zero divergence within the tolerance)' : 'diverged'}\n`);
    if (flags.json !== undefined || flags.html !== undefined) {
      const { writeTextAtomic } = await import('../../backtest/report/write.js');
      const { resolve } = await import('node:path');
      if (flags.json !== undefined) {
        const path = resolve(flags.json);
        writeTextAtomic(path, `${JSON.stringify(result, null, 2)}\n`);
        out.write(`wrote ${path}\n`);
      }
      if (flags.html !== undefined) {
        const { renderDivergenceHtml } = await import('../../backtest/divergence-html.js');
        const path = resolve(flags.html);
        const html = renderDivergenceHtml(r, {
          title: `Replay of ${result.deployment}`,
          lines: [
            `${result.mode} on ${result.venue}, ${result.symbols.join(', ')} ${result.timeframe}, ${result.bars} bars`,
            `${new Date(result.from).toISOString()} .. ${new Date(result.to).toISOString()}`,
            `replayed with slippage ${JSON.stringify(result.settings.slippage)}, fees in the ${result.settings.feeAsset} asset, live exit timing`,
          ],
        });
        writeTextAtomic(path, html);
        out.write(`wrote ${path}\n`);
      }
    }
    return r.verdict === 'match' ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** Six decimals, without a negative zero. */
function money(x: number): string {
  const t = x.toFixed(6);
  return /^-0\.0+$/.test(t) ? t.slice(1) : t;
}

type Tolerance = import('../../backtest/divergence.js').DivergenceTolerance;

/** `price=0.5bp,time=1000ms,qty=0.001,pnl=0.05`: any subset, the rest from `base`. */
function parseTolerance(spec: string, base: Tolerance): Tolerance {
  const out = { ...base };
  for (const part of spec.split(',')) {
    const m = /^\s*(price|time|qty|pnl)\s*=\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*(bp|ms)?\s*$/i.exec(part);
    if (!m) {
      throw new ValidationError(
        `--tolerance: cannot read "${part.trim()}" (use price=BPbp, time=MSms, qty=RATIO, pnl=AMOUNT, comma-separated)`,
        'tolerance',
      );
    }
    const v = Number(m[2]);
    const key = m[1].toLowerCase();
    if (key === 'price') out.priceBps = v;
    else if (key === 'time') out.timeMs = v;
    else if (key === 'qty') out.quantityRatio = v;
    else out.pnl = v;
  }
  return out;
}

type Slippage = import('../../backtest/slippage-model.js').SlippageSpec;

/** `percentage:0.0005`, `fixed:2.5` or `none`. */
function parseSlippage(spec: string): Slippage {
  const t = spec.trim();
  if (t === 'none') return { model: 'none' };
  const m = /^(percentage|fixed):([0-9]*\.?[0-9]+(?:e-?\d+)?)$/.exec(t);
  if (!m) {
    throw new ValidationError(
      `--slippage: cannot read "${spec}" (use percentage:RATE, fixed:AMOUNT or none)`,
      'slippage',
    );
  }
  return m[1] === 'percentage' ? { model: 'percentage', rate: Number(m[2]) } : { model: 'fixed', amount: Number(m[2]) };
}
