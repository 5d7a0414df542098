import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTrialRunner } from '../src/backtest/optimizer/backtest-trial.js';
import { LocalEvaluator } from '../src/backtest/optimizer/evaluators.js';
import { parseObjective } from '../src/backtest/optimizer/objective.js';
import { optimize } from '../src/backtest/optimizer/search.js';
import { parseParamSpace } from '../src/backtest/optimizer/space.js';
import { generateBars } from '../src/data/generate.js';
import { DistributedEvaluator, JobFailedError, Sweep } from '../src/scale/sweep.js';
import { queueStatus } from '../src/scale/status.js';
import { ROOT, scaleBed, stopWorker } from './scale-helpers.js';

const bed = scaleBed('queue');
const { settings, queue, workers } = bed;
const POISON = join(ROOT, 'test/fixtures/scale/poison-strategy.ts');

const bars = generateBars({ bars: 3000, seed: 7, timeframe: '1h' });
const base = { symbol: 'SYN', timeframe: '1h', strategy: 'sma-cross', options: { fee: 0.001 } };

async function rowsOf(sweepId: string) {
  const all = await bed.store.backtests.list({ limit: 10_000 });
  return all.filter((b) => (b.config as { sweepId?: string }).sweepId === sweepId);
}

describe('distributed optimisation on BullMQ + Redis, results in PostgreSQL', () => {
  it('two worker processes give the single-process results; one stored row per job; data fetched once per worker', async () => {
    await bed.start();
    await bed.start();
    const space = parseParamSpace(['fast=5..20:5', 'slow=30..60:10']);
    const objective = parseObjective('sharpe');
    const local = await optimize({
      space,
      objective,
      evaluator: new LocalEvaluator(createTrialRunner({ ...base, columns: bars })),
    });
    const sweep = await Sweep.open(settings);
    try {
      const dataHash = await sweep.publish(bars);
      const res = await optimize({
        space,
        objective,
        evaluator: new DistributedEvaluator(sweep, { ...base, dataHash }, 1000),
      });
      expect(res.total).toBe(16);
      expect(res.failed).toBe(0);
      const fp = (r: typeof res) => r.ranked.map((t) => `${JSON.stringify(t.params)} ${t.fingerprint} ${t.score}`);
      expect(fp(res)).toEqual(fp(local));
      expect(sweep.counts()).toMatchObject({ total: 16, done: 16, failed: 0, running: 0 });

      const rows = await rowsOf(sweep.id);
      expect(rows).toHaveLength(16);
      expect(new Set(rows.map((r) => r.id)).size).toBe(16);
      const byParams = new Map(local.ranked.map((t) => [JSON.stringify(t.params), t.fingerprint]));
      for (const r of rows) {
        const c = r.config as { params: Record<string, number>; dataHash: string };
        expect(r.fingerprint).toBe(byParams.get(JSON.stringify(c.params)));
        expect(c.dataHash).toBe(dataHash);
      }
      // Jobs carry the hash, never the bars.
      const job = await queue.getJob(`${sweep.id}.0`);
      expect(JSON.stringify(job?.data ?? {}).length).toBeLessThan(1000);
      for (const w of workers) expect(w.output().match(/fetched data/g)?.length ?? 0).toBeLessThanOrEqual(1);
      const fetched = workers.reduce((n, w) => n + (w.output().match(/fetched data/g)?.length ?? 0), 0);
      expect(fetched).toBeGreaterThanOrEqual(1);

      const status = await queueStatus(settings);
      expect(status.completed).toBe(16);
      expect(status.workers.filter((w) => w.connected)).toHaveLength(2);
      expect(status.workers.reduce((n, w) => n + w.completed, 0)).toBeGreaterThanOrEqual(16);
    } finally {
      await sweep.close();
    }
  }, 300_000);

  it('a poisoned job is retried up to the limit, reported with its error, and the sweep completes', async () => {
    const poisoned = await bed.start(['--plugin', POISON]);
    // Only plugin-carrying workers may take these jobs.
    await Promise.all(workers.slice(0, 2).map(stopWorker));
    const sweep = await Sweep.open(settings);
    try {
      const dataHash = await sweep.publish(bars);
      const res = await optimize({
        space: parseParamSpace(['fast=5..9', 'slow=30']),
        objective: parseObjective('sharpe'),
        evaluator: new DistributedEvaluator(sweep, { ...base, strategy: 'poison', dataHash }, 1000),
      });
      expect(res.total).toBe(5);
      expect(res.evaluated).toBe(4);
      expect(res.failed).toBe(1);
      const bad = res.notRun.find((r) => r.status === 'failed');
      expect(bad?.params.fast).toBe(7);
      expect(bad?.reason).toMatch(/poisoned parameter fast=7/);
      const job = await queue.getJob(`${sweep.id}.${bad?.index}`);
      expect(job?.attemptsMade).toBe(3);
      expect(await job?.getState()).toBe('failed');
      // The worker prints its third failure after BullMQ has moved the job to failed: wait for the line itself.
      await poisoned.waitFor(new RegExp(`failed ${sweep.id}\\.${bad?.index} attempt 3`));
      expect(poisoned.output().match(/failed .* attempt/g)).toHaveLength(3);
      expect(await rowsOf(sweep.id)).toHaveLength(4);
    } finally {
      await sweep.close();
    }
  }, 300_000);

  it('cancelling a sweep removes its waiting jobs and leaves other sweeps alone', async () => {
    await Promise.all(workers.map(stopWorker));
    const sweep = await Sweep.open(settings);
    const other = await Sweep.open(settings);
    try {
      const dataHash = await sweep.publish(bars);
      // The same trial index six times (as two evaluators or walk-forward folds on one sweep would): six jobs.
      const jobs = Array.from({ length: 6 }, (_, i) =>
        sweep.submit({ ...base, dataHash, params: { fast: 5 + i, slow: 40 }, index: 0 }),
      );
      for (const j of jobs) j.catch(() => undefined);
      const keep = other.submit({ ...base, dataHash, params: { fast: 5, slow: 40 }, index: 0 });
      keep.catch(() => undefined);
      // Every submit has reached Redis once the waiting count shows them.
      while ((await queue.getWaitingCount()) < 7) await new Promise((r) => setImmediate(r));
      expect(await sweep.cancel()).toBe(6);
      const settled = await Promise.allSettled(jobs);
      for (const s of settled) {
        expect(s.status).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toBeInstanceOf(JobFailedError);
        expect(((s as PromiseRejectedResult).reason as JobFailedError).reason).toBe('cancelled');
      }
      expect(await queue.getWaitingCount()).toBe(1);
      expect((await queue.getJob(`${other.id}.0`))?.id).toBe(`${other.id}.0`);
      expect(sweep.counts()).toMatchObject({ total: 6, done: 0, failed: 0 });
      await other.cancel();
    } finally {
      await sweep.close();
      await other.close();
    }
  }, 300_000);
});
