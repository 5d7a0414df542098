import type { RiskConfig } from '../core/config.js';
import { type RiskReasonCode, RiskLimitError } from '../core/errors.js';
import type { Instrument } from '../core/instrument.js';
import { type Exact, exact } from '../core/money.js';
import type { OrderIntent } from '../core/order.js';
import type { ClosedTrade } from '../core/events.js';
import type { Fill } from '../core/fill.js';
import type { RiskActions, RiskView } from '../core/risk-port.js';
import { SlidingWindow } from './sliding-window.js';

/**
 * The numbers every pre-trade rule reads, computed once per check into one reused object so that the accept
 * path allocates nothing. Notionals use the order's reference price: the limit price, else the stop price, else
 * the last price (market orders), times the instrument multiplier.
 */
export class CheckContext {
  intent!: OrderIntent;
  view!: RiskView;
  instrument!: Instrument;
  now = 0;
  /** Signed position before the order. */
  position = 0;
  /** Signed position if the order fills completely. */
  newPosition = 0;
  /** Reference price of the order. */
  price = Number.NaN;
  /** quantity x price x multiplier. */
  orderNotional = 0;
  /** |newPosition| x price x multiplier. */
  positionNotionalAfter = 0;
  /** (|newPosition| - |position|) x price x multiplier: the change in gross exposure. */
  deltaNotional = 0;
  equity = Number.NaN;

  /** The order's notional in exact decimals (docs/money.md): the limit checks' judge near a limit. */
  exactOrderNotional(): Exact {
    return exact(this.intent.quantity, 'order quantity')
      .mul(exact(this.price, 'order price'))
      .mul(exact(this.instrument.multiplier, 'multiplier'));
  }

  /** |position after the order| x price x multiplier in exact decimals. */
  exactPositionNotionalAfter(): Exact {
    const q = exact(this.intent.quantity, 'order quantity');
    const p = exact(this.position, 'position');
    const after = this.intent.side === 'buy' ? p.plus(q) : p.minus(q);
    return after.abs().mul(exact(this.price, 'order price')).mul(exact(this.instrument.multiplier, 'multiplier'));
  }
}

// Within this relative distance of a limit a double comparison can be wrong by float noise (0.1 x 3 x 100 is
// 30.000000000000004): there, and only there, the exact decimals decide, so the usual check allocates nothing.
const LIMIT_BAND = 1e-9;

/**
 * Whether `value` is above `limit`, decided exactly near the limit: `exactValue` (the same amount from the exact
 * decimals the value stands for) is computed only when the double is within LIMIT_BAND of the limit.
 */
export function exceedsLimit(
  value: number,
  limit: number,
  exactValue: (c: CheckContext) => Exact,
  c: CheckContext,
): boolean {
  const band = Math.abs(limit) * LIMIT_BAND;
  if (value < limit - band) return false;
  // NaN exceeds, as the plain double comparison always said.
  if (!(value <= limit + band)) return true;
  return exactValue(c).gt(exact(limit, 'limit'));
}

const orderNotionalOf = (c: CheckContext): Exact => c.exactOrderNotional();
const positionNotionalAfterOf = (c: CheckContext): Exact => c.exactPositionNotionalAfter();
// The strategy's exposure is a reading of marked positions (a double); the order's part is exact.
const capitalAfterOf = (c: CheckContext): Exact =>
  exact(c.view.strategyExposure(c.intent.strategyId), 'strategy exposure').plus(c.exactOrderNotional());

/** One pre-trade rule with a stable reason code. `check` returns null to accept. */
export interface PreTradeRule {
  readonly code: RiskReasonCode;
  /** Config key that enables the rule (for docs and messages). */
  readonly key: string;
  /** Whether the rule values the order (needs a usable reference price). */
  readonly needsPrice: boolean;
  check(c: CheckContext): RiskLimitError | null;
  /** Called when the whole check accepted the order (stateful rules record it). */
  onAccept?(c: CheckContext): void;
  /** Account-following rules (prop-firm sets): every equity update, with the kernel's cancel/flatten actions. */
  onEquity?(view: RiskView, actions: RiskActions | undefined): void;
  /** Account-following rules: every fill. */
  onFill?(fill: Fill, view: RiskView): void;
  /** Account-following rules: every closed trade. */
  onTradeClosed?(trade: ClosedTrade, view: RiskView): void;
  /** Stateful rules: a counter that moves whenever `getState()` would return something worth saving. */
  readonly changes?: number;
  /** Stateful rules: JSON-serialisable state, saved with the engine's (keyed by `key`). */
  getState?(): unknown;
  /** Stateful rules: restores `getState` output after a restart. */
  restore?(state: unknown): void;
}

/**
 * Builds a rejection without capturing a stack trace: a rejection is a decision, not a bug, and stack capture
 * is most of the cost of the reject path.
 */
export function riskError(
  code: RiskReasonCode,
  detail: string,
  limit?: number | string,
  actual?: number | string,
  dryRun = false,
): RiskLimitError {
  const depth = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RiskLimitError(code, detail, limit, actual, dryRun);
  } finally {
    Error.stackTraceLimit = depth;
  }
}

/** Formats a number for a rejection message: at most 10 significant digits, no float noise. */
export function fmt(n: number): string {
  if (!Number.isFinite(n) || Number.isInteger(n)) return String(n);
  // Rounding by arithmetic is several times cheaper than toPrecision on the reject path.
  if (Math.abs(n) >= 1) return String(Math.round(n * 1e6) / 1e6);
  return String(Number(n.toPrecision(6)));
}

const what = (c: CheckContext): string =>
  `${c.intent.strategyId} ${c.intent.side} ${fmt(c.intent.quantity)} ${c.intent.symbol} @ ${fmt(c.price)}`;

// Ratios over equity: no positive equity means any new exposure is infinitely large.
const perEquity = (value: number, equity: number): number =>
  equity > 0 ? value / equity : value > 0 ? Number.POSITIVE_INFINITY : 0;

/** ORDER_RATE: accepted orders per sliding minute and second on the engine clock (RISK-5). */
export class OrderRateRule implements PreTradeRule {
  readonly code = 'ORDER_RATE';
  readonly needsPrice = false;
  readonly window: SlidingWindow;
  constructor(
    readonly perMinute: number,
    readonly perSecond: number,
    readonly key = 'orderRate',
    readonly scope = 'account',
  ) {
    this.window = new SlidingWindow(Math.max(perMinute, perSecond));
  }
  check(c: CheckContext): RiskLimitError | null {
    if (this.window.isFull(c.now, 1000, this.perSecond)) {
      return riskError(
        this.code,
        `${this.scope} order budget of ${this.perSecond}/s spent (${what(c)})`,
        this.perSecond,
        this.window.countWithin(c.now, 1000) + 1,
      );
    }
    if (this.window.isFull(c.now, 60_000, this.perMinute)) {
      return riskError(
        this.code,
        `${this.scope} order budget of ${this.perMinute}/min spent (${what(c)})`,
        this.perMinute,
        this.window.countWithin(c.now, 60_000) + 1,
      );
    }
    return null;
  }
  onAccept(c: CheckContext): void {
    this.window.push(c.now);
  }
}

/** MIN_NOTIONAL / MIN_QUANTITY: the instrument's minimum order value and quantity (the venue would refuse). */
export class MinNotionalRule implements PreTradeRule {
  readonly code = 'MIN_NOTIONAL';
  readonly key = 'instrument.minNotional';
  readonly needsPrice = false;
  check(c: CheckContext): RiskLimitError | null {
    const inst = c.instrument;
    if (c.intent.quantity < inst.minQty * (1 - 1e-9)) {
      return riskError(
        'MIN_QUANTITY',
        `quantity below the minimum ${fmt(inst.minQty)} of ${inst.symbol} (${what(c)})`,
        inst.minQty,
        c.intent.quantity,
      );
    }
    if (inst.minNotional > 0 && !(c.orderNotional >= inst.minNotional)) {
      return riskError(
        this.code,
        `order value ${fmt(c.orderNotional)} below the minimum ${fmt(inst.minNotional)} of ${inst.symbol} (${what(c)})`,
        inst.minNotional,
        c.orderNotional,
      );
    }
    return null;
  }
}

/** MAX_NOTIONAL: one order's value against `maxOrderNotional`. */
export class MaxNotionalRule implements PreTradeRule {
  readonly code = 'MAX_NOTIONAL';
  readonly key = 'maxOrderNotional';
  readonly needsPrice = true;
  constructor(readonly limit: number) {}
  check(c: CheckContext): RiskLimitError | null {
    if (!exceedsLimit(c.orderNotional, this.limit, orderNotionalOf, c)) return null;
    return riskError(
      this.code,
      `order value ${fmt(c.orderNotional)} exceeds maxOrderNotional ${fmt(this.limit)} (${what(c)})`,
      this.limit,
      c.orderNotional,
    );
  }
}

/** POSITION_LIMIT: the symbol's resulting |position| value against `maxPositionNotional`. */
export class PositionLimitRule implements PreTradeRule {
  readonly code = 'POSITION_LIMIT';
  readonly key = 'maxPositionNotional';
  readonly needsPrice = true;
  constructor(readonly limit: number) {}
  check(c: CheckContext): RiskLimitError | null {
    if (!exceedsLimit(c.positionNotionalAfter, this.limit, positionNotionalAfterOf, c)) return null;
    return riskError(
      this.code,
      `position value after the order ${fmt(c.positionNotionalAfter)} exceeds maxPositionNotional ${fmt(this.limit)} (${what(c)})`,
      this.limit,
      c.positionNotionalAfter,
    );
  }
}

/** CAPITAL_CAP: the strategy's exposure plus this order's value against `capitalCap`. */
export class CapitalCapRule implements PreTradeRule {
  readonly code = 'CAPITAL_CAP';
  readonly key = 'capitalCap';
  readonly needsPrice = true;
  constructor(readonly limit: number) {}
  check(c: CheckContext): RiskLimitError | null {
    const after = c.view.strategyExposure(c.intent.strategyId) + c.orderNotional;
    if (!exceedsLimit(after, this.limit, capitalAfterOf, c)) return null;
    return riskError(
      this.code,
      `strategy exposure after the order ${fmt(after)} exceeds capitalCap ${fmt(this.limit)} (${what(c)})`,
      this.limit,
      after,
    );
  }
}

/** GROSS_EXPOSURE: gross exposure after the order over equity against `maxGrossExposure`. */
export class GrossExposureRule implements PreTradeRule {
  readonly code = 'GROSS_EXPOSURE';
  readonly key = 'maxGrossExposure';
  readonly needsPrice = true;
  constructor(readonly limit: number) {}
  check(c: CheckContext): RiskLimitError | null {
    const ratio = perEquity(c.view.grossExposure() + c.deltaNotional, c.equity);
    if (ratio <= this.limit) return null;
    return riskError(
      this.code,
      `gross exposure after the order is ${fmt(ratio)} x equity ${fmt(c.equity)}, above maxGrossExposure ${fmt(this.limit)} (${what(c)})`,
      this.limit,
      ratio,
    );
  }
}

/** CONCENTRATION: one symbol's resulting position value over equity against `maxConcentration`. */
export class ConcentrationRule implements PreTradeRule {
  readonly code = 'CONCENTRATION';
  readonly key = 'maxConcentration';
  readonly needsPrice = true;
  constructor(readonly limit: number) {}
  check(c: CheckContext): RiskLimitError | null {
    const share = perEquity(c.positionNotionalAfter, c.equity);
    if (share <= this.limit) return null;
    return riskError(
      this.code,
      `${c.intent.symbol} would be ${fmt(share)} of equity ${fmt(c.equity)}, above maxConcentration ${fmt(this.limit)} (${what(c)})`,
      this.limit,
      share,
    );
  }
}

/** MARGIN_FLOOR: free margin over equity below `marginFloor` blocks new exposure. */
export class MarginFloorRule implements PreTradeRule {
  readonly code = 'MARGIN_FLOOR';
  readonly key = 'marginFloor';
  readonly needsPrice = false;
  constructor(readonly limit: number) {}
  check(c: CheckContext): RiskLimitError | null {
    const free = c.view.freeMargin();
    const ratio = c.equity > 0 ? free / c.equity : Number.NEGATIVE_INFINITY;
    if (ratio >= this.limit) return null;
    return riskError(
      this.code,
      `free margin ${fmt(free)} is ${fmt(ratio)} of equity ${fmt(c.equity)}, below marginFloor ${fmt(this.limit)} (${what(c)})`,
      this.limit,
      ratio,
    );
  }
}

/** INSUFFICIENT_FUNDS (cash accounts): a buy's cost plus estimated fees against cash. */
export class InsufficientFundsRule implements PreTradeRule {
  readonly code = 'INSUFFICIENT_FUNDS';
  readonly key = 'insufficientFunds';
  readonly needsPrice = true;
  constructor(readonly feeRate: number) {}
  check(c: CheckContext): RiskLimitError | null {
    if (c.intent.side !== 'buy') return null;
    const need = c.orderNotional + c.orderNotional * this.feeRate;
    const cash = c.view.cash();
    if (need <= cash) return null;
    return riskError(this.code, `cost plus fees ${fmt(need)} exceeds cash ${fmt(cash)} (${what(c)})`, cash, need);
  }
}

/**
 * PRICE_BAND: a limit or stop price further than k x ATR(14) from the last price is refused (fat-finger guard).
 * Skipped while ATR is not warmed up (NaN) or no last price is known: there is no band to measure against.
 */
export class PriceBandRule implements PreTradeRule {
  readonly code = 'PRICE_BAND';
  readonly key = 'priceBandAtr';
  readonly needsPrice = false;
  constructor(readonly k: number) {}
  check(c: CheckContext): RiskLimitError | null {
    const i = c.intent;
    if (i.type === 'market') return null;
    const atr = c.view.atr(i.symbol);
    const last = c.view.lastPrice(i.symbol);
    if (!(atr > 0) || !(last > 0)) return null;
    const band = this.k * atr;
    if (i.price !== undefined && !(Math.abs(i.price - last) <= band))
      return this.reject(c, 'price', i.price, last, band);
    if (i.stopPrice !== undefined && !(Math.abs(i.stopPrice - last) <= band)) {
      return this.reject(c, 'stopPrice', i.stopPrice, last, band);
    }
    return null;
  }
  private reject(c: CheckContext, field: string, px: number, last: number, band: number): RiskLimitError {
    const dist = Math.abs(px - last);
    return riskError(
      this.code,
      `${field} ${fmt(px)} is ${fmt(dist)} from last ${fmt(last)}, outside ${fmt(this.k)} x ATR(14) = ${fmt(band)} (${what(c)})`,
      band,
      dist,
    );
  }
}

/** The compiled rules of one effective configuration (the account's, or a strategy's override). */
export interface RuleSet {
  readonly config: RiskConfig;
  readonly rules: readonly PreTradeRule[];
  readonly needsPrice: boolean;
  readonly duplicateSignals: boolean;
}

/**
 * Builds the rule list for an effective config, cheapest first. `accountRate` is the account-wide order budget
 * (shared by every rule set); `ownRate` adds a strategy's own budget on top of it; `extraRules` run last.
 */
export function buildRuleSet(
  config: RiskConfig,
  accountRate?: OrderRateRule,
  ownRate?: OrderRateRule,
  extraRules: readonly PreTradeRule[] = [],
): RuleSet {
  const rules: PreTradeRule[] = [];
  if (accountRate) rules.push(accountRate);
  if (ownRate) rules.push(ownRate);
  rules.push(new MinNotionalRule());
  if (config.maxOrderNotional !== undefined) rules.push(new MaxNotionalRule(config.maxOrderNotional));
  if (config.maxPositionNotional !== undefined) rules.push(new PositionLimitRule(config.maxPositionNotional));
  if (config.capitalCap !== undefined) rules.push(new CapitalCapRule(config.capitalCap));
  if (config.maxGrossExposure !== undefined) rules.push(new GrossExposureRule(config.maxGrossExposure));
  if (config.maxConcentration !== undefined) rules.push(new ConcentrationRule(config.maxConcentration));
  if (config.marginFloor !== undefined && config.marginFloor > 0) rules.push(new MarginFloorRule(config.marginFloor));
  if (config.insufficientFunds !== undefined)
    rules.push(new InsufficientFundsRule(config.insufficientFunds.feeRate ?? 0));
  if (config.priceBandAtr !== undefined) rules.push(new PriceBandRule(config.priceBandAtr));
  rules.push(...extraRules);
  return {
    config,
    rules,
    needsPrice: rules.some((r) => r.needsPrice),
    duplicateSignals: config.duplicateSignals === true,
  };
}
