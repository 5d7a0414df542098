import type { StatValue } from '../strategy/types.js';
import type { BacktestResult } from './runner.js';

function pct(x: number | null): string {
  return x === null ? '-' : `${x.toFixed(2)}%`;
}

function money(x: number): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function day(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T00:00:00.000Z', '').replace('.000Z', 'Z');
}

function statText(v: StatValue): string {
  if (v === null) return '-';
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(Math.abs(v) >= 100 ? 2 : 4);
}

/** The human summary of a run, as the CLI prints it (aligned two-column table). */
export function formatSummary(r: BacktestResult): string {
  const m = r.metrics;
  const params = Object.entries(r.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const byReason = m.byExitReason.map((x) => `${x.exitReason} ${x.trades}`).join(', ');
  const rows: [string, string][] = [
    ['strategy', `${r.strategy}${params ? ` (${params})` : ''}`],
    ['data', `${r.symbols.join(', ')} ${r.timeframe}, ${day(m.startTime)} .. ${day(m.endTime)}, ${r.timing.bars} bars`],
    ['initial cash', money(m.initialCash)],
    ['final equity', money(m.finalEquity)],
    ['total return', pct(m.totalReturnPct)],
    ['net P&L', `${money(m.netPnl)} (after fees; gross before fees ${money(m.grossPnl)})`],
    ['CAGR', pct(m.cagrPct)],
    ['buy and hold', pct(m.benchmarkReturnPct)],
    ['max drawdown', `${pct(m.maxDrawdownPct)} (${money(m.maxDrawdownAbs)})`],
    [
      'sharpe / sortino',
      `${m.sharpe === null ? '-' : m.sharpe.toFixed(2)} / ${m.sortino === null ? '-' : m.sortino.toFixed(2)}`,
    ],
    [
      'trades',
      `${m.trades} (win rate ${pct(m.winRatePct)}, profit factor ${m.profitFactor === null ? '-' : m.profitFactor.toFixed(2)})`,
    ],
    ['exit reasons', byReason || '-'],
    ['exposure', pct(m.exposurePct)],
    ['fees', money(m.totalFees)],
    ['fills', String(r.fillRecords.length)],
    [
      'annualised by',
      `${Math.round(m.barsPerYear).toLocaleString('en-US')} bars/year (${m.annualisationBasis ?? 'given'})`,
    ],
    ['risk events', String(r.riskEvents.length)],
    ['fingerprint', r.fingerprint],
    [
      'timing',
      `load ${r.timing.loadMs.toFixed(0)} ms, run ${r.timing.runMs.toFixed(1)} ms, ${Math.round(r.timing.barsPerSecond).toLocaleString('en-US')} bars/s`,
    ],
  ];
  const d = r.ledgerDivergence;
  if (d !== undefined) {
    // The double ledger parted from the exact one by half a cent or more: both are shown (docs/money.md).
    rows.push([
      'ledger divergence',
      `${money(d.largest)}: cash ${d.cash.double} (exact ${d.cash.exact}), realised P&L ${d.realizedPnl.double} (exact ${d.realizedPnl.exact}), fees ${d.fees.double} (exact ${d.fees.exact})`,
    ]);
  }
  for (const [label, value] of Object.entries(r.strategyStats?.summary ?? {})) rows.push([label, statText(value)]);
  if (r.strategyErrors.length > 0) {
    const e = r.strategyErrors[0];
    rows.push(['strategy error', `${day(e.time)} in ${e.hook}: ${e.message} (strategy stopped)`]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}
