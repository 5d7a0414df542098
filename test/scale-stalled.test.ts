import { describe, expect, it } from 'vitest';
import { parseObjective } from '../src/backtest/optimizer/objective.js';
import { optimize } from '../src/backtest/optimizer/search.js';
import { parseParamSpace } from '../src/backtest/optimizer/space.js';
import { generateBars } from '../src/data/generate.js';
import { DistributedEvaluator, Sweep } from '../src/scale/sweep.js';
import { scaleBed } from './scale-helpers.js';

const bed = scaleBed('stalled');
const { settings, queue } = bed;

describe('a worker killed mid-job (SIGKILL)', () => {
  it('has its job retried on another worker: every job completes once, no result is duplicated', async () => {
    const victim = await bed.start([], 2000);
    const sweep = await Sweep.open(settings);
    try {
      const bars = generateBars({ bars: 40_000, seed: 11, timeframe: '1m' });
      const dataHash = await sweep.publish(bars);
      const run = optimize({
        space: parseParamSpace(['fast=5..12', 'slow=50']),
        objective: parseObjective('sharpe'),
        evaluator: new DistributedEvaluator(
          sweep,
          { symbol: 'SYN', timeframe: '1m', strategy: 'sma-cross', options: {}, dataHash },
          1000,
        ),
      });
      const line = await victim.waitFor(/^active /);
      const killedJob = line.split(' ')[1];
      victim.child.kill('SIGKILL');
      await victim.exited();
      // The dead worker still holds a job: it is active, with nobody left to finish it.
      expect(await queue.getActiveCount()).toBeGreaterThanOrEqual(1);

      const rescuer = await bed.start([], 2000);
      const res = await run;
      expect(res.total).toBe(8);
      expect(res.failed).toBe(0);
      expect(res.evaluated).toBe(8);
      // The job the victim held ran to completion on the rescuer.
      expect(rescuer.output()).toContain(`done ${killedJob} ok`);
      expect(await (await queue.getJob(killedJob))?.getState()).toBe('completed');
      expect(await queue.getJobCounts('completed', 'failed', 'active', 'waiting')).toMatchObject({
        completed: 8,
        failed: 0,
        active: 0,
        waiting: 0,
      });
      const rows = (await bed.store.backtests.list({ limit: 1000 })).filter(
        (b) => (b.config as { sweepId?: string }).sweepId === sweep.id,
      );
      expect(rows).toHaveLength(8);
      expect(new Set(rows.map((r) => r.id)).size).toBe(8);
      expect(new Set(rows.map((r) => JSON.stringify((r.config as { params: unknown }).params))).size).toBe(8);
    } finally {
      await sweep.close();
    }
  }, 300_000);
});
