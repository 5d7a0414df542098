import type { RunFlags } from '../backtest/optimizer/run-setup.js';
import type { QueueFlags } from './queue-flags.js';

/** Flags of `tradeforge backtest --distributed --symbols A,B,...` (the run flags of `backtest`). */
export interface DistributedBacktestFlags extends RunFlags, Omit<QueueFlags, 'config'> {
  symbols?: string;
  param: string[];
  config?: string;
  json?: string;
}

function fixed(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/**
 * Backtests one strategy (a built-in name or a stored version `ID@vN`) on many symbols as queue jobs (one per
 * symbol): each symbol's bars are loaded here and
 * published once by content hash; workers run the backtests and store the results. Prints one row per symbol;
 * a symbol whose job failed three times is listed with its error and the command exits 1.
 */
export async function runDistributedBacktest(flags: DistributedBacktestFlags): Promise<void> {
  const { ValidationError } = await import('../core/errors.js');
  const { readStructuredFile } = await import('../app/load-config.js');
  const { parseBacktestConfig } = await import('../backtest/settings.js');
  const { loadRunData, runSetupFromFlags } = await import('../backtest/optimizer/run-setup.js');
  const { parseParamArgs, resolveParams } = await import('../strategy/params.js');
  const { getStrategy } = await import('../strategy/registry.js');
  const { queueSettings } = await import('./queue-flags.js');
  const { Sweep, JobFailedError } = await import('../scale/sweep.js');
  const { attachSweepProgress } = await import('./sweep-progress.js');
  const { writeTextAtomic } = await import('../backtest/report/write.js');

  const cfg = flags.config ? parseBacktestConfig(readStructuredFile(flags.config), flags.config) : {};
  const symbols = (flags.symbols ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (symbols.length === 0)
    throw new ValidationError('--distributed needs --symbols A,B,... (stored symbols or files)', 'symbols');
  const run = runSetupFromFlags(flags, cfg);
  if (!run.strategy) throw new ValidationError('--strategy is required', 'strategy');
  // ID@vN: a stored version (hash-checked here); each job names it with its hash and the worker checks it again.
  const stored = await (await import('../app/strategy-catalogue.js')).configuredStrategyVersion(run.strategy);
  const def = stored?.def ?? getStrategy(run.strategy);
  const strategy = stored ? run.strategy : def.name;
  const params = { ...run.params, ...parseParamArgs(flags.param) };
  resolveParams(def, params);
  // Every symbol is loaded (and so checked) before any job is queued.
  const loaded = symbols.map((s) => loadRunData({ ...flags, data: s }, cfg));

  const sweep = await Sweep.open(await queueSettings(flags));
  process.stderr.write(
    `backtest ${strategy} on ${symbols.length} symbols: sweep ${sweep.id} on queue ${sweep.prefix}; Ctrl-C cancels it\n`,
  );
  const detach = attachSweepProgress(sweep, 'backtest', symbols.length);
  try {
    const hashes: string[] = [];
    for (const d of loaded) hashes.push(await sweep.publish(d.columns));
    // Submitted in symbol order, so symbol i is job <sweep>.i.
    const settled = await Promise.allSettled(
      loaded.map((d, index) =>
        sweep.submit({
          dataHash: hashes[index],
          symbol: d.symbol,
          timeframe: d.timeframe,
          strategy,
          ...(stored ? { strategyHash: stored.version.source_hash } : {}),
          params,
          options: run.options as Record<string, unknown>,
          risk: run.risk,
          index,
        }),
      ),
    );
    detach();
    const rows = settled.map((s, i) => {
      const symbol = loaded[i].symbol;
      if (s.status === 'rejected') {
        const reason = s.reason instanceof JobFailedError ? s.reason.reason : String(s.reason);
        return { symbol, job: `${sweep.id}.${i}`, status: 'failed' as const, reason };
      }
      const v = s.value;
      if (v.status === 'skipped')
        return { symbol, job: `${sweep.id}.${i}`, status: 'skipped' as const, reason: v.reason };
      return { symbol, job: `${sweep.id}.${i}`, status: 'ok' as const, metrics: v.metrics, fingerprint: v.fingerprint };
    });
    const head = ['symbol', 'return%', 'sharpe', 'maxDD%', 'trades', 'fingerprint / error'];
    const table = [
      head,
      ...rows.map((r) =>
        r.status === 'ok'
          ? [
              r.symbol,
              fixed(r.metrics.totalReturnPct),
              fixed(r.metrics.sharpe, 3),
              fixed(r.metrics.maxDrawdownPct),
              String(r.metrics.trades),
              (r.fingerprint ?? '').slice(0, 16),
            ]
          : [r.symbol, '-', '-', '-', '-', `${r.status}: ${r.reason}`],
      ),
    ];
    const widths = head.map((_, c) => Math.max(...table.map((row) => row[c].length)));
    process.stdout.write(`${table.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n')}\n`);
    const failed = rows.filter((r) => r.status === 'failed').length;
    process.stdout.write(
      `${rows.length} symbols: ${rows.filter((r) => r.status === 'ok').length} ok, ${failed} failed; results stored as backtests ${sweep.id}.*\n`,
    );
    if (flags.json)
      writeTextAtomic(flags.json, `${JSON.stringify({ sweep: sweep.id, strategy, params, results: rows }, null, 2)}\n`);
    if (failed > 0) process.exitCode = 1;
  } finally {
    detach();
    await sweep.close();
  }
}
