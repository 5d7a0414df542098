import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { ClosedTrade } from '../../core/events.js';
import type { Fill, Liquidity } from '../../core/fill.js';
import type { Order, OrderSide, OrderSource, OrderStatus, OrderType, TimeInForce } from '../../core/order.js';
import type { Position } from '../../core/position.js';
import { exactText, fromDecimalText, toDecimalText } from '../money.js';
import type { Database, FillsTable, OrdersTable, PositionsTable, TradesTable } from '../schema.js';
import { chunks, fromExcluded, latestByKey } from './upsert.js';

/** Converts an order to its row (a snapshot: later mutations of the order do not leak into a queued write). */
export function orderToRow(o: Readonly<Order>, deploymentId?: string): OrdersTable {
  return {
    id: o.id,
    client_order_id: o.clientOrderId,
    venue_order_id: o.venueOrderId ?? null,
    deployment_id: deploymentId ?? null,
    strategy_id: o.strategyId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.exact?.quantity ?? toDecimalText(o.quantity),
    price: o.price === undefined ? null : (o.exact?.price ?? toDecimalText(o.price)),
    stop_price: o.stopPrice === undefined ? null : (o.exact?.stopPrice ?? toDecimalText(o.stopPrice)),
    time_in_force: o.timeInForce,
    reduce_only: o.reduceOnly ? 1 : 0,
    status: o.status,
    filled_quantity: o.exact?.filledQuantity ?? toDecimalText(o.filledQuantity),
    average_fill_price: o.exact?.averageFillPrice ?? toDecimalText(o.averageFillPrice),
    fees: o.exact?.fees ?? toDecimalText(o.fees),
    created_at: o.createdAt,
    updated_at: o.updatedAt,
    signal_time: o.signalTime ?? null,
    tag: o.tag ?? null,
    source: o.source,
    correlation_id: o.correlationId,
    reason: o.reason ?? null,
  };
}

/** Converts a row back to the domain order. */
export function rowToOrder(r: OrdersTable): Order {
  const o: Order = {
    id: r.id,
    clientOrderId: r.client_order_id,
    strategyId: r.strategy_id,
    symbol: r.symbol,
    side: r.side as OrderSide,
    type: r.type as OrderType,
    quantity: fromDecimalText(r.quantity),
    timeInForce: r.time_in_force as TimeInForce,
    reduceOnly: r.reduce_only === 1,
    status: r.status as OrderStatus,
    filledQuantity: fromDecimalText(r.filled_quantity),
    averageFillPrice: fromDecimalText(r.average_fill_price),
    fees: fromDecimalText(r.fees),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    source: r.source as OrderSource,
    correlationId: r.correlation_id,
  };
  // The stored text is the exact decimal (paper and live orders are written from it): read back as written.
  o.exact = {
    quantity: exactText(r.quantity, 'orders.quantity'),
    filledQuantity: exactText(r.filled_quantity, 'orders.filled_quantity'),
    averageFillPrice: exactText(r.average_fill_price, 'orders.average_fill_price'),
    fees: exactText(r.fees, 'orders.fees'),
  };
  if (r.venue_order_id !== null) o.venueOrderId = r.venue_order_id;
  if (r.price !== null) {
    o.price = fromDecimalText(r.price);
    o.exact.price = exactText(r.price, 'orders.price');
  }
  if (r.stop_price !== null) {
    o.stopPrice = fromDecimalText(r.stop_price);
    o.exact.stopPrice = exactText(r.stop_price, 'orders.stop_price');
  }
  if (r.signal_time !== null) o.signalTime = Number(r.signal_time);
  if (r.tag !== null) o.tag = r.tag;
  if (r.reason !== null) o.reason = r.reason;
  return o;
}

const ORDER_MUTABLE = [
  'venue_order_id',
  'status',
  'filled_quantity',
  'average_fill_price',
  'fees',
  'updated_at',
  'reason',
] as const satisfies readonly (keyof OrdersTable)[];

/**
 * The orders upsert (one home for its semantics): insert, or update the mutable columns unless the stored row is
 * newer (updated_at guard; a tie takes the new row). Rows must have distinct ids. SqliteJournalWriter prepares it.
 */
export function upsertOrdersQuery(db: Kysely<Database>, rows: readonly OrdersTable[]) {
  return db
    .insertInto('orders')
    .values(rows)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(fromExcluded<OrdersTable>(ORDER_MUTABLE))
        .where((eb) => eb('orders.updated_at', '<=', eb.ref('excluded.updated_at'))),
    );
}

/** Orders: upserted by id; a write never moves an order back to an older state (updated_at guard). */
export class OrdersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts or updates the orders (idempotent; older snapshots than the stored one are ignored). */
  async upsertRows(rows: readonly OrdersTable[]): Promise<void> {
    for (const part of chunks(latestByKey(rows, (r) => r.id))) await upsertOrdersQuery(this.db, part).execute();
  }

  /** Upserts one order. */
  async upsert(order: Readonly<Order>, deploymentId?: string): Promise<void> {
    await this.upsertRows([orderToRow(order, deploymentId)]);
  }

  /** The order with this id (or client order id), if stored. */
  async get(id: string): Promise<Order | undefined> {
    const row = await this.db
      .selectFrom('orders')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', id), eb('client_order_id', '=', id)]))
      .executeTakeFirst();
    return row ? rowToOrder(row) : undefined;
  }

  /**
   * Orders a person may mean by `key`: those whose id, client order id or venue order id equals it, else those where
   * one of them starts with it (at most `limit`, newest first). `audit order` takes any of the three, or a prefix.
   */
  async match(key: string, limit = 20): Promise<Order[]> {
    const exact = await this.db
      .selectFrom('orders')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', key), eb('client_order_id', '=', key), eb('venue_order_id', '=', key)]))
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    if (exact.length > 0 || key.length === 0) return exact.map(rowToOrder);
    // '!' escapes LIKE's wildcards the same way on SQLite (no default escape) and PostgreSQL.
    const pattern = `${key.replace(/[!%_]/g, (c) => `!${c}`)}%`;
    const like = (col: 'id' | 'client_order_id' | 'venue_order_id') =>
      sql<boolean>`${sql.ref(col)} like ${pattern} escape '!'`;
    const rows = await this.db
      .selectFrom('orders')
      .selectAll()
      .where((eb) => eb.or([like('id'), like('client_order_id'), like('venue_order_id')]))
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(rowToOrder);
  }

  /** Orders that may still fill (submitted, accepted, partially filled) or were never sent (new). */
  async listOpen(strategyId?: string): Promise<Order[]> {
    let q = this.db
      .selectFrom('orders')
      .selectAll()
      .where('status', 'in', ['new', 'submitted', 'accepted', 'partially_filled']);
    if (strategyId !== undefined) q = q.where('strategy_id', '=', strategyId);
    return (await q.orderBy('created_at').orderBy('id').execute()).map(rowToOrder);
  }

  /** Orders, newest first, optionally of one strategy. */
  async list(opts: { strategyId?: string; limit?: number } = {}): Promise<Order[]> {
    let q = this.db.selectFrom('orders').selectAll();
    if (opts.strategyId !== undefined) q = q.where('strategy_id', '=', opts.strategyId);
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map(rowToOrder);
  }

  /** Number of stored orders. */
  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

/** Converts a fill to its row. */
export function fillToRow(f: Readonly<Fill>): FillsTable {
  return {
    id: f.id,
    order_id: f.orderId,
    client_order_id: f.clientOrderId,
    strategy_id: f.strategyId,
    symbol: f.symbol,
    side: f.side,
    price: f.exact?.price ?? toDecimalText(f.price),
    quantity: f.exact?.quantity ?? toDecimalText(f.quantity),
    fee: f.exact?.fee ?? toDecimalText(f.fee),
    liquidity: f.liquidity,
    time: f.time,
    venue_trade_id: f.venueTradeId ?? null,
    correlation_id: f.correlationId ?? null,
  };
}

/** Converts a row back to the domain fill. */
export function rowToFill(r: FillsTable): Fill {
  const f: Fill = {
    id: r.id,
    orderId: r.order_id,
    clientOrderId: r.client_order_id,
    strategyId: r.strategy_id,
    symbol: r.symbol,
    side: r.side as OrderSide,
    price: fromDecimalText(r.price),
    quantity: fromDecimalText(r.quantity),
    fee: fromDecimalText(r.fee),
    liquidity: r.liquidity as Liquidity,
    time: Number(r.time),
    exact: {
      price: exactText(r.price, 'fills.price'),
      quantity: exactText(r.quantity, 'fills.quantity'),
      fee: exactText(r.fee, 'fills.fee'),
    },
  };
  if (r.venue_trade_id !== null) f.venueTradeId = r.venue_trade_id;
  if (r.correlation_id !== null) f.correlationId = r.correlation_id;
  return f;
}

/** The fills insert (one home for its semantics): a fill whose id is stored already is ignored, never doubled. */
export function insertFillsQuery(db: Kysely<Database>, rows: readonly FillsTable[]) {
  return db
    .insertInto('fills')
    .values(rows)
    .onConflict((oc) => oc.column('id').doNothing());
}

/** Fills: insert-once by id (a replayed fill is ignored, never doubled). */
export class FillsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts fills that are not stored yet. */
  async insertRows(rows: readonly FillsTable[]): Promise<void> {
    for (const part of chunks(rows)) await insertFillsQuery(this.db, part).execute();
  }

  /** Inserts one fill (idempotent). */
  async insert(fill: Readonly<Fill>): Promise<void> {
    await this.insertRows([fillToRow(fill)]);
  }

  /** Fills of one order, oldest first. */
  async byOrder(orderId: string): Promise<Fill[]> {
    const rows = await this.db
      .selectFrom('fills')
      .selectAll()
      .where('order_id', '=', orderId)
      .orderBy('time')
      .orderBy('id')
      .execute();
    return rows.map(rowToFill);
  }

  /**
   * Fills in a time range [from, to), oldest first: every one unless `limit` asks for the first `limit`. No silent
   * page: a booking or reconcile that read only a first page would miss the newest fills.
   */
  async list(opts: { from?: number; to?: number; strategyId?: string; limit?: number } = {}): Promise<Fill[]> {
    let q = this.db.selectFrom('fills').selectAll();
    if (opts.from !== undefined) q = q.where('time', '>=', opts.from);
    if (opts.to !== undefined) q = q.where('time', '<', opts.to);
    if (opts.strategyId !== undefined) q = q.where('strategy_id', '=', opts.strategyId);
    q = q.orderBy('time').orderBy('id');
    const rows = await (opts.limit !== undefined ? q.limit(opts.limit) : q).execute();
    return rows.map(rowToFill);
  }

  /** The newest `limit` fills (of one deployment when `strategyId` is given), oldest first. */
  async latest(opts: { strategyId?: string; limit: number }): Promise<Fill[]> {
    let q = this.db.selectFrom('fills').selectAll();
    if (opts.strategyId !== undefined) q = q.where('strategy_id', '=', opts.strategyId);
    const rows = await q.orderBy('time', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
    return rows.reverse().map(rowToFill);
  }

  /** Number of stored fills. */
  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('fills')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

/** Stable id of a closed trade, so persisting the same trade twice keeps one row. */
export function tradeId(t: ClosedTrade): string {
  return createHash('sha256')
    .update(`${t.strategyId}\u0000${t.symbol}\u0000${t.side}\u0000${t.entryTime}\u0000${t.exitTime}\u0000${t.quantity}`)
    .digest('hex')
    .slice(0, 32);
}

/** Converts a closed trade to its row. */
export function tradeToRow(t: ClosedTrade): TradesTable {
  return {
    id: tradeId(t),
    strategy_id: t.strategyId,
    symbol: t.symbol,
    side: t.side,
    entry_time: t.entryTime,
    // Paper and live trades are written from their exact text, a backtest's from its doubles.
    entry_price: t.exact?.entryPrice ?? toDecimalText(t.entryPrice),
    exit_time: t.exitTime,
    exit_price: t.exact?.exitPrice ?? toDecimalText(t.exitPrice),
    quantity: t.exact?.quantity ?? toDecimalText(t.quantity),
    fees: t.exact?.fees ?? toDecimalText(t.fees),
    pnl: t.exact?.pnl ?? toDecimalText(t.pnl),
    pnl_pct: toDecimalText(t.pnlPct),
    exit_reason: t.exitReason,
    entry_tag: t.entryTag ?? null,
  };
}

/** Converts a row back to a closed trade. */
export function rowToTrade(r: TradesTable): ClosedTrade {
  const t: ClosedTrade = {
    strategyId: r.strategy_id,
    symbol: r.symbol,
    side: r.side as 'long' | 'short',
    entryTime: Number(r.entry_time),
    entryPrice: fromDecimalText(r.entry_price),
    exitTime: Number(r.exit_time),
    exitPrice: fromDecimalText(r.exit_price),
    quantity: fromDecimalText(r.quantity),
    fees: fromDecimalText(r.fees),
    pnl: fromDecimalText(r.pnl),
    pnlPct: fromDecimalText(r.pnl_pct),
    exitReason: r.exit_reason,
  };
  if (r.entry_tag !== null) t.entryTag = r.entry_tag;
  // The stored text is the exact decimal (paper and live trades are written from it): read back as written.
  t.exact = {
    entryPrice: exactText(r.entry_price, 'trades.entry_price'),
    exitPrice: exactText(r.exit_price, 'trades.exit_price'),
    quantity: exactText(r.quantity, 'trades.quantity'),
    fees: exactText(r.fees, 'trades.fees'),
    pnl: exactText(r.pnl, 'trades.pnl'),
  };
  return t;
}

/** Closed trades (idempotent by derived id). */
export class TradesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts trades not stored yet. */
  async insertRows(rows: readonly TradesTable[]): Promise<void> {
    for (const part of chunks(rows)) {
      await this.db
        .insertInto('trades')
        .values(part)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  }

  /** Inserts one closed trade (idempotent). */
  async insert(trade: ClosedTrade): Promise<void> {
    await this.insertRows([tradeToRow(trade)]);
  }

  /** Trades by exit time, optionally of one strategy and within [from, to). */
  async list(opts: { strategyId?: string; from?: number; to?: number } = {}): Promise<ClosedTrade[]> {
    let q = this.db.selectFrom('trades').selectAll();
    if (opts.strategyId !== undefined) q = q.where('strategy_id', '=', opts.strategyId);
    if (opts.from !== undefined) q = q.where('exit_time', '>=', opts.from);
    if (opts.to !== undefined) q = q.where('exit_time', '<', opts.to);
    return (await q.orderBy('exit_time').orderBy('id').execute()).map(rowToTrade);
  }
}

/** Converts a position to its row. */
export function positionToRow(p: Readonly<Position>, updatedAt: number): PositionsTable {
  return {
    strategy_id: p.strategyId ?? '',
    symbol: p.symbol,
    // Paper and live positions are written from the exact ledger's text, a backtest's from its doubles.
    quantity: p.exact?.quantity ?? toDecimalText(p.quantity),
    average_price: p.exact?.averagePrice ?? toDecimalText(p.averagePrice),
    realized_pnl: p.exact?.realizedPnl ?? toDecimalText(p.realizedPnl),
    fees: p.exact?.fees ?? toDecimalText(p.fees),
    // A flat position has no opening time (NaN); the column is NOT NULL, and a failed write would leave the last
    // open snapshot standing in the table.
    opened_at: Number.isFinite(p.openedAt) ? p.openedAt : 0,
    updated_at: updatedAt,
  };
}

/** Converts a row back to a position. */
export function rowToPosition(r: PositionsTable): Position {
  const p: Position = {
    symbol: r.symbol,
    quantity: fromDecimalText(r.quantity),
    averagePrice: fromDecimalText(r.average_price),
    realizedPnl: fromDecimalText(r.realized_pnl),
    openedAt: Number(r.opened_at) === 0 && fromDecimalText(r.quantity) === 0 ? Number.NaN : Number(r.opened_at),
    fees: fromDecimalText(r.fees),
  };
  if (r.strategy_id !== '') p.strategyId = r.strategy_id;
  // The stored text is the exact decimal (paper and live positions are written from it): read back as written.
  p.exact = {
    quantity: exactText(r.quantity, 'positions.quantity'),
    averagePrice: exactText(r.average_price, 'positions.average_price'),
    realizedPnl: exactText(r.realized_pnl, 'positions.realized_pnl'),
    fees: exactText(r.fees, 'positions.fees'),
  };
  return p;
}

/** Latest net position per (strategy, symbol). */
export class PositionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores the latest state of each position (older snapshots are ignored). */
  async upsertRows(rows: readonly PositionsTable[]): Promise<void> {
    for (const part of chunks(latestByKey(rows, (r) => `${r.strategy_id}\u0000${r.symbol}`))) {
      await this.db
        .insertInto('positions')
        .values(part)
        .onConflict((oc) =>
          oc
            .columns(['strategy_id', 'symbol'])
            .doUpdateSet(
              fromExcluded<PositionsTable>([
                'quantity',
                'average_price',
                'realized_pnl',
                'fees',
                'opened_at',
                'updated_at',
              ]),
            )
            .where((eb) => eb('positions.updated_at', '<=', eb.ref('excluded.updated_at'))),
        )
        .execute();
    }
  }

  /** Stores one position snapshot taken at `time`. */
  async upsert(position: Readonly<Position>, time: number): Promise<void> {
    await this.upsertRows([positionToRow(position, time)]);
  }

  /** All positions (flat ones included unless `openOnly`). */
  async list(opts: { strategyId?: string; openOnly?: boolean } = {}): Promise<Position[]> {
    let q = this.db.selectFrom('positions').selectAll();
    if (opts.strategyId !== undefined) q = q.where('strategy_id', '=', opts.strategyId);
    const rows = (await q.orderBy('strategy_id').orderBy('symbol').execute()).map(rowToPosition);
    return opts.openOnly ? rows.filter((p) => p.quantity !== 0) : rows;
  }

  /** One position. */
  async get(symbol: string, strategyId?: string): Promise<Position | undefined> {
    const row = await this.db
      .selectFrom('positions')
      .selectAll()
      .where('strategy_id', '=', strategyId ?? '')
      .where('symbol', '=', symbol)
      .executeTakeFirst();
    return row ? rowToPosition(row) : undefined;
  }
}
