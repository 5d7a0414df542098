/**
 * The runtime's trading journal in the store: write-ahead orders, fills booked once by venue trade id, order
 * state changes, strategy state on every fill, and the replay that rebuilds a deployment's portfolio on restart.
 * Orders are keyed by their venue client order id, which is unique across restarts (the engine's own ids restart
 * at o1 every run). Write-aheads and fills are durable: they resolve once committed. Order state changes and
 * strategy state are lazy: they ride with the next durable commit, or are committed `LAZY_MS` later.
 *
 * On SQLite a durable write commits synchronously through the store's SqliteJournalWriter (prepared statements,
 * one `BEGIN IMMEDIATE ... COMMIT` with the lazy writes queued before it), so the order path pays neither query
 * building nor a wait for the event loop. On PostgreSQL, and on SQLite while another transaction holds the shared
 * connection, writes go through the group commit (one transaction for whatever queued meanwhile); while the group
 * commit has writes in hand, later ones queue behind them, so writes are committed in the order they were made.
 */
import type { DomainEvent, EventBus, EventName } from '../../core/events.js';
import { exactExecutionOf, type Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { Engine } from '../../engine/engine.js';
import type { Portfolio } from '../../engine/portfolio.js';
import {
  applyJournalWrite,
  fillToRow,
  GroupCommit,
  type JournalWrite,
  orderToRow,
  SqliteJournalWriter,
  type Store,
  strategyStateToRow,
} from '../../store/index.js';
import type { BridgeJournal } from '../../venues/live/bridge.js';
import { fillKey } from '../../venues/live/client-order-id.js';

const ORDER_EVENTS: readonly EventName[] = [
  'order.accepted.v1',
  'order.partially_filled.v1',
  'order.filled.v1',
  'order.cancelled.v1',
  'order.rejected.v1',
  'order.expired.v1',
];

/** Longest a lazy write waits for a durable one to ride with (ms). */
const LAZY_MS = 20;

/** Store-backed journal of one deployment. */
export class StoreJournal implements BridgeJournal {
  private readonly offs: (() => void)[] = [];
  private readonly commits: GroupCommit;
  /** SQLite: the synchronous writer; undefined on PostgreSQL. */
  private readonly fast: SqliteJournalWriter | undefined;
  /** Lazy writes waiting for the fast path's next commit. */
  private pending: JournalWrite[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly fastStats = { commits: 0, writes: 0 };

  constructor(
    store: Store,
    private readonly deploymentId: string,
    private readonly clientIdOf: (order: Readonly<Order>) => string,
    private readonly onError: (err: unknown) => void,
    /** The store's group commit, when deployments share one; default: its own. */
    commits?: GroupCommit,
  ) {
    this.commits = commits ?? new GroupCommit(store, { onError, lazyMs: LAZY_MS });
    this.fast = SqliteJournalWriter.of(store);
  }

  /** Writes queued and not yet committed. */
  get depth(): number {
    return this.pending.length + this.commits.depth;
  }

  /** Commits and writes grouped into them so far (both paths). */
  get commitStats(): Readonly<{ commits: number; writes: number }> {
    const g = this.commits.stats;
    return { commits: g.commits + this.fastStats.commits, writes: g.writes + this.fastStats.writes };
  }

  // async: a bad row rejects the caller's promise instead of throwing on its stack.
  async persistOrder(order: Readonly<Order>, clientOrderId: string): Promise<void> {
    // A snapshot now: the order object moves on while a commit waits.
    const row = orderToRow({ ...order, id: clientOrderId, clientOrderId }, this.deploymentId);
    return this.durable({ table: 'orders', row });
  }

  async persistFill(fill: Fill): Promise<void> {
    return this.durable({ table: 'fills', row: fillToRow(fill) });
  }

  /** Persists order state changes of this deployment's strategy (in order, off the publisher's stack). */
  attach(bus: EventBus, strategyId: string): void {
    for (const name of ORDER_EVENTS) {
      this.offs.push(
        bus.subscribe(name, (e: DomainEvent) => {
          const order = (e.payload as { order: Readonly<Order> }).order;
          if (order.strategyId !== strategyId) return;
          const cid = this.clientIdOf(order);
          this.lazy({ table: 'orders', row: orderToRow({ ...order, id: cid, clientOrderId: cid }, this.deploymentId) });
        }),
      );
    }
  }

  /** Saves the strategy's state (queued behind earlier writes). */
  saveStrategyState(strategyId: string, state: unknown, time: number): void {
    if (state === undefined) return;
    this.lazy({ table: 'strategy_state', row: strategyStateToRow(this.deploymentId, strategyId, state, time) });
  }

  /** Resolves once every queued write is committed. */
  flush(): Promise<void> {
    this.commitPending();
    return this.commits.flush().catch(() => undefined);
  }

  /** Stops listening and writes what is queued. */
  async close(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    await this.flush();
  }

  // The fast path when nothing is ahead of the write in the group commit and the connection is free.
  private canCommitNow(): boolean {
    return this.fast?.ready === true && this.commits.idle;
  }

  // Commits the write with the pending lazy writes before it: at once on the fast path, else through the group commit.
  private durable(w: JournalWrite): Promise<void> {
    if (this.canCommitNow()) {
      const writes = this.takePending();
      writes.push(w);
      try {
        this.commitFast(writes);
      } catch (err) {
        this.onError(err);
        return Promise.reject(err);
      }
      return Promise.resolve();
    }
    this.handOverPending();
    return this.commits.durable((repos) => applyJournalWrite(repos, w));
  }

  private lazy(w: JournalWrite): void {
    if (this.fast === undefined) {
      this.commits.lazy((repos) => applyJournalWrite(repos, w));
      return;
    }
    this.pending.push(w);
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.commitPending();
      }, LAZY_MS);
      this.timer.unref?.();
    }
  }

  // Commits the pending lazy writes now (fast path), or hands them to the group commit (it commits them lazily).
  private commitPending(): void {
    if (this.pending.length === 0) return;
    if (!this.canCommitNow()) {
      this.handOverPending();
      return;
    }
    try {
      this.commitFast(this.takePending());
    } catch (err) {
      this.onError(err);
    }
  }

  private commitFast(writes: readonly JournalWrite[]): void {
    (this.fast as SqliteJournalWriter).commit(writes);
    this.fastStats.commits++;
    this.fastStats.writes += writes.length;
  }

  private takePending(): JournalWrite[] {
    const writes = this.pending;
    this.pending = [];
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return writes;
  }

  // Queues the pending writes in the group commit, ahead of whatever comes next (order kept).
  private handOverPending(): void {
    for (const w of this.takePending()) this.commits.lazy((repos) => applyJournalWrite(repos, w));
  }
}

/**
 * Rebuilds a deployment's book (positions, cash, realised P&L, fees, closed trades) by replaying its stored fills in
 * time order into `portfolio` (of strategy `portfolio.strategyId`) — the fills are the journal's truth, so a crash
 * anywhere leaves nothing to guess. The runtime's restart and the offline status (`rebuildBook`) both book through
 * here. Returns the fills booked and the keys of all fills read (client order id + venue trade id), for the
 * bridge's de-duplication.
 */
export async function replayBook(
  store: Store,
  portfolio: Portfolio,
): Promise<{ fills: number; booked: number; fillKeys: Set<string>; lastFillTime: number }> {
  const strategyId = portfolio.strategyId;
  // Every fill (`list` has no default page): a book short of one fill is a wrong book.
  const fills = await store.fills.list({ strategyId });
  const orders = new Map((await store.orders.list({ strategyId, limit: 1_000_000 })).map((o) => [o.id, o]));
  const pf = portfolio;
  const fillKeys = new Set<string>();
  let lastFillTime = 0;
  let booked = 0;
  for (const f of fills) {
    if (f.venueTradeId !== undefined) fillKeys.add(fillKey(f.orderId, f.venueTradeId));
    const s = pf.indexOf(f.symbol);
    if (s < 0) continue;
    const o = orders.get(f.orderId);
    const reason = o === undefined ? 'exit' : o.source === 'strategy' ? 'exit_signal' : (o.tag ?? o.source);
    // The stored text is booked as written (docs/money.md), not the doubles read from it.
    pf.applyFill(s, f.side === 'buy' ? 1 : -1, f.quantity, f.price, f.fee, f.time, reason, o?.tag, exactExecutionOf(f));
    pf.last[s] = f.price;
    booked++;
    if (f.time > lastFillTime) lastFillTime = f.time;
  }
  return { fills: fills.length, booked, fillKeys, lastFillTime };
}

/** `replayBook` into an engine's portfolio, counting the fills booked on the engine (the runtime's restart). */
export async function replayFills(
  store: Store,
  engine: Engine,
): Promise<{ fills: number; fillKeys: Set<string>; lastFillTime: number }> {
  const r = await replayBook(store, engine.portfolio);
  engine.fills += r.booked;
  return { fills: r.fills, fillKeys: r.fillKeys, lastFillTime: r.lastFillTime };
}
