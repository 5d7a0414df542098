import type { Kysely } from 'kysely';
import type { EventMap } from '../../core/events.js';
import type { Balance } from '../../core/position.js';
import { canonicalJson } from '../canonical-json.js';
import { fromDecimalText, toDecimalText } from '../money.js';
import type {
  BalanceSnapshotsTable,
  BreakerStatesTable,
  Database,
  HeartbeatsTable,
  RiskEventsTable,
} from '../schema.js';
import { fromExcluded } from './upsert.js';

/** A risk rejection as stored. */
export interface RiskEventRecord {
  id: number;
  time: number;
  strategyId: string;
  symbol: string;
  code: string;
  detail: string;
  limit?: string;
  actual?: string;
  dryRun: boolean;
  intent: unknown;
  correlationId?: string;
}

/** Builds the row of a `risk.rejected.v1` event. */
export function riskEventToRow(
  time: number,
  e: EventMap['risk.rejected.v1'],
  correlationId?: string,
): Omit<RiskEventsTable, 'id'> {
  return {
    time,
    strategy_id: e.intent.strategyId,
    symbol: e.intent.symbol,
    code: e.code,
    detail: e.detail,
    limit_value: e.limit === undefined ? null : String(e.limit),
    actual_value: e.actual === undefined ? null : String(e.actual),
    dry_run: e.dryRun ? 1 : 0,
    intent: canonicalJson(e.intent),
    correlation_id: correlationId ?? e.intent.correlationId ?? null,
  };
}

/** Risk decisions (rejections and dry-run passes). */
export class RiskEventsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends risk events. */
  async insertRows(rows: readonly Omit<RiskEventsTable, 'id'>[]): Promise<void> {
    if (rows.length > 0)
      await this.db
        .insertInto('risk_events')
        .values([...rows])
        .execute();
  }

  /** Risk events in [from, to), oldest first. */
  async list(opts: { from?: number; to?: number; correlationId?: string } = {}): Promise<RiskEventRecord[]> {
    let q = this.db.selectFrom('risk_events').selectAll();
    if (opts.from !== undefined) q = q.where('time', '>=', opts.from);
    if (opts.to !== undefined) q = q.where('time', '<', opts.to);
    if (opts.correlationId !== undefined) q = q.where('correlation_id', '=', opts.correlationId);
    const rows = await q.orderBy('time').orderBy('id').execute();
    return rows.map((r) => {
      const rec: RiskEventRecord = {
        id: Number(r.id),
        time: Number(r.time),
        strategyId: r.strategy_id,
        symbol: r.symbol,
        code: r.code,
        detail: r.detail,
        dryRun: r.dry_run === 1,
        intent: JSON.parse(r.intent),
      };
      if (r.limit_value !== null) rec.limit = r.limit_value;
      if (r.actual_value !== null) rec.actual = r.actual_value;
      if (r.correlation_id !== null) rec.correlationId = r.correlation_id;
      return rec;
    });
  }
}

/** The stored state of one circuit breaker. */
export interface BreakerState {
  breaker: string;
  state: 'tripped' | 'reset';
  detail: string;
  values: Record<string, number>;
  until?: number;
  actor?: string;
  updatedAt: number;
}

/** Circuit-breaker states, restored on restart so a tripped breaker stays tripped. */
export class BreakerStatesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores the latest state of each breaker. */
  async upsertRows(rows: readonly BreakerStatesTable[]): Promise<void> {
    for (const row of rows) {
      await this.db
        .insertInto('breaker_states')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('breaker')
            .doUpdateSet(
              fromExcluded<BreakerStatesTable>(['state', 'detail', 'values', 'until', 'actor', 'updated_at']),
            ),
        )
        .execute();
    }
  }

  /** Stores one breaker state. */
  async upsert(s: BreakerState): Promise<void> {
    await this.upsertRows([
      {
        breaker: s.breaker,
        state: s.state,
        detail: s.detail,
        values: canonicalJson(s.values),
        until: s.until ?? null,
        actor: s.actor ?? null,
        updated_at: s.updatedAt,
      },
    ]);
  }

  /** Every breaker's state. */
  async list(): Promise<BreakerState[]> {
    const rows = await this.db.selectFrom('breaker_states').selectAll().orderBy('breaker').execute();
    return rows.map((r) => {
      const s: BreakerState = {
        breaker: r.breaker,
        state: r.state as BreakerState['state'],
        detail: r.detail,
        values: JSON.parse(r.values) as Record<string, number>,
        updatedAt: Number(r.updated_at),
      };
      if (r.until !== null) s.until = Number(r.until);
      if (r.actor !== null) s.actor = r.actor;
      return s;
    });
  }
}

/** Balance history per venue and asset. */
export class BalanceSnapshotsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records balances of one venue at `time`. */
  async record(venue: string, balances: readonly Balance[], time: number): Promise<void> {
    if (balances.length === 0) return;
    const rows: Omit<BalanceSnapshotsTable, 'id'>[] = balances.map((b) => ({
      venue,
      asset: b.asset,
      free: toDecimalText(b.free),
      used: toDecimalText(b.used),
      total: toDecimalText(b.total),
      time,
    }));
    await this.db.insertInto('balance_snapshots').values(rows).execute();
  }

  /** The most recent snapshot of each asset on a venue. */
  async latest(venue: string): Promise<(Balance & { time: number })[]> {
    const last = await this.db
      .selectFrom('balance_snapshots')
      .select((eb) => eb.fn.max('time').as('t'))
      .where('venue', '=', venue)
      .executeTakeFirst();
    if (last?.t === null || last?.t === undefined) return [];
    const rows = await this.db
      .selectFrom('balance_snapshots')
      .selectAll()
      .where('venue', '=', venue)
      .where('time', '=', Number(last.t))
      .orderBy('asset')
      .execute();
    return rows.map((r) => ({
      asset: r.asset,
      free: fromDecimalText(r.free),
      used: fromDecimalText(r.used),
      total: fromDecimalText(r.total),
      time: Number(r.time),
    }));
  }

  /** Snapshots of one asset over time (equity curve). */
  async history(
    venue: string,
    asset: string,
    from = 0,
    to = Number.MAX_SAFE_INTEGER,
  ): Promise<{ time: number; total: number }[]> {
    const rows = await this.db
      .selectFrom('balance_snapshots')
      .select(['time', 'total'])
      .where('venue', '=', venue)
      .where('asset', '=', asset)
      .where('time', '>=', from)
      .where('time', '<', to)
      .orderBy('time')
      .execute();
    return rows.map((r) => ({ time: Number(r.time), total: fromDecimalText(r.total) }));
  }
}

/** Last heartbeat of each component. */
export class HeartbeatsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records the latest beat of each component (a beat older than the stored one is ignored). */
  async upsertRows(rows: readonly HeartbeatsTable[]): Promise<void> {
    for (const row of rows) {
      await this.db
        .insertInto('heartbeats')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('component')
            .doUpdateSet(fromExcluded<HeartbeatsTable>(['seq', 'time', 'detail']))
            .where((eb) => eb('heartbeats.time', '<=', eb.ref('excluded.time'))),
        )
        .execute();
    }
  }

  /** Records one beat. */
  async beat(component: string, seq: number, time: number, detail?: string): Promise<void> {
    await this.upsertRows([{ component, seq, time, detail: detail ?? null }]);
  }

  /** Every component's last beat. */
  async list(): Promise<{ component: string; seq: number; time: number; detail?: string }[]> {
    const rows = await this.db.selectFrom('heartbeats').selectAll().orderBy('component').execute();
    return rows.map((r) => ({
      component: r.component,
      seq: Number(r.seq),
      time: Number(r.time),
      ...(r.detail !== null ? { detail: r.detail } : {}),
    }));
  }
}
