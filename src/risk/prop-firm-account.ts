import { ValidationError } from '../core/errors.js';
import type { PropFirmParams } from './prop-firm-rules.js';
import { TradingCalendar } from './trading-day.js';

/** Which limit a breach hit. */
export type PropFirmLimit = 'dailyLoss' | 'maxLoss';

/** A limit reached: the account fails (`account`) or only the rest of the trading day is halted (`day`). */
export interface PropFirmBreach {
  limit: PropFirmLimit;
  scope: 'day' | 'account';
  time: number;
  day: string;
  equity: number;
  floor: number;
  detail: string;
}

/** One trading day's figures (for the day-by-day report and the best-day rule). */
export interface PropFirmDay {
  day: string;
  startBalance: number;
  endBalance: number;
  /** Realised P&L of the day (trades attributed to the day they closed). */
  pnl: number;
  dailyFloor: number | null;
  maxLossFloor: number;
  lowestEquity: number;
  traded: boolean;
  breaches: PropFirmBreach[];
}

/** Distance from the current equity to one limit. */
export interface LimitDistance {
  limit: PropFirmLimit;
  floor: number;
  /** equity − floor (≤ 0 = reached). */
  distance: number;
  /** distance over the limit's amount (1 = untouched, 0 = at the floor). */
  remainingShare: number;
  /** Max loss only: the floor has reached its lock level and no longer trails. */
  locked?: boolean;
}

/** The account's standing against every rule: the figures behind `status` and the CLI. */
export interface PropFirmStatus {
  day: string;
  dayStartsAt: number;
  dayEndsAt: number;
  balance: number;
  equity: number;
  /** active | day-halted (daily loss, soft) | breached (account failed) | passed (every objective met). */
  state: 'active' | 'day-halted' | 'breached' | 'passed';
  limits: LimitDistance[];
  profitTarget: { target: number; profit: number; remaining: number; reached: boolean } | null;
  tradingDays: { count: number; required: number; met: boolean };
  consistency: { bestDay: number; basis: number; share: number; max: number; met: boolean } | null;
  breaches: PropFirmBreach[];
}

/** Serialisable state (getState/restore) so a restart keeps the floors, the day and any breach. */
export interface PropFirmAccountState {
  version: 1;
  day: string | null;
  balance: number;
  equity: number;
  dayStartBalance: number;
  dailyAnchor: number;
  highEodBalance: number;
  peakEquity: number;
  maxLossFloor: number;
  days: PropFirmDay[];
  breaches: PropFirmBreach[];
}

/**
 * The bookkeeping of one prop-firm account (RISK-7), free of I/O: feed it equity marks, closed-trade P&L and
 * fills in time order; it keeps the trading day in the firm's zone, the daily-loss and maximum-loss floors
 * (static, end-of-day trailing or intraday trailing, with lock levels), and reports breaches as they happen.
 */
export class PropFirmAccount {
  readonly calendar: TradingCalendar;
  private day: string | null = null;
  private balance: number;
  private equity: number;
  private dayStartBalance: number;
  private dailyAnchor: number;
  private highEodBalance: number;
  private peakEquity: number;
  private maxLossFloor: number;
  private readonly days: PropFirmDay[] = [];
  private readonly breachList: PropFirmBreach[] = [];
  /** Moves whenever the state worth saving changes (a new day, a floor, a breach, the balance). */
  changes = 0;

  constructor(readonly params: PropFirmParams) {
    if (!(params.initialBalance > 0)) throw new ValidationError('initialBalance must be positive', 'initialBalance');
    this.calendar = new TradingCalendar(params.dayBoundary);
    const b = params.initialBalance;
    this.balance = b;
    this.equity = b;
    this.dayStartBalance = b;
    this.dailyAnchor = b;
    this.highEodBalance = b;
    this.peakEquity = b;
    this.maxLossFloor = this.trailFloor(b);
  }

  /** The current balance (initial + realised P&L). */
  get currentBalance(): number {
    return this.balance;
  }

  /** Every breach so far, oldest first. */
  get breaches(): readonly PropFirmBreach[] {
    return this.breachList;
  }

  /** Whether a breach failed the account (no new exposure until an explicit reset). */
  get failed(): boolean {
    return this.breachList.some((b) => b.scope === 'account');
  }

  /** The trading days seen so far. */
  get history(): readonly PropFirmDay[] {
    return this.days;
  }

  /** The daily-loss floor of the current day, or null when the rule set has none. */
  get dailyFloor(): number | null {
    const d = this.params.dailyLoss;
    return d === undefined ? null : this.dailyAnchor - d.amount;
  }

  /** The maximum-loss floor now. */
  get maxFloor(): number {
    return this.maxLossFloor;
  }

  /** Whether the daily-loss limit halted the trading day containing `now`. */
  dayHalted(now: number): boolean {
    const day = this.calendar.dayOf(now);
    const cur = this.days.at(-1);
    return cur !== undefined && cur.day === day && cur.breaches.some((b) => b.scope === 'day');
  }

  /**
   * An equity mark at `time`. Rolls the trading day when the boundary passed (yesterday's closing balance
   * becomes today's anchor; end-of-day trailing floors move), raises an intraday trailing floor, and returns the
   * breaches this mark caused (each limit breaches at most once per day, the maximum loss once for good).
   */
  mark(time: number, equity: number): PropFirmBreach[] {
    if (!Number.isFinite(equity)) return [];
    this.roll(time);
    this.equity = equity;
    const today = this.days[this.days.length - 1];
    if (equity < today.lowestEquity) today.lowestEquity = equity;
    const ml = this.params.maxLoss;
    if (ml.trailing === 'intraday-equity' && equity > this.peakEquity) {
      this.peakEquity = equity;
      const floor = Math.max(this.maxLossFloor, this.trailFloor(equity));
      if (floor !== this.maxLossFloor) this.changes++;
      this.maxLossFloor = floor;
      today.maxLossFloor = this.maxLossFloor;
    }
    const out: PropFirmBreach[] = [];
    const daily = this.dailyFloor;
    const dl = this.params.dailyLoss;
    if (dl !== undefined && daily !== null && equity <= daily && !today.breaches.some((b) => b.limit === 'dailyLoss')) {
      out.push(
        this.breach(
          today,
          'dailyLoss',
          dl.breach,
          time,
          equity,
          daily,
          `equity ${r2(equity)} reached the daily loss floor ${r2(daily)} (${r2(this.dailyAnchor)} − ${r2(dl.amount)})`,
        ),
      );
    }
    if (equity <= this.maxLossFloor && !this.breachList.some((b) => b.limit === 'maxLoss')) {
      out.push(
        this.breach(
          today,
          'maxLoss',
          'account',
          time,
          equity,
          this.maxLossFloor,
          `equity ${r2(equity)} reached the maximum loss floor ${r2(this.maxLossFloor)}`,
        ),
      );
    }
    return out;
  }

  /** A closed trade's net P&L at its exit time (moves the balance; the equity mark should follow). */
  recordPnl(time: number, pnl: number): void {
    if (!Number.isFinite(pnl)) throw new ValidationError(`trade P&L must be a number, got ${pnl}`, 'pnl');
    this.roll(time);
    this.balance += pnl;
    this.changes++;
    const today = this.days[this.days.length - 1];
    today.pnl += pnl;
    today.endBalance = this.balance;
    today.traded = true;
  }

  /** A fill at `time`: the day counts as a trading day. */
  recordFill(time: number): void {
    this.roll(time);
    const today = this.days[this.days.length - 1];
    if (!today.traded) this.changes++;
    today.traded = true;
  }

  /** The standing at `now` against every rule. */
  status(now: number): PropFirmStatus {
    this.roll(now);
    const p = this.params;
    const eq = this.equity;
    const limits: LimitDistance[] = [];
    const daily = this.dailyFloor;
    if (p.dailyLoss !== undefined && daily !== null) {
      limits.push({
        limit: 'dailyLoss',
        floor: daily,
        distance: eq - daily,
        remainingShare: (eq - daily) / p.dailyLoss.amount,
      });
    }
    const lock = p.maxLoss.lockAt;
    limits.push({
      limit: 'maxLoss',
      floor: this.maxLossFloor,
      distance: eq - this.maxLossFloor,
      remainingShare: (eq - this.maxLossFloor) / p.maxLoss.amount,
      ...(p.maxLoss.trailing !== 'none' ? { locked: lock !== undefined && this.maxLossFloor >= lock } : {}),
    });
    const profit = this.balance - p.initialBalance;
    const target =
      p.profitTarget === undefined
        ? null
        : {
            target: p.profitTarget,
            profit,
            remaining: Math.max(0, p.profitTarget - profit),
            reached: profit >= p.profitTarget,
          };
    const count = this.days.filter((d) => d.traded).length;
    const required = p.minTradingDays ?? 0;
    const consistency = this.consistency();
    const failed = this.failed;
    const passed =
      !failed && (target?.reached ?? false) && count >= required && (consistency === null || consistency.met);
    const day = this.calendar.dayOf(now);
    return {
      day,
      dayStartsAt: this.calendar.startOf(day),
      dayEndsAt: this.calendar.endOf(now),
      balance: this.balance,
      equity: eq,
      state: failed ? 'breached' : this.dayHalted(now) ? 'day-halted' : passed ? 'passed' : 'active',
      limits,
      profitTarget: target,
      tradingDays: { count, required, met: count >= required },
      consistency,
      breaches: [...this.breachList],
    };
  }

  /** JSON-serialisable state. */
  getState(): PropFirmAccountState {
    return {
      version: 1,
      day: this.day,
      balance: this.balance,
      equity: this.equity,
      dayStartBalance: this.dayStartBalance,
      dailyAnchor: this.dailyAnchor,
      highEodBalance: this.highEodBalance,
      peakEquity: this.peakEquity,
      maxLossFloor: this.maxLossFloor,
      days: this.days.map((d) => ({ ...d, breaches: [...d.breaches] })),
      breaches: [...this.breachList],
    };
  }

  /** Restores getState output. */
  restore(s: PropFirmAccountState): void {
    if (s?.version !== 1) throw new ValidationError('prop-firm state: unsupported version', 'version');
    this.day = s.day;
    this.balance = s.balance;
    this.equity = s.equity;
    this.dayStartBalance = s.dayStartBalance;
    this.dailyAnchor = s.dailyAnchor;
    this.highEodBalance = s.highEodBalance;
    this.peakEquity = s.peakEquity;
    this.maxLossFloor = s.maxLossFloor;
    this.days.length = 0;
    this.days.push(...s.days);
    this.breachList.length = 0;
    this.breachList.push(...s.breaches);
  }

  /** Clears an account-level breach by explicit decision (a new attempt on the same history). */
  clearBreaches(): void {
    this.breachList.length = 0;
    for (const d of this.days) d.breaches.length = 0;
  }

  private consistency(): PropFirmStatus['consistency'] {
    const c = this.params.consistency;
    if (c === undefined) return null;
    let best = 0;
    for (const d of this.days) if (d.pnl > best) best = d.pnl;
    const total = this.balance - this.params.initialBalance;
    const basis = c.of === 'profit-target' ? (this.params.profitTarget ?? total) : total;
    const share = basis > 0 ? best / basis : best > 0 ? Number.POSITIVE_INFINITY : 0;
    return { bestDay: best, basis, share, max: c.maxBestDayShare, met: basis > 0 && share <= c.maxBestDayShare };
  }

  // The floor a trailing high of `high` gives, capped at the lock level.
  private trailFloor(high: number): number {
    const ml = this.params.maxLoss;
    const f = (ml.trailing === 'none' ? this.params.initialBalance : high) - ml.amount;
    return ml.lockAt !== undefined ? Math.min(f, ml.lockAt) : f;
  }

  // Moves to the trading day of `time`, closing the days in between at the current balance and equity.
  private roll(time: number): void {
    const day = this.calendar.dayOf(time);
    if (day === this.day) return;
    if (this.day !== null && day < this.day) return; // a late mark of an earlier day changes nothing
    if (this.day !== null) {
      const b = this.balance;
      if (b > this.highEodBalance) this.highEodBalance = b;
      if (this.params.maxLoss.trailing === 'eod-balance') {
        this.maxLossFloor = Math.max(this.maxLossFloor, this.trailFloor(this.highEodBalance));
      }
      this.dayStartBalance = b;
      const dl = this.params.dailyLoss;
      this.dailyAnchor = dl?.anchor === 'max-balance-equity' ? Math.max(b, this.equity) : b;
    }
    this.day = day;
    this.changes++;
    this.days.push({
      day,
      startBalance: this.dayStartBalance,
      endBalance: this.balance,
      pnl: 0,
      dailyFloor: this.dailyFloor,
      maxLossFloor: this.maxLossFloor,
      lowestEquity: this.equity,
      traded: false,
      breaches: [],
    });
  }

  private breach(
    today: PropFirmDay,
    limit: PropFirmLimit,
    scope: 'day' | 'account',
    time: number,
    equity: number,
    floor: number,
    detail: string,
  ): PropFirmBreach {
    const b: PropFirmBreach = { limit, scope, time, day: today.day, equity, floor, detail };
    today.breaches.push(b);
    this.breachList.push(b);
    this.changes++;
    return b;
  }
}

const r2 = (n: number): string => String(Math.round(n * 100) / 100);
