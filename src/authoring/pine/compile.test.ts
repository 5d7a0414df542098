import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/runner.js';
import { barsToColumns } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import { generateBars } from '../../data/index.js';
import { checkCase, fuzzCase } from '../../../test/pine-fuzz.js';
import { SourceError } from '../rules/errors.js';
import { compilePine } from './compile.js';

const compile = (text: string) => compilePine(text, { file: 't.pine', name: 't' });
const HEAD = '//@version=5\nstrategy("t")\n';
const DAY = 86_400_000;
/** Bars whose closes are `closes` (open = previous close, high/low 1 around). */
const bars = (closes: number[]) =>
  barsToColumns(
    closes.map((c, i) => {
      const o = i === 0 ? c : closes[i - 1];
      return { time: i * DAY, open: o, high: Math.max(o, c) + 1, low: Math.min(o, c) - 1, close: c, volume: 1e6 };
    }),
  );
/** Entry times (bar numbers) of the trades a script makes on `closes`. */
function entries(body: string, closes: number[]): number[] {
  const r = runBacktest({
    data: { symbol: 'X', columns: bars(closes), timeframe: '1d' },
    strategy: compile(HEAD + body),
    fee: 0,
    lot: 1,
  });
  expect(r.strategyErrors).toEqual([]);
  return r.trades.map((t) => t.entryTime / DAY);
}
const ramp = (n: number) => Array.from({ length: n }, (_, i) => 100 + i);

function refusal(text: string): SourceError {
  try {
    compile(text);
  } catch (e) {
    if (e instanceof SourceError) return e;
    throw e;
  }
  throw new Error(`accepted: ${text}`);
}

describe('Pine language subset', () => {
  it('var keeps its value across bars, a plain declaration starts again each bar', () => {
    // count reaches 3 on bar 2 (0-based); plain resets to 1 every bar
    const body =
      'var count = 0\ncount := count + 1\nplain = 0\nplain := plain + 1\nif count == 3 and plain == 1\n    strategy.entry("L", strategy.long)\n';
    expect(entries(body, ramp(6))).toEqual([3]);
  });

  it('history x[n] of variables, bar fields and expressions; na before the first bar', () => {
    const body =
      'x = close * 2\nif na(x[3]) == false and x[3] == 2 * close[3] and (close - 1)[2] == close[2] - 1 and bar_index == 4 and na(close[9])\n    strategy.entry("L", strategy.long)\n';
    expect(entries(body, ramp(7))).toEqual([5]);
  });

  it('ternaries, nz, math, and if / else if / else', () => {
    const body =
      'v = bar_index % 3 == 0 ? na : bar_index\nw = nz(v, -1)\nkind = 0\nif w < 0\n    kind := 1\nelse if w > 3\n    kind := 2\nelse\n    kind := 3\nif kind == 2 and math.max(w, 2) == w and math.abs(-w) == w\n    strategy.entry("L", strategy.long)\n';
    // w: -1,1,2,-1,4 -> first kind 2 on bar 4
    expect(entries(body, ramp(6))).toEqual([5]);
  });

  it('for loops with bounds (counting down too), break and continue', () => {
    const body =
      's = 0\nfor i = 1 to 10\n    if i == 2\n        continue\n    if i > 4\n        break\n    s += i\nd = 0\nfor j = 3 to 1\n    d := d * 10 + j\nif s == 8 and d == 321 and bar_index == 1\n    strategy.entry("L", strategy.long)\n';
    expect(entries(body, ramp(4))).toEqual([2]);
  });

  it('user functions keep their own series at each call site; tuples come back from functions', () => {
    const body =
      'avg2(x) => (x + x[1]) / 2\npair(a) =>\n    b = a * 2\n    [a, b]\n[p, q] = pair(close)\nm1 = avg2(close)\nm2 = avg2(close * 10)\nif m2 == 10 * m1 and q == 2 * p and bar_index == 2\n    strategy.entry("L", strategy.long)\n';
    expect(entries(body, ramp(5))).toEqual([3]);
  });

  it('ta.crossover/crossunder/cross and ta.change follow Pine: a[1] <= b[1] and a > b', () => {
    const closes = [10, 10, 12, 11, 9, 13];
    const body =
      'if ta.crossover(close, 11)\n    strategy.entry("L", strategy.long)\nif ta.crossunder(close, 10)\n    strategy.close("L")\n';
    // crosses above 11 on bar 2 (10 -> 12) and bar 5 (9 -> 13); below 10 on bar 4
    expect(entries(body, closes)).toEqual([3]);
    expect(
      entries('if ta.change(close, 2) == 2 and ta.cross(close, 11)\n    strategy.entry("L", strategy.long)\n', closes),
    ).toEqual([3]);
  });

  it('ta.rma is Wilder smoothing seeded with the SMA of the first values; ta.sma skips leading na', () => {
    // closes 100, 101, 102, 103: rma(3) = 101 on bar 2, then (101 * 2 + 103) / 3 on bar 3
    const body =
      'r = ta.rma(close, 3)\ns = ta.sma(bar_index < 2 ? na : close, 2)\nif bar_index == 3 and math.abs(r - (101 * 2 + 103) / 3) < 1e-9 and na(r[2]) and s == 102.5 and na(s[1])\n    strategy.entry("L", strategy.long)\n';
    expect(entries(body, ramp(6))).toEqual([4]);
  });

  it('inputs become parameters with the ranges the optimiser searches; --param reaches them', () => {
    const def = compile(
      `${HEAD}len = input.int(14, "Length", minval=2, maxval=50, step=2)\nk = input.float(1.5, "K")\nuse = input.bool(true, "Use")\nmode = input.string("a", "Mode", options=["a", "b"])\nsrc = input.source(hl2, "Source")\nif use and mode == "b" and bar_index == len\n    strategy.entry("L", strategy.long)\n`,
    );
    expect(def.params).toEqual([
      { name: 'len', type: 'int', default: 14, min: 2, max: 50, step: 2, description: 'Length' },
      { name: 'k', type: 'float', default: 1.5, description: 'K' },
      { name: 'use', type: 'bool', default: true, description: 'Use' },
      { name: 'mode', type: 'enum', default: 'a', values: ['a', 'b'], description: 'Mode' },
      {
        name: 'src',
        type: 'enum',
        default: 'hl2',
        values: ['open', 'high', 'low', 'close', 'volume', 'hl2', 'hlc3', 'ohlc4', 'hlcc4'],
        description: 'Source',
      },
    ]);
    const run = (params: Record<string, string | number>) =>
      runBacktest({
        data: { symbol: 'X', columns: bars(ramp(10)), timeframe: '1d' },
        strategy: def,
        params,
        lot: 1,
      }).trades.map((t) => t.entryTime / DAY);
    expect(run({})).toEqual([]);
    expect(run({ mode: 'b', len: 4 })).toEqual([5]);
  });

  it('strategy() settings: capital, percent commission, fill on close, sizing and pyramiding', () => {
    const def = compile(
      '//@version=6\nstrategy("s", initial_capital=5000, commission_type=strategy.commission.percent, commission_value=0.1, process_orders_on_close=true, default_qty_type=strategy.fixed, default_qty_value=3, pyramiding=1)\nstrategy.entry("L", strategy.long)\nif bar_index == 3\n    strategy.close("L")\n',
    );
    expect(def.pine.settings).toEqual({ cash: 5000, fee: 0.001, marketFill: 'close' });
    const r = runBacktest({
      data: { symbol: 'X', columns: bars(ramp(6)), timeframe: '1d' },
      strategy: def,
      cash: 5000,
      fee: 0,
      marketFill: 'close',
    });
    // entries of 3 (pyramiding=1 ignores the repeats) fill at the signal bar's close: in at bar 0, out at bar 3's
    // close, in again at bar 4, held to the end
    expect(r.trades.map((t) => [t.entryTime / DAY, t.entryPrice, t.quantity, t.exitTime / DAY, t.exitPrice])).toEqual([
      [0, 100, 3, 3, 103],
      [4, 104, 3, 5, 105],
    ]);
  });

  it('refuses what is outside the subset, naming the construct with line, column and a caret', () => {
    const cases: [string, RegExp][] = [
      ['//@version=4\nstrategy("x")', /^t\.pine:1:3: Pine version 4 is not supported/],
      ['strategy("x")', /^t\.pine:1:1: missing \/\/@version=5/],
      [`${HEAD}x = request.security(syminfo.tickerid, "D", close)`, /^t\.pine:3:5: other symbols and timeframes/],
      [`${HEAD}while true\n    x = 1`, /^t\.pine:3:1: "while" loops are not in the supported Pine subset/],
      ['//@version=5\nstrategy("x", calc_on_every_tick=true)', /^t\.pine:2:15: calc_on_every_tick=true is refused/],
      ['//@version=5\nstrategy("x", pyramiding=3)', /^t\.pine:2:15: pyramiding above 1 is not supported/],
      ['//@version=5\nindicator("x")', /^t\.pine:2:1: indicator\(\) scripts are not strategies/],
      [`${HEAD}a = array.new<float>()`, /^t\.pine:3:5: "array\.new<\.\.\.>" \(collections\)/],
      [`${HEAD}x = ta.smaa(close, 3)`, /^t\.pine:3:5: unknown function "ta\.smaa" \(did you mean "ta\.sma"\?\)/],
      [`${HEAD}x = clsoe`, /^t\.pine:3:5: unknown name "clsoe" \(did you mean "close"\?\)/],
      [`${HEAD}y := 1`, /^t\.pine:3:1: "y" is not declared/],
      [`${HEAD}f(x) => f(x)\ny = f(1)`, /^t\.pine:3:9: recursive call to f/],
      [`${HEAD}for i = 0 to 3\n    x = ta.sma(close, 3)`, /^t\.pine:4:9: ta\.sma inside a for loop/],
      [`${HEAD}strategy.entry("L", strategy.long, limit=100)`, /^t\.pine:3:36: strategy\.entry\(limit=\)/],
      [
        `${HEAD}x = ta.sma(close, lenght=3)`,
        /^t\.pine:3:19: ta\.sma has no argument "lenght" \(did you mean "length"\?\)/,
      ],
      [`${HEAD}if close > open\nstrategy.close_all()\n    x = 1`, /^t\.pine:4:1: expected an indented block/],
      [`${HEAD}x = (close + 1`, /^t\.pine:3:15: expected "\)" to close the parenthesis/],
      [`${HEAD}switch close\n    1 => 2`, /^t\.pine:3:1: "switch" is not in the supported Pine subset/],
      ['//@version=5\nx = 1', /^t\.pine:2:1: a strategy script must call strategy/],
      [
        '//@version=6\nstrategy("x")\nstrategy.close_all(when=close > open)',
        /^t\.pine:3:20: strategy\.close_all\(when=\) was removed in Pine v6/,
      ],
      [`${HEAD}strategy.exit("x", "L")`, /^t\.pine:3:1: strategy\.exit needs at least one of/],
      [
        '//@version=5\nstrategy("x", commission_type=strategy.commission.cash_per_order)',
        /commission_type=strategy\.commission\.cash_per_order is not supported/,
      ],
    ];
    for (const [text, re] of cases) {
      const e = refusal(text);
      expect(e, text).toBeInstanceOf(ValidationError);
      expect(e.message, text).toMatch(re);
      // the offending line is shown with a caret under the column
      const [, shown, caret] = e.message.split('\n');
      expect(shown.trim(), text).toBe(text.split('\n')[e.line - 1].trim());
      expect(caret.indexOf('^') - 2, text).toBe(e.column - 1);
    }
  });

  it('a runaway loop stops the strategy with its line, the run itself finishes', () => {
    const def = compile(`${HEAD}n = 0\nfor i = 0 to 1e9\n    n += 1\n`);
    const r = runBacktest({ data: { symbol: 'X', columns: bars(ramp(5)), timeframe: '1d' }, strategy: def, lot: 1 });
    expect(r.strategyErrors).toHaveLength(1);
    expect(r.strategyErrors[0].message).toMatch(/t\.pine:4:1: loops ran more than 100000 iterations on one bar/);
  });

  it('fuzz: 3000 random and mutated scripts compile or are refused with a line, and never crash when run', {
    timeout: 300_000,
  }, () => {
    const columns = generateBars({ bars: 120, seed: 7, timeframe: '1d' });
    let refused = 0;
    for (let i = 0; i < 3000; i++) if (checkCase(fuzzCase(i), columns) === 'refused') refused++;
    // both outcomes occur: the corpus exercises the runtime as well as the error paths
    expect(refused).toBeGreaterThan(300);
    expect(refused).toBeLessThan(2900);
  });
});
