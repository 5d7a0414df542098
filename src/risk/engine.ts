import type { RiskConfig } from '../core/config.js';
import { ConfigError, RiskLimitError, ValidationError } from '../core/errors.js';
import type { ClosedTrade, EventMap, EventName } from '../core/events.js';
import type { Fill } from '../core/fill.js';
import type { OrderIntent } from '../core/order.js';
import type { EngineMode, RiskActions, RiskHook, RiskView } from '../core/risk-port.js';
import { BreakerBoard, type BreakerName, type BreakerState, type BreakerTrip } from './breakers.js';
import { DuplicateSignalGuard } from './duplicate-signals.js';
import { mergeRiskConfig } from './defaults.js';
import { NO_PUBLISH, type RiskPublisher } from './publisher.js';
import { buildRuleSet, CheckContext, fmt, OrderRateRule, type PreTradeRule, type RuleSet, riskError } from './rules.js';
import { type SizingResult, sizeOrder, sizingConfigProblem, TradeStats } from './sizing.js';
import { DEFAULT_STALE_ORDER_MINUTES, StaleOrderTracker, type TrackedOrder } from './stale-orders.js';

/** Options of a RiskEngine. */
export interface RiskEngineOptions {
  /** The kernel's mode; dry-run is refused in 'live'. */
  mode: EngineMode;
  /** Receives `breaker.*` and `killswitch.*` events (the kernel publishes `risk.rejected.v1` itself). */
  publish?: RiskPublisher;
  /** Per-strategy settings merged over the account config, keyed by strategyId. */
  strategyOverrides?: Record<string, RiskConfig>;
  /** Further pre-trade rules run after the built-in ones for every strategy (room for RISK-7 rule sets). */
  extraRules?: readonly PreTradeRule[];
  /** How many risk events `riskEvents()` keeps (default 10 000; later ones are counted, not kept). */
  maxEvents?: number;
  /**
   * Called (synchronously, possibly often) whenever `getState()` would return something new: a trip, reset, kill
   * switch, new equity peak or day, closed trade, accepted order under an order budget. The live runtime saves
   * the state here so a restart never lifts a halt or forgets a budget.
   */
  onStateChange?: () => void;
}

/** One line of the backtest result's `riskEvents`: a rejection, breaker trip, reset or kill-switch action. */
export interface RiskEvent {
  time: number;
  kind: 'rejected' | 'tripped' | 'reset' | 'killswitch' | 'recovered';
  code: string;
  detail: string;
  strategyId?: string;
  symbol?: string;
  /** Rejections only: the order went through because the engine runs in dry-run mode. */
  dryRun?: boolean;
}

/** Counters of the risk engine. */
export interface RiskStats {
  checked: number;
  accepted: number;
  rejected: number;
  /** Rejections let through by dry-run mode (included in `rejected`). */
  dryRunPassed: number;
  /** Rejections per reason code. */
  byCode: Record<string, number>;
}

/** What a RiskEngine persists across a restart (a halt survives it). */
export interface RiskEngineState {
  version: 1;
  breakers: BreakerState;
  tradeStats: Record<string, { trades: number; wins: number; losses: number; grossWin: number; grossLoss: number }>;
  /** Order-budget windows (accepted order times), keyed `account` or `strategy:<id>`. */
  rateWindows?: Record<string, number[]>;
  /** State of stateful extra rules (e.g. a prop-firm account), keyed by the rule's `key`. */
  extraRules?: Record<string, unknown>;
}

/** A sizing request for `RiskEngine.size`. */
export interface SizeRequest {
  strategyId: string;
  symbol: string;
  /** Expected entry price; the last price when omitted. */
  price?: number;
  /** Protective stop (risk-per-trade sizing). */
  stopPrice?: number;
}

// Keys a strategy override may not set: they act on the whole account.
const ACCOUNT_ONLY_KEYS = ['breakers', 'dryRun', 'venueRequestsPerMinute', 'propFirm'] as const;

/**
 * The pre-trade risk engine (RISK-1..6, RISK-9) behind the kernel's RiskHook. `check` is pure apart from the
 * order-budget and duplicate-signal memory it updates on acceptance, synchronous, and allocates nothing when it
 * accepts. Exposure-reducing orders (reduce-only, or opposite to the position and no larger than it) pass every
 * exposure, halt and rate rule.
 */
export class RiskEngine implements RiskHook {
  /** The effective account config (after defaults); `updateLimits` replaces it. */
  get config(): RiskConfig {
    return this.accountConfig;
  }
  private accountConfig: RiskConfig;
  readonly mode: EngineMode;
  readonly dryRun: boolean;
  readonly wantsEquityUpdates: boolean;
  /** Stale-order timers (RISK-5); the kernel tracks open limit orders here, polled on every equity update. */
  readonly staleOrders: StaleOrderTracker;
  private readonly board: BreakerBoard;
  private accountSet: RuleSet;
  /** Per-strategy overrides as given (kept so `updateLimits` can rebuild their rule sets). */
  private readonly overrides = new Map<string, RiskConfig>();
  private readonly sets = new Map<string, RuleSet>();
  /** Strategies whose resting orders stand on purpose (`setStandingOrders`). */
  private readonly standing = new Set<string>();
  private readonly dup = new DuplicateSignalGuard();
  private readonly ctx = new CheckContext();
  private readonly tradeStatsByStrategy = new Map<string, TradeStats>();
  private readonly counters = { checked: 0, accepted: 0, rejected: 0, dryRunPassed: 0 };
  private readonly byCode = new Map<string, number>();
  private readonly events: RiskEvent[] = [];
  private readonly maxEvents: number;
  private droppedEvents = 0;
  private readonly publishOut: RiskPublisher;
  private actions: RiskActions | undefined;
  private view: RiskView | undefined;
  private lastSet: RuleSet;
  private reducing = false;
  /** Extra rules that follow the account (equity, fills, closed trades), e.g. a prop-firm rule set. */
  private readonly followers: readonly PreTradeRule[];
  /** The `extraRules` this engine runs after the built-in ones. */
  readonly extraRules: readonly PreTradeRule[];
  private readonly rateRules = new Map<string, OrderRateRule>();
  private readonly onStateChange: (() => void) | undefined;
  private seenChanges = 0;
  private seenFollowerChanges = 0;

  /** `config` is the effective account config (validated; defaults already merged by createRiskEngine). */
  constructor(config: RiskConfig, opts: RiskEngineOptions) {
    this.accountConfig = config;
    this.mode = opts.mode;
    this.dryRun = config.dryRun === true;
    if (this.dryRun && opts.mode === 'live') {
      throw new ConfigError('risk.dryRun', 'dry-run risk mode is refused in live mode (research only, RISK-9)');
    }
    this.maxEvents = opts.maxEvents ?? 10_000;
    this.publishOut = opts.publish ?? NO_PUBLISH;
    validateSizing(config, 'risk.sizing');
    this.board = new BreakerBoard(config.breakers ?? {}, this.recordAndPublish);
    const accountRate = config.orderRate
      ? new OrderRateRule(config.orderRate.perMinute, config.orderRate.perSecond)
      : undefined;
    this.onStateChange = opts.onStateChange;
    if (accountRate) this.rateRules.set('account', accountRate);
    this.accountSet = buildRuleSet(config, accountRate, undefined, opts.extraRules);
    this.lastSet = this.accountSet;
    let anyStale = config.staleOrderMinutes !== undefined;
    this.extraRules = opts.extraRules ?? [];
    for (const [strategyId, over] of Object.entries(opts.strategyOverrides ?? {})) {
      if (this.setStrategyOverride(strategyId, over).staleOrderMinutes !== undefined) anyStale = true;
    }
    this.staleOrders = new StaleOrderTracker(config.staleOrderMinutes ?? DEFAULT_STALE_ORDER_MINUTES);
    this.followers = this.extraRules.filter((r) => r.onEquity || r.onFill || r.onTradeClosed);
    this.wantsEquityUpdates = this.board.wantsEquity || anyStale || this.followers.some((r) => r.onEquity);
  }

  /**
   * Sets one strategy's own rules (a deployment's `risk` and `capitalCap`) over the account's: at construction for
   * the config's deployments, later for one created over the API. Returns the effective config. Throws ConfigError
   * for an account-wide key.
   */
  setStrategyOverride(strategyId: string, over: RiskConfig): RiskConfig {
    const where = `risk.strategyOverrides.${strategyId}`;
    for (const key of ACCOUNT_ONLY_KEYS) {
      if (over[key] !== undefined)
        throw new ConfigError(`${where}.${key}`, `"${key}" is account-wide and cannot be set per strategy`);
    }
    validateSizing(over, `${where}.sizing`);
    // Kept as given, so `updateLimits` can rebuild the set over new account values.
    this.overrides.set(strategyId, over);
    const effective = mergeRiskConfig(this.accountConfig, over);
    const ownRate = over.orderRate
      ? new OrderRateRule(
          over.orderRate.perMinute,
          over.orderRate.perSecond,
          `${where}.orderRate`,
          `strategy ${strategyId}`,
        )
      : undefined;
    if (ownRate) this.rateRules.set(`strategy:${strategyId}`, ownRate);
    this.sets.set(strategyId, buildRuleSet(effective, this.rateRules.get('account'), ownRate, this.extraRules));
    return effective;
  }

  /**
   * Replaces the account config while running (risk preferences, UI-5): the pre-trade rules are rebuilt (each
   * strategy's override still applies over the new account values) and the breakers judge by the new thresholds.
   * Halts, locks, the kill switch, order budgets and equity baselines are kept. The order budgets, dry-run, the
   * prop-firm rules and stale-order timers stay as built (their keys are not runtime-editable).
   */
  updateLimits(config: RiskConfig): void {
    validateSizing(config, 'risk.sizing');
    this.accountConfig = config;
    this.board.setConfig(config.breakers ?? {});
    const accountRate = this.rateRules.get('account');
    this.accountSet = buildRuleSet(config, accountRate, undefined, this.extraRules);
    for (const strategyId of new Set([...this.overrides.keys(), ...this.standing])) {
      const over = this.overrides.get(strategyId);
      if (over === undefined) this.sets.delete(strategyId);
      else {
        const own = this.rateRules.get(`strategy:${strategyId}`);
        this.sets.set(strategyId, buildRuleSet(mergeRiskConfig(config, over), accountRate, own, this.extraRules));
      }
      if (this.standing.has(strategyId)) this.setStandingOrders(strategyId);
    }
    this.lastSet = this.accountSet;
  }

  /** Pre-trade check: null accepts; a rejection flagged `dryRun` must be reported and the order let through. */
  check(intent: OrderIntent, view: RiskView): RiskLimitError | null {
    this.view = view;
    this.counters.checked++;
    const err = this.evaluate(intent, view);
    if (err === null) {
      this.commit();
      this.counters.accepted++;
      return null;
    }
    this.counters.rejected++;
    this.byCode.set(err.reason, (this.byCode.get(err.reason) ?? 0) + 1);
    // Dry-run never applies to live money, even if a live view reaches an engine built for another mode.
    const dry = this.dryRun && view.mode !== 'live';
    this.pushEvent({
      time: this.ctx.now,
      kind: 'rejected',
      code: err.reason,
      detail: err.detail,
      strategyId: intent.strategyId,
      symbol: intent.symbol,
      ...(dry ? { dryRun: true } : {}),
    });
    if (!dry) return err;
    this.counters.dryRunPassed++;
    this.commit();
    return riskError(err.reason, err.detail, err.limit, err.actual, true);
  }

  /** The pre-trade check's decision without committing it: nothing is counted, recorded or published. */
  preview(intent: OrderIntent, view: RiskView): RiskLimitError | null {
    this.view = view;
    return this.evaluate(intent, view);
  }

  /** Breakers evaluated after every fill (equity moved by fees and realised P&L). */
  afterFill(fill: Fill, view: RiskView): void {
    this.view = view;
    if (this.board.wantsEquity) this.board.onEquity(view);
    for (const r of this.followers) {
      r.onFill?.(fill, view);
      r.onEquity?.(view, this.actions);
    }
    this.changedIfBoardMoved();
  }

  /** Consecutive losses, stop-loss guard, cooldown and the strategy's Kelly statistics. */
  onTradeClosed(trade: ClosedTrade, view: RiskView): void {
    this.view = view;
    let stats = this.tradeStatsByStrategy.get(trade.strategyId);
    if (stats === undefined) this.tradeStatsByStrategy.set(trade.strategyId, (stats = new TradeStats()));
    stats.record(trade.pnl);
    this.board.onTradeClosed(trade, view.now());
    for (const r of this.followers) r.onTradeClosed?.(trade, view);
    this.changed();
  }

  /** Equity breakers and stale-order timers on every equity update. */
  onEquity(view: RiskView): void {
    this.view = view;
    if (this.board.wantsEquity) this.board.onEquity(view);
    for (const r of this.followers) r.onEquity?.(view, this.actions);
    this.changedIfBoardMoved();
    if (this.staleOrders.size > 0) this.staleOrders.poll(view.now(), this.actions);
  }

  /** Receives the kernel's cancel/flatten actions. */
  attach(actions: RiskActions): void {
    this.actions = actions;
    this.board.attach(actions);
  }

  /** Sizes an order with the strategy's effective `sizing` config (RISK-1). */
  size(req: SizeRequest, view: RiskView): SizingResult {
    const cfg = this.setFor(req.strategyId).config.sizing;
    if (cfg === undefined) {
      return {
        ok: false,
        error: new RiskLimitError('SIZING_INVALID', `no risk.sizing configured for ${req.strategyId}`),
      };
    }
    const stats = this.tradeStatsByStrategy.get(req.strategyId);
    return sizeOrder(cfg, {
      equity: view.equity(),
      price: req.price ?? view.lastPrice(req.symbol),
      instrument: view.instrument(req.symbol),
      ...(req.stopPrice !== undefined ? { stopPrice: req.stopPrice } : {}),
      ...(stats !== undefined ? { stats } : {}),
    });
  }

  /**
   * Starts the stale-order timer of an open order when its strategy's config has `staleOrderMinutes`
   * (stop orders are never timed). Returns whether it is tracked.
   */
  trackOrder(order: TrackedOrder & { strategyId: string }): boolean {
    if (this.standing.has(order.strategyId)) return false;
    const minutes = this.setFor(order.strategyId).config.staleOrderMinutes;
    return minutes === undefined ? false : this.staleOrders.track(order, minutes);
  }

  /**
   * Marks a strategy whose resting orders stand on purpose (a grid, docs/grid.md): its whole possible inventory was
   * checked against its capital when it started, so the per-order CAPITAL_CAP does not apply; its orders carry
   * their own client ids (idempotent by them), so the duplicate-signal guard does not either; their prices are the
   * configured levels, so the price band (a fat-finger guard around the last price) does not; and they get no
   * stale-order timer. Every other rule, breakers and the kill switch apply as to any strategy.
   */
  setStandingOrders(strategyId: string): void {
    this.standing.add(strategyId);
    const base = this.setFor(strategyId);
    this.sets.set(strategyId, {
      ...base,
      // The grid's prices are its configured levels, checked at start: no fat-finger band around the last price.
      rules: base.rules.filter((r) => r.code !== 'CAPITAL_CAP' && r.code !== 'PRICE_BAND'),
      duplicateSignals: false,
    });
  }

  /** Stops an order's stale timer (it filled, was cancelled, rejected or expired). */
  untrackOrder(orderId: string): void {
    this.staleOrders.untrack(orderId);
  }

  /**
   * Kill switch (RISK-6): blocks every order that adds exposure, asks the kernel to cancel all orders and flatten
   * every position (exposure-reducing orders, which still pass), and returns the trigger time.
   */
  killSwitch(actor: string, reason: string, now = this.now()): { triggeredAt: number } {
    this.board.killSwitch(actor, reason, now);
    this.changed();
    return { triggeredAt: now };
  }

  /** Clears the kill switch; false when it was not engaged. */
  recover(actor: string, now = this.now()): boolean {
    const was = this.board.recover(actor, now);
    this.changed();
    return was;
  }

  /** Manual halt (HALTED) of new exposure until `until` or an explicit `reset('HALTED', actor)`. */
  halt(actor: string, reason: string, until?: number, now = this.now()): void {
    this.board.halt(actor, reason, now, until);
    this.changed();
  }

  /**
   * Explicit reset of a breaker (recorded and published as `breaker.reset.v1`); `symbol` narrows a
   * STOPLOSS_GUARD or COOLDOWN reset to one symbol. Returns whether something was active.
   */
  reset(breaker: BreakerName, actor: string, symbol?: string, now = this.now()): boolean {
    if (!actor) throw new ValidationError('a breaker reset needs an actor', 'actor');
    const was = this.board.reset(breaker, actor, now, symbol);
    this.changed();
    return was;
  }

  /** True when the kill switch or a halt blocks new exposure at `now`. */
  isHalted(now = this.now()): boolean {
    return this.board.activeHalt(now) !== null;
  }

  /** Whether the kill switch is engaged, and by whom. */
  killSwitchState(): { at: number; actor: string; reason: string } | null {
    return this.board.killSwitchInfo ? { ...this.board.killSwitchInfo } : null;
  }

  /** Active halts and per-symbol locks. */
  status(now = this.now()): ReturnType<BreakerBoard['status']> {
    return this.board.status(now);
  }

  /** Counters: checks, acceptances, rejections by reason code. */
  stats(): RiskStats {
    return { ...this.counters, byCode: Object.fromEntries(this.byCode) };
  }

  /** Rejections, trips, resets and kill-switch actions in time order (the backtest's `riskEvents`). */
  riskEvents(): readonly RiskEvent[] {
    return this.events;
  }

  /** Number of risk events not kept because `maxEvents` was reached. */
  get droppedEventCount(): number {
    return this.droppedEvents;
  }

  /** Every breaker trip so far. */
  trips(): readonly BreakerTrip[] {
    return this.board.trips;
  }

  /** The realised statistics Kelly sizing uses for one strategy. */
  tradeStats(strategyId: string): Readonly<TradeStats> | undefined {
    return this.tradeStatsByStrategy.get(strategyId);
  }

  /** JSON-serialisable state: halts, locks, kill switch, equity baselines, trade statistics. */
  getState(): RiskEngineState {
    const tradeStats: RiskEngineState['tradeStats'] = {};
    for (const [id, s] of this.tradeStatsByStrategy) {
      tradeStats[id] = {
        trades: s.trades,
        wins: s.wins,
        losses: s.losses,
        grossWin: s.grossWin,
        grossLoss: s.grossLoss,
      };
    }
    const rateWindows: Record<string, number[]> = {};
    for (const [key, rule] of this.rateRules) rateWindows[key] = rule.window.toArray();
    const extra: Record<string, unknown> = {};
    for (const r of this.followers) if (r.getState) extra[r.key] = r.getState();
    return {
      version: 1,
      breakers: this.board.getState(),
      tradeStats,
      rateWindows,
      ...(Object.keys(extra).length > 0 ? { extraRules: extra } : {}),
    };
  }

  /** Restores `getState` output (a restart keeps a halt). */
  restore(state: RiskEngineState): void {
    if (state?.version !== 1) throw new ValidationError('risk engine state: unsupported version', 'version');
    this.board.restore(state.breakers);
    this.tradeStatsByStrategy.clear();
    for (const [id, s] of Object.entries(state.tradeStats ?? {}))
      this.tradeStatsByStrategy.set(id, Object.assign(new TradeStats(), s));
    for (const [key, times] of Object.entries(state.rateWindows ?? {})) {
      const w = this.rateRules.get(key)?.window;
      if (w === undefined) continue;
      w.clear();
      for (const t of times) w.push(t);
    }
    for (const r of this.followers) {
      const saved = state.extraRules?.[r.key];
      if (saved !== undefined) r.restore?.(saved);
    }
    this.seenChanges = this.board.changes;
    this.seenFollowerChanges = this.followerChanges();
  }

  private changed(): void {
    this.seenChanges = this.board.changes;
    this.seenFollowerChanges = this.followerChanges();
    this.onStateChange?.();
  }

  // Equity updates come on every bar or tick; only a new peak, a new day or a trip is worth saving.
  private changedIfBoardMoved(): void {
    if (this.board.changes !== this.seenChanges || this.followerChanges() !== this.seenFollowerChanges) this.changed();
  }

  private followerChanges(): number {
    let n = 0;
    for (const r of this.followers) n += r.changes ?? 0;
    return n;
  }

  private setFor(strategyId: string): RuleSet {
    return this.sets.get(strategyId) ?? this.accountSet;
  }

  private now(): number {
    return this.view !== undefined ? this.view.now() : Date.now();
  }

  private evaluate(intent: OrderIntent, view: RiskView): RiskLimitError | null {
    const c = this.ctx;
    c.intent = intent;
    c.view = view;
    c.now = view.now();
    this.reducing = false;
    const set = this.setFor(intent.strategyId);
    this.lastSet = set;
    const q = intent.quantity;
    if (!(q > 0) || q === Number.POSITIVE_INFINITY) {
      return riskError('INVALID_ORDER', `quantity must be a positive number, got ${q}`, undefined, q);
    }
    const p = view.positionQuantity(intent.symbol);
    const sign = intent.side === 'buy' ? 1 : -1;
    c.position = p;
    const opposite = p * sign < 0;
    if (intent.reduceOnly === true && !opposite) {
      return riskError(
        'INVALID_ORDER',
        `reduce-only ${intent.side} of ${intent.symbol} has no position to reduce (position ${fmt(p)})`,
        undefined,
        p,
      );
    }
    if (set.duplicateSignals && intent.signalTime !== undefined) {
      if (this.dup.seen(intent.strategyId, intent.symbol, intent.side, intent.signalTime)) {
        return riskError(
          'DUPLICATE_SIGNAL',
          `${intent.strategyId} ${intent.side} ${intent.symbol} for signal time ${intent.signalTime} was already accepted`,
          undefined,
          intent.signalTime,
        );
      }
    }
    // A venue caps a reduce-only order at the position, so either kind leaves |position| no larger.
    if (opposite && (intent.reduceOnly === true || q <= Math.abs(p) * (1 + 1e-9))) {
      this.reducing = true;
      return null;
    }
    const halt = this.board.activeHalt(c.now);
    if (halt !== null) {
      const until = halt.until === Number.POSITIVE_INFINITY ? 'an explicit reset' : new Date(halt.until).toISOString();
      return riskError(
        halt.name,
        `${halt.detail}; only exposure-reducing orders pass until ${until} (${intent.strategyId} ${intent.side} ${intent.symbol})`,
        halt.until === Number.POSITIVE_INFINITY ? 'reset' : halt.until,
        c.now,
      );
    }
    const lock = this.board.activeLock(intent.symbol, c.now);
    if (lock !== null) {
      const until = this.board.locks[lock].get(intent.symbol) ?? c.now;
      return riskError(
        lock,
        `${intent.symbol} is locked by ${lock === 'COOLDOWN' ? 'the post-exit cooldown' : 'the stop-loss guard'} until ${new Date(until).toISOString()}`,
        until,
        c.now,
      );
    }
    const inst = view.instrument(intent.symbol);
    c.instrument = inst;
    const px =
      intent.type === 'market'
        ? view.lastPrice(intent.symbol)
        : intent.type === 'stop'
          ? (intent.stopPrice ?? Number.NaN)
          : (intent.price ?? Number.NaN);
    const m = inst.multiplier;
    const np = p + sign * q;
    c.price = px;
    c.newPosition = np;
    c.orderNotional = q * px * m;
    c.positionNotionalAfter = Math.abs(np) * px * m;
    c.deltaNotional = (Math.abs(np) - Math.abs(p)) * px * m;
    c.equity = view.equity();
    if (set.needsPrice && !(px > 0 && px < Number.POSITIVE_INFINITY)) {
      return riskError(
        'INVALID_ORDER',
        `no usable price to value ${intent.type} ${intent.side} ${intent.symbol} (got ${px})`,
        undefined,
        px,
      );
    }
    const rules = set.rules;
    for (let i = 0; i < rules.length; i++) {
      const err = rules[i].check(c);
      if (err !== null) return err;
    }
    return null;
  }

  // Records an order that goes through (accepted, or let through by dry-run) in the stateful rules.
  private commit(): void {
    const c = this.ctx;
    const intent = c.intent;
    const set = this.lastSet;
    if (set.duplicateSignals && intent.signalTime !== undefined) {
      this.dup.record(intent.strategyId, intent.symbol, intent.side, intent.signalTime);
    }
    if (this.reducing) return;
    const rules = set.rules;
    for (let i = 0; i < rules.length; i++) rules[i].onAccept?.(c);
    if (this.rateRules.size > 0) this.changed();
  }

  private pushEvent(e: RiskEvent): void {
    if (this.events.length < this.maxEvents) this.events.push(e);
    else this.droppedEvents++;
  }

  // Arrow property so the breaker board can call it unbound.
  private readonly recordAndPublish: RiskPublisher = <N extends EventName>(
    name: N,
    payload: EventMap[N],
    time: number,
  ) => {
    const p = payload as Record<string, unknown>;
    if (name === 'breaker.tripped.v1') {
      this.pushEvent({ time, kind: 'tripped', code: String(p.breaker), detail: String(p.detail) });
    } else if (name === 'breaker.reset.v1') {
      this.pushEvent({ time, kind: 'reset', code: String(p.breaker), detail: `reset by ${String(p.actor)}` });
    } else if (name === 'killswitch.triggered.v1') {
      this.pushEvent({
        time,
        kind: 'killswitch',
        code: 'KILL_SWITCH',
        detail: `engaged by ${String(p.actor)}: ${String(p.reason)}`,
      });
    } else if (name === 'killswitch.recovered.v1') {
      this.pushEvent({ time, kind: 'recovered', code: 'KILL_SWITCH', detail: `recovered by ${String(p.actor)}` });
    }
    this.publishOut(name, payload, time);
  };
}

function validateSizing(config: RiskConfig, where: string): void {
  if (config.sizing === undefined) return;
  const problem = sizingConfigProblem(config.sizing);
  if (problem) throw new ConfigError(`${where}.${problem.key}`, problem.message);
}
