import type { RiskLimitError } from '../core/errors.js';
import type { ClosedTrade } from '../core/events.js';
import type { Fill } from '../core/fill.js';
import type { RiskActions, RiskView } from '../core/risk-port.js';
import {
  PropFirmAccount,
  type PropFirmAccountState,
  type PropFirmBreach,
  type PropFirmStatus,
} from './prop-firm-account.js';
import type { ResolvedRuleSet } from './prop-firm-rules.js';
import { type CheckContext, fmt, type PreTradeRule, riskError } from './rules.js';

/** Options of a PropFirmRule beyond the rule set. */
export interface PropFirmRuleOptions {
  /**
   * New exposure is blocked while equity is within this share of a limit's amount above its floor (default 0.1:
   * with a $5 000 daily loss, no new entries once equity is $500 above the floor).
   */
  blockWithin?: number;
  /**
   * Worst adverse move assumed for a new order, as a fraction of its value: an order whose value × this exceeds
   * the room left to the nearest floor is refused. Unset: only `blockWithin` applies.
   */
  adverseMove?: number;
}

/** Reason code of orders refused because a prop-firm limit was reached (or is about to be). */
export const PROPFIRM_CODES = {
  dailyLoss: 'PROPFIRM_DAILY_LOSS',
  maxLoss: 'PROPFIRM_MAX_LOSS',
  buffer: 'PROPFIRM_BUFFER',
} as const;

/**
 * A prop-firm rule set (RISK-7) as a risk rule: it follows the account's equity, fills and closed trades, refuses
 * new exposure once the room to the nearest floor is within the buffer (or a daily/maximum loss was reached),
 * and at a floor cancels every order and flattens every position. Plugged in as one of the engine's `extraRules`.
 */
export class PropFirmRule implements PreTradeRule {
  readonly code = PROPFIRM_CODES.buffer;
  readonly key = 'propFirm';
  readonly needsPrice = false;
  readonly account: PropFirmAccount;
  readonly blockWithin: number;
  readonly adverseMove: number | undefined;
  private actions: RiskActions | undefined;

  constructor(
    readonly ruleSet: ResolvedRuleSet,
    opts: PropFirmRuleOptions = {},
  ) {
    this.account = new PropFirmAccount(ruleSet.params);
    this.blockWithin = opts.blockWithin ?? 0.1;
    this.adverseMove = opts.adverseMove;
  }

  check(c: CheckContext): RiskLimitError | null {
    const a = this.account;
    const breaches = a.mark(c.now, c.equity);
    if (breaches.length > 0) this.enforce(breaches);
    if (a.failed) {
      const b = a.breaches.find((x) => x.scope === 'account') as PropFirmBreach;
      return riskError(
        PROPFIRM_CODES[b.limit],
        `${this.ruleSet.label}: the account breached its ${b.limit === 'maxLoss' ? 'maximum loss' : 'daily loss'} (${b.detail}); only exposure-reducing orders pass until an explicit reset`,
        b.floor,
        b.equity,
      );
    }
    if (a.dayHalted(c.now)) {
      return riskError(
        PROPFIRM_CODES.dailyLoss,
        `${this.ruleSet.label}: daily loss reached; no new exposure until the trading day ends at ${new Date(a.calendar.endOf(c.now)).toISOString()}`,
        a.dailyFloor ?? undefined,
        c.equity,
      );
    }
    const p = a.params;
    const room = (floor: number | null, amount: number | undefined, limit: 'dailyLoss' | 'maxLoss') => {
      if (floor === null || amount === undefined) return null;
      const left = c.equity - floor;
      if (left <= this.blockWithin * amount) {
        return riskError(
          this.code,
          `${this.ruleSet.label}: equity ${fmt(c.equity)} is ${fmt(left)} above the ${limit === 'dailyLoss' ? 'daily loss' : 'maximum loss'} floor ${fmt(floor)}, within the ${fmt(this.blockWithin * 100)}% buffer: new exposure blocked`,
          floor + this.blockWithin * amount,
          c.equity,
        );
      }
      if (this.adverseMove !== undefined && c.orderNotional * this.adverseMove >= left) {
        return riskError(
          this.code,
          `${this.ruleSet.label}: a ${fmt(this.adverseMove * 100)}% move against the order (${fmt(c.orderNotional * this.adverseMove)}) would reach the ${limit === 'dailyLoss' ? 'daily loss' : 'maximum loss'} floor ${fmt(floor)} (room ${fmt(left)})`,
          left,
          c.orderNotional * this.adverseMove,
        );
      }
      return null;
    };
    return room(a.dailyFloor, p.dailyLoss?.amount, 'dailyLoss') ?? room(a.maxFloor, p.maxLoss.amount, 'maxLoss');
  }

  /** Equity update: rolls the day, moves trailing floors and flattens at a floor. */
  onEquity(view: RiskView, actions: RiskActions | undefined): void {
    if (actions) this.actions = actions;
    const breaches = this.account.mark(view.now(), view.equity());
    if (breaches.length > 0) this.enforce(breaches);
  }

  /** A fill makes its trading day count toward the minimum trading days. */
  onFill(fill: Fill): void {
    this.account.recordFill(fill.time);
  }

  /** A closed trade moves the balance (the end-of-day trailing floor and tomorrow's daily anchor read it). */
  onTradeClosed(trade: ClosedTrade, view: RiskView): void {
    this.account.recordPnl(Number.isFinite(trade.exitTime) ? trade.exitTime : view.now(), trade.pnl);
  }

  /** Moves whenever the bookkeeping changes in a way worth saving. */
  get changes(): number {
    return this.account.changes;
  }

  /** The bookkeeping as JSON (saved with the engine's state, so a restart keeps floors and breaches). */
  getState(): PropFirmAccountState & { ruleSet: string } {
    return { ruleSet: this.ruleSet.label, ...this.account.getState() };
  }

  /** Restores getState output; state saved under another rule set is ignored (the account starts afresh). */
  restore(state: unknown): void {
    const s = state as Partial<PropFirmAccountState & { ruleSet: string }> | null;
    if (s?.version !== 1 || s.ruleSet !== this.ruleSet.label) return;
    this.account.restore(s as PropFirmAccountState);
  }

  /** Distance to each limit, target progress, trading days and the best-day rule. */
  status(now: number): PropFirmStatus & { ruleSet: string } {
    return { ruleSet: this.ruleSet.label, ...this.account.status(now) };
  }

  private enforce(breaches: PropFirmBreach[]): void {
    const b = breaches[0];
    const reason = PROPFIRM_CODES[b.limit];
    this.actions?.cancelAllOrders(reason);
    this.actions?.flattenAll(reason);
  }
}

/** The prop-firm rule among an engine's extra rules, if one is configured. */
export function findPropFirmRule(rules: readonly PreTradeRule[]): PropFirmRule | undefined {
  return rules.find((r): r is PropFirmRule => r instanceof PropFirmRule);
}
