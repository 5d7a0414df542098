/** The runtime status rebuilt from the store, for `tradeforge status` while the runtime is down. */
import type { Store } from '../store/index.js';
import type { RuntimeStatus } from './runtime.js';

/** Positions from the stored fills, open orders, recent fills, breakers and the last heartbeat. */
export async function statusFromStore(store: Store): Promise<RuntimeStatus> {
  const fills = await store.fills.list({ limit: 1_000_000 });
  const pos = new Map<string, { deployment: string; symbol: string; quantity: number; cost: number; last: number }>();
  for (const f of fills) {
    const key = `${f.strategyId}\u0000${f.symbol}`;
    let p = pos.get(key);
    if (!p) pos.set(key, (p = { deployment: f.strategyId, symbol: f.symbol, quantity: 0, cost: 0, last: f.price }));
    const signed = f.side === 'buy' ? f.quantity : -f.quantity;
    const before = p.quantity;
    const after = before + signed;
    if (before === 0 || Math.sign(before) === Math.sign(signed)) p.cost += signed * f.price;
    else p.cost = Math.abs(after) < 1e-12 ? 0 : (p.cost / before) * after;
    p.quantity = Math.abs(after) < 1e-12 ? 0 : after;
    p.last = f.price;
  }
  const open = await store.orders.listOpen();
  const beats = await store.heartbeats.list();
  const beat = beats.find((b) => b.component === 'runtime');
  const deployments = await store.deployments.list();
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
    deployments: deployments.map((d) => ({
      id: d.id,
      strategy: d.strategyId,
      venue: d.venue,
      mode: d.mode,
      symbols: d.symbols,
      equity: Number.NaN,
      cash: Number.NaN,
      realizedPnl: Number.NaN,
      unrealizedPnl: Number.NaN,
      closedTrades: 0,
      liveBars: 0,
      stale: [],
      protectiveStops: 0,
    })),
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
