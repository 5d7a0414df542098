/**
 * A live strategy that keeps its own resting orders (the grid, docs/grid.md): its state saved on every order event,
 * paused by breakers and the kill switch (and resumed only by the operator), its startup reconciliation (orders its
 * state expects and the venue lacks placed again, venue orders it does not know cancelled; each logged, alerted and
 * audited), and one alert when it stops itself (the grid's stop-loss or take-profit).
 */
import type { EventBus, EventName } from '../../core/events.js';
import type { Order } from '../../core/order.js';
import type { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/index.js';
import type { Strategy } from '../../strategy/types.js';
import { type LiveVenueBridge, PROTECTIVE_STOP_TAG } from '../../venues/live/bridge.js';
import { audit } from '../reconcile.js';
import type { StoreJournal } from './journal.js';

/** Order events after which the strategy's state is saved (submitted first: saved before the order's write-ahead). */
const ORDER_EVENTS: readonly EventName[] = [
  'order.submitted.v1',
  'order.accepted.v1',
  'order.partially_filled.v1',
  'order.filled.v1',
  'order.cancelled.v1',
  'order.rejected.v1',
  'order.expired.v1',
];

/** What the strategy-order handling of one deployment needs. */
export interface StrategyOrdersDeps {
  deploymentId: string;
  engine: Engine;
  strategy: Strategy;
  bus: EventBus;
  store: Store;
  journal: StoreJournal;
  log: { warn(o: object, msg: string): void };
}

/** What the startup reconciliation of a strategy's resting orders did. */
export interface StrategyOrdersReport {
  kept: number;
  replaced: number;
  unknownCancelled: number;
}

/** Live handling of a strategy that keeps resting orders; inert for one that does not (no `reconcile` hook). */
export class StrategyOrders {
  private readonly offs: (() => void)[] = [];
  private stopAlerted: string | null;

  constructor(private readonly d: StrategyOrdersDeps) {
    this.stopAlerted = d.strategy.selfStopReason?.() ?? null;
  }

  /** Whether the strategy keeps its own resting orders. */
  get active(): boolean {
    return typeof this.d.strategy.reconcile === 'function';
  }

  /** Saves the strategy's state now (lazy: it rides with the journal's next durable commit). */
  save(): void {
    this.d.journal.saveStrategyState(this.d.deploymentId, this.d.strategy.getState?.(), Date.now());
  }

  /**
   * Subscribes: state saved on every order event of the deployment; breakers and the kill switch pause the strategy
   * (its resting orders cancelled; it stays paused after recovery until resumed by the operator).
   */
  start(): void {
    const { bus, engine, deploymentId } = this.d;
    if (this.active) {
      for (const name of ORDER_EVENTS) {
        this.offs.push(
          bus.subscribe(name, (e) => {
            const order = (e.payload as { order: Order }).order;
            if (order.strategyId === deploymentId) this.save();
          }),
        );
      }
    }
    if (!engine.pausable) return;
    const pause = (reason: string) => {
      if (engine.strategyPaused) return;
      engine.pauseStrategy(reason);
      this.save();
      this.d.log.warn({ deploymentId, reason }, 'strategy paused: its resting orders are cancelled until resumed');
    };
    this.offs.push(
      bus.subscribe('killswitch.triggered.v1', () => pause('kill switch')),
      bus.subscribe('breaker.tripped.v1', (e) => pause(`breaker ${e.payload.breaker}`)),
    );
  }

  /** Raises one alert when the strategy stopped itself (a grid's stop-loss or take-profit). */
  checkSelfStop(): void {
    const reason = this.d.strategy.selfStopReason?.() ?? null;
    if (reason === null || reason === this.stopAlerted) return;
    this.stopAlerted = reason;
    this.save();
    this.alert('critical', `Strategy ${this.d.deploymentId} stopped`, reason, 'stopped', { kind: 'self_stop', reason });
  }

  /**
   * Startup reconciliation of the strategy's resting orders, after the runtime's own (the bridge then tracks what
   * the venue has): the strategy keeps its open orders, places again those its state expects and the venue lacks,
   * and the venue orders it does not know are cancelled. Each action is logged, alerted and audited.
   */
  async reconcile(bridge: LiveVenueBridge): Promise<StrategyOrdersReport> {
    const report: StrategyOrdersReport = { kept: 0, replaced: 0, unknownCancelled: 0 };
    if (!this.active) return report;
    const { engine, deploymentId } = this.d;
    const open = bridge
      .trackedOpenOrders()
      .filter((o) => o.strategyId === deploymentId && o.tag !== PROTECTIVE_STOP_TAG);
    const r = engine.reconcileStrategy(open);
    if (r === null) return report;
    report.kept = r.kept.length;
    for (const line of r.replaced) {
      report.replaced++;
      this.alert('warning', 'Strategy order placed again', `${deploymentId}: ${line} was missing on the venue`, line, {
        kind: 'strategy_order_replaced',
        order: line,
      });
    }
    for (const o of r.unknown) {
      const order = o as Order;
      if (engine.exec.getOrder(order.id) === order) engine.exec.cancel(order.id, 'STRATEGY_UNKNOWN');
      else bridge.cancelAdopted(order, 'STRATEGY_UNKNOWN');
      report.unknownCancelled++;
      this.alert(
        'warning',
        'Order the strategy does not keep cancelled',
        `${deploymentId}: ${order.clientOrderId} ${order.side} ${order.quantity} ${order.symbol} @ ${order.price ?? 'market'} is not in the strategy's state${engine.strategyPaused ? ' (paused)' : ''}; cancelled`,
        order.clientOrderId,
        { kind: 'strategy_order_unknown', clientOrderId: order.clientOrderId },
      );
    }
    await bridge.drain();
    this.save();
    return report;
  }

  /** Unsubscribes. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
  }

  private alert(
    severity: 'warning' | 'critical',
    title: string,
    message: string,
    subject: string,
    details: Record<string, unknown>,
  ): void {
    const { bus, store, deploymentId, log } = this.d;
    const time = Date.now();
    log.warn({ deploymentId, ...details }, `${title}: ${message}`);
    bus.publish({
      name: 'alert.raised.v1',
      time,
      correlationId: `strategy:${deploymentId}:${subject}`,
      source: 'strategy-orders',
      payload: { severity, title, message, key: `strategy.${details.kind as string}.${deploymentId}.${subject}` },
    });
    void audit(store, {
      action: `strategy.${details.kind as string}`,
      subject: `deployment:${deploymentId}`,
      details,
      time,
    });
  }
}
