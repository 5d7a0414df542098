import type { DomainEvent, EventBus, EventName } from '../core/events.js';
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

/** Maps a kernel event to its audit entry (action = event name without the version). */
export function auditEntryFor(e: DomainEvent): AuditEntry | undefined {
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
      return {
        ...base,
        subject: orderSubject(o.id),
        details: {
          clientOrderId: o.clientOrderId,
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
      return { ...base, subject: orderSubject(f.orderId), details: { ...f } };
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

/** Options of the audit subscriber. */
export interface EventAuditorOptions {
  flushMs?: number;
  maxBatch?: number;
  onError?: (err: unknown) => void;
}

/** Subscribes the audit log to the kernel's events and appends them in batches. */
export class EventAuditor {
  private readonly queue: BatchQueue<AuditEntry>;
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    private readonly audit: AuditLog,
    opts: EventAuditorOptions = {},
  ) {
    this.queue = new BatchQueue((batch) => this.audit.appendMany(batch).then(() => {}), {
      flushMs: opts.flushMs ?? 50,
      maxBatch: opts.maxBatch ?? 500,
      onError: opts.onError ?? (() => {}),
    });
  }

  /** Starts listening on `bus`. */
  attach(bus: EventBus): this {
    for (const name of AUDITED_EVENTS) {
      this.unsubscribers.push(
        bus.subscribe(name, (e) => {
          const entry = auditEntryFor(e as DomainEvent);
          if (entry) this.queue.push(entry);
        }),
      );
    }
    return this;
  }

  /** Records queued but not yet appended. */
  get depth(): number {
    return this.queue.depth;
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
