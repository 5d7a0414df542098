import type { Fill } from './fill.js';
import type { DecimalText } from './money.js';
import type { Order, OrderIntent } from './order.js';
import type { Position } from './position.js';

/**
 * Payload of every kernel event, by name. Names follow `domain.action.v1`; a payload never changes shape within
 * a version — a new shape gets a new name (`.v2`).
 */
export interface EventMap {
  'order.submitted.v1': { order: Readonly<Order> };
  'order.accepted.v1': { order: Readonly<Order> };
  'order.partially_filled.v1': { order: Readonly<Order> };
  'order.filled.v1': { order: Readonly<Order> };
  'order.cancelled.v1': { order: Readonly<Order> };
  'order.rejected.v1': { order: Readonly<Order> };
  'order.expired.v1': { order: Readonly<Order> };
  'fill.executed.v1': { fill: Readonly<Fill> };
  'position.changed.v1': { position: Readonly<Position> };
  'trade.closed.v1': { trade: ClosedTrade };
  /** A perpetual's funding payment booked into a deployment's book (positive received, negative paid). */
  'funding.booked.v1': {
    deploymentId: string;
    venue: string;
    incomeId: string;
    symbol: string;
    amount: number;
    asset: string;
    time: number;
  };
  /**
   * Every risk decision: `accepted`, and for a rejection (or a dry-run finding that let the order through) the rule
   * `code`, `detail`, `limit` and `actual`; `inputs` is what the decision saw.
   */
  'risk.checked.v1': {
    intent: Readonly<OrderIntent>;
    accepted: boolean;
    code?: string;
    detail?: string;
    limit?: number | string;
    actual?: number | string;
    dryRun?: boolean;
    inputs?: RiskCheckInputs;
  };
  'risk.rejected.v1': {
    intent: Readonly<OrderIntent>;
    code: string;
    detail: string;
    limit?: number | string;
    actual?: number | string;
    /** True when the risk engine runs in dry-run mode and let the order through anyway. */
    dryRun?: boolean;
  };
  'breaker.tripped.v1': { breaker: string; detail: string; values: Record<string, number>; until?: number };
  'breaker.reset.v1': { breaker: string; actor: string };
  'killswitch.triggered.v1': { actor: string; reason: string };
  'killswitch.completed.v1': { cancelled: number; closing: number; elapsedMs: number };
  'killswitch.recovered.v1': { actor: string };
  'strategy.started.v1': { strategyId: string };
  'strategy.stopped.v1': { strategyId: string; reason: string };
  'strategy.error.v1': { strategyId: string; barTime: number; message: string };
  /** `strategyId`: the deployment (or backtest strategy) whose book this is. */
  'equity.updated.v1': { equity: number; cash: number; strategyId?: string };
  'data.stale.v1': { symbol: string; lastTime: number };
  'data.resumed.v1': { symbol: string };
  'heartbeat.beat.v1': { seq: number };
  'venue.message.v1': { venue: string; orderId?: string; clientOrderId?: string; message: string; raw?: unknown };
  'alert.raised.v1': { severity: 'info' | 'warning' | 'critical'; title: string; message: string; key?: string };
  'config.changed.v1': { actor: string; key: string; from?: unknown; to?: unknown };
  /**
   * One step of an LLM agent's run (docs/agents.md): the run, the agent, the step kind, when it started and ended,
   * the tokens it used and its details, secrets masked. The envelope's `correlationId` ties a run's steps together
   * and `source` names who did the step (a provider, the compiler, the gate, the smoke backtest).
   */
  'agent.step.v1': {
    runId: string;
    agent: string;
    step: string;
    startedAt: number;
    finishedAt: number;
    tokens?: { input: number; output: number };
    detail?: unknown;
  };
}

/** What a risk decision saw (`risk.checked.v1`): the account and the intent's symbol at decision time. */
export interface RiskCheckInputs {
  equity: number;
  cash: number;
  openOrders: number;
  /** Signed position of the intent's symbol before the order. */
  position?: number;
  /** Last price of the intent's symbol. */
  price?: number;
  /** The engine's halt code (kill switch), when halted. */
  halt?: string;
}

/** Every event name the kernel publishes. */
export type EventName = keyof EventMap;

/** An immutable, versioned domain event. */
export interface DomainEvent<N extends EventName = EventName> {
  readonly name: N;
  /** Event time in epoch ms (simulated time in a backtest). */
  readonly time: number;
  readonly correlationId: string;
  /** Component that published it (e.g. `engine`, `risk`, `venue:binance`). */
  readonly source: string;
  readonly payload: EventMap[N];
}

/** A completed round trip, as reported in backtest results and persisted in the trades table. */
export interface ClosedTrade {
  strategyId: string;
  symbol: string;
  side: 'long' | 'short';
  entryTime: number;
  entryPrice: number;
  exitTime: number;
  exitPrice: number;
  quantity: number;
  fees: number;
  pnl: number;
  pnlPct: number;
  exitReason: string;
  entryTag?: string;
  /**
   * The trade's exact decimals (docs/money.md) as decimal text, set where the exact ledger is the account (paper and
   * live) and when read from the store; the numbers above are their nearest doubles. Undefined in a backtest.
   */
  exact?: ClosedTradeExact;
}

/**
 * A closed trade's exact decimals: entry and exit price (Σ price × quantity / Σ quantity of its fills), quantity
 * (what the account was credited on entry), fees (quote currency) and net P&L after fees.
 */
export interface ClosedTradeExact {
  entryPrice: DecimalText;
  exitPrice: DecimalText;
  quantity: DecimalText;
  fees: DecimalText;
  pnl: DecimalText;
}

/** Handler of one event type. */
export type EventHandler<N extends EventName> = (event: DomainEvent<N>) => void;

/** Publish/subscribe port the kernel publishes to; the store, audit, metrics, alerts and API subscribe. */
export interface EventBus {
  publish<N extends EventName>(event: DomainEvent<N>): void;
  /** Subscribes to one event name, or `*` for all; returns an unsubscribe function. */
  subscribe<N extends EventName>(name: N, handler: EventHandler<N>): () => void;
  subscribe(name: '*', handler: (event: DomainEvent) => void): () => void;
  /** True when anyone listens to `name` (lets the hot loop skip building events nobody reads). */
  hasSubscribers(name: EventName): boolean;
}
