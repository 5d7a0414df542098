/** The runtime status rebuilt from the store, for `tradeforge status` while the runtime is down. */
import type { Store } from '../store/index.js';
import type { RuntimeStatus } from './runtime.js';

/** Starting cash of a deployment without `capitalCap` (the runtime's default). */
const DEFAULT_CAPITAL = 10_000;

/** One deployment's book rebuilt from its fills (average cost, as the engine's portfolio keeps it). */
interface Book {
  cash: number;
  realised: number;
  closedTrades: number;
  positions: Map<string, { quantity: number; cost: number; last: number }>;
}

/** Positions, cash, realised and unrealised P&L from the stored fills; open orders, recent fills, breakers, heartbeat. */
export async function statusFromStore(store: Store): Promise<RuntimeStatus> {
  const fills = await store.fills.list({ limit: 1_000_000 });
  const deployments = await store.deployments.list();
  const books = new Map<string, Book>();
  const bookOf = (id: string): Book => {
    let b = books.get(id);
    if (!b) {
      const d = deployments.find((x) => x.id === id);
      const cap = (d?.config as { capitalCap?: unknown } | undefined)?.capitalCap;
      b = {
        cash: typeof cap === 'number' && Number.isFinite(cap) ? cap : DEFAULT_CAPITAL,
        realised: 0,
        closedTrades: 0,
        positions: new Map(),
      };
      books.set(id, b);
    }
    return b;
  };
  for (const f of fills) {
    const b = bookOf(f.strategyId);
    let p = b.positions.get(f.symbol);
    if (!p) b.positions.set(f.symbol, (p = { quantity: 0, cost: 0, last: f.price }));
    const signed = f.side === 'buy' ? f.quantity : -f.quantity;
    b.cash -= signed * f.price + f.fee;
    const before = p.quantity;
    const after = before + signed;
    if (before === 0 || Math.sign(before) === Math.sign(signed)) p.cost += signed * f.price;
    else {
      // Closing (part of) a position books P&L against the average cost; a flip opens the rest at this price.
      const closed = Math.min(Math.abs(signed), Math.abs(before));
      b.realised += closed * Math.sign(before) * (f.price - p.cost / before);
      const flat = Math.abs(after) < 1e-12;
      const sameSide = !flat && Math.sign(after) === Math.sign(before);
      if (!sameSide) b.closedTrades++;
      p.cost = flat ? 0 : sameSide ? (p.cost / before) * after : after * f.price;
    }
    p.quantity = Math.abs(after) < 1e-12 ? 0 : after;
    p.last = f.price;
  }
  const pos = [...books.entries()].flatMap(([deployment, b]) =>
    [...b.positions.entries()].map(([symbol, p]) => ({ deployment, symbol, ...p })),
  );
  const open = await store.orders.listOpen();
  const beats = await store.heartbeats.list();
  const beat = beats.find((b) => b.component === 'runtime');
  const breakers = await store.breakers.list().catch(() => []);
  const kill = await store.kv.get<{ event?: string }>('killswitch.state');
  return {
    source: 'store',
    pid: 0,
    profile: 'dev',
    state: 'halted',
    startedAt: 0,
    entriesEnabled: false,
    killSwitchActive: kill?.event === 'killswitch.triggered.v1' || kill?.event === 'killswitch.completed.v1',
    heartbeat: { lastAt: beat?.time ?? null, seq: beat?.seq ?? null },
    deployments: deployments.map((d) => {
      const b = bookOf(d.id);
      let value = 0;
      let unrealised = 0;
      // Marked at the last fill price: the runtime is down, so there is no newer price in the store.
      for (const p of b.positions.values()) {
        value += p.quantity * p.last;
        unrealised += p.quantity * p.last - p.cost;
      }
      return {
        id: d.id,
        strategy: d.strategyId,
        venue: d.venue,
        mode: d.mode,
        symbols: d.symbols,
        equity: b.cash + value,
        cash: b.cash,
        realizedPnl: b.realised,
        unrealizedPnl: unrealised,
        closedTrades: b.closedTrades,
        liveBars: 0,
        stale: [],
        protectiveStops: 0,
      };
    }),
    positions: [...pos.values()]
      .filter((p) => p.quantity !== 0)
      .map((p) => ({
        deployment: p.deployment,
        symbol: p.symbol,
        quantity: p.quantity,
        averagePrice: p.cost / p.quantity,
        last: p.last,
      })),
    openOrders: open.map((o) => ({
      deployment: o.strategyId,
      id: o.id,
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      quantity: o.quantity,
      ...(o.price !== undefined ? { price: o.price } : {}),
      ...(o.stopPrice !== undefined ? { stopPrice: o.stopPrice } : {}),
      status: o.status,
      ...(o.tag !== undefined ? { tag: o.tag } : {}),
    })),
    recentFills: fills.slice(-20).map((f) => ({
      id: f.id,
      orderId: f.orderId,
      symbol: f.symbol,
      side: f.side,
      price: f.price,
      quantity: f.quantity,
      fee: f.fee,
      time: f.time,
    })),
    breakers: [
      {
        deployment: '*',
        active: (breakers as { breaker: string; state: string; detail?: string }[])
          .filter((b) => b.state === 'tripped')
          .map((b) => ({ breaker: b.breaker, ...(b.detail ? { detail: b.detail } : {}) })),
      },
    ],
    risk: [],
  };
}
