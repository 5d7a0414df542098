import { createHash } from 'node:crypto';
import type { BarColumns } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import type { ClosedTrade } from '../../core/events.js';
import { tradeFingerprint } from '../fingerprint.js';

/** Runs the strategy over some bars and returns its closed trades (the runner, or a fake in tests). */
export type TradesOfRun = (bars: BarColumns) => readonly ClosedTrade[] | Promise<readonly ClosedTrade[]>;

/** Bars [from, to) of `c` as zero-copy views (subarray): the check runs many windows over the same data. */
export function viewColumns(c: BarColumns, from: number, to: number): BarColumns {
  const v = (a: Float64Array) => a.subarray(from, to);
  return {
    length: to - from,
    time: v(c.time),
    open: v(c.open),
    high: v(c.high),
    low: v(c.low),
    close: v(c.close),
    volume: v(c.volume),
    ...(c.extra ? { extra: Object.fromEntries(Object.entries(c.extra).map(([k, a]) => [k, v(a)])) } : {}),
    ...(c.extraText
      ? { extraText: Object.fromEntries(Object.entries(c.extraText).map(([k, a]) => [k, a.slice(from, to)])) }
      : {}),
  };
}

/**
 * Fingerprint of the signals alone: symbol, side, entry and exit time, exit reason and tag of each trade —
 * not prices, quantities or money, which legitimately change with the cash earlier trades left.
 */
export function signalFingerprint(trades: readonly ClosedTrade[]): string {
  const lines = trades
    .map((t) => JSON.stringify([t.symbol, t.side, t.entryTime, t.exitTime, t.exitReason, t.entryTag ?? null]))
    .sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** One run of the warm-up check: the same test window with `history` bars before it. */
export interface WarmupRow {
  readonly history: number;
  /** Trades entered inside the test window. */
  readonly trades: number;
  readonly signalFingerprint: string;
  readonly tradeFingerprint: string;
  /** Same signals as the run with the most history. */
  readonly sameSignals: boolean;
  readonly sameTrades: boolean;
  /** First entry or exit time (epoch ms) where the signals part from the reference run; null when identical. */
  readonly firstDifference: number | null;
}

/** Look-ahead probe: trades entered before a cut must not change when the bars after the cut are removed. */
export interface LookAheadResult {
  /** Epoch ms of the first removed bar. */
  readonly cutTime: number;
  readonly comparedTrades: number;
  readonly identical: boolean;
  readonly firstDifference: number | null;
}

/** Result of `tradeforge check-warmup`. */
export interface WarmupReport {
  readonly testFrom: number;
  readonly testTo: number;
  readonly testStartTime: number;
  readonly rows: readonly WarmupRow[];
  /** Smallest history from which every longer history gives the reference signals; null if none does. */
  readonly stableFrom: number | null;
  readonly lookAhead: LookAheadResult;
}

/** The history lengths to try: the given ones (or a default ladder) capped at what exists, always with all of it. */
export function historyLadder(available: number, requested?: readonly number[]): number[] {
  const base = requested ?? [0, 50, 100, 200, 500, 1000, 2000, 5000];
  for (const h of base) {
    if (!Number.isInteger(h) || h < 0)
      throw new ValidationError(`--history values must be integers >= 0, got ${h}`, 'history');
  }
  return [...new Set([...base.filter((h) => h < available), available])].sort((a, b) => a - b);
}

function firstDiff(a: readonly ClosedTrade[], b: readonly ClosedTrade[]): number | null {
  const key = (t: ClosedTrade) =>
    JSON.stringify([t.symbol, t.side, t.entryTime, t.exitTime, t.exitReason, t.entryTag ?? null]);
  const sa = [...a].sort((x, y) => x.entryTime - y.entryTime);
  const sb = [...b].sort((x, y) => x.entryTime - y.entryTime);
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    const x = sa[i];
    const y = sb[i];
    if (!x || !y) return (x ?? y).entryTime;
    if (key(x) !== key(y)) return Math.min(x.entryTime, y.entryTime);
  }
  return null;
}

/**
 * Runs the strategy on the test window [testFrom, end) with several amounts of history before it, keeps the
 * trades entered inside the window, and compares each run with the one that had all the history. Then it cuts
 * the data in the middle of the window and checks that trades entered before the cut do not change (a strategy
 * reading future bars would change them).
 */
export async function checkWarmup(
  data: BarColumns,
  run: TradesOfRun,
  opts: { testFrom: number; histories?: readonly number[] },
): Promise<WarmupReport> {
  const { testFrom } = opts;
  const end = data.length;
  if (!(testFrom >= 0 && testFrom < end - 1)) {
    throw new ValidationError(`test window start ${testFrom} is outside the data (${end} bars)`, 'test-bars');
  }
  const t0 = data.time[testFrom];
  const inWindow = (ts: readonly ClosedTrade[]) => ts.filter((t) => t.entryTime >= t0);
  const ladder = historyLadder(testFrom, opts.histories);
  const runs: { history: number; trades: readonly ClosedTrade[] }[] = [];
  for (const h of ladder) runs.push({ history: h, trades: inWindow(await run(viewColumns(data, testFrom - h, end))) });
  const ref = runs[runs.length - 1].trades;
  const refSig = signalFingerprint(ref);
  const refFp = tradeFingerprint(ref);
  const rows: WarmupRow[] = runs.map(({ history, trades }) => {
    const sig = signalFingerprint(trades);
    const fp = tradeFingerprint(trades);
    return {
      history,
      trades: trades.length,
      signalFingerprint: sig,
      tradeFingerprint: fp,
      sameSignals: sig === refSig,
      sameTrades: fp === refFp,
      firstDifference: sig === refSig ? null : firstDiff(trades, ref),
    };
  });
  let stableFrom: number | null = null;
  for (let i = rows.length - 1; i >= 0 && rows[i].sameSignals; i--) stableFrom = rows[i].history;
  if (rows.length === 1) stableFrom = null;

  // Look-ahead probe on the full data: cut in the middle of the test window.
  const cut = testFrom + Math.floor((end - testFrom) / 2);
  const cutTime = data.time[cut];
  const full = await run(data);
  const truncated = await run(viewColumns(data, 0, cut));
  // A trade still open at the cut is closed as end_of_data in the truncated run: compare only trades that
  // both entered and exited before the last kept bar.
  const lastKept = data.time[cut - 1];
  const closedBefore = (ts: readonly ClosedTrade[]) => ts.filter((t) => t.exitTime < lastKept);
  const a = closedBefore(full);
  const b = closedBefore(truncated);
  const sameLa = signalFingerprint(a) === signalFingerprint(b);
  return {
    testFrom,
    testTo: end,
    testStartTime: t0,
    rows,
    stableFrom,
    lookAhead: {
      cutTime,
      comparedTrades: a.length,
      identical: sameLa,
      firstDifference: sameLa ? null : firstDiff(a, b),
    },
  };
}
