import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { isStrategyFile, resolveStrategy, strategyExits } from './resolve.js';

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

  it('refuses Pine Script, unknown extensions and missing files with ValidationErrors naming them', () => {
    writeFileSync(join(dir, 'a.pine'), '//@version=5\nstrategy("x")\n');
    expect(() => resolveStrategy('a.pine', dir)).toThrow(/a\.pine: Pine Script strategies are not supported yet/);
    expect(() => resolveStrategy('./a.py', dir)).toThrow(/unknown strategy file type "\.py"/);
    expect(() => resolveStrategy('gone.ts', dir)).toThrow(ValidationError);
    expect(() => resolveStrategy('unknown-name')).toThrow(/unknown strategy "unknown-name"/);
  });
});
