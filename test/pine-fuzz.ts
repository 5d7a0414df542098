/**
 * The Pine compiler's fuzz corpus and checker, shared by src/authoring/pine/compile.test.ts (a few thousand
 * cases) and bench/pine.bench.ts (100k+): seeded random texts and mutations of the example strategies.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePine } from '../src/authoring/pine/compile.js';
import { SourceError } from '../src/authoring/rules/errors.js';
import { runBacktest } from '../src/backtest/runner.js';
import type { BarColumns } from '../src/core/bar.js';

const EXAMPLES = join(import.meta.dirname, '..', 'examples', 'pine');

/** The example scripts, the seeds mutations start from. */
export const SEEDS: readonly string[] = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.pine'))
  .sort()
  .map((f) => readFileSync(join(EXAMPLES, f), 'utf8'));

const WORDS = [
  'if ',
  'else',
  'for i = 0 to 3',
  ' := ',
  ' = ',
  'var ',
  'ta.sma(close, 5)',
  'ta.rsi(close, 14)',
  '[1]',
  'na',
  'nz(',
  'strategy.entry("L", strategy.long)',
  'strategy.close("L")',
  'strategy.exit("x", "L", loss=100)',
  '    ',
  '\n',
  '\n    ',
  '(',
  ')',
  '[',
  ']',
  ',',
  '?',
  ':',
  'and',
  'or',
  'not',
  'close',
  'high',
  '1e308',
  '-',
  'f(x) =>',
  'f(1)',
  'while',
  'switch',
  'request.security',
  'array.new<float>()',
  '//@version=4',
  '"',
  "'",
  '=>',
  'input.int(3, minval=5)',
  'break',
  'continue',
  'math.max(1, 2)',
  '0',
  '-1',
  '5000',
  '99999',
  'ta.change(close)',
];

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Case `i` of the corpus: a mutated example (3 in 4) or a random text built from Pine-ish words and bytes. */
export function fuzzCase(i: number): string {
  const r = rng(i * 2654435761);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  if (i % 4 !== 3) {
    let t = pick(SEEDS);
    const edits = 1 + Math.floor(r() * 4);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(r() * (t.length + 1));
      const cut = Math.floor(r() * 4);
      const what = r() < 0.5 ? pick(WORDS) : String.fromCharCode(32 + Math.floor(r() * 95));
      t = r() < 0.2 ? t.slice(0, at) + t.slice(at + cut * 3) : t.slice(0, at) + what + t.slice(at + cut);
    }
    return t;
  }
  const n = Math.floor(r() * 12);
  let t = r() < 0.7 ? '//@version=5\nstrategy("f")\n' : '';
  for (let k = 0; k < n; k++) t += r() < 0.7 ? pick(WORDS) : String.fromCharCode(32 + Math.floor(r() * 95));
  return t;
}

/** What one case did: compiled (and ran), or was refused with a line. */
export type FuzzOutcome = 'compiled' | 'refused';

/**
 * Compiles `text` as f.pine; a refusal must be a SourceError whose message starts with `f.pine:line:col: `.
 * An accepted script is run over `bars`; every strategy error it raises must name a line too. Anything else
 * (another exception, an error without a line) throws.
 */
export function checkCase(text: string, bars: BarColumns): FuzzOutcome {
  let def: ReturnType<typeof compilePine>;
  try {
    def = compilePine(text, { file: 'f.pine', name: 'f' });
  } catch (e) {
    if (!(e instanceof SourceError) || !/^f\.pine:\d+:\d+: /.test(e.message) || e.line < 1) {
      throw new Error(`crash on input ${JSON.stringify(text)}: ${(e as Error).stack}`);
    }
    return 'refused';
  }
  const r = runBacktest({
    data: { symbol: 'F', columns: bars, timeframe: '1d' },
    strategy: def,
    lot: 1,
    allowShort: true,
  });
  for (const err of r.strategyErrors) {
    if (!/f\.pine:\d+:\d+: /.test(err.message))
      throw new Error(`runtime crash on ${JSON.stringify(text)}: ${err.message}`);
  }
  return 'compiled';
}
