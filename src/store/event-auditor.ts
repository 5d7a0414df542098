import type { DomainEvent, EventBus, EventName } from '../core/events.js';
import type { QueueGaugeSource, QueueOverflow } from '../core/queue-bound.js';
import { activeTraceId } from '../core/tracing.js';
import type { Fill } from '../core/fill.js';
import type { Order } from '../core/order.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import { correlationSubject, orderSubject } from './audit-subjects.js';
import { BatchQueue } from './batch-queue.js';

/** Events the audit log records (order events, risk decisions, breakers, kill switch, config, venue messages). */
export const AUDITED_EVENTS = [
  'order.submitted.v1',
  'order.accepted.v1',
  'order.partially_filled.v1',
  'order.filled.v1',
  'order.cancelled.v1',
  'order.rejected.v1',
  'order.expired.v1',
  'fill.executed.v1',
  'funding.booked.v1',
  'risk.checked.v1',
  'risk.rejected.v1',
  'breaker.tripped.v1',
  'breaker.reset.v1',
  'killswitch.triggered.v1',
  'killswitch.completed.v1',
  'killswitch.recovered.v1',
  'config.changed.v1',
  'venue.message.v1',
  'strategy.started.v1',
  'strategy.stopped.v1',
  'strategy.error.v1',
] as const satisfies readonly EventName[];

/**
 * Maps a kernel event to its audit entry (action = event name without the version). `orderKey` is the id the store
 * knows an order by (default: its own id); `fillKey` the same for a fill's order.
 */
export function auditEntryFor(
  e: DomainEvent,
  orderKey: (o: Readonly<Order>) => string = idOf,
  fillKey: (f: Readonly<Fill>) => string = orderIdOf,
): AuditEntry | undefined {
  const action = e.name.replace(/\.v\d+$/, '');
  const base = { time: e.time, actor: e.source, action };
  switch (e.name) {
    case 'order.submitted.v1':
    case 'order.accepted.v1':
    case 'order.partially_filled.v1':
    case 'order.filled.v1':
    case 'order.cancelled.v1':
    case 'order.rejected.v1':
    case 'order.expired.v1': {
      const o = (e as DomainEvent<'order.filled.v1'>).payload.order;
      const key = orderKey(o);
      return {
        ...base,
        subject: orderSubject(key),
        details: {
          ...(key !== o.id ? { engineOrderId: o.id } : {}),
          clientOrderId: key !== o.id ? key : o.clientOrderId,
          venueOrderId: o.venueOrderId,
          correlationId: o.correlationId,
          strategyId: o.strategyId,
          symbol: o.symbol,
          side: o.side,
          type: o.type,
          quantity: o.quantity,
          price: o.price,
          stopPrice: o.stopPrice,
          status: o.status,
          filledQuantity: o.filledQuantity,
          averageFillPrice: o.averageFillPrice,
          source: o.source,
          reason: o.reason,
        },
      };
    }
    case 'fill.executed.v1': {
      const f = (e as DomainEvent<'fill.executed.v1'>).payload.fill;
      return { ...base, subject: orderSubject(fillKey(f)), details: { ...f } };
    }
    case 'funding.booked.v1': {
      const p = (e as DomainEvent<'funding.booked.v1'>).payload;
      return { ...base, subject: `funding:${p.deploymentId}`, details: p };
    }
    case 'risk.checked.v1':
    case 'risk.rejected.v1': {
      const p = (e as DomainEvent<'risk.rejected.v1'>).payload;
      const cid = p.intent.correlationId ?? e.correlationId;
      return { ...base, subject: correlationSubject(cid), details: { ...p, correlationId: cid } };
    }
    case 'breaker.tripped.v1':
    case 'breaker.reset.v1': {
      const p = (e as DomainEvent<'breaker.tripped.v1'>).payload;
      return { ...base, subject: `breaker:${p.breaker}`, details: p };
    }
    case 'killswitch.triggered.v1':
    case 'killswitch.completed.v1':
    case 'killswitch.recovered.v1':
      return { ...base, subject: 'killswitch', details: e.payload };
    case 'config.changed.v1': {
      const p = (e as DomainEvent<'config.changed.v1'>).payload;
      return { ...base, actor: p.actor, subject: `config:${p.key}`, details: p };
    }
    case 'venue.message.v1': {
      const p = (e as DomainEvent<'venue.message.v1'>).payload;
      const id = p.orderId ?? p.clientOrderId;
      return {
        ...base,
        subject: id ? orderSubject(id) : correlationSubject(e.correlationId),
        details: { ...p, correlationId: e.correlationId },
      };
    }
    case 'strategy.started.v1':
    case 'strategy.stopped.v1':
    case 'strategy.error.v1': {
      const p = (e as DomainEvent<'strategy.error.v1'>).payload;
      return { ...base, subject: `strategy:${p.strategyId}`, details: p };
    }
    default:
      return undefined;
  }
}

const idOf = (o: Readonly<Order>): string => o.id;
const orderIdOf = (f: Readonly<Fill>): string => f.orderId;

/** Options of the audit subscriber. */
export interface EventAuditorOptions {
  flushMs?: number;
  maxBatch?: number;
  /** Records held before the queue counts as overflowing (default 50 000; never dropped: `halt`). */
  capacity?: number;
  /** Called when the queue goes past its bound (the runtime halts new exposure and alerts). */
  onOverflow?: (o: QueueOverflow) => void;
  onError?: (err: unknown) => void;
  /**
   * The id the store keeps an order under, when it is not the engine's order id (the live runtime: the client
   * order id sent to the venue), so `audit order ID` finds the order's events under the id the user sees.
   */
  orderKey?: (order: Readonly<Order>) => string;
}

/**
 * The entry with the active span's trace id in its details (tracing on and a span active), so `audit order` ties a
 * record to its trace.
 */
function withTraceId(entry: AuditEntry): AuditEntry {
  const traceId = activeTraceId();
  if (traceId === undefined) return entry;
  const details = typeof entry.details === 'object' && entry.details !== null ? entry.details : {};
  return { ...entry, details: { ...details, traceId } };
}

const TERMINAL = new Set<EventName>(['order.filled.v1', 'order.cancelled.v1', 'order.rejected.v1', 'order.expired.v1']);

/** Subscribes the audit log to the kernel's events and appends them in batches. */
export class EventAuditor {
  private readonly queue: BatchQueue<AuditEntry>;
  private readonly unsubscribers: (() => void)[] = [];
  private readonly orderKey: ((o: Readonly<Order>) => string) | undefined;
  /** Store keys of working orders by strategy and engine id: a fill names its order only by the engine's id. */
  private readonly keys = new Map<string, string>();

  constructor(
    private readonly audit: AuditLog,
    opts: EventAuditorOptions = {},
  ) {
    this.orderKey = opts.orderKey;
    this.queue = new BatchQueue((batch) => this.audit.appendMany(batch).then(() => {}), {
      flushMs: opts.flushMs ?? 50,
      maxBatch: opts.maxBatch ?? 500,
      onError: opts.onError ?? (() => {}),
      name: 'audit',
      ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
      ...(opts.onOverflow ? { onOverflow: opts.onOverflow } : {}),
    });
  }

  /** Starts listening on `bus`. */
  attach(bus: EventBus): this {
    for (const name of AUDITED_EVENTS) {
      this.unsubscribers.push(
        bus.subscribe(name, (e) => {
          const entry = this.orderKey === undefined ? auditEntryFor(e as DomainEvent) : this.keyed(e as DomainEvent);
          if (entry) this.queue.push(withTraceId(entry));
        }),
      );
    }
    return this;
  }

  // The entry under the store's order key; remembers the key while the order works (its fills come before its end).
  private keyed(e: DomainEvent): AuditEntry | undefined {
    const orderKey = this.orderKey as (o: Readonly<Order>) => string;
    if (e.name.startsWith('order.')) {
      const o = (e as DomainEvent<'order.filled.v1'>).payload.order;
      const key = orderKey(o);
      const slot = `${o.strategyId}\u0000${o.id}`;
      if (TERMINAL.has(e.name)) this.keys.delete(slot);
      else if (key !== o.id) this.keys.set(slot, key);
      return auditEntryFor(e, () => key);
    }
    return auditEntryFor(e, orderKey, (f) => this.keys.get(`${f.strategyId}\u0000${f.orderId}`) ?? f.orderId);
  }

  /** Records queued but not yet appended. */
  get depth(): number {
    return this.queue.depth;
  }

  /** The queue as `queue_depth{queue="audit"}` reads it. */
  get gauge(): QueueGaugeSource {
    return this.queue;
  }

  /** Appends everything queued. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Stops listening and flushes. */
  async close(): Promise<void> {
    for (const u of this.unsubscribers.splice(0)) u();
    await this.queue.close();
  }
}
