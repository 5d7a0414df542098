/**
 * The runtime's trading journal in the store: write-ahead orders, fills booked once by venue trade id, order
 * state changes, strategy state on every fill, and the replay that rebuilds a deployment's portfolio on restart.
 * Orders are keyed by their venue client order id, which is unique across restarts (the engine's own ids restart
 * at o1 every run). Every write goes through one group commit: write-aheads and fills resolve once committed
 * (durable), and whatever queued meanwhile — other write-aheads, order state changes, strategy state — shares
 * their transaction, so the order path pays for one commit, not one per write.
 */
import type { DomainEvent, EventBus, EventName } from '../../core/events.js';
import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { Engine } from '../../engine/engine.js';
import { fillToRow, GroupCommit, orderToRow, type Store } from '../../store/index.js';
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

/** Store-backed journal of one deployment. */
export class StoreJournal implements BridgeJournal {
  private readonly offs: (() => void)[] = [];
  private readonly commits: GroupCommit;

  constructor(
    store: Store,
    private readonly deploymentId: string,
    private readonly clientIdOf: (order: Readonly<Order>) => string,
    onError: (err: unknown) => void,
    /** The store's group commit, when deployments share one (the runtime: one per store); default: its own. */
    commits?: GroupCommit,
  ) {
    this.commits = commits ?? new GroupCommit(store, { onError });
  }

  /** Writes queued and not yet committed. */
  get depth(): number {
    return this.commits.depth;
  }

  /** Commits and writes grouped into them so far. */
  get commitStats(): Readonly<{ commits: number; writes: number }> {
    return this.commits.stats;
  }

  async persistOrder(order: Readonly<Order>, clientOrderId: string): Promise<void> {
    // A snapshot now: the order object moves on while the commit waits.
    const row = orderToRow({ ...order, id: clientOrderId, clientOrderId }, this.deploymentId);
    await this.commits.durable((repos) => repos.orders.upsertRows([row]));
  }

  async persistFill(fill: Fill): Promise<void> {
    const row = fillToRow(fill);
    await this.commits.durable((repos) => repos.fills.insertRows([row]));
  }

  /** Persists order state changes of this deployment's strategy (in order, off the publisher's stack). */
  attach(bus: EventBus, strategyId: string): void {
    for (const name of ORDER_EVENTS) {
      this.offs.push(
        bus.subscribe(name, (e: DomainEvent) => {
          const order = (e.payload as { order: Readonly<Order> }).order;
          if (order.strategyId !== strategyId) return;
          const cid = this.clientIdOf(order);
          const row = orderToRow({ ...order, id: cid, clientOrderId: cid }, this.deploymentId);
          this.commits.lazy((repos) => repos.orders.upsertRows([row]));
        }),
      );
    }
  }

  /** Saves the strategy's state (queued behind earlier writes). */
  saveStrategyState(strategyId: string, state: unknown, time: number): void {
    if (state === undefined) return;
    this.commits.lazy((repos) => repos.strategyState.save(this.deploymentId, strategyId, state, time));
  }

  /** Resolves once every queued write is committed. */
  flush(): Promise<void> {
    return this.commits.flush().catch(() => undefined);
  }

  /** Stops listening and writes what is queued. */
  async close(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    await this.flush();
  }
}

/**
 * Rebuilds a deployment's portfolio (positions, cash, realised P&L, closed trades) by replaying its stored fills in
 * time order — the fills are the journal's truth, so a crash anywhere leaves nothing to guess. Returns the keys of
 * the fills booked (client order id + venue trade id), for the bridge's de-duplication.
 */
export async function replayFills(
  store: Store,
  engine: Engine,
): Promise<{ fills: number; fillKeys: Set<string>; lastFillTime: number }> {
  const fills = await store.fills.list({ strategyId: engine.strategyId });
  const orders = new Map(
    (await store.orders.list({ strategyId: engine.strategyId, limit: 1_000_000 })).map((o) => [o.id, o]),
  );
  const pf = engine.portfolio;
  const fillKeys = new Set<string>();
  let lastFillTime = 0;
  for (const f of fills) {
    if (f.venueTradeId !== undefined) fillKeys.add(fillKey(f.orderId, f.venueTradeId));
    const s = pf.indexOf(f.symbol);
    if (s < 0) continue;
    const o = orders.get(f.orderId);
    const reason = o === undefined ? 'exit' : o.source === 'strategy' ? 'exit_signal' : (o.tag ?? o.source);
    pf.applyFill(s, f.side === 'buy' ? 1 : -1, f.quantity, f.price, f.fee, f.time, reason, o?.tag);
    pf.last[s] = f.price;
    engine.fills++;
    if (f.time > lastFillTime) lastFillTime = f.time;
  }
  return { fills: fills.length, fillKeys, lastFillTime };
}
