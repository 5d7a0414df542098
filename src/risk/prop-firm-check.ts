import type { PropFirmBreach, PropFirmDay, PropFirmStatus } from './prop-firm-account.js';
import { PropFirmAccount } from './prop-firm-account.js';
import type { ResolvedRuleSet } from './prop-firm-rules.js';

/** A closed trade as the check needs it: when it opened and closed and its net P&L. */
export interface HistoryTrade {
  entryTime?: number;
  exitTime: number;
  pnl: number;
}

/** An equity mark (open P&L included), e.g. a row of a backtest's equity.csv. */
export interface EquityMark {
  time: number;
  equity: number;
}

/** One trading day of the check: the day's figures and how each rule stood at its end. */
export interface CheckDay extends PropFirmDay {
  /** Profit over the initial balance at the day's end. */
  profit: number;
  /** Trading days counted up to and including this one. */
  tradingDays: number;
}

/** The outcome of replaying a history against a rule set. */
export interface PropFirmCheck {
  ruleSet: string;
  name: string;
  initialBalance: number;
  days: CheckDay[];
  breaches: PropFirmBreach[];
  final: PropFirmStatus;
  /** passed: every objective met, no breach; failed: an account-level breach; in-progress otherwise. */
  result: 'passed' | 'failed' | 'in-progress';
}

/**
 * Replays a trade history (and, when given, equity marks with open P&L) against a rule set, day by day in the
 * firm's zone. Without marks the equity is the closed balance, so intraday excursions of open trades are not
 * seen: the report says so.
 */
export function checkPropFirmHistory(
  set: ResolvedRuleSet,
  trades: readonly HistoryTrade[],
  marks: readonly EquityMark[] = [],
): PropFirmCheck {
  const a = new PropFirmAccount(set.params);
  type Ev = { t: number; k: 0 | 1 | 2; v: number };
  // At one instant: entries, then exits, then marks (a mark at the exit time sees the new balance).
  const evs: Ev[] = [];
  for (const tr of trades) {
    if (tr.entryTime !== undefined && Number.isFinite(tr.entryTime)) evs.push({ t: tr.entryTime, k: 0, v: 0 });
    evs.push({ t: tr.exitTime, k: 1, v: tr.pnl });
  }
  for (const m of marks) evs.push({ t: m.time, k: 2, v: m.equity });
  evs.sort((x, y) => x.t - y.t || x.k - y.k);
  const useMarks = marks.length > 0;
  let last = Number.NaN;
  for (const e of evs) {
    last = e.t;
    if (e.k === 0) a.recordFill(e.t);
    else if (e.k === 1) {
      a.recordFill(e.t);
      a.recordPnl(e.t, e.v);
      if (!useMarks) a.mark(e.t, a.currentBalance);
    } else a.mark(e.t, e.v);
  }
  const final = a.status(Number.isFinite(last) ? last : Date.now());
  let traded = 0;
  const days: CheckDay[] = a.history.map((d) => {
    if (d.traded) traded++;
    return { ...d, breaches: [...d.breaches], profit: d.endBalance - set.params.initialBalance, tradingDays: traded };
  });
  const result = final.state === 'breached' ? 'failed' : final.state === 'passed' ? 'passed' : 'in-progress';
  return {
    ruleSet: set.label,
    name: set.name,
    initialBalance: set.params.initialBalance,
    days,
    breaches: [...a.breaches],
    final,
    result,
  };
}

const money = (n: number | null): string => (n === null ? '-' : (Math.round(n * 100) / 100).toFixed(2));

/** The check as text: one line per trading day, then each objective. */
export function renderPropFirmCheck(c: PropFirmCheck, withMarks: boolean): string {
  const out: string[] = [];
  out.push(`${c.name} (${c.ruleSet}), initial balance ${money(c.initialBalance)}`);
  if (!withMarks) out.push('equity = closed balance (no equity marks given: open-trade excursions are not checked)');
  out.push('day         start       end         pnl        daily-floor  max-floor    low-equity  days  rules');
  for (const d of c.days) {
    const rules = d.breaches.length
      ? d.breaches.map((b) => `${b.limit === 'dailyLoss' ? 'DAILY LOSS' : 'MAX LOSS'} BREACHED (${b.scope})`).join(', ')
      : 'ok';
    out.push(
      [
        d.day,
        money(d.startBalance).padStart(11),
        money(d.endBalance).padStart(11),
        money(d.pnl).padStart(10),
        money(d.dailyFloor).padStart(12),
        money(d.maxLossFloor).padStart(12),
        money(d.lowestEquity).padStart(12),
        String(d.tradingDays).padStart(5),
        ` ${rules}`,
      ].join(' '),
    );
  }
  const f = c.final;
  if (f.profitTarget) {
    out.push(
      `profit target: ${money(f.profitTarget.profit)} of ${money(f.profitTarget.target)} ${f.profitTarget.reached ? 'REACHED' : `(${money(f.profitTarget.remaining)} to go)`}`,
    );
  }
  out.push(
    `trading days: ${f.tradingDays.count} of ${f.tradingDays.required} required ${f.tradingDays.met ? 'met' : 'NOT MET'}`,
  );
  if (f.consistency) {
    out.push(
      `best day: ${money(f.consistency.bestDay)} = ${(f.consistency.share * 100).toFixed(1)}% of ${money(f.consistency.basis)} (max ${(f.consistency.max * 100).toFixed(0)}%) ${f.consistency.met ? 'met' : 'NOT MET'}`,
    );
  }
  for (const l of f.limits) {
    out.push(
      `${l.limit === 'dailyLoss' ? 'daily loss' : 'max loss'} floor now ${money(l.floor)}, distance ${money(l.distance)}${l.locked ? ' (locked)' : ''}`,
    );
  }
  out.push(`result: ${c.result.toUpperCase()}`);
  return `${out.join('\n')}\n`;
}
