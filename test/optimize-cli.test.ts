import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { viewColumns } from '../src/backtest/optimizer/warmup.js';
import { runBacktest } from '../src/backtest/runner.js';
import { importFile } from '../src/data/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const SAMPLE = join(ROOT, 'data/sample/sp500_2000.csv');
const home = mkdtempSync(join(tmpdir(), 'tf-opt-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tradeforge.js'), ...args], {
      cwd: home,
      env: { ...process.env, TRADEFORGE_HOME: home, TRADEFORGE_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const bars = importFile(SAMPLE).columns;
const run = (params: Record<string, number>, from = 0, to = bars.length) =>
  runBacktest({
    data: { symbol: 'sp500_2000', timeframe: '1d', columns: viewColumns(bars, from, to) },
    strategy: 'sma-cross',
    params,
    tradingDaysPerYear: 252,
  });

describe('tradeforge optimize (end to end, 2 workers, bundled S&P 500 data)', () => {
  it('grid search: ranked table, JSON of every trial, skipped invalid combos, results equal a direct run', {
    timeout: 180_000,
  }, async () => {
    const out = join(home, 'opt.json');
    const r = await cli([
      'optimize',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=10..40:10',
      '--param',
      'slow=20..60:20',
      '--objective',
      'sharpe',
      '--workers',
      '2',
      '--trading-days',
      '252',
      '--top',
      '3',
      '--json',
      out,
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/12 trials \(grid\) on 2 workers/);
    // fast >= slow: (20,20), (30,20), (40,20), (40,40) -> skipped by the strategy's own validation
    expect(r.stdout).toMatch(/8 evaluated, 4 skipped, 0 failed/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.total).toBe(12);
    expect(doc.ranked).toHaveLength(8);
    expect(
      doc.notRun.every(
        (t: { status: string; reason: string }) => t.status === 'skipped' && /must be below/.test(t.reason),
      ),
    ).toBe(true);
    const scores = doc.ranked.map((t: { score: number }) => t.score);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
    // The winner's numbers are exactly what a direct in-process backtest gives.
    const best = doc.best;
    const direct = run(best.params);
    expect(best.fingerprint).toBe(direct.fingerprint);
    expect(best.score).toBeCloseTo(direct.metrics.sharpe!, 12);
    expect(best.metrics.trades).toBe(direct.metrics.trades);
    // And it really is the best of the grid.
    for (const t of doc.ranked) expect(t.score).toBeLessThanOrEqual(best.score);
    const top = r.stdout.split('\n').filter((l) => /^\s*\d+\s+fast=/.test(l));
    expect(top).toHaveLength(3);
    expect(top[0]).toContain(`fast=${best.params.fast} slow=${best.params.slow}`);
    // The run is stored with the best trial's fingerprint and metrics, and prints the file it wrote.
    expect(r.stdout).toContain(`wrote ${out}`);
    const id = /stored as (bt-[0-9a-f]{10})/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    const shown = await cli(['backtests', 'show', id as string, '--json']);
    const rec = JSON.parse(shown.stdout);
    expect(rec.fingerprint).toBe(best.fingerprint);
    expect(rec.config).toMatchObject({ kind: 'optimize', objective: 'sharpe', bestParams: best.params });
    expect(rec.metrics.trades).toBe(best.metrics.trades);
  });

  it('walk-forward: per fold in-sample winner, out-of-sample metrics equal a direct run on that window', async () => {
    const out = join(home, 'wf.json');
    const r = await cli([
      'optimize',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5,10,20',
      '--param',
      'slow=50,100',
      '--objective',
      'profit',
      '--walk-forward',
      '3',
      '--workers',
      '2',
      '--trading-days',
      '252',
      '--json',
      out,
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/efficiency \(OOS\/IS\)/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const folds = doc.walkForward.folds;
    expect(folds).toHaveLength(3);
    expect(folds[2].fold.outOfSample.to).toBe(bars.length);
    for (const f of folds) {
      expect(f.fold.inSample.to).toBe(f.fold.outOfSample.from);
      const is = run(f.best.params, f.fold.inSample.from, f.fold.inSample.to);
      expect(f.inSampleScore).toBeCloseTo(is.metrics.totalReturn, 6);
      const oos = run(f.best.params, f.fold.outOfSample.from, f.fold.outOfSample.to);
      expect(f.outOfSampleScore).toBeCloseTo(oos.metrics.totalReturn, 6);
      expect(f.outOfSampleMetrics.trades).toBe(oos.metrics.trades);
    }
  });

  it('--config: exits and fixed params from the file reach every worker trial', async () => {
    const cfgFile = join(home, 'run.yaml');
    writeFileSync(
      cfgFile,
      'strategy: sma-cross\nparams:\n  slow: 100\nexits:\n  stopLoss: 0.03\ntradingDaysPerYear: 252\n',
    );
    const out = join(home, 'cfg.json');
    const r = await cli([
      'optimize',
      '--config',
      cfgFile,
      '--data',
      SAMPLE,
      '--param',
      'fast=5,10',
      '--workers',
      '2',
      '--json',
      out,
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.ranked).toHaveLength(2);
    for (const t of doc.ranked) {
      expect(t.params.slow).toBe(100);
      const direct = runBacktest({
        data: { symbol: 'sp500_2000', timeframe: '1d', columns: bars },
        strategy: 'sma-cross',
        params: t.params,
        exits: { stopLoss: 0.03 },
        tradingDaysPerYear: 252,
      });
      expect(t.fingerprint).toBe(direct.fingerprint);
      expect(t.metrics.byExitReason.some((x: { exitReason: string }) => x.exitReason === 'stop_loss')).toBe(true);
    }
    const bad = await cli(['optimize', '--config', join(home, 'nope.yaml'), '--data', SAMPLE, '--param', 'fast=5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/nope\.yaml/);
  });

  it('random search with a seed is reproducible', async () => {
    const args = [
      'optimize',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5..30:5',
      '--param',
      'slow=40..100:10',
    ];
    const more = ['--method', 'random', '--trials', '6', '--seed', '9', '--workers', '2'];
    const [a, b] = await Promise.all([
      cli([...args, ...more, '--json', join(home, 'r1.json')]),
      cli([...args, ...more, '--json', join(home, 'r2.json')]),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const pts = (f: string) =>
      JSON.parse(readFileSync(join(home, f), 'utf8')).ranked.map((t: { params: unknown }) => t.params);
    expect(pts('r1.json')).toHaveLength(6);
    expect(pts('r1.json')).toEqual(pts('r2.json'));
  });

  it('TPE search with a custom objective expression: the budget is evaluated and ranked by the expression', async () => {
    const out = join(home, 'tpe.json');
    const r = await cli([
      'optimize',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5..30:5',
      '--param',
      'slow=40..100:10',
      '--method',
      'tpe',
      '--trials',
      '10',
      '--objective',
      'return - 0.5 * max_drawdown',
      '--workers',
      '2',
      '--json',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^10 trials \(tpe\) on 2 workers/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.objective).toBe('return - 0.5 * max_drawdown');
    expect(doc.ranked).toHaveLength(10);
    for (const t of doc.ranked) {
      expect(t.score).toBeCloseTo(t.metrics.totalReturnPct - 0.5 * t.metrics.maxDrawdownPct, 9);
    }
    const scores = doc.ranked.map((t: { score: number }) => t.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
  });

  it('bad input: one line on stderr, exit code 2', async () => {
    const base = ['optimize', '--data', SAMPLE];
    const cases: [string[], RegExp][] = [
      [[...base, '--strategy', 'nope', '--param', 'fast=1..2'], /unknown strategy "nope"/],
      [[...base, '--strategy', 'sma-cross', '--param', 'speed=1..3'], /has no parameter "speed"/],
      [[...base, '--strategy', 'sma-cross', '--param', 'fast=0..3'], /0 is below the minimum 1/],
      [
        [...base, '--strategy', 'sma-cross', '--param', 'fast=1..3', '--objective', 'alpha'],
        /unknown objective "alpha"/,
      ],
      [[...base, '--strategy', 'sma-cross', '--param', 'fast=1..3', '--method', 'random'], /needs --trials/],
      [[...base, '--strategy', 'sma-cross', '--param', 'fast=1..3', '--method', 'tpe'], /tpe needs --trials/],
      [
        [...base, '--strategy', 'sma-cross', '--param', 'fast=1..3', '--objective', 'sharpe * alpha'],
        /--objective "sharpe \* alpha": unknown metric "alpha"/,
      ],
      [[...base, '--strategy', 'sma-cross', '--param', 'fast=5..'], /--param "fast=5\.\."/],
      [[...base, '--strategy', 'sma-cross', '--param', 'fast=1..3', '--workers', '0'], /--workers/],
      [
        ['optimize', '--data', join(home, 'missing.csv'), '--strategy', 'sma-cross', '--param', 'fast=1..3'],
        /missing\.csv/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, [args, msg]] of cases.entries()) {
      const r = results[i];
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  }, 600_000);
});

describe('tradeforge check-warmup', () => {
  it('reports warm-up stability and no look-ahead for sma-cross', async () => {
    const out = join(home, 'warm.json');
    const r = await cli([
      'check-warmup',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=10',
      '--param',
      'slow=50',
      '--history',
      '0,100,500',
      '--json',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/look-ahead: none seen/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.rows.map((x: { history: number }) => x.history)).toEqual([0, 100, 500, doc.testFrom]);
    expect(doc.rows.at(-1).sameSignals).toBe(true);
    // With no history the 50-bar SMA is blind for the first 49 bars of the window.
    expect(doc.rows[0].sameSignals).toBe(false);
    expect(doc.lookAhead.identical).toBe(true);
  });

  it('bad parameter: one line, exit 2', async () => {
    const r = await cli([
      'check-warmup',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=80',
      '--param',
      'slow=50',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fast \(80\) must be below slow \(50\)/);
  });
});
