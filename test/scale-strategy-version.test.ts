import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importStrategyVersion } from '../src/app/strategy-catalogue.js';
import { strategyTemplate } from '../src/authoring/files/template.js';
import { loadStrategyVersion } from '../src/authoring/versions.js';
import { runBacktest } from '../src/backtest/runner.js';
import { generateBars } from '../src/data/generate.js';
import { JobFailedError, Sweep } from '../src/scale/sweep.js';
import { scaleBed, type WorkerProcess } from './scale-helpers.js';
import { writeFileSync } from 'node:fs';

// A strategy file reaches queue workers as a stored version: the job names ID@vN and its hash; the worker reads the
// version from the shared store, checks the hash and runs it in the same sandbox as a local backtest.
const bed = scaleBed('version');
const { settings, home, queue } = bed;
let worker: WorkerProcess | undefined;

describe('stored strategy versions on the queue', () => {
  it('a worker runs ID@vN hash-checked with the local result; a wrong hash fails at once', async () => {
    const file = join(home, 'mine.ts');
    writeFileSync(file, strategyTemplate('mine'));
    const imported = await importStrategyVersion(bed.store, { file });
    expect(imported).toMatchObject({ id: 'mine', version: 1, added: true });
    worker = await bed.start();
    const bars = generateBars({ bars: 2000, seed: 11, timeframe: '1h' });
    const sweep = await Sweep.open(settings);
    try {
      const dataHash = await sweep.publish(bars);
      const base = { symbol: 'SYN', timeframe: '1h', strategy: 'mine@v1', options: { fee: 0.001 }, dataHash };
      const out = await sweep.submit({ ...base, strategyHash: imported.hash, params: { fast: 7, slow: 25 }, index: 0 });
      expect(out.status).toBe('ok');
      const local = runBacktest({
        data: { symbol: 'SYN', timeframe: '1h', columns: bars },
        strategy: (await loadStrategyVersion(bed.store.strategies, 'mine@v1')).def,
        params: { fast: 7, slow: 25 },
        fee: 0.001,
      });
      expect(local.trades.length).toBeGreaterThan(0);
      expect(out.status === 'ok' ? out.fingerprint : undefined).toBe(local.fingerprint);

      const wrong = 'f'.repeat(64);
      const err = await sweep.submit({ ...base, strategyHash: wrong, params: { fast: 7, slow: 25 }, index: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(JobFailedError);
      expect((err as Error).message).toMatch(
        /mine@v1 has hash [0-9a-f]{16}…, the job asks for ffffffffffffffff…; refusing/,
      );
      const job = (await queue.getJobs(['failed'])).find((j) => (j.data as { index: number }).index === 1);
      // Retrying cannot fix a hash: one attempt, no retries.
      expect(job?.attemptsMade).toBe(1);
    } finally {
      await sweep.close();
    }
  }, 300_000);

  it('a stored version stuck in onBar is stopped on its CPU budget: one attempt, reported, the worker goes on', async () => {
    const file = join(home, 'spin.ts');
    writeFileSync(
      file,
      `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: 'spin',
  description: 'never returns from onBar at bar 30',
  params: [],
  create() {
    return { onBar(ctx: StrategyContext) { if (ctx.bar.index === 30) { let i = 0; while (i >= 0) i++; } } };
  },
});
`,
    );
    const imported = await importStrategyVersion(bed.store, { file });
    worker ??= await bed.start();
    const bars = generateBars({ bars: 500, seed: 12, timeframe: '1h' });
    const sweep = await Sweep.open(settings);
    try {
      const dataHash = await sweep.publish(bars);
      const base = { symbol: 'SYN', timeframe: '1h', options: { fee: 0.001 }, dataHash };
      const err = await sweep
        .submit({ ...base, strategy: 'spin@v1', strategyHash: imported.hash, params: {}, index: 0 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(JobFailedError);
      expect((err as Error).message).toMatch(
        /^spin@v1\.ts: strategy spin@v1 ran past its CPU budget of 1000 ms in onBar at bar 30 \(.+\); the sandbox stopped it$/,
      );
      const failed = (await queue.getJobs(['failed'])).find((j) => j.id === (err as JobFailedError).jobId);
      // The same code on the same bars overruns again: no retries.
      expect(failed?.attemptsMade).toBe(1);
      // The worker process lives on and runs the next job.
      expect(worker.child.exitCode).toBeNull();
      const next = await sweep.submit({ ...base, strategy: 'sma-cross', params: { fast: 5, slow: 20 }, index: 1 });
      expect(next.status).toBe('ok');
    } finally {
      await sweep.close();
    }
  }, 300_000);
});
