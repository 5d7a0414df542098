import type { ClosedTrade } from '../../core/events.js';
import type { FillRecord } from '../../core/fill.js';
import type { ReportInput } from './types.js';

/**
 * Version of the JSON report layout; bumped when a field changes meaning or shape. 2: trades carry `grossPnl`,
 * `netPnl` and `netPnlPct` (percent, like every `Pct` field) instead of `pnl` and `pnlPct` (a ratio); `fills` and
 * `strategyStats` added.
 */
export const JSON_REPORT_VERSION = 2;

/** One fill as written to the JSON report. */
function fillJson(f: FillRecord): Record<string, unknown> {
  return {
    time: f.time,
    symbol: f.symbol,
    side: f.side,
    price: f.price,
    quantity: f.quantity,
    fee: f.fee,
    orderType: f.orderType,
    tag: f.tag,
    liquidity: f.liquidity,
  };
}

/** One trade as written to the JSON report: the field order, `entryTag` null when absent. */
function tradeJson(t: ClosedTrade): Record<string, unknown> {
  return {
    symbol: t.symbol,
    side: t.side,
    entryTime: t.entryTime,
    entryPrice: t.entryPrice,
    exitTime: t.exitTime,
    exitPrice: t.exitPrice,
    quantity: t.quantity,
    fees: t.fees,
    grossPnl: t.pnl + t.fees,
    netPnl: t.pnl,
    netPnlPct: t.pnlPct * 100,
    exitReason: t.exitReason,
    entryTag: t.entryTag ?? null,
    strategyId: t.strategyId,
  };
}

/** JSON has no NaN or Infinity: write null instead so every reader can parse the file. */
function finiteReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/**
 * The JSON report: `{ version, fingerprint, config, timing, metrics, trades, fills, equity, riskEvents,
 * strategyStats }`. Times are
 * epoch ms UTC. `equity` is two parallel arrays `{ time: number[], value: number[] }` (one entry per bar), half
 * the size of an array of objects on million-bar runs. Non-finite numbers are written as null.
 */
export function renderJson(result: ReportInput, indent = 2): string {
  const doc = {
    version: JSON_REPORT_VERSION,
    fingerprint: result.fingerprint,
    config: result.config ?? null,
    timing: result.timing ?? null,
    metrics: result.metrics,
    trades: result.trades.map(tradeJson),
    fills: (result.fillRecords ?? []).map(fillJson),
    equity: { time: Array.from(result.equity.time), value: Array.from(result.equity.value) },
    riskEvents: result.riskEvents ?? [],
    strategyStats: result.strategyStats ?? null,
  };
  return `${JSON.stringify(doc, finiteReplacer, indent)}\n`;
}
