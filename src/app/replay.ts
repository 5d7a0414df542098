/**
 * Replay and divergence (BT-8): the bars a paper or live deployment was served (recorded by the runtime) run
 * through the simulated venue with the deployment's stored run spec, in the live runtime's exit timing, and the
 * fills that come out are compared fill by fill with the fills the store holds (`backtest/divergence.ts`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileStrategySource, isCodeSource, resolveStrategy, strategyExits } from '../authoring/resolve.js';
import { strategyRefSource } from '../authoring/versions.js';
import {
  compareExecutions,
  type DivergenceReport,
  type DivergenceTolerance,
  type Execution,
} from '../backtest/divergence.js';
import { runBacktest } from '../backtest/runner.js';
import type { SlippageSpec } from '../backtest/slippage-model.js';
import type { Config } from '../core/config.js';
import { DataError, ValidationError } from '../core/errors.js';
import type { Fill } from '../core/fill.js';
import { specStake } from '../core/run-spec.js';
import { parseTimeframe, TIMEFRAME_MS } from '../core/timeframe.js';
import { MarketDataStore } from '../data/store.js';
import { mergeRiskConfig } from '../risk/defaults.js';
import type { Store } from '../store/index.js';
import { liveBarsDir, readRecordedInstruments } from './live/bar-recorder.js';
import { deploymentCash } from './live/book.js';
import type { DeploymentConfig } from './live/deployment.js';

/** What a replay needs. */
export interface ReplayOptions {
  store: Store;
  /** `<home>/data`: recorded bars live in `live/<deployment>/` under it. */
  dataDir: string;
  deploymentId: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
  tolerance: DivergenceTolerance;
  /** The simulated venue's price model (default: a percentage of the venue's spread, 1 bp, as the simulator quotes). */
  slippage?: SlippageSpec;
  /** The asset a buy pays its fee in (default `base`, as Binance spot and the simulator charge it). */
  feeAsset?: 'quote' | 'base';
  /** The account's `risk` section (merged under the deployment's own risk settings, over the live defaults). */
  accountRisk?: Config['risk'];
}

/** A replay's outcome. */
export interface ReplayResult {
  deployment: string;
  mode: string;
  venue: string;
  symbols: string[];
  timeframe: string;
  from: number;
  to: number;
  bars: number;
  settings: { slippage: SlippageSpec; feeAsset: 'quote' | 'base'; exitTiming: 'live' };
  report: DivergenceReport;
}

/** The default price model of a replay: the simulator's spread, 1 bp of the mid, on every taker fill. */
export const REPLAY_DEFAULT_SLIPPAGE: SlippageSpec = { model: 'percentage', rate: 0.0001 };

/** Replays a deployment's recorded period and compares its fills with the stored ones. */
export async function replayDeployment(o: ReplayOptions): Promise<ReplayResult> {
  const rec = await o.store.deployments.get(o.deploymentId);
  if (!rec) throw new ValidationError(`no deployment "${o.deploymentId}" in the store`, 'deployment');
  const d = rec.config as DeploymentConfig;
  const timeframe = parseTimeframe(d.timeframe ?? '1m');
  const dir = liveBarsDir(join(o.dataDir, 'live'), d.id);
  if (!existsSync(dir)) {
    throw new DataError(`no recorded bars for deployment ${d.id}: the runtime records them while it runs`, {
      file: dir,
    });
  }
  const bars = new MarketDataStore(dir);
  const instruments = readRecordedInstruments(dir);
  const range = { ...(o.from !== undefined ? { from: o.from } : {}), ...(o.to !== undefined ? { to: o.to } : {}) };
  const data = d.symbols.map((symbol) => {
    const columns = bars.read(symbol, timeframe, range);
    const instrument = instruments.find((i) => i.symbol === symbol);
    return { symbol, columns, timeframe, ...(instrument ? { instrument } : {}) };
  });
  const count = data.reduce((n, x) => n + x.columns.length, 0);
  if (count === 0) throw new ValidationError('no recorded bars in the selected range', 'from');
  const first = Math.min(...data.map((x) => (x.columns.length > 0 ? x.columns.time[0] : Number.POSITIVE_INFINITY)));
  const lastBar = Math.max(...data.map((x) => (x.columns.length > 0 ? x.columns.time[x.columns.length - 1] : 0)));
  // A bar's fills happen within it: the period runs to the end of the last bar (or `to`, when earlier).
  const barEnd = lastBar + TIMEFRAME_MS[timeframe] - 1;
  const end = o.to !== undefined ? Math.min(barEnd, Math.max(o.to, lastBar)) : barEnd;

  // A built-in, a file, or a stored version `ID@vN` (hash-checked) as the deployment ran it. Code runs whole in the
  // sandbox backtest worker (CPU budget per callback, heap cap), like a backtest of it; the rest runs here.
  const source = await strategyRefSource(d.strategy, { versions: o.store.strategies });
  const code = isCodeSource(source) ? source : undefined;
  const def =
    code !== undefined
      ? undefined
      : source !== undefined
        ? compileStrategySource(source.source, source.kind, source.file)
        : resolveStrategy(d.strategy);
  const declared = def ? strategyExits(def) : undefined;
  const exits = d.exits ?? declared;
  const slippage = o.slippage ?? REPLAY_DEFAULT_SLIPPAGE;
  const feeAsset = o.feeAsset ?? 'base';
  const settings = {
    data,
    params: d.params,
    cash: deploymentCash(d),
    ...(d.fee !== undefined ? { fee: d.fee } : {}),
    ...(d.fees ? { fees: d.fees } : {}),
    stake: specStake(d),
    ...(exits ? { exits } : {}),
    ...(d.allowShort !== undefined ? { allowShort: d.allowShort } : {}),
    strategyId: d.id,
    // The runtime's risk engine: the live defaults, the account's settings, the deployment's own.
    riskConfig: mergeRiskConfig(mergeRiskConfig(o.accountRisk ?? {}, d.risk ?? {}), {
      ...(d.capitalCap !== undefined ? { capitalCap: d.capitalCap } : {}),
    }),
    riskDefaults: true,
    slippage,
    feeAsset,
    exitTiming: 'live' as const,
  };
  const result =
    code !== undefined
      ? await (await import('../authoring/sandbox/backtest-worker.js')).runSandboxedBacktest({
          source: code.source,
          file: code.file,
          options: settings,
        })
      : runBacktest({ ...settings, strategy: def as NonNullable<typeof def> });
  // The expected fills: the simulated venue's, with each order's type (slippage is reported by type). End-of-data
  // closes are the replay's own bookkeeping (a position still open live at the period's end).
  const expected: Execution[] = result.fillRecords
    .filter((f) => f.tag !== 'end_of_data')
    .map((f) => ({
      time: f.time,
      symbol: f.symbol,
      side: f.side,
      price: f.price,
      quantity: f.quantity,
      fee: f.fee,
      orderType: f.orderType,
    }));
  // The fills that really happened in the period, with their orders' types.
  const stored = await o.store.fills.list({ strategyId: d.id, from: first, to: end + 1 });
  const actual: Execution[] = [];
  for (const f of stored) {
    const order = await o.store.orders.get(f.orderId);
    actual.push(toExecution(f, order?.type));
  }
  const report = compareExecutions(expected, actual, {
    tolerance: o.tolerance,
    matchWindowMs: TIMEFRAME_MS[timeframe] * 5,
  });
  return {
    deployment: d.id,
    mode: rec.mode,
    venue: rec.venue,
    symbols: d.symbols,
    timeframe,
    from: first,
    to: end,
    bars: count,
    settings: { slippage, feeAsset, exitTiming: 'live' },
    report,
  };
}

function toExecution(f: Fill, orderType: string | undefined): Execution {
  return {
    time: f.time,
    symbol: f.symbol,
    side: f.side,
    price: f.price,
    quantity: f.quantity,
    fee: f.fee,
    ...(orderType !== undefined ? { orderType } : {}),
  };
}
