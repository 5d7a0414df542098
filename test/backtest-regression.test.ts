/**
 * Regression results pinned (issue 11 item 8, as LEAN pins its regression algorithms): every built-in strategy on
 * the bundled S&P 500 sample and on a seeded three-symbol synthetic set, each with its expected statistics and
 * trade fingerprint in `test/fixtures/backtest-regression.json`. A change in any result fails with a table of
 * what changed. When a change is intended, regenerate the fixtures and review the diff:
 *   UPDATE_REGRESSION=1 npx vitest run test/backtest-regression.test.ts
 * The statistics pinned come from the trades and the equity curve (not annualised ones, whose convention is
 * documented in docs/metrics.md and tested there), so a change here is a change in what was traded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BacktestData, type BacktestOptions, runBacktest } from '../src/backtest/runner.js';
import type { BarColumns } from '../src/core/bar.js';
import { generateBars, loadBars } from '../src/data/index.js';
import { listStrategies } from '../src/strategy/registry.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'backtest-regression.json');
const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample', 'sp500_2000.csv');

/** The pinned figures of one run. */
interface Pinned {
  trades: number;
  wins: number;
  orders: number;
  fills: number;
  finalEquity: string;
  totalReturnPct: string;
  maxDrawdownPct: string;
  fees: string;
  exposureBars: number;
  fingerprint: string;
}

// Freqtrade-style signal columns for the `signals` strategy, a fixed pattern over the rows.
function withSignals(c: BarColumns, every: number, hold: number): BarColumns {
  const enter = new Float64Array(c.length);
  const exit = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) {
    if (i % every === 0) enter[i] = 1;
    if (i % every === hold) exit[i] = 1;
  }
  return { ...c, extra: { ...(c.extra ?? {}), enter_long: enter, exit_long: exit } };
}

function sampleData(): BacktestData[] {
  const loaded = loadBars(SAMPLE);
  return [{ symbol: 'SPX', columns: withSignals(loaded.columns, 23, 9), timeframe: '1d' }];
}

function syntheticData(): BacktestData[] {
  return ['AAA', 'BBB', 'CCC'].map((symbol, k) => ({
    symbol,
    columns: withSignals(
      generateBars({ bars: 4000, seed: 100 + k, timeframe: '1h', startPrice: 100, volatility: 0.5, regimes: true }),
      41 + k,
      17,
    ),
    timeframe: '1h' as const,
  }));
}

// Grid levels inside each data set's price range; the other strategies at their defaults.
const PARAMS: Record<string, Record<string, Record<string, number | string | boolean>>> = {
  sample: { grid: { lower: 700, upper: 1600, levels: 10 } },
  synthetic: { grid: { lower: 60, upper: 160, levels: 12 } },
};

const DATASETS: Record<string, () => BacktestData[]> = { sample: sampleData, synthetic: syntheticData };

function fmt(x: number | null): string {
  return x === null ? 'null' : Number(x.toPrecision(10)).toString();
}

function pin(options: BacktestOptions): Pinned {
  const r = runBacktest(options);
  return {
    trades: r.trades.length,
    wins: r.trades.filter((t) => t.pnl > 0).length,
    orders: r.orders,
    fills: r.fills,
    finalEquity: fmt(r.finalEquity),
    totalReturnPct: fmt(r.metrics.totalReturnPct),
    maxDrawdownPct: fmt(r.metrics.maxDrawdownPct),
    fees: fmt(r.fees),
    exposureBars: r.metrics.exposureBars,
    fingerprint: r.fingerprint,
  };
}

function computeAll(): Record<string, Pinned> {
  const out: Record<string, Pinned> = {};
  for (const [name, make] of Object.entries(DATASETS)) {
    const data = make();
    for (const def of listStrategies().filter((d) => BUILTIN.has(d.name))) {
      out[`${def.name} @ ${name}`] = pin({
        data,
        strategy: def.name,
        params: PARAMS[name][def.name] ?? {},
        fee: 0.001,
      });
    }
    // One short-selling case per data set: the crossover both ways on a margin account.
    out[`sma-cross allowShort @ ${name}`] = pin({
      data,
      strategy: 'sma-cross',
      params: { allowShort: true },
      allowShort: true,
      fee: 0.001,
    });
  }
  return out;
}

const BUILTIN = new Set(['bollinger-breakout', 'ema-cross', 'grid', 'macd', 'rsi-reversion', 'signals', 'sma-cross']);

/** The changed fields of every run that differs, one line each: `run  field: pinned -> now`. */
function diff(want: Record<string, Pinned>, got: Record<string, Pinned>): string[] {
  const lines: string[] = [];
  for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = want[key];
    const b = got[key];
    if (!a || !b) {
      lines.push(`${key}: ${a ? 'pinned but no longer run' : 'run but not pinned'}`);
      continue;
    }
    for (const f of Object.keys(a) as (keyof Pinned)[]) {
      if (a[f] !== b[f]) lines.push(`${key.padEnd(36)} ${String(f).padEnd(15)} ${String(a[f])} -> ${String(b[f])}`);
    }
  }
  return lines;
}

describe('pinned backtest results (regression)', () => {
  it('every built-in strategy covers the registry', () => {
    // A new built-in strategy must be added here (and so pinned).
    expect(new Set(listStrategies().map((d) => d.name))).toEqual(BUILTIN);
  });

  it('every built-in strategy on the bundled sample and the seeded synthetic set gives its pinned result', () => {
    const got = computeAll();
    if (process.env.UPDATE_REGRESSION === '1') {
      writeFileSync(FIXTURE, `${JSON.stringify(got, null, 2)}\n`);
      return;
    }
    const want = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Pinned>;
    const changed = diff(want, got);
    if (changed.length > 0) {
      throw new Error(
        `${changed.length} pinned figure(s) changed (run, field: pinned -> now); if intended, regenerate with UPDATE_REGRESSION=1 and review:\n${changed.join('\n')}`,
      );
    }
    // Each run trades (a pinned run that never trades would pin nothing).
    for (const [key, p] of Object.entries(got)) expect(p.trades, key).toBeGreaterThan(0);
  });

  it('the diff names the run, the field and both values', () => {
    const a = { trades: 3, fingerprint: 'x' } as unknown as Pinned;
    expect(diff({ run: a }, { run: { ...a, trades: 4 } })).toEqual([
      `${'run'.padEnd(36)} ${'trades'.padEnd(15)} 3 -> 4`,
    ]);
    expect(diff({ run: a }, {})).toEqual(['run: pinned but no longer run']);
  });
});
