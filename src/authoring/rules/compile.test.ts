import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/runner.js';
import { ValidationError } from '../../core/errors.js';
import { loadBars } from '../../data/load.js';
import { resolveParams } from '../../strategy/params.js';
import { getStrategy } from '../../strategy/registry.js';
import { compileRules } from './compile.js';
import { SourceError } from './errors.js';

const SAMPLE = join(import.meta.dirname, '..', '..', '..', 'data', 'sample', 'sp500_2000.csv');
const loaded = loadBars(SAMPLE);
const data = { symbol: 'SPX', timeframe: loaded.timeframe ?? ('1d' as const), columns: loaded.columns };
const compile = (text: string) => compileRules(text, { file: 'test.rules', name: 'test' });

describe('rule language', () => {
  it('an SMA crossover in rules trades exactly like the built-in sma-cross', () => {
    const def = compile(`# the classic
param fast = 10 in 5..30
param slow = 30 in 20..100 step 5
buy when sma(fast) crosses above sma(slow)
sell when sma(fast) crosses below sma(slow)
`);
    expect(def.params.map((p) => [p.name, p.type, p.min, p.max, p.step])).toEqual([
      ['fast', 'int', 5, 30, 1],
      ['slow', 'int', 20, 100, 5],
    ]);
    for (const params of [{}, { fast: 7, slow: 40 }] as Record<string, number>[]) {
      const a = runBacktest({ data, strategy: def, params, lot: 1 });
      const b = runBacktest({ data, strategy: getStrategy('sma-cross'), params, lot: 1 });
      expect(a.trades.length).toBeGreaterThan(10);
      expect(a.fingerprint).toBe(b.fingerprint);
    }
  });

  it('an RSI strategy with a stop loss and take profit matches rsi-reversion with the same exits', () => {
    const def = compile('buy when rsi(14) < 30\nsell when rsi(14) > 70\nstop loss 5%\ntake profit 10%\n');
    expect(def.exits).toEqual({ stopLoss: 0.05, takeProfit: 0.1 });
    const a = runBacktest({ data, strategy: def, lot: 1, exits: def.exits });
    const b = runBacktest({
      data,
      strategy: getStrategy('rsi-reversion'),
      lot: 1,
      exits: { stopLoss: 0.05, takeProfit: 0.1 },
    });
    expect(a.trades.some((t) => t.exitReason === 'stop_loss')).toBe(true);
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('reads outputs, previous bars, arithmetic, not/or, and a higher timeframe', () => {
    const def = compile(`buy when close > bbands(20, 2).upper and not (rsi(14) > 80) and close[1] < close
sell when close < bbands(20,2).middle or (high - low) / close > 0.05 or close < sma(4) on 1w`);
    expect(def.requires?.timeframes).toEqual(['1w']);
    const r = runBacktest({ data, strategy: def, lot: 1 });
    expect(r.strategyErrors).toEqual([]);
    expect(r.trades.length).toBeGreaterThan(5);
    // Every entry bar closed above its upper band (checked against the batch indicator).
    const time = data.columns.time;
    for (const t of r.trades.slice(0, 5)) {
      const signal = time.indexOf(t.entryTime) - 1;
      expect(data.columns.close[signal]).toBeGreaterThan(data.columns.close[signal - 1]);
    }
  });

  it('declared parameters are validated like a built-in’s', () => {
    const def = compile('param n = 14 in 2..50\nbuy when rsi(n) < 30\nsell when rsi(n) > 70');
    expect(() => resolveParams(def, { n: 80 })).toThrow(/80 is above the maximum 50/);
    expect(resolveParams(def, { n: '20' })).toEqual({ n: 20 });
  });

  it('errors name line and column, show the line with a caret and suggest the nearest word', () => {
    const cases: [string, RegExp][] = [
      [
        'buy when smaa(10) > close',
        /test\.rules:1:10: unknown name "smaa" \(did you mean "sma"\?\)\n {2}buy when smaa\(10\) > close\n {11}\^/,
      ],
      ['buy wehn close > 1', /1:5: expected "when", found "wehn" \(did you mean "when"\?\)/],
      ['buy when close > 1\nsel when close < 1', /2:1: a line starts with .* found "sel" \(did you mean "sell"\?\)/],
      ['buy when bbands(20).uper > 1', /1:21: unknown output "uper" of bbands .*\(did you mean "upper"\?\)/],
      ['buy when close > sma(10) on 7h', /1:29: expected a timeframe/],
      ['buy when close > ', /1:18: expected a value, found the end of the line/],
      ['buy when sma(10, 2) > 1', /1:10: sma takes 1 argument, got 2/],
      ['buy when close > 1 $', /1:20: unexpected character "\$"/],
      ['param fast = 50 in 5..30\nbuy when close > 1', /1:20: default 50 is outside 5\.\.30/],
      ['sell when close > 1', /no entry rule/],
      ['buy when sma(0) > 1', /1:10: .*period/],
      ['buy when close > 1\nstop loss 120%', /2:1: a stop loss must be below 100%/],
    ];
    for (const [text, re] of cases) {
      let err: unknown;
      try {
        compile(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(SourceError);
      expect((err as Error).message, text).toMatch(re);
    }
  });

  it('every example in docs/rules.md compiles and runs', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'rules.md'), 'utf8');
    const blocks = [...doc.matchAll(/```\n([\s\S]*?)```/g)]
      .map((m) => m[1])
      .filter((b) => !b.startsWith('error:') && !b.startsWith('line '));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const b of blocks) {
      const def = compile(b);
      const r = runBacktest({
        data,
        strategy: def,
        lot: 1,
        allowShort: true,
        ...(def.exits ? { exits: def.exits } : {}),
      });
      expect(r.strategyErrors, b).toEqual([]);
    }
  });

  it('fuzz: random and mutated texts end in a SourceError naming a line, never a crash or hang', () => {
    const seeds = [
      'param fast = 10 in 5..30\nbuy when sma(fast) crosses above sma(30) and rsi(14) < 70\nsell when rsi(14) > 75 or close < bbands(20,2).lower\nstop loss 5%\ntrailing stop 3% after 2%',
      'short when macd(12,26,9).histogram crosses below 0\ncover when close[1] > donchian(20).upper on 1w\nbreak even after 1.5%',
    ];
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 ()[].,%<>=!+-*/#\n_';
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...alphabet)), { maxLength: 6 }),
      )
      .map(([s, edits]) => {
        let t = s;
        for (const [at, len, ch] of edits) {
          const i = at % (t.length + 1);
          t = t.slice(0, i) + ch + t.slice(i + (len % 3));
        }
        return t;
      });
    const random = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 80 });
    fc.assert(
      fc.property(fc.oneof(mutated, random), (text) => {
        try {
          compile(text);
        } catch (e) {
          if (!(e instanceof SourceError)) throw e;
          expect(e).toBeInstanceOf(ValidationError);
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.message).toMatch(/^test\.rules:\d+:\d+: /);
        }
      }),
      { numRuns: 3000, seed: 12 },
    );
  });
});
