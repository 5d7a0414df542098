import type { RiskConfig } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import type { ClosedTrade } from '../core/events.js';
import type { RiskActions, RiskView } from '../core/risk-port.js';
import type { RiskPublisher } from './publisher.js';
import { SlidingWindow } from './sliding-window.js';
import { fmt } from './rules.js';

/** The `risk.breakers` settings. */
export type BreakersConfig = NonNullable<RiskConfig['breakers']>;

/** Account-wide halts; each blocks every order that would increase exposure while active. */
export type GlobalHaltName =
  | 'KILL_SWITCH'
  | 'BREAKER_EMERGENCY'
  | 'HALTED'
  | 'BREAKER_MAX_DRAWDOWN'
  | 'BREAKER_DAILY_LOSS'
  | 'BREAKER_CONSECUTIVE_LOSSES';
/** Per-symbol locks. */
export type SymbolLockName = 'STOPLOSS_GUARD' | 'COOLDOWN';
/** Every breaker name (= the reason code of the orders it blocks). */
export type BreakerName = GlobalHaltName | SymbolLockName;

/** Checked in this order, so an order blocked by several halts reports the most severe. */
export const GLOBAL_HALTS: readonly GlobalHaltName[] = [
  'KILL_SWITCH',
  'BREAKER_EMERGENCY',
  'HALTED',
  'BREAKER_MAX_DRAWDOWN',
  'BREAKER_DAILY_LOSS',
  'BREAKER_CONSECUTIVE_LOSSES',
];
const SYMBOL_LOCKS: readonly SymbolLockName[] = ['STOPLOSS_GUARD', 'COOLDOWN'];

/** Every breaker a reset can name: the account halts, then the per-symbol locks. */
export const BREAKER_NAMES: readonly BreakerName[] = [...GLOBAL_HALTS, ...SYMBOL_LOCKS];

/** Whether a string names a breaker (`tradeforge risk reset NAME`). */
export function isBreakerName(s: string): s is BreakerName {
  return (BREAKER_NAMES as readonly string[]).includes(s);
}

/** Exit reasons that count as stop-outs for the stop-loss guard. */
export const STOP_EXIT_REASONS: ReadonlySet<string> = new Set([
  'stop_loss',
  'stoploss',
  'trailing_stop',
  'trailing_stop_loss',
  'stop',
]);

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** The daily-loss halt lasts 24 h from the trip (so it always ends in a later UTC day). */
export const DAILY_LOSS_HALT_MS = DAY_MS;

/** One active halt. `until` is Infinity for "until an explicit reset". */
export class Halt {
  since = 0;
  until = Number.NEGATIVE_INFINITY;
  detail = '';
  constructor(readonly name: GlobalHaltName) {}
  /** True while the halt blocks at `now`. */
  active(now: number): boolean {
    return now < this.until;
  }
}

/** A breaker trip as kept for the backtest result and published as `breaker.tripped.v1`. */
export interface BreakerTrip {
  time: number;
  breaker: BreakerName;
  symbol?: string;
  detail: string;
  /** The numbers that tripped it. */
  values: Record<string, number>;
  /** When the block ends by itself; undefined = until an explicit reset. */
  until?: number;
}

/** A recorded reset (`breaker.reset.v1`). */
export interface BreakerReset {
  time: number;
  breaker: string;
  actor: string;
}

/** Serialisable breaker state (getState/restore), so a restart keeps a halt. `null` until = until reset. */
export interface BreakerState {
  version: 1;
  halts: Partial<Record<GlobalHaltName, { since: number; until: number | null; detail: string }>>;
  killSwitch: { at: number; actor: string; reason: string } | null;
  locks: Record<SymbolLockName, Record<string, number>>;
  day: number | null;
  dayStartEquity: number | null;
  lastEquity: number | null;
  peakEquity: number | null;
  consecutiveLosses: number;
  stopOuts: Record<string, number[]>;
}

const untilOut = (u: number): number | undefined => (u === Number.POSITIVE_INFINITY ? undefined : u);

/**
 * Circuit breakers (RISK-4) and kill-switch state (RISK-6): daily loss, emergency loss, max drawdown,
 * consecutive losses, and per-symbol stop-loss guard and cooldown. Evaluated after every fill, closed trade and
 * equity update; checks read the state without allocating.
 */
export class BreakerBoard {
  readonly halts: Record<GlobalHaltName, Halt>;
  private readonly haltList: Halt[];
  readonly locks: Record<SymbolLockName, Map<string, number>> = { STOPLOSS_GUARD: new Map(), COOLDOWN: new Map() };
  readonly trips: BreakerTrip[] = [];
  readonly resets: BreakerReset[] = [];
  killSwitchInfo: { at: number; actor: string; reason: string } | null = null;
  private day = Number.NaN;
  private dayStartEquity = Number.NaN;
  private lastEquity = Number.NaN;
  private peakEquity = Number.NaN;
  private consecutiveLosses = 0;
  private readonly stopOuts = new Map<string, SlidingWindow>();
  private actions: RiskActions | undefined;
  /** Bumped whenever persisted state changes (baselines, trips, loss counts), so an owner can save it. */
  changes = 0;

  constructor(
    private cfg: BreakersConfig,
    private readonly publish: RiskPublisher,
  ) {
    this.halts = {} as Record<GlobalHaltName, Halt>;
    for (const n of GLOBAL_HALTS) this.halts[n] = new Halt(n);
    this.haltList = GLOBAL_HALTS.map((n) => this.halts[n]);
  }

  /** The thresholds the board judges by. */
  get config(): BreakersConfig {
    return this.cfg;
  }

  /** New thresholds (risk preferences edited while running); trips, baselines and loss counts are kept. */
  setConfig(config: BreakersConfig): void {
    this.cfg = config;
  }

  /** Whether equity updates are needed (any equity-based breaker configured). */
  get wantsEquity(): boolean {
    const c = this.config;
    return c.dailyLoss !== undefined || c.emergencyLoss !== undefined || c.maxDrawdown !== undefined;
  }

  /** Gives the board the kernel's actions (emergency flatten, kill switch). */
  attach(actions: RiskActions): void {
    this.actions = actions;
  }

  /** The most severe active halt at `now`, or null. Allocates nothing. */
  activeHalt(now: number): Halt | null {
    const list = this.haltList;
    for (let i = 0; i < list.length; i++) if (now < list[i].until) return list[i];
    return null;
  }

  /** The active lock of a symbol at `now` (stop-loss guard first), or null. Allocates nothing. */
  activeLock(symbol: string, now: number): SymbolLockName | null {
    const g = this.locks.STOPLOSS_GUARD;
    if (g.size > 0) {
      const u = g.get(symbol);
      if (u !== undefined && now < u) return 'STOPLOSS_GUARD';
    }
    const c = this.locks.COOLDOWN;
    if (c.size > 0) {
      const u = c.get(symbol);
      if (u !== undefined && now < u) return 'COOLDOWN';
    }
    return null;
  }

  /** Evaluates the equity breakers against the view's equity at its time. */
  onEquity(view: RiskView): void {
    const now = view.now();
    const equity = view.equity();
    if (!Number.isFinite(equity)) return;
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day) {
      // Start-of-day equity is the last equity seen before the UTC day changed (yesterday's close).
      this.dayStartEquity = Number.isNaN(this.lastEquity) ? equity : this.lastEquity;
      this.day = day;
      this.changes++;
    }
    this.lastEquity = equity;
    if (!(equity <= this.peakEquity)) {
      this.peakEquity = equity;
      this.changes++;
    }
    const c = this.config;
    const start = this.dayStartEquity;
    const dayLoss = start > 0 ? (start - equity) / start : 0;
    if (c.emergencyLoss !== undefined && dayLoss >= c.emergencyLoss && !this.halts.BREAKER_EMERGENCY.active(now)) {
      this.tripHalt(
        'BREAKER_EMERGENCY',
        now,
        Number.POSITIVE_INFINITY,
        `equity ${fmt(equity)} is down ${fmt(dayLoss * 100)}% from start-of-day ${fmt(start)} (emergency level ${fmt(c.emergencyLoss * 100)}%): flattening everything`,
        { equity, startOfDayEquity: start, loss: dayLoss, limit: c.emergencyLoss },
      );
      // The reason is the breaker's code: the kernel gives the closing trades that exit reason.
      this.actions?.cancelAllOrders('BREAKER_EMERGENCY');
      this.actions?.flattenAll('BREAKER_EMERGENCY');
    }
    if (c.dailyLoss !== undefined && dayLoss >= c.dailyLoss && !this.halts.BREAKER_DAILY_LOSS.active(now)) {
      this.tripHalt(
        'BREAKER_DAILY_LOSS',
        now,
        now + DAILY_LOSS_HALT_MS,
        `equity ${fmt(equity)} is down ${fmt(dayLoss * 100)}% from start-of-day ${fmt(start)} (limit ${fmt(c.dailyLoss * 100)}%): new entries halted for 24 h`,
        { equity, startOfDayEquity: start, loss: dayLoss, limit: c.dailyLoss },
      );
    }
    const peak = this.peakEquity;
    const dd = peak > 0 ? (peak - equity) / peak : 0;
    if (c.maxDrawdown !== undefined && dd >= c.maxDrawdown && !this.halts.BREAKER_MAX_DRAWDOWN.active(now)) {
      this.tripHalt(
        'BREAKER_MAX_DRAWDOWN',
        now,
        Number.POSITIVE_INFINITY,
        `drawdown ${fmt(dd * 100)}% from peak equity ${fmt(peak)} to ${fmt(equity)} reached maxDrawdown ${fmt(c.maxDrawdown * 100)}%`,
        { equity, peakEquity: peak, drawdown: dd, limit: c.maxDrawdown },
      );
    }
  }

  /** Consecutive losses, stop-loss guard and cooldown after one closed trade. */
  onTradeClosed(trade: ClosedTrade, now: number): void {
    const c = this.config;
    this.changes++;
    const t = Number.isFinite(trade.exitTime) ? trade.exitTime : now;
    if (c.consecutiveLosses !== undefined) {
      if (trade.pnl < 0) this.consecutiveLosses++;
      else this.consecutiveLosses = 0;
      if (this.consecutiveLosses >= c.consecutiveLosses) {
        const n = this.consecutiveLosses;
        this.consecutiveLosses = 0;
        const cd = c.consecutiveLossesCooldownMinutes;
        if (!this.halts.BREAKER_CONSECUTIVE_LOSSES.active(t)) {
          this.tripHalt(
            'BREAKER_CONSECUTIVE_LOSSES',
            t,
            cd === undefined ? Number.POSITIVE_INFINITY : t + cd * MINUTE_MS,
            `${n} losing trades in a row (limit ${c.consecutiveLosses}), last ${trade.symbol} pnl ${fmt(trade.pnl)}`,
            { losses: n, limit: c.consecutiveLosses, lastPnl: trade.pnl },
          );
        }
      }
    }
    const guard = c.stoplossGuard;
    if (guard !== undefined && STOP_EXIT_REASONS.has(trade.exitReason)) {
      let ring = this.stopOuts.get(trade.symbol);
      if (ring === undefined) this.stopOuts.set(trade.symbol, (ring = new SlidingWindow(guard.trades)));
      ring.push(t);
      const lookback = guard.lookbackMinutes * MINUTE_MS;
      if (ring.isFull(t, lookback, guard.trades)) {
        ring.clear();
        this.tripLock(
          'STOPLOSS_GUARD',
          trade.symbol,
          t,
          t + guard.lockMinutes * MINUTE_MS,
          `${trade.symbol}: ${guard.trades} stop-outs within ${fmt(guard.lookbackMinutes)} min, locked for ${fmt(guard.lockMinutes)} min`,
          { stopOuts: guard.trades, lookbackMinutes: guard.lookbackMinutes, lockMinutes: guard.lockMinutes },
        );
      }
    }
    if (c.cooldownMinutes !== undefined && c.cooldownMinutes > 0) {
      this.tripLock(
        'COOLDOWN',
        trade.symbol,
        t,
        t + c.cooldownMinutes * MINUTE_MS,
        `${trade.symbol}: cooldown of ${fmt(c.cooldownMinutes)} min after an exit (${trade.exitReason})`,
        { cooldownMinutes: c.cooldownMinutes, pnl: trade.pnl },
      );
    }
  }

  /** Manual halt (HALTED) until `until` or an explicit reset. */
  halt(actor: string, reason: string, now: number, until = Number.POSITIVE_INFINITY): void {
    this.tripHalt('HALTED', now, until, `halted by ${actor}: ${reason}`, {});
  }

  /** Engages the kill switch: blocks new exposure, cancels every order and flattens every position. */
  killSwitch(actor: string, reason: string, now: number): void {
    this.killSwitchInfo = { at: now, actor, reason };
    const h = this.halts.KILL_SWITCH;
    h.since = now;
    h.until = Number.POSITIVE_INFINITY;
    h.detail = `kill switch engaged by ${actor}: ${reason}`;
    this.publish('killswitch.triggered.v1', { actor, reason }, now);
    this.actions?.cancelAllOrders(`kill switch: ${reason}`);
    this.actions?.flattenAll(`kill switch: ${reason}`);
  }

  /** Clears the kill switch; returns false when it was not engaged. */
  recover(actor: string, now: number): boolean {
    const h = this.halts.KILL_SWITCH;
    if (!h.active(now)) return false;
    h.until = Number.NEGATIVE_INFINITY;
    this.killSwitchInfo = null;
    this.resets.push({ time: now, breaker: 'KILL_SWITCH', actor });
    this.publish('killswitch.recovered.v1', { actor }, now);
    return true;
  }

  /**
   * Clears a breaker by explicit action and records who did it. `symbol` limits a per-symbol lock reset to one
   * symbol. Equity baselines are rebased so the same loss does not trip again at the next update.
   * Returns false when nothing was active.
   */
  reset(breaker: BreakerName, actor: string, now: number, symbol?: string): boolean {
    if (breaker === 'KILL_SWITCH') return this.recover(actor, now);
    let cleared = false;
    if (breaker === 'STOPLOSS_GUARD' || breaker === 'COOLDOWN') {
      const map = this.locks[breaker];
      if (symbol !== undefined) {
        cleared = map.delete(symbol);
        if (breaker === 'STOPLOSS_GUARD') this.stopOuts.get(symbol)?.clear();
      } else {
        cleared = map.size > 0;
        map.clear();
        if (breaker === 'STOPLOSS_GUARD') this.stopOuts.clear();
      }
    } else if (breaker in this.halts) {
      const h = this.halts[breaker];
      cleared = h.active(now);
      h.until = Number.NEGATIVE_INFINITY;
      if (breaker === 'BREAKER_DAILY_LOSS' || breaker === 'BREAKER_EMERGENCY') this.dayStartEquity = this.lastEquity;
      if (breaker === 'BREAKER_MAX_DRAWDOWN') this.peakEquity = this.lastEquity;
      if (breaker === 'BREAKER_CONSECUTIVE_LOSSES') this.consecutiveLosses = 0;
    } else {
      throw new ValidationError(`unknown breaker "${breaker}"`, 'breaker');
    }
    const name = symbol === undefined ? breaker : `${breaker}:${symbol}`;
    this.resets.push({ time: now, breaker: name, actor });
    this.publish('breaker.reset.v1', { breaker: name, actor }, now);
    return cleared;
  }

  /** Active halts and locks at `now`, for status displays. */
  status(now: number): { breaker: BreakerName; symbol?: string; since?: number; until?: number; detail?: string }[] {
    const out: { breaker: BreakerName; symbol?: string; since?: number; until?: number; detail?: string }[] = [];
    for (const h of this.haltList) {
      if (h.active(now)) out.push({ breaker: h.name, since: h.since, until: untilOut(h.until), detail: h.detail });
    }
    for (const name of SYMBOL_LOCKS) {
      for (const [symbol, until] of this.locks[name]) if (now < until) out.push({ breaker: name, symbol, until });
    }
    return out;
  }

  /** A JSON-serialisable snapshot of every halt, lock and baseline. */
  getState(): BreakerState {
    const halts: BreakerState['halts'] = {};
    for (const h of this.haltList) {
      if (h.until !== Number.NEGATIVE_INFINITY) {
        halts[h.name] = {
          since: h.since,
          until: h.until === Number.POSITIVE_INFINITY ? null : h.until,
          detail: h.detail,
        };
      }
    }
    const num = (n: number): number | null => (Number.isFinite(n) ? n : null);
    const stopOuts: Record<string, number[]> = {};
    for (const [s, ring] of this.stopOuts) stopOuts[s] = ring.toArray();
    return {
      version: 1,
      halts,
      killSwitch: this.killSwitchInfo ? { ...this.killSwitchInfo } : null,
      locks: {
        STOPLOSS_GUARD: Object.fromEntries(this.locks.STOPLOSS_GUARD),
        COOLDOWN: Object.fromEntries(this.locks.COOLDOWN),
      },
      day: num(this.day),
      dayStartEquity: num(this.dayStartEquity),
      lastEquity: num(this.lastEquity),
      peakEquity: num(this.peakEquity),
      consecutiveLosses: this.consecutiveLosses,
      stopOuts,
    };
  }

  /** Restores a snapshot from getState (replaces the current state). */
  restore(state: BreakerState): void {
    if (state?.version !== 1) throw new ValidationError('risk breaker state: unsupported version', 'version');
    for (const h of this.haltList) {
      const s = state.halts[h.name];
      h.since = s?.since ?? 0;
      h.until = s === undefined ? Number.NEGATIVE_INFINITY : s.until === null ? Number.POSITIVE_INFINITY : s.until;
      h.detail = s?.detail ?? '';
    }
    this.killSwitchInfo = state.killSwitch ? { ...state.killSwitch } : null;
    for (const name of SYMBOL_LOCKS) {
      this.locks[name].clear();
      for (const [sym, until] of Object.entries(state.locks?.[name] ?? {})) this.locks[name].set(sym, until);
    }
    const nan = (n: number | null | undefined): number => (n === null || n === undefined ? Number.NaN : n);
    this.day = nan(state.day);
    this.dayStartEquity = nan(state.dayStartEquity);
    this.lastEquity = nan(state.lastEquity);
    this.peakEquity = nan(state.peakEquity);
    this.consecutiveLosses = state.consecutiveLosses ?? 0;
    this.stopOuts.clear();
    const cap = this.config.stoplossGuard?.trades;
    if (cap !== undefined) {
      for (const [sym, times] of Object.entries(state.stopOuts ?? {})) {
        const ring = new SlidingWindow(cap);
        for (const t of times) ring.push(t);
        this.stopOuts.set(sym, ring);
      }
    }
  }

  private tripHalt(name: GlobalHaltName, now: number, until: number, detail: string, values: Record<string, number>) {
    const h = this.halts[name];
    h.since = now;
    h.until = until;
    h.detail = detail;
    this.record({ time: now, breaker: name, detail, values, until: untilOut(until) });
  }

  private tripLock(
    name: SymbolLockName,
    symbol: string,
    now: number,
    until: number,
    detail: string,
    values: Record<string, number>,
  ) {
    const map = this.locks[name];
    const prev = map.get(symbol);
    if (prev === undefined || prev < until) map.set(symbol, until);
    this.record({ time: now, breaker: name, symbol, detail, values, until });
  }

  private record(trip: BreakerTrip): void {
    this.changes++;
    this.trips.push(trip);
    const payload: { breaker: string; detail: string; values: Record<string, number>; until?: number } = {
      breaker: trip.breaker,
      detail: trip.detail,
      values: trip.values,
    };
    if (trip.until !== undefined) payload.until = trip.until;
    this.publish('breaker.tripped.v1', payload, trip.time);
  }
}
