/**
 * Divergence between two runs of one run spec on the same market data (BT-8): what a replay through the simulated
 * venue expected and what really happened on a paper or live venue, fill by fill. One comparison serves the
 * live/backtest parity test and `tradeforge replay`. Pure: no I/O.
 */
import type { ClosedTrade } from '../core/events.js';

/** One execution to compare: a venue fill, or one side of a round trip. */
export interface Execution {
  time: number;
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
  quantity: number;
  /** `market`, `limit`, `stop`...: slippage is reported per order type. */
  orderType?: string;
  /** Why it happened: `entry`, or the round trip's exit reason (`stop_loss`, `roi`, ...). */
  reason?: string;
  /** Fee in quote currency. */
  fee?: number;
}

/** How far two executions may differ and still count as the same. */
export interface DivergenceTolerance {
  /** Time difference allowed, in ms. */
  timeMs: number;
  /** Price difference allowed, in basis points of the expected price. */
  priceBps: number;
  /** Quantity difference allowed, as a fraction of the expected quantity. */
  quantityRatio: number;
  /** P&L difference allowed over the whole period, in quote currency. */
  pnl: number;
}

/**
 * The tolerance of "the same run": only floating-point representation on prices and quantities, and the venue's
 * rounding of amounts to 8 decimals on P&L. Anything beyond is a divergence.
 */
export const EXACT_TOLERANCE: DivergenceTolerance = { timeMs: 0, priceBps: 1e-6, quantityRatio: 1e-9, pnl: 1e-6 };

/** A matched pair of executions and how they differ. */
export interface ExecutionDiff {
  expected: Execution;
  actual: Execution;
  /** actual - expected, ms. */
  timeDiffMs: number;
  /** actual - expected, in price. */
  priceDiff: number;
  /** Slippage of the actual fill against the expected one, bp: positive when the trader got the worse price. */
  slippageBps: number;
  /** actual - expected. */
  quantityDiff: number;
  reasonDiffers: boolean;
  withinTolerance: boolean;
}

/** Slippage of the actual fills against the expected ones, by order type. */
export interface SlippageStats {
  count: number;
  meanBps: number;
  maxBps: number;
}

/** Everything a comparison finds, and its verdict. */
export interface DivergenceReport {
  verdict: 'match' | 'diverged';
  tolerance: DivergenceTolerance;
  expectedCount: number;
  actualCount: number;
  matched: ExecutionDiff[];
  /** Expected executions that did not happen. */
  missed: Execution[];
  /** Executions that happened but were not expected. */
  extra: Execution[];
  slippageByOrderType: Record<string, SlippageStats>;
  pnl: { expected: number; actual: number; difference: number };
  /** One sentence per difference beyond the tolerance, naming it (empty when the runs match). */
  differences: string[];
}

/** Options of `compareExecutions`. */
export interface CompareOptions {
  tolerance?: DivergenceTolerance;
  /** Largest time gap at which two executions of the same symbol and side can still be paired (default 1 h). */
  matchWindowMs?: number;
  /** P&L of each run; default: the cash flow of its executions (sells minus buys minus fees). */
  pnl?: { expected: number; actual: number };
}

/** The entry and exit of each round trip, as executions (the exit carries the exit reason). */
export function tradeExecutions(trades: readonly ClosedTrade[]): Execution[] {
  const out: Execution[] = [];
  for (const t of trades) {
    const long = t.side === 'long';
    out.push({
      time: t.entryTime,
      symbol: t.symbol,
      side: long ? 'buy' : 'sell',
      price: t.entryPrice,
      quantity: t.quantity,
      reason: 'entry',
    });
    out.push({
      time: t.exitTime,
      symbol: t.symbol,
      side: long ? 'sell' : 'buy',
      price: t.exitPrice,
      quantity: t.quantity,
      reason: t.exitReason,
    });
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Realised P&L of a list of round trips. */
export function tradesPnl(trades: readonly ClosedTrade[]): number {
  let p = 0;
  for (const t of trades) p += t.pnl;
  return p;
}

function cashFlow(xs: readonly Execution[]): number {
  let c = 0;
  for (const x of xs) c += (x.side === 'sell' ? 1 : -1) * x.price * x.quantity - (x.fee ?? 0);
  return c;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(10).replace(/\.?0+$/, ''));
const when = (t: number): string => new Date(t).toISOString();
const name = (x: Execution): string =>
  `${x.side} ${fmt(x.quantity)} ${x.symbol}${x.reason ? ` (${x.reason})` : ''} at ${fmt(x.price)} ${when(x.time)}`;

/**
 * Pairs expected with actual executions (same symbol and side, in time order, the nearest unpaired one within the
 * match window) and reports missed and extra executions, time, price, quantity and reason differences, slippage
 * by order type and the P&L difference, with a verdict against the tolerance.
 */
export function compareExecutions(
  expected: readonly Execution[],
  actual: readonly Execution[],
  opts: CompareOptions = {},
): DivergenceReport {
  const tol = opts.tolerance ?? EXACT_TOLERANCE;
  const window = opts.matchWindowMs ?? 3_600_000;
  const exp = [...expected].sort((a, b) => a.time - b.time);
  const act = [...actual].sort((a, b) => a.time - b.time);
  const used = new Uint8Array(act.length);
  const matched: ExecutionDiff[] = [];
  const missed: Execution[] = [];
  const differences: string[] = [];
  for (const e of exp) {
    let best = -1;
    for (let j = 0; j < act.length; j++) {
      const a = act[j];
      if (used[j] || a.symbol !== e.symbol || a.side !== e.side) continue;
      const gap = Math.abs(a.time - e.time);
      if (gap > window) continue;
      if (best < 0 || gap < Math.abs(act[best].time - e.time)) best = j;
    }
    if (best < 0) {
      missed.push(e);
      differences.push(`missed: expected ${name(e)} did not happen`);
      continue;
    }
    used[best] = 1;
    const a = act[best];
    const priceDiff = a.price - e.price;
    const slippageBps = e.price !== 0 ? ((e.side === 'buy' ? priceDiff : -priceDiff) / e.price) * 10_000 : 0;
    const quantityDiff = a.quantity - e.quantity;
    const timeDiffMs = a.time - e.time;
    const reasonDiffers = e.reason !== undefined && a.reason !== undefined && e.reason !== a.reason;
    const notes: string[] = [];
    if (Math.abs(timeDiffMs) > tol.timeMs) notes.push(`time ${timeDiffMs > 0 ? '+' : ''}${timeDiffMs} ms`);
    if (Math.abs(slippageBps) > tol.priceBps) {
      notes.push(
        `price ${fmt(a.price)} instead of ${fmt(e.price)} (${slippageBps > 0 ? '+' : ''}${fmt(slippageBps)} bp)`,
      );
    }
    if (Math.abs(quantityDiff) > tol.quantityRatio * Math.abs(e.quantity)) {
      notes.push(`quantity ${fmt(a.quantity)} instead of ${fmt(e.quantity)}`);
    }
    if (reasonDiffers) notes.push(`reason ${a.reason} instead of ${e.reason}`);
    if (notes.length > 0) differences.push(`${name(e)}: ${notes.join(', ')}`);
    matched.push({
      expected: e,
      actual: a,
      timeDiffMs,
      priceDiff,
      slippageBps,
      quantityDiff,
      reasonDiffers,
      withinTolerance: notes.length === 0,
    });
  }
  const extra = act.filter((_, j) => used[j] === 0);
  for (const a of extra) differences.push(`extra: ${name(a)} was not expected`);

  const slippageByOrderType: Record<string, SlippageStats> = {};
  for (const m of matched) {
    const type = m.actual.orderType ?? m.expected.orderType ?? 'unknown';
    const s = slippageByOrderType[type] ?? { count: 0, meanBps: 0, maxBps: 0 };
    s.meanBps = (s.meanBps * s.count + m.slippageBps) / (s.count + 1);
    s.count++;
    if (Math.abs(m.slippageBps) > Math.abs(s.maxBps)) s.maxBps = m.slippageBps;
    slippageByOrderType[type] = s;
  }
  const pe = opts.pnl?.expected ?? cashFlow(exp);
  const pa = opts.pnl?.actual ?? cashFlow(act);
  const pnl = { expected: pe, actual: pa, difference: pa - pe };
  if (Math.abs(pnl.difference) > tol.pnl) {
    differences.push(`P&L ${fmt(pa)} instead of ${fmt(pe)} (${pnl.difference > 0 ? '+' : ''}${fmt(pnl.difference)})`);
  }
  return {
    verdict: differences.length === 0 ? 'match' : 'diverged',
    tolerance: tol,
    expectedCount: exp.length,
    actualCount: act.length,
    matched,
    missed,
    extra,
    slippageByOrderType,
    pnl,
    differences,
  };
}
