/**
 * The trading events as JSON log lines (OPS-1): risk decisions, orders, venue messages, fills, position changes,
 * alerts, breakers and the kill switch, each with the signal's `correlationId` so one grep follows an order from
 * its signal through risk, the order, the venue and its fills. Lines are written by a child logger per component
 * (the event's source: `risk`, `execution`, `engine`, `venue:<id>` ...).
 */
import type { Logger } from 'pino';
import type { DomainEvent, EventBus, EventName } from '../core/events.js';
import type { Order } from '../core/order.js';

/** Events written to the log. */
export const LOGGED_EVENTS = [
  'risk.checked.v1',
  'order.submitted.v1',
  'order.accepted.v1',
  'order.partially_filled.v1',
  'order.filled.v1',
  'order.cancelled.v1',
  'order.rejected.v1',
  'order.expired.v1',
  'venue.message.v1',
  'fill.executed.v1',
  'position.changed.v1',
  'alert.raised.v1',
  'breaker.tripped.v1',
  'breaker.reset.v1',
  'killswitch.triggered.v1',
  'killswitch.completed.v1',
  'killswitch.recovered.v1',
] as const satisfies readonly EventName[];

/** Options of {@link subscribeEventLog}. */
export interface EventLogOptions {
  /** The client order id sent to the venue for an engine order (the live runtime: the bridge's), default its own. */
  clientOrderIdOf?: (order: Readonly<Order>) => string;
  /** The deployment a strategy id belongs to (the live runtime: the same id). */
  deploymentOf?: (strategyId: string) => string | undefined;
}

type Level = 'info' | 'warn' | 'error';
type Line = { level: Level; fields: Record<string, unknown>; msg: string };

/** Writes every event of LOGGED_EVENTS on `bus` through `logger`; returns the unsubscribe. */
export function subscribeEventLog(bus: EventBus, logger: Logger, opts: EventLogOptions = {}): () => void {
  const children = new Map<string, Logger>();
  const childFor = (component: string): Logger => {
    let c = children.get(component);
    if (c === undefined) children.set(component, (c = logger.child({ component })));
    return c;
  };
  const offs = LOGGED_EVENTS.map((name) =>
    bus.subscribe(name, (e: DomainEvent) => {
      const line = lineFor(e, opts);
      if (line === undefined) return;
      const log = childFor(e.source);
      log[line.level]({ event: e.name, correlationId: e.correlationId, ...line.fields }, line.msg);
    }),
  );
  return () => {
    for (const off of offs) off();
  };
}

function context(strategyId: string | undefined, symbol: string | undefined, opts: EventLogOptions) {
  const deploymentId = strategyId !== undefined ? opts.deploymentOf?.(strategyId) : undefined;
  return {
    ...(symbol !== undefined ? { symbol } : {}),
    ...(strategyId !== undefined ? { strategyId } : {}),
    ...(deploymentId !== undefined ? { deploymentId } : {}),
  };
}

function orderLine(e: DomainEvent, opts: EventLogOptions): Line {
  const o = (e as DomainEvent<'order.filled.v1'>).payload.order;
  const px = o.type === 'stop' ? ` stop ${o.stopPrice}` : o.price !== undefined ? ` @ ${o.price}` : '';
  const status = e.name.slice('order.'.length, -'.v1'.length);
  const filled = o.filledQuantity > 0 ? `, filled ${o.filledQuantity} @ ${o.averageFillPrice}` : '';
  return {
    level: status === 'rejected' ? 'warn' : 'info',
    fields: {
      orderId: o.id,
      clientOrderId: opts.clientOrderIdOf?.(o) ?? o.clientOrderId,
      ...context(o.strategyId, o.symbol, opts),
      side: o.side,
      type: o.type,
      quantity: o.quantity,
      status: o.status,
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(o.tag !== undefined ? { tag: o.tag } : {}),
    },
    msg: `order ${status}: ${o.side} ${o.quantity} ${o.symbol} ${o.type}${px}${filled}${o.reason ? ` (${o.reason})` : ''}`,
  };
}

function lineFor(e: DomainEvent, opts: EventLogOptions): Line | undefined {
  if (e.name.startsWith('order.')) return orderLine(e, opts);
  switch (e.name) {
    case 'risk.checked.v1': {
      const p = (e as DomainEvent<'risk.checked.v1'>).payload;
      const i = p.intent;
      const what = `${i.side} ${i.quantity} ${i.symbol} ${i.type}`;
      return {
        level: p.accepted ? 'info' : 'warn',
        fields: {
          ...context(i.strategyId, i.symbol, opts),
          accepted: p.accepted,
          ...(p.code !== undefined ? { code: p.code } : {}),
          ...(p.inputs !== undefined ? { inputs: p.inputs } : {}),
        },
        msg: p.accepted
          ? `risk accepted ${what}${p.code ? ` (dry run: ${p.code} ${p.detail ?? ''})` : ''}`
          : `risk rejected ${what}: ${p.code} ${p.detail ?? ''}`,
      };
    }
    case 'venue.message.v1': {
      const p = (e as DomainEvent<'venue.message.v1'>).payload;
      return {
        level: /failed|reject/i.test(p.message) ? 'warn' : 'info',
        fields: {
          venue: p.venue,
          ...(p.orderId !== undefined ? { orderId: p.orderId } : {}),
          ...(p.clientOrderId !== undefined ? { clientOrderId: p.clientOrderId } : {}),
        },
        msg: `venue ${p.venue}: ${p.message}`,
      };
    }
    case 'fill.executed.v1': {
      const f = (e as DomainEvent<'fill.executed.v1'>).payload.fill;
      return {
        level: 'info',
        fields: {
          orderId: f.orderId,
          fillId: f.id,
          ...context(f.strategyId, f.symbol, opts),
          side: f.side,
          price: f.price,
          quantity: f.quantity,
          fee: f.fee,
        },
        msg: `fill: ${f.side} ${f.quantity} ${f.symbol} @ ${f.price}, fee ${f.fee}`,
      };
    }
    case 'position.changed.v1': {
      const p = (e as DomainEvent<'position.changed.v1'>).payload.position;
      return {
        level: 'info',
        fields: { ...context(p.strategyId, p.symbol, opts), quantity: p.quantity, averagePrice: p.averagePrice },
        msg: `position ${p.symbol}: ${p.quantity} @ ${p.averagePrice}`,
      };
    }
    case 'alert.raised.v1': {
      const p = (e as DomainEvent<'alert.raised.v1'>).payload;
      return {
        level: p.severity === 'critical' ? 'error' : p.severity === 'warning' ? 'warn' : 'info',
        fields: { severity: p.severity, ...(p.key !== undefined ? { key: p.key } : {}) },
        msg: `alert: ${p.title}: ${p.message}`,
      };
    }
    case 'breaker.tripped.v1':
    case 'breaker.reset.v1': {
      const p = e.payload as { breaker: string; detail?: string; actor?: string };
      const tripped = e.name === 'breaker.tripped.v1';
      return {
        level: tripped ? 'error' : 'warn',
        fields: { breaker: p.breaker },
        msg: tripped ? `breaker ${p.breaker} tripped: ${p.detail}` : `breaker ${p.breaker} reset by ${p.actor}`,
      };
    }
    default: {
      // The kill switch events.
      return {
        level: e.name === 'killswitch.recovered.v1' ? 'warn' : 'error',
        fields: { ...(e.payload as object) },
        msg: e.name.replace(/\.v\d+$/, ''),
      };
    }
  }
}
