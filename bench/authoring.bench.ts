/**
 * Cost per bar of strategies we did not write: the same SMA crossover (10/30) over 1M synthetic 1-minute bars as
 * the built-in, as a sandboxed TypeScript file (the `strategy new` template: gate + own V8 context + membrane)
 * and as a compiled rules text. Prints each run's time (best of 3 after a warm-up), the extra nanoseconds per
 * bar against the built-in, and checks that all three fingerprints agree. Target: sandboxed run under 3 s.
 * Then the two sandbox workers: the live path (one synchronous call per callback) on fewer bars, and the
 * backtest path (the whole run in a worker, callbacks marked for the host's CPU watchdog) on the 1M bars, with
 * the cost of the marks alone.
 */
import { loadCodeStrategy } from '../src/authoring/files/code-loader.js';
import { strategyTemplate } from '../src/authoring/files/template.js';
import { compileRules } from '../src/authoring/rules/compile.js';
import { runSandboxedBacktest } from '../src/authoring/sandbox/backtest-worker.js';
import { CallbackMarks, MARK_BYTES, markedDefinition } from '../src/authoring/sandbox/backtest-worker-marks.js';
import { runBacktest } from '../src/backtest/runner.js';
import { generateBars } from '../src/data/index.js';
import { getStrategy } from '../src/strategy/registry.js';
import type { StrategyDefinition } from '../src/strategy/types.js';
import { load1 } from './load-average.js';

const N = 1_000_000;
const TARGET_SANDBOX_MS = 3000;
const RULES =
  'param fast = 10\nparam slow = 30\nbuy when sma(fast) crosses above sma(slow)\nsell when sma(fast) crosses below sma(slow)\n';

export default async function (): Promise<void> {
  const columns = generateBars({ bars: N, seed: 42, timeframe: '1m' });
  const data = { symbol: 'SYN', columns, timeframe: '1m' as const };
  const kinds: [string, StrategyDefinition][] = [
    ['built-in sma-cross', getStrategy('sma-cross')],
    ['sandboxed .ts file', loadCodeStrategy(strategyTemplate('bench'), 'bench.ts')],
    ['rules text', compileRules(RULES, { file: 'bench.rules', name: 'bench' })],
  ];
  const params = { fast: 10, slow: 30 };
  const rows: { name: string; ms: number; fp: string; trades: number }[] = [];
  for (const [name, def] of kinds) {
    const run = () => runBacktest({ data, strategy: def, params: { fast: 10, slow: 30 }, fee: 0.001 });
    run();
    let best = Number.POSITIVE_INFINITY;
    let r = run();
    for (let i = 0; i < 3; i++) {
      r = run();
      best = Math.min(best, r.timing.runMs);
    }
    rows.push({ name, ms: best, fp: r.fingerprint, trades: r.trades.length });
  }
  const base = rows[0].ms;
  const lines = [`SMA crossover 10/30, ${N.toLocaleString('en-US')} 1m bars (engine run, best of 3)`];
  for (const r of rows) {
    const extra = ((r.ms - base) * 1e6) / N;
    lines.push(
      `  ${r.name.padEnd(20)} ${r.ms.toFixed(0).padStart(6)} ms  ${((r.ms * 1e6) / N).toFixed(0).padStart(5)} ns/bar  ` +
        `(+${extra.toFixed(0)} ns/bar)  trades ${r.trades}`,
    );
  }
  const same = rows.every((r) => r.fp === rows[0].fp);
  const sandbox = rows[1].ms;
  lines.push(`  fingerprints       ${same ? 'identical' : 'DIFFER'} (${rows[0].fp.slice(0, 16)}...)`);
  lines.push(
    `  sandboxed 1M bars  ${sandbox.toFixed(0)} ms (target < ${TARGET_SANDBOX_MS} ms: ${sandbox < TARGET_SANDBOX_MS ? 'PASS' : 'FAIL'})`,
  );
  // The live path: the same file in a sandbox worker (CPU budget per callback, heap cap), one synchronous call
  // per callback plus one per context read or order. Timed on fewer bars: live strategies see a bar a second.
  const W = 20_000;
  const small = {
    symbol: 'SYN',
    columns: generateBars({ bars: W, seed: 42, timeframe: '1m' }),
    timeframe: '1m' as const,
  };
  const isolated = loadCodeStrategy(strategyTemplate('bench'), 'bench.ts', { isolate: true });
  const runIsolated = () =>
    runBacktest({ data: small, strategy: isolated, params: { fast: 10, slow: 30 }, fee: 0.001 });
  runIsolated();
  let bestW = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) bestW = Math.min(bestW, runIsolated().timing.runMs);
  const inThread = runBacktest({ data: small, strategy: kinds[1][1], params: { fast: 10, slow: 30 }, fee: 0.001 });
  lines.push(
    `  sandbox worker     ${((bestW * 1e6) / W).toFixed(0)} ns/bar over ${W.toLocaleString('en-US')} bars ` +
      `(in-thread realm ${((inThread.timing.runMs * 1e6) / W).toFixed(0)} ns/bar): the live deployments' path`,
  );
  await (isolated as { sandbox?: { close(): Promise<unknown> } }).sandbox?.close();
  // The backtest path: the whole run in a sandbox worker (heap cap), the strategy's callbacks marked for the
  // host's CPU watchdog. First the marks alone, in this thread (the same file with and without them).
  const marks = new CallbackMarks(new SharedArrayBuffer(MARK_BYTES));
  const marked = markedDefinition(kinds[1][1], marks);
  let bestMarked = Number.POSITIVE_INFINITY;
  let bestPlain = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    bestMarked = Math.min(bestMarked, runBacktest({ data, strategy: marked, params, fee: 0.001 }).timing.runMs);
    bestPlain = Math.min(bestPlain, runBacktest({ data, strategy: kinds[1][1], params, fee: 0.001 }).timing.runMs);
  }
  lines.push(
    `  callback marks     ${(((bestMarked - bestPlain) * 1e6) / N).toFixed(0)} ns/bar ` +
      `(in-thread realm ${bestPlain.toFixed(0)} ms, with marks ${bestMarked.toFixed(0)} ms; ${load1()})`,
  );
  let bestRun = Number.POSITIVE_INFINITY;
  let bestWall = Number.POSITIVE_INFINITY;
  let sandboxedFp = '';
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await runSandboxedBacktest({
      source: strategyTemplate('bench'),
      file: 'bench.ts',
      options: { data, params, fee: 0.001 },
    });
    bestWall = Math.min(bestWall, performance.now() - t0);
    bestRun = Math.min(bestRun, r.timing.runMs);
    sandboxedFp = r.fingerprint;
  }
  const sameWorker = sandboxedFp === rows[0].fp;
  lines.push(
    `  backtest worker    ${bestRun.toFixed(0)} ms engine run, ${bestWall.toFixed(0)} ms end to end (worker start, ` +
      `data in, result out) over 1M bars, fingerprint ${sameWorker ? 'identical' : 'DIFFERS'} ` +
      `(target < ${TARGET_SANDBOX_MS} ms: ${bestRun < TARGET_SANDBOX_MS ? 'PASS' : 'FAIL'}; ${load1()})`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!same || !sameWorker) throw new Error('the forms of the SMA crossover traded differently');
}
