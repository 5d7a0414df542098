import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/runner.js';
import type { BarColumns } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import { smaCross } from '../../strategy/builtins/sma-cross.js';
import { loadCodeStrategy } from '../files/code-loader.js';
import { strategyTemplate } from '../files/template.js';
import { loadSandboxedStrategy } from './realm.js';

function columns(n: number): BarColumns {
  const time = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n).fill(1000);
  for (let i = 0; i < n; i++) {
    const c = 100 + 10 * Math.sin(i / 7) + i * 0.01;
    time[i] = Date.UTC(2024, 0, 1) + i * 86_400_000;
    open[i] = c - 0.5;
    close[i] = c;
    high[i] = c + 1;
    low[i] = c - 1.5;
  }
  return { length: n, time, open, high, low, close, volume } as unknown as BarColumns;
}

// Transpiled-code entry (the gate is bypassed on purpose: these tests prove the run-time layer on its own).
const cjs = (body: string) =>
  `"use strict";\nconst sdk = require("tradeforge/sdk");\n${body}\nexports.default = sdk.defineStrategy({ name: "t", description: "", params: [], create: () => ({}) });`;

describe('sandbox realm', () => {
  it('runs the template with the same trades as the built-in sma-cross', () => {
    const def = loadCodeStrategy(strategyTemplate('tpl'), 'tpl.ts');
    const data = { symbol: 'X', timeframe: '1d' as const, columns: columns(600) };
    const a = runBacktest({ data, strategy: def, params: { fast: 5, slow: 20 } });
    const b = runBacktest({ data, strategy: smaCross, params: { fast: 5, slow: 20 } });
    expect(a.trades.length).toBeGreaterThan(3);
    expect(a.strategyErrors).toEqual([]);
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('no host object is reachable from the context a strategy sees', () => {
    const src = `"use strict";
const sdk = require("tradeforge/sdk");
const k = ['constr', 'uctor'].join('');
const seen = [];
function probe(x, label) {
  try { seen.push(label + ':' + String(x[k][k]('return typeof process')())); }
  catch (e) { seen.push(label + ':' + e.name); }
}
exports.default = sdk.defineStrategy({ name: 'probe', description: '', params: [], create: (p) => {
  probe(p, 'params');
  return {
    onBar(ctx) {
      if (seen.length > 1) return;
      probe(ctx, 'ctx'); probe(ctx.bar, 'bar'); probe(ctx.portfolio, 'portfolio'); probe(ctx.history(), 'history');
      probe(ctx.buy, 'buy'); probe(sdk.Sma, 'sdk');
      const o = ctx.buy();
      if (o) probe(o, 'order');
      throw new Error(seen.join(','));
    },
  };
} });`;
    const def = loadSandboxedStrategy(src, 'probe.js');
    const r = runBacktest({ data: { symbol: 'X', timeframe: '1d', columns: columns(30) }, strategy: def });
    expect(r.strategyErrors).toHaveLength(1);
    const msg = r.strategyErrors[0].message;
    for (const label of ['params', 'ctx', 'bar', 'portfolio', 'history', 'buy', 'sdk', 'order']) {
      expect(msg).toContain(`${label}:EvalError`);
    }
    expect(msg).not.toContain(':object');
  });

  it('stops a top-level endless loop with a ValidationError naming the file', () => {
    expect(() => loadSandboxedStrategy(cjs('while (true) {}'), 'loop.js')).toThrow(ValidationError);
    expect(() => loadSandboxedStrategy(cjs('while (true) {}'), 'loop.js')).toThrow(/loop\.js: .*timed out/);
  });

  it('a ValidationError thrown by validate stays a ValidationError on the host (the optimiser skips the point)', () => {
    const def = loadCodeStrategy(strategyTemplate('tpl'), 'tpl.ts');
    expect(() => def.validate?.({ fast: 30, slow: 10 })).toThrow(ValidationError);
    expect(() => def.validate?.({ fast: 30, slow: 10 })).toThrow(/tpl\.ts: fast \(30\) must be below slow \(10\)/);
  });
});
