import type { RiskLimitError } from '../core/errors.js';
import type { ClosedTrade } from '../core/events.js';
import type { Fill } from '../core/fill.js';
import type { Instrument } from '../core/instrument.js';
import type { OrderIntent } from '../core/order.js';
import type { EngineMode, RiskActions, RiskHook, RiskTrackedOrder, RiskView } from '../core/risk-port.js';
import type { RiskEngine } from './engine.js';

/** One deployment's place in the account: its own view (book, prices) and its kernel's actions. */
class Member {
  view: RiskView | undefined;
  actions: RiskActions | undefined;
  constructor(readonly id: string) {}
}

/**
 * The view a deployment's check sees: its own book for positions, prices and orders (reduce-only and per-symbol
 * limits are about what this deployment holds), and the whole account for equity, cash, margin and exposure (the
 * breakers and exposure limits are account-wide). One instance per deployment, reused: checks allocate nothing.
 */
class AccountMemberView implements RiskView {
  constructor(
    private readonly account: AccountRisk,
    private readonly member: Member,
  ) {}
  private get own(): RiskView {
    const v = this.member.view;
    if (v === undefined) throw new Error(`deployment ${this.member.id} has no risk view yet`);
    return v;
  }
  get mode(): EngineMode {
    return this.own.mode;
  }
  now(): number {
    return this.own.now();
  }
  equity(): number {
    return this.account.equity();
  }
  cash(): number {
    return this.account.cash();
  }
  freeMargin(): number {
    return this.account.freeMargin();
  }
  grossExposure(): number {
    return this.account.grossExposure();
  }
  positionQuantity(symbol: string): number {
    return this.own.positionQuantity(symbol);
  }
  positionAveragePrice(symbol: string): number {
    return this.own.positionAveragePrice(symbol);
  }
  strategyExposure(strategyId: string): number {
    return this.account.strategyExposure(strategyId);
  }
  lastPrice(symbol: string): number {
    return this.own.lastPrice(symbol);
  }
  atr(symbol: string): number {
    return this.own.atr(symbol);
  }
  instrument(symbol: string): Instrument {
    return this.own.instrument(symbol);
  }
  openOrderCount(strategyId?: string, symbol?: string): number {
    if (strategyId === undefined) return this.account.openOrderCount(symbol);
    return this.account.memberView(strategyId)?.openOrderCount(strategyId, symbol) ?? 0;
  }
  isStale(symbol: string): boolean {
    return this.own.isStale(symbol);
  }
}

/**
 * One account-level risk engine shared by every deployment of a runtime (ARCHITECTURE "one account-level risk
 * engine"): daily loss, drawdown, emergency and loss-streak breakers see the account's equity (the sum of every
 * deployment's book), order budgets are the account's, and per-deployment caps are per-strategy rules inside the
 * one engine (`strategyOverrides` keyed by deployment id). Each deployment's kernel gets `hookFor(id)`; a breaker or
 * the kill switch acts on every deployment through their kernels' actions.
 */
export class AccountRisk {
  private readonly members = new Map<string, Member>();
  private readonly views = new Map<string, AccountMemberView>();
  private readonly orderOwner = new Map<string, Member>();
  private attached = false;
  private recovering = false;
  private expected: ReadonlySet<string> = new Set();
  private complete = true;

  constructor(readonly engine: RiskEngine) {}

  /**
   * Names the deployments the account will hold. Until each has bound its view, equity updates do not reach the
   * breakers: a start-of-day or peak baseline taken from the first deployment alone would misjudge the account.
   */
  expectMembers(ids: readonly string[]): void {
    this.expected = new Set(ids);
    this.complete = this.hasAll();
  }

  /** Whether every expected deployment has bound its view (account totals are whole). */
  get isComplete(): boolean {
    return this.complete;
  }

  private hasAll(): boolean {
    for (const id of this.expected) if (this.members.get(id)?.view === undefined) return false;
    return true;
  }

  /** The risk hook of one deployment (its id is the strategyId its kernel stamps on intents). */
  hookFor(deploymentId: string): RiskHook {
    let m = this.members.get(deploymentId);
    if (m === undefined) {
      m = new Member(deploymentId);
      this.members.set(deploymentId, m);
      this.views.set(deploymentId, new AccountMemberView(this, m));
    }
    return new DeploymentRiskHook(this, m, this.views.get(deploymentId) as AccountMemberView);
  }

  /** Registers a deployment's own view before its first check (so account totals include it from the start). */
  bindView(deploymentId: string, view: RiskView): void {
    const m = this.members.get(deploymentId);
    if (m) m.view = view;
    if (!this.complete) this.complete = this.hasAll();
  }

  /** The account's view as one deployment sees it, or undefined for an unknown deployment. */
  memberView(deploymentId: string): RiskView | undefined {
    return this.members.get(deploymentId)?.view;
  }

  /** Account equity: the sum of every deployment's equity. */
  equity(): number {
    let e = 0;
    for (const m of this.members.values()) if (m.view) e += m.view.equity();
    return e;
  }

  /** Account cash: the sum of every deployment's cash. */
  cash(): number {
    let c = 0;
    for (const m of this.members.values()) if (m.view) c += m.view.cash();
    return c;
  }

  /** Account free margin: the sum over deployments. */
  freeMargin(): number {
    let f = 0;
    for (const m of this.members.values()) if (m.view) f += m.view.freeMargin();
    return f;
  }

  /** Account gross exposure: the sum over deployments. */
  grossExposure(): number {
    let g = 0;
    for (const m of this.members.values()) if (m.view) g += m.view.grossExposure();
    return g;
  }

  /** Exposure of one deployment (its capital cap is checked against this). */
  strategyExposure(strategyId: string): number {
    return this.members.get(strategyId)?.view?.strategyExposure(strategyId) ?? 0;
  }

  /** Open orders of every deployment (one symbol's when given). */
  openOrderCount(symbol?: string): number {
    let n = 0;
    for (const m of this.members.values()) if (m.view) n += m.view.openOrderCount(m.id, symbol);
    return n;
  }

  /**
   * Releases the account's kill switch once and every deployment's halt with it. Returns whether the kill switch
   * was engaged.
   */
  recoverAll(actor: string, kernels: readonly { recover(actor: string): void }[]): boolean {
    const engaged = this.engine.killSwitchState() !== null;
    if (engaged) this.engine.recover(actor);
    this.recovering = true;
    try {
      for (const k of kernels) k.recover(actor);
    } finally {
      this.recovering = false;
    }
    return engaged;
  }

  /** @internal: a deployment's kernel attached its actions. */
  attachMember(m: Member, actions: RiskActions): void {
    m.actions = actions;
    if (this.attached) return;
    this.attached = true;
    this.engine.attach(this.accountActions);
  }

  /** @internal */
  trackOrder(m: Member, order: RiskTrackedOrder): boolean {
    const tracked = this.engine.trackOrder(order);
    if (tracked) this.orderOwner.set(order.id, m);
    return tracked;
  }

  /** @internal */
  untrackOrder(orderId: string): void {
    this.orderOwner.delete(orderId);
    this.engine.untrackOrder(orderId);
  }

  /** @internal: true while `recoverAll` releases the kernels (their own recover is part of it). */
  get isRecovering(): boolean {
    return this.recovering;
  }

  // The breakers and the kill switch act on the whole account: every deployment's kernel.
  private readonly accountActions: RiskActions = {
    cancelAllOrders: (reason) => {
      for (const m of this.members.values()) m.actions?.cancelAllOrders(reason);
    },
    flattenAll: (reason, symbol) => {
      for (const m of this.members.values()) m.actions?.flattenAll(reason, symbol);
    },
    cancelOrder: (orderId, reason) => {
      const m = this.orderOwner.get(orderId);
      if (m) m.actions?.cancelOrder(orderId, reason);
      else for (const x of this.members.values()) x.actions?.cancelOrder(orderId, reason);
    },
  };
}

/** The RiskHook one deployment's kernel calls: its checks go to the account engine with the account view. */
class DeploymentRiskHook implements RiskHook {
  constructor(
    private readonly account: AccountRisk,
    private readonly member: Member,
    private readonly view: AccountMemberView,
  ) {}

  get wantsEquityUpdates(): boolean {
    return this.account.engine.wantsEquityUpdates;
  }

  check(intent: OrderIntent, own: RiskView): RiskLimitError | null {
    this.member.view = own;
    return this.account.engine.check(intent, this.view);
  }

  preview(intent: OrderIntent, own: RiskView): RiskLimitError | null {
    this.member.view = own;
    return this.account.engine.preview(intent, this.view);
  }

  afterFill(fill: Fill, own: RiskView): void {
    this.member.view = own;
    if (this.account.isComplete) this.account.engine.afterFill(fill, this.view);
  }

  onTradeClosed(trade: ClosedTrade, own: RiskView): void {
    this.member.view = own;
    this.account.engine.onTradeClosed(trade, this.view);
  }

  onEquity(own: RiskView): void {
    this.member.view = own;
    if (this.account.isComplete) this.account.engine.onEquity(this.view);
  }

  attach(actions: RiskActions): void {
    this.account.attachMember(this.member, actions);
  }

  trackOrder(order: RiskTrackedOrder): boolean {
    return this.account.trackOrder(this.member, order);
  }

  untrackOrder(orderId: string): void {
    this.account.untrackOrder(orderId);
  }

  // One kill switch for the account: the first deployment to press it engages it (every kernel is flattened
  // through the account's actions); the others find it engaged and only make sure their own book is flat.
  killSwitch(actor: string, reason: string, now?: number): { triggeredAt: number } {
    const engaged = this.account.engine.killSwitchState();
    if (engaged !== null) return { triggeredAt: engaged.at };
    return this.account.engine.killSwitch(actor, reason, now);
  }

  recover(actor: string, now?: number): boolean {
    if (this.account.isRecovering) return true;
    return this.account.engine.recover(actor, now);
  }

  isHalted(now?: number): boolean {
    return this.account.engine.isHalted(now);
  }

  killSwitchState(): { at: number; actor: string; reason: string } | null {
    return this.account.engine.killSwitchState();
  }
}
