import { describe, expect, it } from 'vitest';
import { barsToColumns } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import { shareColumns, WorkerEvaluator } from './evaluators.js';
import { parseObjective } from './objective.js';
import { WorkerPoolError } from './pool.js';
import { optimize } from './search.js';
import { parseParamSpace } from './space.js';

const data = shareColumns(
  barsToColumns(Array.from({ length: 50 }, (_, i) => ({ time: i, open: 1, high: 1, low: 1, close: i, volume: 1 }))),
);
const module = new URL('./fixtures/fake-trial.ts', import.meta.url);

describe('WorkerEvaluator (worker_threads through tsx)', () => {
  it('shares the data, runs trials on every worker and matches the in-process ranking', async () => {
    expect(data.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    const ev = await WorkerEvaluator.start({ workers: 2, module, setup: { data, spinMs: 30 } });
    try {
      expect(ev.concurrency).toBe(2);
      const res = await optimize({
        space: parseParamSpace(['a=5..15:5', 'b=10..40:10']),
        objective: parseObjective('sharpe'),
        evaluator: ev,
        window: { from: 0, to: 10 },
      });
      expect(res.total).toBe(12);
      expect(res.skipped).toBe(2); // (10,10), (15,10)
      expect(res.best?.params).toEqual({ a: 10, b: 30 });
      expect(res.best?.metrics?.totalReturn).toBe(45);
      const threads = new Set(res.ranked.map((r) => r.fingerprint));
      expect(threads.size).toBe(2);
      expect(threads.has('0')).toBe(false); // never the main thread
      const failed = await ev.evaluate({ params: { a: 1, b: 2 } });
      expect(failed.status).toBe('ok');
      await expect(ev.evaluate({ params: { a: 1, b: 99 } })).rejects.toThrow('boom at b=99');
    } finally {
      await ev.close();
    }
  });

  it('a setup error in the workers surfaces as the same typed error', async () => {
    const err = await WorkerEvaluator.start({ workers: 2, module, setup: { data, failInit: true } }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe('unknown strategy "nope"');
  });

  it('a crashed worker stops the whole search with a pool error instead of failing trial after trial', async () => {
    const ev = await WorkerEvaluator.start({ workers: 2, module, setup: { data } });
    try {
      const err = await optimize({
        space: parseParamSpace(['a=1..6', 'b=30,77']),
        objective: parseObjective('sharpe'),
        evaluator: ev,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(WorkerPoolError);
      expect(err.message).toMatch(/exited with code 3/);
      await expect(ev.evaluate({ params: { a: 1, b: 30 } })).rejects.toThrow(/exited with code 3/);
    } finally {
      await ev.close();
    }
  });

  it('rejects a bad worker count', async () => {
    await expect(WorkerEvaluator.start({ workers: 0, module, setup: { data } })).rejects.toThrow('--workers');
  });

  it("a guard's stop ends its worker and the search with the guard's error; each guard closes with its worker", async () => {
    const stops: ((err: Error) => void)[] = [];
    let closed = 0;
    const ev = await WorkerEvaluator.start({
      workers: 2,
      module,
      // A long trial: only the guard's stop (which terminates the thread) can end it early.
      setup: { data, spinMs: 60_000 },
      guard: (stop) => {
        stops.push(stop);
        return { data: { n: stops.length }, close: () => void closed++ };
      },
    });
    try {
      expect(stops).toHaveLength(2);
      const running = ev.evaluate({ params: { a: 1, b: 30 } });
      const stopped = new Error('strategy x ran past its CPU budget of 1000 ms in onBar');
      for (const stop of stops) stop(stopped);
      const err = await running.catch((e: unknown) => e);
      expect(err).toBe(stopped);
      expect((err as { fatal?: boolean }).fatal).toBe(true);
      // The search does not count it as a failed trial: it stops with the same error.
      const search = await optimize({
        space: parseParamSpace(['a=1..2', 'b=30']),
        objective: parseObjective('sharpe'),
        evaluator: ev,
      }).catch((e: unknown) => e);
      expect(search).toBe(stopped);
    } finally {
      await ev.close();
    }
    expect(closed).toBe(2);
  });
});
