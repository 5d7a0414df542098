import type { Command } from 'commander';

interface ListFlags {
  strategy?: string;
  limit?: string;
  json?: boolean;
}

/** Registers `tradeforge backtests list|show|compare`: the runs `tradeforge backtest` stored. */
export function register(program: Command): void {
  const cmd = program.command('backtests').description('stored backtest runs: list, show one, compare two');
  cmd
    .command('list')
    .description('stored runs, newest first')
    .option('--strategy <name>', 'only runs of this strategy')
    .option('--limit <n>', 'at most this many (default 20)')
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags) => {
      await withStore(async (store) => {
        const { ValidationError } = await import('../../core/errors.js');
        const limit = flags.limit === undefined ? 20 : Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1) {
          throw new ValidationError(`--limit expects a whole number >= 1, got "${flags.limit}"`, 'limit');
        }
        const rows = await store.backtests.list({
          ...(flags.strategy !== undefined ? { strategyId: flags.strategy } : {}),
          limit,
        });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('no stored backtests (every `tradeforge backtest` run is stored)\n');
          return;
        }
        const table = [['id', 'started (UTC)', 'strategy', 'data', 'return %', 'trades', 'fingerprint']];
        for (const r of rows) {
          const m = (r.metrics ?? {}) as { totalReturnPct?: number | null; trades?: number };
          const c = r.config as { data?: string };
          table.push([
            r.id,
            new Date(r.startedAt).toISOString().slice(0, 19).replace('T', ' '),
            r.strategyId ?? '-',
            c.data ?? '-',
            typeof m.totalReturnPct === 'number' ? m.totalReturnPct.toFixed(2) : '-',
            String(m.trades ?? '-'),
            (r.fingerprint ?? '-').slice(0, 12),
          ]);
        }
        const w = table[0].map((_h, i) => Math.max(...table.map((row) => row[i].length)));
        process.stdout.write(
          `${table
            .map((row) =>
              row
                .map((x, i) => x.padEnd(w[i]))
                .join('  ')
                .trimEnd(),
            )
            .join('\n')}\n`,
        );
      });
    });
  cmd
    .command('show')
    .argument('<id>', 'run id (from `tradeforge backtests list`)')
    .description('one stored run: spec, data hash, metrics, fingerprint and files')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      await withStore(async (store) => {
        const { loadBacktest } = await import('../../app/backtest-records.js');
        const { record } = await loadBacktest(store, id);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
          return;
        }
        const m = (record.metrics ?? {}) as Record<string, unknown>;
        const c = record.config as Record<string, unknown>;
        const lines: [string, string][] = [
          ['id', record.id],
          ['strategy', `${record.strategyId ?? '-'} ${JSON.stringify(c.params ?? {})}`],
          ['data', `${String(c.data ?? '-')} (${String(c.timeframe ?? '?')}), sha256 ${String(c.dataHash ?? '-')}`],
          ['started', new Date(record.startedAt).toISOString()],
          ['fingerprint', record.fingerprint ?? '-'],
        ];
        for (const k of ['finalEquity', 'totalReturnPct', 'maxDrawdownPct', 'sharpe', 'trades', 'winRatePct']) {
          lines.push([k, m[k] === null || m[k] === undefined ? '-' : String(m[k])]);
        }
        lines.push(['spec', JSON.stringify(c)]);
        for (const [kind, path] of Object.entries(record.artefacts ?? {})) lines.push([`file (${kind})`, path]);
        const w = Math.max(...lines.map(([k]) => k.length));
        process.stdout.write(`${lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`);
      });
    });
  cmd
    .command('compare')
    .argument('<a>', 'first run id')
    .argument('<b>', 'second run id')
    .description('two stored runs side by side: every metric and the equity of both over time')
    .option('--points <n>', 'equity points over the span (default 8)')
    .option('--json', 'print JSON')
    .action(async (a: string, b: string, flags: { points?: string; json?: boolean }) => {
      await withStore(async (store) => {
        const { ValidationError } = await import('../../core/errors.js');
        const { loadBacktest } = await import('../../app/backtest-records.js');
        const { compareRuns, formatComparison } = await import('../../backtest/comparison.js');
        const points = flags.points === undefined ? 8 : Number(flags.points);
        if (!Number.isInteger(points) || points < 2 || points > 1000) {
          throw new ValidationError(`--points expects a whole number in [2, 1000], got "${flags.points}"`, 'points');
        }
        const ra = await loadBacktest(store, a);
        const rb = await loadBacktest(store, b);
        const cmp = compareRuns(ra.run, rb.run, points);
        process.stdout.write(flags.json ? `${JSON.stringify(cmp, null, 2)}\n` : formatComparison(cmp));
      });
    });
}

async function withStore(fn: (store: import('../../store/store.js').Store) => Promise<void>): Promise<void> {
  const { openConfiguredStore } = await import('../../app/open-store.js');
  const { store } = await openConfiguredStore();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}
