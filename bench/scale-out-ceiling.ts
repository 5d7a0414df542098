/**
 * The machine's own ceiling for the scale-out bench (no queue): one process runs trials of the same sweep
 * in-process. `scale-out.bench.ts` starts one copy, then two at once, and divides: what two processes doing nothing
 * but trials gain over one on this machine (shared caches, memory bandwidth, clock boost), the most the queue could
 * reach. Protocol on stdio: prints `ready` after a warm-up pass, runs on a line from stdin, prints `done <ms>`.
 */
import { createInterface } from 'node:readline';
import { createTrialRunner } from '../src/backtest/optimizer/backtest-trial.js';
import { gridPoints, parseParamSpace } from '../src/backtest/optimizer/space.js';
import { generateBars } from '../src/data/generate.js';

const [barsArg, gridArg, shareArg, partArg] = process.argv.slice(2);
const bars = generateBars({ bars: Number(barsArg), seed: 42, timeframe: '1m' });
const run = createTrialRunner({
  symbol: 'SYN',
  timeframe: '1m',
  strategy: 'sma-cross',
  options: { fee: 0.001 },
  columns: bars,
});
const all = gridPoints(parseParamSpace(gridArg.split(' ')));
// This process's share of the sweep: every `share`-th point from `part`.
const mine = all.filter((_, i) => i % Number(shareArg) === Number(partArg));
for (const params of mine) run({ params });
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).once('line', () => {
  const t0 = performance.now();
  for (const params of mine) run({ params });
  process.stdout.write(`done ${performance.now() - t0}\n`);
  process.exit(0);
});
