import type { DomainEvent, EventBus, EventName } from '../../core/events.js';
import type { Alert } from './alert.js';

/** The bus events that raise alerts (OPS-3): fills, errors, breakers, stop-loss exits, kill switch, heartbeat loss. */
export const ALERTING_EVENTS = [
  'fill.executed.v1',
  'order.rejected.v1',
  'strategy.error.v1',
  'strategy.stopped.v1',
  'breaker.tripped.v1',
  'breaker.reset.v1',
  'trade.closed.v1',
  'killswitch.triggered.v1',
  'killswitch.completed.v1',
  'killswitch.recovered.v1',
  'data.stale.v1',
  'data.resumed.v1',
  'alert.raised.v1',
] as const satisfies readonly EventName[];

const num = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(10))));

/** Turns one bus event into an alert, or undefined when the event is not alert-worthy (e.g. a profitable exit). */
export function alertFromEvent(event: DomainEvent): Alert | undefined {
  const base = { time: event.time, source: `${event.name} from ${event.source}` };
  switch (event.name) {
    case 'fill.executed.v1': {
      const { fill } = (event as DomainEvent<'fill.executed.v1'>).payload;
      return {
        ...base,
        severity: 'info',
        title: `Fill ${fill.side.toUpperCase()} ${num(fill.quantity)} ${fill.symbol} @ ${num(fill.price)}`,
        message: `Order ${fill.orderId} (${fill.strategyId}) filled ${num(fill.quantity)} at ${num(fill.price)}, fee ${num(fill.fee)}.`,
        key: `fill:${fill.id}`,
      };
    }
    case 'order.rejected.v1': {
      const { order } = (event as DomainEvent<'order.rejected.v1'>).payload;
      return {
        ...base,
        severity: 'warning',
        title: `Order rejected: ${order.side} ${num(order.quantity)} ${order.symbol}`,
        message: `Order ${order.clientOrderId} (${order.strategyId}) was rejected: ${order.reason ?? 'no reason given'}.`,
        key: `order.rejected:${order.strategyId}:${order.symbol}:${order.reason ?? ''}`,
      };
    }
    case 'strategy.error.v1': {
      const p = (event as DomainEvent<'strategy.error.v1'>).payload;
      return {
        ...base,
        severity: 'warning',
        title: `Strategy error in ${p.strategyId}`,
        message: p.message,
        key: `strategy.error:${p.strategyId}:${p.message}`,
      };
    }
    case 'strategy.stopped.v1': {
      const p = (event as DomainEvent<'strategy.stopped.v1'>).payload;
      return {
        ...base,
        severity: 'warning',
        title: `Strategy ${p.strategyId} stopped`,
        message: p.reason,
        key: `strategy.stopped:${p.strategyId}`,
      };
    }
    case 'breaker.tripped.v1': {
      const p = (event as DomainEvent<'breaker.tripped.v1'>).payload;
      const values = Object.entries(p.values)
        .map(([k, v]) => `${k}=${num(v)}`)
        .join(', ');
      const until = p.until !== undefined ? ` Trading resumes at ${new Date(p.until).toISOString()}.` : '';
      return {
        ...base,
        severity: 'critical',
        title: `Circuit breaker tripped: ${p.breaker}`,
        message: `${p.detail}${values ? ` (${values})` : ''}.${until}`,
        key: `breaker:${p.breaker}`,
      };
    }
    case 'breaker.reset.v1': {
      const p = (event as DomainEvent<'breaker.reset.v1'>).payload;
      return {
        ...base,
        severity: 'info',
        title: `Circuit breaker reset: ${p.breaker}`,
        message: `Reset by ${p.actor}.`,
        key: `breaker.reset:${p.breaker}`,
      };
    }
    case 'trade.closed.v1': {
      const { trade } = (event as DomainEvent<'trade.closed.v1'>).payload;
      if (trade.exitReason !== 'stop_loss') return undefined;
      return {
        ...base,
        severity: 'warning',
        title: `Stop-loss hit: ${trade.side} ${trade.symbol}`,
        message: `${trade.strategyId} closed ${num(trade.quantity)} ${trade.symbol} at ${num(trade.exitPrice)} (entry ${num(
          trade.entryPrice,
        )}): P&L ${num(trade.pnl)} (${num(trade.pnlPct * 100)} %).`,
        key: `stop_loss:${trade.strategyId}:${trade.symbol}:${trade.exitTime}`,
      };
    }
    case 'killswitch.triggered.v1': {
      const p = (event as DomainEvent<'killswitch.triggered.v1'>).payload;
      return {
        ...base,
        severity: 'critical',
        title: 'KILL SWITCH triggered',
        message: `By ${p.actor}: ${p.reason}. Cancelling all orders and closing all positions.`,
        key: `killswitch.triggered:${event.time}`,
      };
    }
    case 'killswitch.completed.v1': {
      const p = (event as DomainEvent<'killswitch.completed.v1'>).payload;
      return {
        ...base,
        severity: 'critical',
        title: 'Kill switch completed',
        message: `${p.cancelled} orders cancelled, ${p.closing} positions closing, in ${p.elapsedMs} ms. Trading is halted until /recover.`,
        key: `killswitch.completed:${event.time}`,
      };
    }
    case 'killswitch.recovered.v1': {
      const p = (event as DomainEvent<'killswitch.recovered.v1'>).payload;
      return {
        ...base,
        severity: 'warning',
        title: 'Kill switch released',
        message: `Trading re-enabled by ${p.actor}.`,
        key: `killswitch.recovered:${event.time}`,
      };
    }
    case 'data.stale.v1': {
      const p = (event as DomainEvent<'data.stale.v1'>).payload;
      return {
        ...base,
        severity: 'warning',
        title: `Market data stale: ${p.symbol}`,
        message: `No data since ${new Date(p.lastTime).toISOString()}; no new entries on ${p.symbol} until it resumes.`,
        key: `data.stale:${p.symbol}`,
      };
    }
    case 'data.resumed.v1': {
      const p = (event as DomainEvent<'data.resumed.v1'>).payload;
      return {
        ...base,
        severity: 'info',
        title: `Market data resumed: ${p.symbol}`,
        message: 'Data is flowing again.',
        key: `data.resumed:${p.symbol}`,
      };
    }
    case 'alert.raised.v1': {
      const p = (event as DomainEvent<'alert.raised.v1'>).payload;
      return { ...base, source: event.source, severity: p.severity, title: p.title, message: p.message, key: p.key };
    }
    default:
      return undefined;
  }
}

/** Subscribes `notify` to every alerting event on `bus`; returns the unsubscribe function. */
export function subscribeAlerts(bus: EventBus, notify: (alert: Alert) => void): () => void {
  const offs = ALERTING_EVENTS.map((name) =>
    bus.subscribe(name, (event) => {
      const alert = alertFromEvent(event as DomainEvent);
      if (alert) notify(alert);
    }),
  );
  return () => {
    for (const off of offs) off();
  };
}
