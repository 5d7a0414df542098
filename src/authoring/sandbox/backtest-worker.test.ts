import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/runner.js';
import { generateBars } from '../../data/index.js';
import { getStrategy } from '../../strategy/registry.js';
import { strategyTemplate } from '../files/template.js';
import { CallbackMarks, MARK_BYTES, markedDefinition, readMarks } from './backtest-worker-marks.js';
import { backtestHeapMb, runSandboxedBacktest } from './backtest-worker.js';
import { SandboxStoppedError } from './limits.js';

const limits = { callbackMs: 300, loadMs: 5000, memoryMb: 48 };
const data = (bars: number) => ({
  symbol: 'SYN',
  columns: generateBars({ bars, seed: 7, timeframe: '1m' }),
  timeframe: '1m' as const,
});

/** A strategy file whose onBar runs `body` from bar `from` on. */
function hostile(name: string, from: number, body: string): string {
  return `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: '${name}',
  description: 'misbehaves from bar ${from}',
  params: [],
  create() {
    let keep: number[][] = [];
    return {
      onBar(ctx: StrategyContext) {
        if (ctx.bar.index >= ${from}) { ${body} }
        if (keep.length < 0) keep = [];
      },
    };
  },
});
`;
}

async function stopOf(p: Promise<unknown>): Promise<SandboxStoppedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxStoppedError);
  return err as SandboxStoppedError;
}

// Each case starts a worker (tsx start-up): generous hang guards for a loaded machine; nothing waits on the clock.
describe('sandboxed backtests', { timeout: 300_000 }, () => {
  it('marks: enter names the callback and bar, leave restores the call around it', () => {
    const buffer = new SharedArrayBuffer(MARK_BYTES);
    const marks = new CallbackMarks(buffer);
    expect(readMarks(buffer).callback).toBeUndefined();
    const outer = marks.enter('onBar', 50, 1_700_000_000_000);
    const seen = readMarks(buffer);
    expect(seen).toMatchObject({ callback: 'onBar', barIndex: 50, barTime: 1_700_000_000_000 });
    const inner = marks.enter('onFill', 50, 1_700_000_000_000);
    expect(readMarks(buffer).callback).toBe('onFill');
    expect(readMarks(buffer).seq).toBeGreaterThan(seen.seq);
    marks.leave(inner);
    expect(readMarks(buffer).callback).toBe('onBar');
    marks.leave(outer);
    expect(readMarks(buffer).callback).toBeUndefined();
    expect(marks.around('create', () => readMarks(buffer))).toMatchObject({ callback: 'create', barIndex: undefined });
  });

  it('a marked strategy keeps exactly the callbacks it had, and marks each while it runs', () => {
    const buffer = new SharedArrayBuffer(MARK_BYTES);
    const seen: (string | undefined)[] = [];
    const def = markedDefinition(
      {
        name: 't',
        description: '',
        params: [],
        create: () => ({
          getState: () => seen.push(readMarks(buffer).callback),
          statistics: () => {
            seen.push(readMarks(buffer).callback);
            return {};
          },
        }),
      },
      new CallbackMarks(buffer),
    );
    const s = def.create({});
    expect(Object.keys(s).sort()).toEqual(['getState', 'statistics']);
    s.getState?.();
    s.statistics?.();
    expect(seen).toEqual(['getState', 'statistics']);
    expect(readMarks(buffer).callback).toBeUndefined();
  });

  it('a well-behaved file trades exactly like the built-in sma-cross', async () => {
    const d = data(3000);
    const params = { fast: 10, slow: 30 };
    const sandboxed = await runSandboxedBacktest(
      { source: strategyTemplate('mine'), file: 'mine.ts', options: { data: d, params, fee: 0.001 } },
      { limits },
    );
    const builtin = runBacktest({ data: d, strategy: getStrategy('sma-cross'), params, fee: 0.001 });
    expect(sandboxed.trades.length).toBeGreaterThan(0);
    expect(sandboxed.fingerprint).toBe(builtin.fingerprint);
    expect(sandboxed.strategy).toBe('mine');
    expect(sandboxed.metrics).toEqual(builtin.metrics);
  });

  it('stops an endless loop in onBar on its CPU budget, naming the file, strategy, callback and bar', async () => {
    const err = await stopOf(
      runSandboxedBacktest(
        {
          source: hostile('spinner', 50, 'let n = 0; while (n >= 0) n++;'),
          file: 'loop.ts',
          options: { data: data(200) },
        },
        { limits },
      ),
    );
    expect(err.report).toMatchObject({ cause: 'cpu-budget', callback: 'onBar', barIndex: 50, strategy: 'spinner' });
    expect(err.message).toMatch(
      /^loop\.ts: strategy spinner ran past its CPU budget of 300 ms in onBar at bar 50 \(\d{4}-\d\d-\d\dT[^)]+\); the sandbox stopped it$/,
    );
  });

  it('stops a file that allocates without end (each allocation within bounds) at the heap cap', async () => {
    // 4 MB kept per bar: no one callback is slow, the heap grows until the cap ends the worker.
    const err = await stopOf(
      runSandboxedBacktest(
        {
          source: hostile('bomb', 10, 'keep.push(new Array(500000).fill(ctx.bar.index));'),
          file: 'bomb.ts',
          options: { data: data(5000) },
        },
        { limits },
      ),
    );
    expect(err.report).toMatchObject({ cause: 'memory-cap', callback: 'onBar', strategy: 'bomb' });
    expect(err.report.barIndex).toBeGreaterThanOrEqual(10);
    expect(err.message).toContain(`ran past its memory cap of ${backtestHeapMb(limits, 5000)} MB in onBar at bar`);
  });

  it('stops a top level that never ends (the realm load timeout or the watchdog load budget)', async () => {
    const source = `import { defineStrategy } from 'tradeforge/sdk';\nlet n = 0; while (n >= 0) n++;\nexport default defineStrategy({ name: 'x', description: '', params: [], create() { return {}; } });\n`;
    const err = await runSandboxedBacktest({ source, file: 'top.ts', options: { data: data(10) } }, { limits }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // The realm's own load timeout or the watchdog: either way the run ends with an error naming the file.
    expect(err?.message).toMatch(/^top\.ts: /);
  });

  it('passes a bad parameter back as a ValidationError', async () => {
    const err = await runSandboxedBacktest(
      {
        source: strategyTemplate('mine'),
        file: 'mine.ts',
        options: { data: data(100), params: { fast: 40, slow: 30 } },
      },
      { limits },
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).toBe('ValidationError');
    expect(err?.message).toContain('fast (40) must be below slow (30)');
  });

  it('gives the engine a heap share that grows with the bars', () => {
    expect(backtestHeapMb(limits, 1_000_000)).toBeGreaterThan(backtestHeapMb(limits, 1000));
    expect(backtestHeapMb(limits, 0)).toBeGreaterThan(limits.memoryMb);
  });
});
