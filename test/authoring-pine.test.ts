import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePine, type PineDefinition } from '../src/authoring/pine/compile.js';
import { resolveStrategy, strategyExits } from '../src/authoring/resolve.js';
import { compileRules } from '../src/authoring/rules/compile.js';
import { runBacktest } from '../src/backtest/runner.js';
import { loadBars } from '../src/data/load.js';
import { getStrategy } from '../src/strategy/registry.js';
import { candles, DAY, T0 } from './backtest-helpers.js';
import { runCli } from './fixtures/cli.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLES = join(ROOT, 'examples', 'pine');
const SAMPLE = join(ROOT, 'data', 'sample', 'sp500_2000.csv');
const loaded = loadBars(SAMPLE);
const data = { symbol: 'SPX', timeframe: loaded.timeframe ?? ('1d' as const), columns: loaded.columns };
const example = (name: string): PineDefinition =>
  compilePine(readFileSync(join(EXAMPLES, name), 'utf8'), { file: name, name: name.replace(/\.pine$/, '') });
const round = (xs: number[][]) => xs.map((r) => r.map((x) => Number(x.toFixed(9))));
const dir = mkdtempSync(join(tmpdir(), 'tf-pine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Pine strategies against the built-ins and the rule language', () => {
  it('the SMA crossover in Pine trades exactly like the built-in sma-cross (and its rules twin)', () => {
    const def = example('sma-cross.pine');
    expect(def.params.map((p) => [p.name, p.type, p.min, p.max, p.step])).toEqual([
      ['fast', 'int', 1, 500, 1],
      ['slow', 'int', 2, 2000, 1],
    ]);
    const rules = compileRules(
      'param fast = 10 in 1..500\nparam slow = 30 in 2..2000\nbuy when sma(fast) crosses above sma(slow)\nsell when sma(fast) crosses below sma(slow)\n',
      { file: 'x.rules', name: 'x' },
    );
    for (const params of [{}, { fast: 7, slow: 40 }] as Record<string, number>[]) {
      const a = runBacktest({ data, strategy: def, params, lot: 1 });
      const b = runBacktest({ data, strategy: getStrategy('sma-cross'), params, lot: 1 });
      const c = runBacktest({ data, strategy: rules, params, lot: 1 });
      expect(a.trades.length).toBeGreaterThan(10);
      expect(a.strategyErrors).toEqual([]);
      expect(a.fingerprint).toBe(b.fingerprint);
      expect(a.fingerprint).toBe(c.fingerprint);
    }
  });

  it('an RSI strategy with a 5% stop and a 10% target matches rsi-reversion with those exits and the rules file', () => {
    const def = example('rsi-stop-target.pine');
    expect(def.exits).toEqual({ stopLoss: 0.05, takeProfit: 0.1 });
    expect(strategyExits(def)).toEqual({ stopLoss: 0.05, takeProfit: 0.1 });
    const a = runBacktest({ data, strategy: def, lot: 1, exits: def.exits });
    const b = runBacktest({
      data,
      strategy: getStrategy('rsi-reversion'),
      lot: 1,
      exits: { stopLoss: 0.05, takeProfit: 0.1 },
    });
    const rules = compileRules('buy when rsi(14) < 30\nsell when rsi(14) > 70\nstop loss 5%\ntake profit 10%\n', {
      file: 'r.rules',
      name: 'r',
    });
    const c = runBacktest({ data, strategy: rules, lot: 1, exits: rules.exits });
    expect(a.trades.some((t) => t.exitReason === 'stop_loss')).toBe(true);
    expect(a.trades.some((t) => t.exitReason === 'take_profit')).toBe(true);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).toBe(c.fingerprint);
  });

  it('the same RSI exits written with an input percentage stay resting stop/limit orders, and still stop out', () => {
    const text = readFileSync(join(EXAMPLES, 'rsi-stop-target.pine'), 'utf8')
      .replace('overbought = input', 'sl = input.float(0.05, "Stop")\noverbought = input')
      .replace('(1 - 0.05)', '(1 - sl)');
    const def = compilePine(text, { file: 'rsi2.pine', name: 'rsi2' });
    expect(def.exits).toBeUndefined();
    const r = runBacktest({ data, strategy: def, lot: 1 });
    expect(r.strategyErrors).toEqual([]);
    // The stop and target orders close trades as exit signals at (or, after a gap, beyond) 95% / 110% of the entry.
    const stopped = r.trades.filter((t) => t.exitPrice <= t.entryPrice * 0.95 + 1e-9);
    const targets = r.trades.filter((t) => t.exitPrice >= t.entryPrice * 1.1 - 1e-9);
    expect(stopped.length).toBeGreaterThan(0);
    expect(targets.length).toBeGreaterThan(0);
    // No trade runs past its stop by more than a gap: every loss beyond 5% exited at a bar's open.
    const opens = new Map(Array.from(data.columns.time, (t, i) => [t, data.columns.open[i]]));
    for (const t of stopped)
      if (t.exitPrice < t.entryPrice * 0.95 - 1e-9) expect(t.exitPrice).toBe(opens.get(t.exitTime));
  });
});

describe('the example strategies (examples/pine)', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.pine'));

  it('ten or more compile and trade on the bundled data without a strategy error', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const def = example(f);
      const r = runBacktest({
        data,
        strategy: def,
        lot: 1,
        allowShort: true,
        ...(def.exits ? { exits: def.exits } : {}),
      });
      expect(r.strategyErrors, f).toEqual([]);
      expect(r.trades.length, f).toBeGreaterThan(3);
    }
  });

  it('the long/short EMA cross reverses: shorts appear only when the run allows them', () => {
    const def = example('ema-cross-long-short.pine');
    const both = runBacktest({ data, strategy: def, lot: 1, allowShort: true });
    const longOnly = runBacktest({ data, strategy: def, lot: 1 });
    expect(both.trades.some((t) => t.side === 'short')).toBe(true);
    expect(longOnly.trades.every((t) => t.side === 'long')).toBe(true);
    // A reversal: a short opens on the bar the long closes.
    const s = both.trades.find((t) => t.side === 'short');
    expect(both.trades.some((t) => t.side === 'long' && t.exitTime === s?.entryTime)).toBe(true);
  });

  it('consecutive up/down: trades equal a hand count of rising and falling closes', () => {
    const rows = [
      [100, 100.5, 99.5, 100],
      [100.5, 101.5, 100, 101],
      [101, 102.5, 100.8, 102],
      [103, 104, 102.5, 103.5],
      [103.4, 103.6, 102.8, 103],
      [102.9, 103, 101.8, 102],
      [101.5, 102, 101, 101.8],
      [101.8, 102.2, 101.5, 102],
      [102.1, 102.9, 102, 102.5],
      [102.6, 103.2, 102.4, 103],
      [103.1, 103.3, 102.1, 102.2],
    ];
    const r = runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: example('consecutive-up-down.pine'),
      params: { barsUp: 2, barsDown: 2 },
      fee: 0,
    });
    // Hand calculation: count closes in a row above / below the previous close; a signal on bar i fills at
    // the open of bar i+1; long after 2 rising closes, flat after 2 falling ones.
    const expected: { entry: number; exit: number }[] = [];
    let ups = 0;
    let dns = 0;
    let inTrade = false;
    for (let i = 1; i < rows.length; i++) {
      ups = rows[i][3] > rows[i - 1][3] ? ups + 1 : 0;
      dns = rows[i][3] < rows[i - 1][3] ? dns + 1 : 0;
      if (!inTrade && ups >= 2 && i + 1 < rows.length) {
        expected.push({ entry: i + 1, exit: rows.length - 1 });
        inTrade = true;
      } else if (inTrade && dns >= 2) {
        expected[expected.length - 1].exit = i + 1;
        inTrade = false;
      }
    }
    // bars 1,2 rise -> in at bar 3; bars 4,5 fall -> out at bar 6; bars 7,8 rise -> in at bar 9; open at the end
    expect(expected).toEqual([
      { entry: 3, exit: 6 },
      { entry: 9, exit: 10 },
    ]);
    expect(round(r.trades.map((t) => [t.entryTime, t.entryPrice, t.exitTime, t.exitPrice]))).toEqual(
      expected.map((e, k) => [
        T0 + e.entry * DAY,
        rows[e.entry][0],
        T0 + e.exit * DAY,
        k === expected.length - 1 ? rows[e.exit][3] : rows[e.exit][0],
      ]),
    );
    expect(r.trades.map((t) => t.exitReason)).toEqual(['exit_signal', 'end_of_data']);
  });

  it('channel breakout: trades equal a hand calculation of the previous 3-bar channel', () => {
    const rows = [
      [10, 11, 9, 10],
      [10, 11.5, 9.5, 11],
      [11, 12, 10, 11.5],
      [11.5, 12.5, 11, 12.4],
      [12.4, 13, 12, 12.8],
      [12.8, 12.9, 11.8, 12],
      [12, 12.2, 10.5, 10.8],
      [10.7, 11, 10.2, 10.4],
      [10.5, 11.2, 10.1, 11],
      [11, 13.5, 10.9, 13.2],
      [13.3, 13.6, 13, 13.5],
    ];
    const r = runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: example('channel-breakout.pine'),
      params: { length: 3 },
      fee: 0,
    });
    // Hand calculation: upper[i-1] = max(high[i-3..i-1]), lower[i-1] = min(low[i-3..i-1]); a close above the
    // upper buys, a close below the lower sells, each at the next bar's open.
    const trades: [number, number][] = [];
    let open = -1;
    for (let i = 3; i < rows.length; i++) {
      const prev = rows.slice(i - 3, i);
      const upper = Math.max(...prev.map((x) => x[1]));
      const lower = Math.min(...prev.map((x) => x[2]));
      if (open < 0 && rows[i][3] > upper && i + 1 < rows.length) open = i + 1;
      else if (open >= 0 && rows[i][3] < lower) {
        trades.push([open, i + 1]);
        open = -1;
      }
    }
    expect(trades).toEqual([[4, 7]]);
    expect(open).toBe(10);
    expect(round(r.trades.map((t) => [t.entryTime, t.entryPrice, t.exitTime, t.exitPrice]))).toEqual([
      [T0 + 4 * DAY, rows[4][0], T0 + 7 * DAY, rows[7][0]],
      [T0 + 10 * DAY, rows[10][0], T0 + 10 * DAY, rows[10][3]],
    ]);
  });

  it('inside bar: the target and stop orders fill where a hand calculation puts them (a gap at the open)', () => {
    const rows = [
      [100, 105, 95, 100],
      [100, 104, 96, 102], // inside bar, closes up: buy
      [101, 103, 100, 102], // filled at 101; target 106, stop 98 rest from the next bar
      [102, 104, 99, 103],
      [103, 107, 102, 106.5], // high 107 reaches the 106 target
      [106, 106.5, 104, 105],
      [105, 106, 104.5, 105.8], // inside bar, closes up: buy
      [105.5, 106, 105, 105.2], // filled at 105.5; stop 102.5, target 110.5
      [101, 101.5, 100, 100.5], // opens below the stop: filled at the open
      [100.5, 101, 100, 100.8],
    ];
    const r = runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: example('inside-bar.pine'),
      fee: 0,
    });
    const tick = 0.01;
    const profit = 500 * tick;
    const loss = 300 * tick;
    const expected: number[][] = [];
    let entry = -1;
    for (let i = 1; i < rows.length - 1; i++) {
      if (entry >= 0 && i > entry) {
        const stop = rows[entry][0] - loss;
        const target = rows[entry][0] + profit;
        const [o, h, l] = rows[i];
        // the stop is checked first; a level the open gapped through fills at the open
        const hit = l <= stop ? Math.min(o, stop) : h >= target ? Math.max(o, target) : Number.NaN;
        if (!Number.isNaN(hit)) {
          expected.push([entry, rows[entry][0], i, hit]);
          entry = -1;
        }
      }
      const inside = rows[i][1] < rows[i - 1][1] && rows[i][2] > rows[i - 1][2] && rows[i][3] > rows[i][0];
      if (entry < 0 && inside && !expected.some((e) => e[2] === i)) entry = i + 1;
    }
    expect(expected).toEqual([
      [2, 101, 4, 106],
      [7, 105.5, 8, 101],
    ]);
    expect(round(r.trades.map((t) => [t.entryTime, t.entryPrice, t.exitTime, t.exitPrice, t.quantity]))).toEqual(
      expected.map(([e, ep, x, xp]) => [T0 + e * DAY, ep, T0 + x * DAY, xp, 10]),
    );
  });
});

describe('Pine exit orders and money safety', () => {
  it('a target order never outlives its position: closed by strategy.close, the target later reached opens nothing', () => {
    const def = compilePine(
      '//@version=5\nstrategy("t", default_qty_type=strategy.fixed, default_qty_value=1)\nif bar_index == 0\n    strategy.entry("L", strategy.long)\nif bar_index == 2\n    strategy.close("L")\nstrategy.exit("x", "L", profit=500, loss=500)\n',
      { file: 't.pine', name: 't' },
    );
    // entry at bar 1 (100); stop 95 / target 105 rest from bar 2; the close fills at bar 3's open; bar 4 reaches 110
    const rows = [
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [100, 101, 99, 100],
      [100, 101, 99, 100],
      [100, 110, 99, 109],
      [109, 110, 108, 109],
    ];
    const r = runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: def,
      fee: 0,
      allowShort: true,
    });
    expect(r.strategyErrors).toEqual([]);
    expect(r.trades.map((t) => [t.side, t.entryTime, t.exitTime, t.exitPrice, t.exitReason])).toEqual([
      ['long', T0 + DAY, T0 + 3 * DAY, 100, 'exit_signal'],
    ]);
  });
});

const cli = (...args: string[]) => runCli(args, { home: join(dir, 'home'), cwd: dir, guardMs: 120_000 });
const fingerprint = (out: string) => /fingerprint\s+([0-9a-f]{64})/.exec(out)?.[1];

describe('.pine files on the command line', { timeout: 400_000 }, () => {
  it('backtest --strategy x.pine with --param matches sma-cross; a mistake shows line, caret and suggestion', () => {
    writeFileSync(join(dir, 'cross.pine'), readFileSync(join(EXAMPLES, 'sma-cross.pine')));
    const pine = cli('backtest', '--strategy', 'cross.pine', '--data', SAMPLE, '--lot', '1', '--param', 'fast=5');
    expect(pine.err).toBe('');
    expect(pine.code).toBe(0);
    const builtin = cli('backtest', '--strategy', 'sma-cross', '--data', SAMPLE, '--lot', '1', '--param', 'fast=5');
    expect(fingerprint(pine.out)).toBeDefined();
    expect(fingerprint(pine.out)).toBe(fingerprint(builtin.out));
    writeFileSync(join(dir, 'typo.pine'), '//@version=5\nstrategy("t")\nx = ta.smaa(close, 10)\n');
    const typo = cli('backtest', '--strategy', 'typo.pine', '--data', SAMPLE);
    expect(typo.code).toBe(2);
    expect(typo.err).toBe(
      'error: typo.pine:3:5: unknown function "ta.smaa" (did you mean "ta.sma"?)\n  x = ta.smaa(close, 10)\n      ^\n',
    );
  });

  it('backtest applies strategy() settings (capital, commission, fill on close); optimize searches the inputs', () => {
    writeFileSync(
      join(dir, 'settings.pine'),
      '//@version=5\nstrategy("s", initial_capital=5000, commission_type=strategy.commission.percent, commission_value=0.2, process_orders_on_close=true, default_qty_type=strategy.fixed, default_qty_value=1)\nif bar_index == 0\n    strategy.entry("L", strategy.long)\nif bar_index == 5\n    strategy.close("L")\n',
    );
    const bt = cli('backtest', '--strategy', 'settings.pine', '--data', SAMPLE, '--json', join(dir, 'bt.json'));
    expect(bt.err).toBe('');
    expect(bt.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'bt.json'), 'utf8'));
    expect(doc.config.cash).toBe(5000);
    expect(doc.config.fees).toEqual({ maker: 0.002, taker: 0.002 });
    // process_orders_on_close: the entry fills at bar 0's close, the exit at bar 5's close
    expect(doc.trades[0].entryPrice).toBe(data.columns.close[0]);
    expect(doc.trades[0].exitPrice).toBe(data.columns.close[5]);
    // a flag still wins over the script
    const flagged = cli(
      'backtest',
      '--strategy',
      'settings.pine',
      '--data',
      SAMPLE,
      '--cash',
      '7000',
      '--json',
      join(dir, 'bt2.json'),
    );
    expect(flagged.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'bt2.json'), 'utf8')).config.cash).toBe(7000);

    writeFileSync(join(dir, 'cross2.pine'), readFileSync(join(EXAMPLES, 'sma-cross.pine')));
    const opt = cli(
      'optimize',
      '--strategy',
      'cross2.pine',
      '--data',
      SAMPLE,
      '--param',
      'fast=5,8',
      '--param',
      'slow=30',
      '--workers',
      '1',
      '--json',
      join(dir, 'opt.json'),
    );
    expect(opt.code).toBe(0);
    const o = JSON.parse(readFileSync(join(dir, 'opt.json'), 'utf8'));
    expect(o.evaluated).toBe(2);
    const trial = o.ranked.find((t: { params: { fast: number } }) => t.params.fast === 8);
    // the CLI names the symbol after the file
    const builtin = runBacktest({
      data: { ...data, symbol: loaded.symbol },
      strategy: getStrategy('sma-cross'),
      params: { fast: 8, slow: 30 },
    });
    expect(trial.fingerprint).toBe(builtin.fingerprint);
  });

  it('resolveStrategy reads a .pine file and names inputs as parameters', () => {
    writeFileSync(join(dir, 'macd.pine'), readFileSync(join(EXAMPLES, 'macd.pine')));
    const def = resolveStrategy('macd.pine', dir);
    expect(def.name).toBe('macd');
    expect(def.params.map((p) => p.name)).toEqual(['fastLength', 'slowLength', 'signalLength']);
  });
});
