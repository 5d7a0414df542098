import { afterAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/runner.js';
import type { BarColumns } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import { smaCross } from '../../strategy/builtins/sma-cross.js';
import { loadCodeStrategy } from '../files/code-loader.js';
import { strategyTemplate } from '../files/template.js';
import { type IsolatedStrategyDefinition, loadIsolatedStrategy } from './isolated.js';
import { SandboxStoppedError } from './limits.js';

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

// Transpiled code whose onBar runs `body` from bar `from` on (the gate is bypassed: this proves the run-time layer).
const hostile = (name: string, body: string, from = 5) =>
  `"use strict";
const sdk = require("tradeforge/sdk");
exports.default = sdk.defineStrategy({ name: ${JSON.stringify(name)}, description: "", params: [], create: () => ({
  onBar(ctx) { if (ctx.bar.index >= ${from}) { ${body} } if (ctx.position() === 0) ctx.buy(); },
}) });`;

const limits = { callbackMs: 300, loadMs: 5000, memoryMb: 48 };
const data = (n: number) => ({ symbol: 'X', timeframe: '1d' as const, columns: columns(n) });
const isolated: IsolatedStrategyDefinition[] = [];
const load = (js: string, file: string) => {
  const d = loadIsolatedStrategy(js, file, limits);
  isolated.push(d);
  return d;
};

afterAll(async () => {
  await Promise.all(isolated.map((d) => d.sandbox.close()));
});

describe('sandbox worker (budgets)', { timeout: 120_000 }, () => {
  it('runs the template in its worker with the same trades as the built-in sma-cross', () => {
    const def = loadCodeStrategy(strategyTemplate('tpl'), 'tpl.ts', { isolate: true, limits });
    const a = runBacktest({ data: data(400), strategy: def, params: { fast: 5, slow: 20 } });
    const b = runBacktest({ data: data(400), strategy: smaCross, params: { fast: 5, slow: 20 } });
    expect(a.strategyErrors).toEqual([]);
    expect(a.trades.length).toBeGreaterThan(3);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(() => def.validate?.({ fast: 30, slow: 10 })).toThrow(ValidationError);
  });

  it('stops an endless loop in onBar, names strategy, callback, bar and budget; a second strategy keeps trading', async () => {
    const looping = load(hostile('spinner', 'for (;;) {}'), 'spinner.js');
    const good = loadCodeStrategy(strategyTemplate('tpl'), 'tpl.ts', { isolate: true, limits });
    const stuck = runBacktest({ data: data(60), strategy: looping });
    expect(stuck.strategyErrors).toHaveLength(1);
    const msg = stuck.strategyErrors[0].message;
    expect(msg).toContain('strategy spinner');
    expect(msg).toContain('CPU budget of 300 ms');
    expect(msg).toContain('in onBar at bar 5');
    expect(looping.sandbox.stopReport).toMatchObject({ strategy: 'spinner', callback: 'onBar', barIndex: 5 });
    // The stuck strategy bought on bars 0-4 only: nothing after the stop.
    expect(stuck.trades.length).toBeLessThanOrEqual(1);
    // The host is fine and another sandboxed strategy, in the same process, trades as the built-in does.
    const other = runBacktest({ data: data(400), strategy: good, params: { fast: 5, slow: 20 } });
    const ref = runBacktest({ data: data(400), strategy: smaCross, params: { fast: 5, slow: 20 } });
    expect(other.fingerprint).toBe(ref.fingerprint);
    await expect(looping.sandbox.exited).resolves.toBe('cpu-budget');
  });

  it('stops a memory bomb (heap cap or CPU budget, whichever comes first) without harming the host', async () => {
    const bomb = load(hostile('bomb', 'const a = []; for (;;) a.push(new Array(1e5).fill(ctx.bar.close));'), 'bomb.js');
    const before = process.memoryUsage().heapUsed;
    const r = runBacktest({ data: data(30), strategy: bomb });
    expect(r.strategyErrors).toHaveLength(1);
    expect(r.strategyErrors[0].message).toMatch(
      /strategy bomb (ran past its CPU budget of 300 ms|lost its sandbox worker \(the heap cap of 48 MB, or a crash\)) in onBar at bar 5/,
    );
    expect(['memory-cap', 'cpu-budget']).toContain(await bomb.sandbox.exited);
    // The bomb's arrays lived in the worker's heap, never in ours.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(40 * 1024 * 1024);
  });

  it('refuses one huge allocation (past the V8 headroom it would be fatal to the process) with a RangeError', () => {
    for (const [name, body] of [
      ['big-array', 'const a = new Array(4e6).fill(1);'],
      ['big-from', 'const a = Array.from({ length: 5e7 });'],
      ['big-typed', 'const a = new Float64Array(1e8);'],
      ['big-string', "const s = 'x'.repeat(1e9);"],
    ]) {
      const r = runBacktest({ data: data(10), strategy: load(hostile(name, body, 2), `${name}.js`) });
      expect(r.strategyErrors[0]?.message).toMatch(
        new RegExp(`${name}\\.js: .* is larger than a strategy may allocate at once`),
      );
    }
  });

  it('stops Atomics.wait (blocking forever) like a loop', () => {
    const waiter = load(
      hostile('waiter', 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);'),
      'waiter.js',
    );
    const r = runBacktest({ data: data(30), strategy: waiter });
    expect(r.strategyErrors[0]?.message).toMatch(/strategy waiter ran past its CPU budget .* in onBar at bar 5/);
  });

  it('refuses a file whose top level never ends, as a ValidationError naming the file', () => {
    expect(() => load('"use strict";\nfor (;;) {}', 'top.js')).toThrow(ValidationError);
    expect(() => load('"use strict";\nfor (;;) {}', 'top.js')).toThrow(/top\.js: .*timed out|top\.js: .*budget/);
  });

  it('files through the gate: loop and memory bomb pass it and are stopped here; Atomics.wait never gets this far', () => {
    const file = (name: string, body: string) => `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: '${name}',
  description: '',
  params: [],
  create() {
    return {
      onBar(ctx: StrategyContext) {
        ${body}
      },
    };
  },
});
`;
    const loop = loadCodeStrategy(file('loop', 'let n = 0;\n        while (n >= 0) n++;'), 'loop.ts', {
      isolate: true,
      limits,
    });
    const bomb = loadCodeStrategy(
      file('hog', 'const keep: number[][] = [];\n        for (;;) keep.push(new Array(100000).fill(ctx.bar.close));'),
      'hog.ts',
      { isolate: true, limits },
    );
    for (const d of [loop, bomb]) isolated.push(d as IsolatedStrategyDefinition);
    expect(runBacktest({ data: data(10), strategy: loop }).strategyErrors[0]?.message).toMatch(
      /loop\.ts: strategy loop ran past its CPU budget of 300 ms in onBar at bar 0/,
    );
    expect(runBacktest({ data: data(10), strategy: bomb }).strategyErrors[0]?.message).toMatch(
      /hog\.ts: strategy hog (ran past its CPU budget|lost its sandbox worker).* in onBar at bar 0/,
    );
    expect(() =>
      loadCodeStrategy(file('waiter', 'Atomics.wait(new Int32Array(4), 0, 0);'), 'waiter.ts', {
        isolate: true,
        limits,
      }),
    ).toThrow(/waiter\.ts:9:\d+ atomics/);
  });

  it('a stopped strategy refuses every later call with the same report', () => {
    const looping = load(hostile('again', 'for (;;) {}', 0), 'again.js');
    const s = looping.create({});
    const ctx = { time: 1, bar: { index: 0 } } as never;
    expect(() => s.onBar?.(ctx)).toThrow(SandboxStoppedError);
    expect(() => s.onBar?.(ctx)).toThrow(/again ran past its CPU budget of 300 ms in onBar at bar 0/);
  });
});
