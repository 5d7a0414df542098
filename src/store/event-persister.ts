import type { Kysely } from 'kysely';
import type { DomainEvent, EventBus, EventName } from '../core/events.js';
import type { QueueGaugeSource, QueueOverflow } from '../core/queue-bound.js';
import type { Fill } from '../core/fill.js';
import type { Order } from '../core/order.js';
import { BatchQueue } from './batch-queue.js';
import { canonicalJson } from './canonical-json.js';
import {
  BreakerStatesRepository,
  HeartbeatsRepository,
  RiskEventsRepository,
  riskEventToRow,
} from './repositories/risk.js';
import {
  FillsRepository,
  fillToRow,
  OrdersRepository,
  orderToRow,
  PositionsRepository,
  positionToRow,
  TradesRepository,
  tradeToRow,
} from './repositories/trading.js';
import type {
  BreakerStatesTable,
  Database,
  FillsTable,
  HeartbeatsTable,
  OrdersTable,
  PositionsTable,
  RiskEventsTable,
  TradesTable,
} from './schema.js';

/** Events the store persists. */
export const PERSISTED_EVENTS = [
  'order.submitted.v1',
  'order.accepted.v1',
  'order.partially_filled.v1',
  'order.filled.v1',
  'order.cancelled.v1',
  'order.rejected.v1',
  'order.expired.v1',
  'fill.executed.v1',
  'trade.closed.v1',
  'position.changed.v1',
  'risk.rejected.v1',
  'breaker.tripped.v1',
  'breaker.reset.v1',
  'killswitch.triggered.v1',
  'killswitch.completed.v1',
  'killswitch.recovered.v1',
  'heartbeat.beat.v1',
] as const satisfies readonly EventName[];

// A queued write, already converted to its row at publish time (a snapshot of the mutable domain object).
type Pending =
  | { kind: 'order'; row: OrdersTable }
  | { kind: 'fill'; row: FillsTable }
  | { kind: 'trade'; row: TradesTable }
  | { kind: 'position'; row: PositionsTable }
  | { kind: 'risk'; row: Omit<RiskEventsTable, 'id'> }
  | { kind: 'breaker'; row: BreakerStatesTable }
  | { kind: 'heartbeat'; row: HeartbeatsTable }
  | { kind: 'killswitch'; value: unknown; time: number };

/** Options of the event persister. */
export interface EventPersisterOptions {
  /** Longest time an event waits before its batch is written (ms, default 25). */
  flushMs?: number;
  /** Batch size that triggers an immediate write (default 200). */
  maxBatch?: number;
  /** Rows held before the queue counts as overflowing (default 50 000; never dropped: `halt`). */
  capacity?: number;
  /** Called when the queue goes past its bound (the runtime halts new exposure and alerts). */
  onOverflow?: (o: QueueOverflow) => void;
  /** Deployment id stamped on orders. */
  deploymentId?: string;
  /** Called when a batch cannot be written (it stays queued and is retried). */
  onError?: (err: unknown) => void;
}

/**
 * The store's subscriber: turns kernel events into rows and writes them in batches, in one transaction per batch,
 * off the publisher's stack. Orders are upserted by id (never moving back to an older state) and fills/trades are
 * inserted once by id, so a replay after a crash never duplicates anything. `persistOrderNow` is the write-ahead
 * path for an order that must be durable before its venue call.
 */
export class EventPersister {
  private readonly queue: BatchQueue<Pending>;
  private readonly unsubscribers: (() => void)[] = [];
  private readonly deploymentId: string | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    opts: EventPersisterOptions = {},
  ) {
    this.deploymentId = opts.deploymentId;
    this.queue = new BatchQueue((batch) => this.writeBatch(batch), {
      flushMs: opts.flushMs ?? 25,
      maxBatch: opts.maxBatch ?? 200,
      onError: opts.onError ?? (() => {}),
      name: 'persist',
      ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
      ...(opts.onOverflow ? { onOverflow: opts.onOverflow } : {}),
    });
  }

  /** Starts persisting events from `bus`. */
  attach(bus: EventBus): this {
    for (const name of PERSISTED_EVENTS) {
      this.unsubscribers.push(bus.subscribe(name, (e) => this.onEvent(e as DomainEvent)));
    }
    return this;
  }

  /** Events queued but not yet written (a metric: queue depth). */
  get depth(): number {
    return this.queue.depth;
  }

  /** The queue as `queue_depth{queue="persist"}` reads it. */
  get gauge(): QueueGaugeSource {
    return this.queue;
  }

  /** Write-ahead: stores the order now and resolves once it is committed. Await it before the venue call. */
  async persistOrderNow(order: Readonly<Order>): Promise<void> {
    await new OrdersRepository(this.db).upsertRows([orderToRow(order, this.deploymentId)]);
  }

  /** Write-ahead for a fill (e.g. one found by reconciliation that the strategy must not see twice). */
  async persistFillNow(fill: Readonly<Fill>): Promise<void> {
    await new FillsRepository(this.db).insertRows([fillToRow(fill)]);
  }

  /** Writes everything queued so far; resolves when it is committed. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Stops listening and writes what is left. */
  async close(): Promise<void> {
    for (const u of this.unsubscribers.splice(0)) u();
    await this.queue.close();
  }

  private onEvent(e: DomainEvent): void {
    const p = this.toPending(e);
    if (p !== undefined) this.queue.push(p);
  }

  private toPending(e: DomainEvent): Pending | undefined {
    switch (e.name) {
      case 'fill.executed.v1':
        return { kind: 'fill', row: fillToRow((e as DomainEvent<'fill.executed.v1'>).payload.fill) };
      case 'trade.closed.v1':
        return { kind: 'trade', row: tradeToRow((e as DomainEvent<'trade.closed.v1'>).payload.trade) };
      case 'position.changed.v1':
        return {
          kind: 'position',
          row: positionToRow((e as DomainEvent<'position.changed.v1'>).payload.position, e.time),
        };
      case 'risk.rejected.v1':
        return {
          kind: 'risk',
          row: riskEventToRow(e.time, (e as DomainEvent<'risk.rejected.v1'>).payload, e.correlationId),
        };
      case 'breaker.tripped.v1': {
        const p = (e as DomainEvent<'breaker.tripped.v1'>).payload;
        return {
          kind: 'breaker',
          row: {
            breaker: p.breaker,
            state: 'tripped',
            detail: p.detail,
            values: canonicalJson(p.values),
            until: p.until ?? null,
            actor: e.source,
            updated_at: e.time,
          },
        };
      }
      case 'breaker.reset.v1': {
        const p = (e as DomainEvent<'breaker.reset.v1'>).payload;
        return {
          kind: 'breaker',
          row: {
            breaker: p.breaker,
            state: 'reset',
            detail: '',
            values: '{}',
            until: null,
            actor: p.actor,
            updated_at: e.time,
          },
        };
      }
      case 'killswitch.triggered.v1':
      case 'killswitch.completed.v1':
      case 'killswitch.recovered.v1':
        return { kind: 'killswitch', value: { event: e.name, time: e.time, ...e.payload }, time: e.time };
      case 'heartbeat.beat.v1':
        return {
          kind: 'heartbeat',
          row: {
            component: e.source,
            seq: (e as DomainEvent<'heartbeat.beat.v1'>).payload.seq,
            time: e.time,
            detail: null,
          },
        };
      default:
        if (e.name.startsWith('order.')) {
          return {
            kind: 'order',
            row: orderToRow((e as DomainEvent<'order.filled.v1'>).payload.order, this.deploymentId),
          };
        }
        return undefined;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    // Later snapshots of the same order/position/breaker/heartbeat supersede earlier ones within a batch.
    const orders = new Map<string, OrdersTable>();
    const positions = new Map<string, PositionsTable>();
    const breakers = new Map<string, BreakerStatesTable>();
    const beats = new Map<string, HeartbeatsTable>();
    const fills: FillsTable[] = [];
    const trades: TradesTable[] = [];
    const risks: Omit<RiskEventsTable, 'id'>[] = [];
    let killswitch: { value: unknown; time: number } | undefined;
    for (const p of batch) {
      if (p.kind === 'order') orders.set(p.row.id, p.row);
      else if (p.kind === 'fill') fills.push(p.row);
      else if (p.kind === 'trade') trades.push(p.row);
      else if (p.kind === 'position') positions.set(`${p.row.strategy_id}\u0000${p.row.symbol}`, p.row);
      else if (p.kind === 'risk') risks.push(p.row);
      else if (p.kind === 'breaker') breakers.set(p.row.breaker, p.row);
      else if (p.kind === 'heartbeat') beats.set(p.row.component, p.row);
      else killswitch = p;
    }
    await this.db.transaction().execute(async (tx) => {
      if (orders.size) await new OrdersRepository(tx).upsertRows([...orders.values()]);
      if (fills.length) await new FillsRepository(tx).insertRows(fills);
      if (trades.length) await new TradesRepository(tx).insertRows(trades);
      if (positions.size) await new PositionsRepository(tx).upsertRows([...positions.values()]);
      if (risks.length) await new RiskEventsRepository(tx).insertRows(risks);
      if (breakers.size) await new BreakerStatesRepository(tx).upsertRows([...breakers.values()]);
      if (beats.size) await new HeartbeatsRepository(tx).upsertRows([...beats.values()]);
      if (killswitch) {
        const value = canonicalJson(killswitch.value);
        await tx
          .insertInto('kv')
          .values({ key: 'killswitch.state', value, updated_at: killswitch.time })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: killswitch.time }))
          .execute();
      }
    });
  }
}
