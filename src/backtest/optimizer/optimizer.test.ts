import { describe, expect, it } from 'vitest';
import { barsToColumns } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import { LocalEvaluator } from './evaluators.js';
import { createTrialRunner, fakeRun } from './fixtures/fake-trial.js';
import { compareScores, OBJECTIVES, parseObjective } from './objective.js';
import { optimize, searchPoints } from './search.js';
import {
  axisFromSpec,
  formatPoint,
  gridPoints,
  parseParamAxis,
  parseParamSpace,
  pointAt,
  randomPoints,
  spaceSize,
} from './space.js';
import { walkForward, walkForwardFolds } from './walk-forward.js';

const data = barsToColumns(
  Array.from({ length: 100 }, (_, i) => ({ time: i * 60_000, open: 1, high: 1, low: 1, close: i, volume: 1 })),
);
const local = () => new LocalEvaluator(createTrialRunner({ data }));

describe('parameter space', () => {
  it('parses ranges, lists and fixed values', () => {
    expect(parseParamAxis('fast=5..50:5').values).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect(parseParamAxis('slow=20..24').values).toEqual([20, 21, 22, 23, 24]);
    expect(parseParamAxis('x=0.1..0.3:0.1').values).toEqual([0.1, 0.2, 0.3]);
    expect(parseParamAxis('x=-1..1:0.5').values).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(parseParamAxis('n=5..12:5').values).toEqual([5, 10]);
    expect(parseParamAxis('mode=geometric,arithmetic').values).toEqual(['geometric', 'arithmetic']);
    expect(parseParamAxis('k=3,1,2,3').values).toEqual([3, 1, 2]);
    expect(parseParamAxis('allowShort=true').values).toEqual(['true']);
    expect(parseParamAxis(' fast = 7 ').values).toEqual([7]);
  });

  it('rejects malformed flags with a message that quotes them', () => {
    const bad = ['fast', '=5', 'fast=', 'fast=5..', 'fast=50..5', 'fast=5..50:0', 'fast=5..50:-1', 'fast=1,,2', '9x=1'];
    for (const b of bad) {
      expect(() => parseParamAxis(b), b).toThrow(ValidationError);
      expect(() => parseParamAxis(b), b).toThrow(`--param "${b}"`);
    }
    expect(() => parseParamSpace(['a=1', 'a=2'])).toThrow('given twice');
    expect(() => parseParamAxis('a=0..1e9:1')).toThrow('too many');
  });

  it('enumerates the grid, last axis fastest, and decodes any index', () => {
    const space = parseParamSpace(['a=1,2', 'b=10..30:10']);
    expect(spaceSize(space)).toBe(6);
    expect(gridPoints(space).map(formatPoint)).toEqual([
      'a=1 b=10',
      'a=1 b=20',
      'a=1 b=30',
      'a=2 b=10',
      'a=2 b=20',
      'a=2 b=30',
    ]);
    expect(pointAt(space, 4)).toEqual({ a: 2, b: 20 });
    expect(gridPoints([])).toEqual([{}]);
  });

  it('refuses a grid that is too big and points to random search', () => {
    const space = parseParamSpace(['a=1..1000', 'b=1..1001']);
    expect(() => gridPoints(space)).toThrow('--method random');
  });

  it('random search draws distinct points, reproducibly by seed', () => {
    const space = parseParamSpace(['a=1..50', 'b=1..40']);
    const p1 = searchPoints(space, 'random', 30, 7);
    const p2 = searchPoints(space, 'random', 30, 7);
    const p3 = searchPoints(space, 'random', 30, 8);
    expect(p1).toEqual(p2);
    expect(p1).not.toEqual(p3);
    expect(new Set(p1.map(formatPoint)).size).toBe(30);
    for (const p of p1) {
      expect(p.a).toBeGreaterThanOrEqual(1);
      expect(p.b).toBeLessThanOrEqual(40);
    }
    // Asking for more than the grid gives the whole grid once.
    const small = parseParamSpace(['a=1,2,3', 'b=1,2']);
    let i = 0;
    const all = randomPoints(small, 100, () => {
      i = (i * 7 + 3) % 11;
      return i / 11;
    });
    expect(all).toHaveLength(6);
    expect(new Set(all.map(formatPoint)).size).toBe(6);
    expect(() => searchPoints(space, 'random')).toThrow('--trials');
    expect(() => searchPoints(space, 'random', 0)).toThrow('--trials');
  });

  it('derives an axis from a strategy parameter spec', () => {
    expect(
      axisFromSpec({ name: 'fast', type: 'int', default: 10, min: 2, max: 10, step: 4, description: '' })?.values,
    ).toEqual([2, 6, 10]);
    expect(axisFromSpec({ name: 'on', type: 'bool', default: false, description: '' })?.values).toEqual([false, true]);
    expect(axisFromSpec({ name: 'x', type: 'float', default: 1, description: '' })).toBeUndefined();
  });
});

describe('objectives', () => {
  it('parses names (dash or underscore) and lists the valid ones when unknown', () => {
    expect(parseObjective('Sharpe').metric).toBe('sharpe');
    expect(parseObjective('profit-factor').metric).toBe('profitFactor');
    expect(parseObjective('max_drawdown').direction).toBe('min');
    expect(() => parseObjective('alpha')).toThrow(/unknown objective "alpha" \(expected one of sharpe, sortino/);
  });

  it('orders max objectives descending, min ascending, null last, ties by index', () => {
    const s = (score: number | null, index: number) => ({ score, index });
    const max = [s(1, 0), s(null, 1), s(3, 2), s(3, 3)].sort((a, b) => compareScores(OBJECTIVES.sharpe, a, b));
    expect(max.map((r) => r.index)).toEqual([2, 3, 0, 1]);
    const min = [s(1, 0), s(null, 1), s(3, 2)].sort((a, b) => compareScores(OBJECTIVES.max_drawdown, a, b));
    expect(min.map((r) => r.index)).toEqual([0, 2, 1]);
  });
});

describe('optimize (in-process evaluator)', () => {
  it('grid: finds the known optimum, skips invalid combos, records failures, reports progress', async () => {
    const progress: number[] = [];
    const res = await optimize({
      space: parseParamSpace(['a=5..20:5', 'b=10..40:10', 'c=1']),
      objective: parseObjective('sharpe'),
      evaluator: local(),
      onProgress: (d) => progress.push(d),
    });
    expect(res.total).toBe(16);
    // a >= b: (10,10), (15,10), (20,10), (20,20) -> 4 skipped
    expect(res.skipped).toBe(4);
    expect(res.failed).toBe(0);
    expect(res.evaluated).toBe(12);
    expect(res.best?.params).toEqual({ a: 10, b: 30, c: 1 });
    expect(res.ranked[0].score).toBe(0);
    expect(res.ranked.map((r) => r.score)).toEqual([...res.ranked.map((r) => r.score!)].sort((x, y) => y - x));
    expect(res.notRun.find((r) => r.status === 'skipped')?.reason).toMatch(/must be below/);
    expect(progress).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('a throwing trial is marked failed and does not stop the search', async () => {
    const res = await optimize({
      space: parseParamSpace(['a=1,2', 'b=30,99']),
      objective: parseObjective('sharpe'),
      evaluator: local(),
    });
    expect(res.failed).toBe(2);
    expect(res.notRun.filter((r) => r.status === 'failed').every((r) => r.reason === 'boom at b=99')).toBe(true);
    expect(res.evaluated).toBe(2);
  });

  it('minimises max_drawdown and honours min trades', async () => {
    const space = parseParamSpace(['a=1..5', 'b=10']);
    const res = await optimize({ space, objective: parseObjective('max_drawdown'), evaluator: local() });
    expect(res.best?.params).toEqual({ a: 1, b: 10 });
    const min = await optimize({ space, objective: parseObjective('max_drawdown'), evaluator: local(), minTrades: 3 });
    expect(min.best?.params).toEqual({ a: 3, b: 10 }); // fake trades = a
    expect(min.ranked.slice(-2).map((r) => r.params.a)).toEqual([1, 2]);
  });

  it('random: seeded points, same result twice, fixed params merged', async () => {
    const opts = {
      space: parseParamSpace(['a=1..20', 'b=10..50:5']),
      objective: parseObjective('sharpe'),
      method: 'random' as const,
      trials: 25,
      seed: 3,
      fixed: { c: 'x' },
    };
    const r1 = await optimize({ ...opts, evaluator: local() });
    const r2 = await optimize({ ...opts, evaluator: local() });
    expect(r1.total).toBe(25);
    expect(r1.ranked.map((r) => formatPoint(r.params))).toEqual(r2.ranked.map((r) => formatPoint(r.params)));
    expect(r1.ranked.every((r) => r.params.c === 'x')).toBe(true);
  });

  it('passes the window to every trial', async () => {
    const res = await optimize({
      space: parseParamSpace(['a=10', 'b=30']),
      objective: parseObjective('profit'),
      evaluator: local(),
      window: { from: 10, to: 20 },
    });
    expect(res.best?.metrics?.bars).toBe(10);
    expect(res.best?.metrics?.totalReturn).toBe(145); // 10 + 11 + ... + 19
  });
});

describe('walk-forward', () => {
  it('splits into rolling folds: OOS windows tile the end, IS precedes each OOS', () => {
    const folds = walkForwardFolds(1000, 4, 0.75);
    // O = floor(1000 / (4 + 3)) = 142, I = 1000 - 4 * 142 = 432
    expect(folds[0]).toEqual({ index: 0, inSample: { from: 0, to: 432 }, outOfSample: { from: 432, to: 574 } });
    expect(folds[3].outOfSample.to).toBe(1000);
    for (let i = 0; i < folds.length; i++) {
      const f = folds[i];
      expect(f.inSample.to).toBe(f.outOfSample.from);
      if (i > 0) expect(f.outOfSample.from).toBe(folds[i - 1].outOfSample.to);
    }
    expect(() => walkForwardFolds(10, 5)).toThrow('too few');
    expect(() => walkForwardFolds(1000, 0)).toThrow('--walk-forward');
  });

  it('optimises in-sample and evaluates the winner out-of-sample per fold', async () => {
    const res = await walkForward({
      space: parseParamSpace(['a=5..15:5', 'b=20..40:10']),
      objective: parseObjective('profit'),
      evaluator: local(),
      bars: 100,
      folds: 3,
      inSampleRatio: 0.5,
    });
    expect(res.folds).toHaveLength(3);
    for (const f of res.folds) {
      // profit = sum of closes (= indices) in the window, the same for every point: IS sum vs OOS sum.
      const sum = (w: { from: number; to: number }) => ((w.from + w.to - 1) * (w.to - w.from)) / 2;
      expect(f.inSampleScore).toBe(sum(f.fold.inSample));
      expect(f.outOfSampleScore).toBe(sum(f.fold.outOfSample));
      expect(f.outOfSampleMetrics?.bars).toBe(f.fold.outOfSample.to - f.fold.outOfSample.from);
      expect(f.best?.params).toEqual({ a: 5, b: 20 }); // all tie: the first point wins
    }
    expect(res.meanInSampleScore).not.toBeNull();
    expect(res.efficiency).toBeCloseTo(res.meanOutOfSampleScore! / res.meanInSampleScore!, 12);
  });

  it('a fold whose in-sample search finds nothing has no best and no OOS', async () => {
    const res = await walkForward({
      space: parseParamSpace(['a=50', 'b=20']),
      objective: parseObjective('sharpe'),
      evaluator: local(),
      bars: 100,
      folds: 2,
    });
    expect(res.folds.every((f) => f.best === null && f.outOfSampleScore === null)).toBe(true);
    expect(res.meanInSampleScore).toBeNull();
    expect(res.efficiency).toBeNull();
  });

  it('the fake trial reports its window', () => {
    const out = fakeRun(data, { params: { a: 1, b: 2 }, window: { from: 0, to: 3 } });
    expect(out.status === 'ok' && out.metrics.totalReturn).toBe(3);
  });
});
