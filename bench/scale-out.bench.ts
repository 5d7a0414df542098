/**
 * Issue 16: a 64-trial sma-cross sweep through the BullMQ queue on one worker process, then on two; prints both
 * throughputs and their ratio (target >= 1.8x on an otherwise idle 2-core machine) and checks the fingerprints
 * against a single-process run. Uses the machine's Redis with a unique prefix (removed afterwards) and a temporary
 * SQLite home for the results. BENCH_SCALE_BARS shrinks the data for a quick check.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTrialRunner } from '../src/backtest/optimizer/backtest-trial.js';
import { LocalEvaluator } from '../src/backtest/optimizer/evaluators.js';
import { parseObjective } from '../src/backtest/optimizer/objective.js';
import { type OptimizeResult, optimize } from '../src/backtest/optimizer/search.js';
import { parseParamSpace } from '../src/backtest/optimizer/space.js';
import { generateBars } from '../src/data/generate.js';
import { dropPrefix } from '../src/scale/status.js';
import { DistributedEvaluator, Sweep } from '../src/scale/sweep.js';

const ROOT = resolve(import.meta.dirname, '..');
const BARS = Number(process.env.BENCH_SCALE_BARS ?? 100_000);
const GRID = ['fast=5..20:1', 'slow=30..60:10'];

function startWorker(prefix: string, home: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/tradeforge.js'), 'worker', '--queue-prefix', prefix, '--quiet'],
    { env: { ...process.env, TRADEFORGE_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/ready/.test(out)) ok(child);
    });
    child.on('exit', (code) => fail(new Error(`worker exited ${code}: ${out}`)));
  });
}

const fingerprints = (r: OptimizeResult) => r.ranked.map((t) => `${JSON.stringify(t.params)}=${t.fingerprint}`).join();

/** Runs the sweep on 1 then 2 worker processes and prints the throughput ratio. */
export default async function (): Promise<void> {
  const prefix = `tfbench-${process.pid}`;
  const home = mkdtempSync(join(tmpdir(), 'tf-bench-scale-'));
  const bars = generateBars({ bars: BARS, seed: 42, timeframe: '1m' });
  const base = { symbol: 'SYN', timeframe: '1m', strategy: 'sma-cross', options: { fee: 0.001 } };
  const space = parseParamSpace(GRID);
  const objective = parseObjective('sharpe');
  const local = await optimize({
    space,
    objective,
    evaluator: new LocalEvaluator(createTrialRunner({ ...base, columns: bars })),
  });
  const children: ChildProcess[] = [];
  const settings = { url: process.env.TRADEFORGE__QUEUE__URL ?? 'redis://127.0.0.1:6379', prefix };
  try {
    const timed = async (workers: number) => {
      while (children.length < workers) children.push(await startWorker(prefix, home));
      const sweep = await Sweep.open(settings);
      try {
        const dataHash = await sweep.publish(bars);
        // A warm-up pass per worker count: thread start-up and data fetch are not the steady-state throughput.
        await optimize({
          space: parseParamSpace(['fast=5..6', 'slow=30']),
          objective,
          evaluator: new DistributedEvaluator(sweep, { ...base, dataHash }, 100),
        });
        const t0 = performance.now();
        const res = await optimize({
          space,
          objective,
          evaluator: new DistributedEvaluator(sweep, { ...base, dataHash }, 1000),
        });
        const ms = performance.now() - t0;
        if (fingerprints(res) !== fingerprints(local))
          throw new Error(`${workers} worker(s) disagree with the single-process run`);
        return { ms, trials: res.total };
      } finally {
        await sweep.close();
      }
    };
    const one = await timed(1);
    const two = await timed(2);
    const ratio = one.ms / two.ms;
    process.stdout.write(
      `${[
        `scale-out: sma-cross sweep of ${one.trials} trials x ${BARS} bars (1m synthetic) through BullMQ on Redis`,
        `  1 worker process   ${(one.ms / 1000).toFixed(2)} s  (${((one.trials / one.ms) * 1000).toFixed(1)} trials/s)`,
        `  2 worker processes ${(two.ms / 1000).toFixed(2)} s  (${((two.trials / two.ms) * 1000).toFixed(1)} trials/s)`,
        `  speed-up ${ratio.toFixed(2)}x (target >= 1.8x on an idle 2-core machine)${ratio >= 1.8 ? '' : '  BELOW TARGET'}`,
        '  fingerprints identical to the single-process run',
        `  load ${loadavg()[0].toFixed(2)} (1 min; above the core count the machine was shared and the ratio is pessimistic)`,
      ].join('\n')}\n`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await dropPrefix(settings);
    rmSync(home, { recursive: true, force: true });
  }
}
