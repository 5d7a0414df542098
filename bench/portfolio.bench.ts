/**
 * Portfolio benchmark (issue 11, PERF-1): 50 symbols x 200k 1-minute bars (10M bars) merged by time through one
 * engine run, with a cross-sectional strategy: every 60 bars, rank the symbols by momentum (close / close 240
 * bars ago) and hold the top 5 (sell what left the top, buy what entered it with a fifth of the equity). Prints
 * bars per second of the engine run, the end-to-end time, and the peak resident memory (data included), with
 * the load average beside each figure.
 */
import { loadavg } from 'node:os';
import { resourceUsage } from 'node:process';
import { fileURLToPath } from 'node:url';
import { runBacktest } from '../src/backtest/runner.js';
import { generateBars } from '../src/data/index.js';
import type { Strategy, StrategyContext } from '../src/strategy/types.js';
import { measureAsCommand } from './as-command.js';
import { load1 } from './load-average.js';

const SYMBOLS = 50;
const BARS = 200_000;
const LOOKBACK = 240;
const REBALANCE = 60;
const HOLD = 5;

/** Rank by momentum, hold the top `hold`; decides once every symbol has its bar at a rebalance time. */
class MomentumRank implements Strategy {
  private closes: Float64Array[] = [];
  private seen = 0;
  private readonly score: Float64Array;
  private readonly order: Int32Array;
  private readonly inTop: Uint8Array;

  constructor(private readonly n: number) {
    this.score = new Float64Array(n);
    this.order = new Int32Array(n);
    this.inTop = new Uint8Array(n);
  }

  onStart(): void {
    this.closes = Array.from({ length: this.n }, () => new Float64Array(LOOKBACK));
    this.seen = 0;
  }

  onBar(ctx: StrategyContext): void {
    const s = ctx.symbolIndex;
    const k = ctx.bar.index % LOOKBACK;
    const ring = this.closes[s];
    const past = ring[k];
    ring[k] = ctx.bar.close;
    this.score[s] = past > 0 ? ctx.bar.close / past - 1 : Number.NEGATIVE_INFINITY;
    if (s !== this.n - 1) return;
    this.seen++;
    if (this.seen <= LOOKBACK || this.seen % REBALANCE !== 0) return;
    const order = this.order;
    for (let i = 0; i < this.n; i++) order[i] = i;
    const score = this.score;
    order.sort((a, b) => score[b] - score[a]);
    this.inTop.fill(0);
    for (let r = 0; r < HOLD; r++) this.inTop[order[r]] = 1;
    const symbols = ctx.symbols;
    for (let i = 0; i < this.n; i++) {
      if (!this.inTop[i] && ctx.position(symbols[i]) > 0) ctx.sell({ symbol: symbols[i] });
    }
    const slice = ctx.portfolio.equity() / HOLD;
    for (let r = 0; r < HOLD; r++) {
      const i = order[r];
      if (ctx.position(symbols[i]) > 0) continue;
      const price = ctx.history(symbols[i]).close(0);
      const quantity = Math.floor((slice * 0.98) / price);
      if (quantity > 0) ctx.buy({ symbol: symbols[i], quantity });
    }
  }
}

async function measure(): Promise<void> {
  const t0 = performance.now();
  const data = Array.from({ length: SYMBOLS }, (_, k) => ({
    symbol: `S${String(k).padStart(2, '0')}`,
    columns: generateBars({ bars: BARS, seed: 1000 + k, timeframe: '1m', startPrice: 50 + k, volatility: 0.4 }),
    timeframe: '1m' as const,
  }));
  const genMs = performance.now() - t0;
  const total = SYMBOLS * BARS;
  process.stdout.write(
    `data      ${SYMBOLS} symbols x ${BARS.toLocaleString('en-US')} 1m bars = ${total.toLocaleString('en-US')} bars generated in ${(genMs / 1000).toFixed(1)} s   ${load1()}\n`,
  );
  const runs: number[] = [];
  let result: ReturnType<typeof runBacktest> | undefined;
  let e2e = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    result = runBacktest({
      data,
      strategy: new MomentumRank(SYMBOLS),
      strategyId: 'momentum-top5',
      fee: 0.001,
      lot: 1,
    });
    e2e = Math.min(e2e, performance.now() - s);
    runs.push(result.timing.runMs);
  }
  const best = Math.min(...runs);
  const r = result as ReturnType<typeof runBacktest>;
  const peakMiB = resourceUsage().maxRSS / 1024;
  process.stdout.write(
    [
      `momentum rank, hold top ${HOLD}, rebalance every ${REBALANCE} bars (cross-sectional, one engine over all symbols)`,
      `  engine run         ${(best / 1000).toFixed(2)} s (best of ${runs.length})   ${load1()}`,
      `  bars/second        ${(total / (best / 1000) / 1e6).toFixed(2)} M   (${(total / (best / 1000) / SYMBOLS / 1e3).toFixed(0)} k timestamps/s of ${SYMBOLS} symbols)`,
      `  end to end         ${(e2e / 1000).toFixed(2)} s (run + metrics + fingerprint)   ${load1()}`,
      `  trades             ${r.trades.length}  orders ${r.orders}  fills ${r.fills}  final equity ${r.finalEquity.toFixed(2)}`,
      `  fingerprint        ${r.fingerprint}`,
      `  peak memory (RSS)  ${peakMiB.toFixed(0)} MiB (the bars alone: ${((total * 6 * 8) / 1024 ** 2).toFixed(0)} MiB)   load ${loadavg()[0].toFixed(2)}`,
      '',
    ].join('\n'),
  );
}

const SELF = fileURLToPath(import.meta.url);

/** Measures in a process started like `tradeforge backtest` (bin/node-flags.js), which also makes the peak RSS its own. */
export default function portfolioBench(): Promise<void> {
  return measureAsCommand('backtest', SELF, measure);
}

if (process.argv[1] === SELF) await measure();
