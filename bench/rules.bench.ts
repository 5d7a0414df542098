/**
 * The rule language's compiler under fuzzing (issue 12: 100k cases in a bench-style run; the test suite runs 3,000).
 * Seeded cases: rule files with their numbers changed, rule files mutated by inserting, replacing and deleting
 * characters, and random texts from the language's alphabet. Each must compile, or be refused with a SourceError naming `file:line:col`; anything else (a
 * crash, another error type, a message without a line) is counted as a failure and the first one is printed. Every
 * accepted case is also run over 120 bars, where any strategy error counts as a failure (rules run no user code). Prints the counts and the
 * slowest case.
 */
import { SourceError } from '../src/authoring/rules/errors.js';
import { compileRules } from '../src/authoring/rules/compile.js';
import { runBacktest } from '../src/backtest/runner.js';
import { generateBars } from '../src/data/index.js';

const CASES = Number(process.env.RULES_FUZZ_CASES ?? 100_000);
const SEEDS = [
  'param fast = 10 in 5..30\nbuy when sma(fast) crosses above sma(30) and rsi(14) < 70\nsell when rsi(14) > 75 or close < bbands(20,2).lower\nstop loss 5%\ntrailing stop 3% after 2%',
  'short when macd(12,26,9).histogram crosses below 0\ncover when close[1] > donchian(20).upper on 1w\nbreak even after 1.5%',
  'buy when ema(12) > ema(26) and not (atr(14) > 5)\nsell when close crosses below ema(26)\ntake profit 10%\nrisk 1% per trade',
];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789 ()[].,%<>=!+-*/#\n_';

/** A small seeded generator (mulberry32), so a failing case can be reproduced by its index. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Case `i`: a seed file with its digits changed (1 in 4), with random edits (2 in 4), or a random text (1 in 4). */
function fuzzCase(i: number): string {
  const r = rng(i + 1);
  const pick = (s: string) => s[Math.floor(r() * s.length)];
  if (i % 4 === 3) {
    let t = '';
    const n = Math.floor(r() * 120);
    for (let k = 0; k < n; k++) t += pick(ALPHABET);
    return t;
  }
  let t = SEEDS[Math.floor(r() * SEEDS.length)];
  if (i % 4 === 2) {
    // Digits changed only: mostly valid files with other periods and percentages (zero and huge ones included).
    return t.replace(/\d/g, (d) => (r() < 0.3 ? String(Math.floor(r() * 10)) : d));
  }
  const edits = 1 + Math.floor(r() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (t.length + 1));
    const cut = Math.floor(r() * 3);
    t = t.slice(0, at) + pick(ALPHABET) + t.slice(at + cut);
  }
  return t;
}

export default async function (): Promise<void> {
  const bars = generateBars({ bars: 120, seed: 7, timeframe: '1d' });
  let compiled = 0;
  let refused = 0;
  let failures = 0;
  let firstFailure = '';
  let slowest = 0;
  let slowestCase = 0;
  const t0 = performance.now();
  for (let i = 0; i < CASES; i++) {
    const s = performance.now();
    const text = fuzzCase(i);
    try {
      const def = compileRules(text, { file: 'fuzz.rules', name: 'fuzz' });
      const r = runBacktest({
        data: { symbol: 'F', columns: bars, timeframe: '1d' },
        strategy: def,
        allowShort: true,
        ...(def.exits ? { exits: def.exits } : {}),
      });
      // Compiled rules run no user code: any error the engine caught while running them is a compiler bug.
      if (r.strategyErrors.length > 0) throw new Error(r.strategyErrors.map((e) => e.message).join('; '));
      compiled++;
    } catch (err) {
      const named = err instanceof SourceError && /^fuzz\.rules:\d+:\d+: /.test(err.message) && err.line >= 1;
      if (named) refused++;
      else {
        failures++;
        if (!firstFailure) firstFailure = `case ${i}: ${(err as Error)?.stack ?? String(err)}\n--- text ---\n${text}`;
      }
    }
    const ms = performance.now() - s;
    if (ms > slowest) {
      slowest = ms;
      slowestCase = i;
    }
  }
  const total = performance.now() - t0;
  process.stdout.write(
    [
      `rules fuzz: ${CASES.toLocaleString('en-US')} cases in ${(total / 1000).toFixed(1)} s (${((total * 1000) / CASES).toFixed(0)} µs/case)`,
      `  compiled and ran  ${compiled}`,
      `  refused with line ${refused}`,
      `  failures          ${failures}${failures ? ' (FAIL)' : ' (target 0: PASS)'}`,
      `  slowest case      ${slowest.toFixed(1)} ms (case ${slowestCase})`,
      ...(firstFailure ? ['first failure:', firstFailure] : []),
      '',
    ].join('\n'),
  );
}
