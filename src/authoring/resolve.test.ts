import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { isStrategyFile, resolveStrategy, strategyExits, withStrategyRunSettings } from './resolve.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-resolve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveStrategy', () => {
  it('tells names from files', () => {
    expect(isStrategyFile('sma-cross')).toBe(false);
    expect(isStrategyFile('mine.ts')).toBe(true);
    expect(isStrategyFile('./x')).toBe(true);
    expect(isStrategyFile('cross.rules')).toBe(true);
  });

  it('gives a built-in by name and a rules file relative to the base folder, with its exits', () => {
    expect(resolveStrategy('sma-cross').name).toBe('sma-cross');
    writeFileSync(join(dir, 'r.rules'), 'buy when rsi(14) < 30\nsell when rsi(14) > 70\nstop loss 4%\n');
    const def = resolveStrategy('r.rules', dir);
    expect(def.name).toBe('r');
    expect(strategyExits(def)).toEqual({ stopLoss: 0.04 });
  });

  it('compiles a Pine file and fills its strategy() settings into run options the flags leave open', () => {
    writeFileSync(
      join(dir, 'p.pine'),
      '//@version=5\nstrategy("x", initial_capital=5000, commission_type=strategy.commission.percent, commission_value=0.2, process_orders_on_close=true)\nn = input.int(3, "N", minval=1, maxval=9)\n',
    );
    const def = resolveStrategy('p.pine', dir);
    expect(def.name).toBe('p');
    expect(def.params.map((p) => [p.name, p.min, p.max])).toEqual([['n', 1, 9]]);
    expect(withStrategyRunSettings(def, {})).toEqual({ cash: 5000, fee: 0.002, marketFill: 'close' });
    expect(withStrategyRunSettings(def, { cash: 1, fee: 0, marketFill: 'next_open' as const })).toEqual({
      cash: 1,
      fee: 0,
      marketFill: 'next_open',
    });
    expect(withStrategyRunSettings(resolveStrategy('sma-cross'), {})).toEqual({});
  });

  it('refuses bad Pine Script, unknown extensions and missing files with ValidationErrors naming them', () => {
    writeFileSync(join(dir, 'a.pine'), '//@version=5\nstrategy("x")\nx = ta.sma(close)\n');
    expect(() => resolveStrategy('a.pine', dir)).toThrow(/^a\.pine:3:5: ta\.sma needs the argument "length"/);
    expect(() => resolveStrategy('./a.py', dir)).toThrow(/unknown strategy file type "\.py"/);
    expect(() => resolveStrategy('gone.ts', dir)).toThrow(ValidationError);
    expect(() => resolveStrategy('unknown-name')).toThrow(/unknown strategy "unknown-name"/);
  });
});
