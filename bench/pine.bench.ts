/**
 * The Pine compiler under fuzzing and its cost per bar. Part 1 compiles 100k seeded cases (mutated example
 * strategies and random Pine-ish texts, test/pine-fuzz.ts); each must compile, or be refused with a SourceError
 * naming `file:line:col`; every accepted case is also run over 120 bars, and any strategy error it raises must
 * name a line too. Prints the counts and the slowest case. Part 2 runs the SMA crossover as Pine against the
 * built-in over 1M synthetic 1-minute bars (best of 3) and checks that the fingerprints agree.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePine } from '../src/authoring/pine/compile.js';
import { runBacktest } from '../src/backtest/runner.js';
import { generateBars } from '../src/data/index.js';
import { getStrategy } from '../src/strategy/registry.js';
import { checkCase, fuzzCase } from '../test/pine-fuzz.js';

const CASES = 100_000;
const BARS = 1_000_000;

export default async function (): Promise<void> {
  const small = generateBars({ bars: 120, seed: 7, timeframe: '1d' });
  let compiled = 0;
  let refused = 0;
  let slowest = 0;
  let slowestCase = 0;
  const t0 = performance.now();
  for (let i = 0; i < CASES; i++) {
    const s = performance.now();
    if (checkCase(fuzzCase(i), small) === 'compiled') compiled++;
    else refused++;
    const ms = performance.now() - s;
    if (ms > slowest) {
      slowest = ms;
      slowestCase = i;
    }
  }
  const total = performance.now() - t0;
  const lines = [
    `fuzz: ${CASES.toLocaleString('en-US')} cases in ${(total / 1000).toFixed(1)} s (${((total * 1000) / CASES).toFixed(0)} µs/case)`,
    `  compiled and ran  ${compiled}`,
    `  refused with line ${refused}`,
    `  crashes           0 (a crash throws and fails this bench)`,
    `  slowest case      #${slowestCase}: ${slowest.toFixed(1)} ms`,
  ];

  const columns = generateBars({ bars: BARS, seed: 42, timeframe: '1m' });
  const data = { symbol: 'SYN', columns, timeframe: '1m' as const };
  const pine = compilePine(
    readFileSync(join(import.meta.dirname, '..', 'examples', 'pine', 'sma-cross.pine'), 'utf8'),
    {
      file: 'sma-cross.pine',
      name: 'sma-cross-pine',
    },
  );
  const rows: { name: string; ms: number; fp: string; trades: number }[] = [];
  for (const [name, def] of [
    ['built-in sma-cross', getStrategy('sma-cross')],
    ['Pine sma-cross.pine', pine],
  ] as const) {
    const run = () => runBacktest({ data, strategy: def, params: { fast: 10, slow: 30 }, fee: 0.001 });
    let r = run();
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      r = run();
      best = Math.min(best, r.timing.runMs);
    }
    rows.push({ name, ms: best, fp: r.fingerprint, trades: r.trades.length });
  }
  lines.push(`SMA crossover 10/30, ${BARS.toLocaleString('en-US')} 1m bars (engine run, best of 3)`);
  for (const r of rows) {
    lines.push(
      `  ${r.name.padEnd(20)} ${r.ms.toFixed(0).padStart(6)} ms  ${((r.ms * 1e6) / BARS).toFixed(0).padStart(5)} ns/bar  trades ${r.trades}`,
    );
  }
  const same = rows[0].fp === rows[1].fp;
  lines.push(`  fingerprints       ${same ? 'identical' : 'DIFFER'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!same) throw new Error('the Pine SMA crossover traded differently from the built-in');
}
