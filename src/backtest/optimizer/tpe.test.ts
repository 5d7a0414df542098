import { describe, expect, it } from 'vitest';
import { computeMetrics, type Metrics } from '../metrics.js';
import { parseObjective } from './objective.js';
import { optimize } from './search.js';
import { gridPoints, spaceSize } from './space.js';
import { SURFACE_SPACE, surfaceValue } from './surface.js';
import { TpeSampler } from './tpe.js';
import type { Evaluator, TrialRequest } from './types.js';

const base = computeMetrics({
  trades: [],
  equity: { time: new Float64Array(0), value: new Float64Array(0) },
  initialCash: 1,
});

/** An evaluator over the known surface: sharpe = surface value, trades = a + b (for expressions). */
function surfaceEvaluator(): Evaluator & { calls: number } {
  const ev = {
    concurrency: 1,
    calls: 0,
    async evaluate(req: TrialRequest) {
      ev.calls++;
      const a = Number(req.params.a);
      const b = Number(req.params.b);
      const metrics: Metrics = { ...base, sharpe: surfaceValue(a, b), trades: a + b };
      return { status: 'ok' as const, metrics };
    },
    async close() {},
  };
  return ev;
}

const gridBest = Math.max(...gridPoints(SURFACE_SPACE).map((p) => surfaceValue(Number(p.a), Number(p.b))));

describe('TPE sampler', () => {
  it('reaches the grid optimum of the known surface within a third of the grid, for every seed', () => {
    const budget = Math.floor(spaceSize(SURFACE_SPACE) / 3);
    for (let seed = 1; seed <= 10; seed++) {
      const s = new TpeSampler({ space: SURFACE_SPACE, trials: budget, direction: 'max', seed });
      let found = false;
      for (let p = s.next(); p !== undefined; p = s.next()) {
        const v = surfaceValue(Number(p.a), Number(p.b));
        s.tell(p, v);
        if (v >= gridBest) {
          found = true;
          break;
        }
      }
      expect(found, `seed ${seed}`).toBe(true);
    }
  });

  it('never proposes a point twice and stops at the budget (capped at the space size)', () => {
    const small = [
      { name: 'x', values: [1, 2, 3] },
      { name: 'mode', values: ['a', 'b'] },
    ];
    const s = new TpeSampler({ space: small, trials: 100, direction: 'min', seed: 3, startup: 2 });
    const seen = new Set<string>();
    for (let p = s.next(); p !== undefined; p = s.next()) {
      const k = JSON.stringify(p);
      expect(seen.has(k)).toBe(false);
      seen.add(k);
      s.tell(p, Number(p.x));
    }
    expect(seen.size).toBe(6);
  });

  it('is the same for the same seed when results come back in order', async () => {
    const run = async (seed: number) =>
      (
        await optimize({
          space: SURFACE_SPACE,
          objective: parseObjective('sharpe'),
          evaluator: surfaceEvaluator(),
          method: 'tpe',
          trials: 40,
          seed,
        })
      ).ranked.map((r) => JSON.stringify(r.params));
    expect(await run(5)).toEqual(await run(5));
    expect(await run(5)).not.toEqual(await run(6));
  });

  it('drives optimize() with --method tpe: evaluates exactly the budget and finds a better point than its start', async () => {
    const ev = surfaceEvaluator();
    const res = await optimize({
      space: SURFACE_SPACE,
      objective: parseObjective('sharpe'),
      evaluator: ev,
      method: 'tpe',
      trials: 150,
    });
    expect(ev.calls).toBe(150);
    expect(res.total).toBe(150);
    expect(res.best?.score).toBe(gridBest);
  });

  it('needs --trials', async () => {
    await expect(
      optimize({
        space: SURFACE_SPACE,
        objective: parseObjective('sharpe'),
        evaluator: surfaceEvaluator(),
        method: 'tpe',
      }),
    ).rejects.toThrow('--method tpe needs --trials N');
  });
});

describe('custom objective expressions', () => {
  const m: Metrics = { ...base, sharpe: 2, maxDrawdownPct: 10, totalReturnPct: 30, trades: 4 };

  it('computes arithmetic over objective names and metrics fields, with precedence and functions', () => {
    expect(parseObjective('sharpe - 0.05 * max_drawdown').expression?.(m)).toBeCloseTo(1.5);
    expect(parseObjective('(totalReturnPct + 10) / trades').expression?.(m)).toBe(10);
    expect(parseObjective('min(sharpe, 1) + abs(-3) - -1').expression?.(m)).toBe(5);
    expect(parseObjective('return / max(max_drawdown, 1)').expression?.(m)).toBe(3);
  });

  it('is maximised unless written min:, and a missing metric or 0/0 scores null', () => {
    expect(parseObjective('sharpe * 2').direction).toBe('max');
    const o = parseObjective('min: max_drawdown - sharpe');
    expect(o.direction).toBe('min');
    expect(o.expression?.(m)).toBe(8);
    expect(parseObjective('sortino + 1').expression?.({ ...m, sortino: null })).toBeNull();
    expect(parseObjective('trades / (trades - 4)').expression?.(m)).toBeNull();
  });

  it('ranks an optimisation by the expression', async () => {
    const res = await optimize({
      space: [
        { name: 'a', values: [1, 27, 39] },
        { name: 'b', values: [8] },
      ],
      objective: parseObjective('min: trades'),
      evaluator: surfaceEvaluator(),
    });
    expect(res.best?.params).toEqual({ a: 1, b: 8 });
    expect(res.best?.score).toBe(9);
  });

  it('rejects a bad expression with a one-line error naming the flag and the problem', () => {
    expect(() => parseObjective('sharpe +')).toThrow('--objective "sharpe +": the expression ends too early');
    expect(() => parseObjective('sharpe * alpha')).toThrow('unknown metric "alpha"');
    expect(() => parseObjective('exp(sharpe)')).toThrow('unknown function "exp"');
    expect(() => parseObjective('max(sharpe)')).toThrow('max() takes 2 argument(s), got 1');
    expect(() => parseObjective('sharpe; 1')).toThrow('unexpected ";"');
    expect(() => parseObjective('(sharpe')).toThrow('expected ")" at the end');
  });
});
