/** The runtime status rebuilt from the store, for `tradeforge status` while the runtime is down. */
import type { RiskEngineState } from '../risk/index.js';
import { openStore, type Store } from '../store/index.js';
import type { HomePaths } from './home.js';
import { callRuntime, readLiveRunFile } from './run-file.js';
import { RISK_STATE_KEY } from './live/risk-state.js';
import type { RuntimeStatus } from './runtime.js';

/** A deployment's book rebuilt from its stored fills: cash from its capital, fees paid, positions at last price. */
interface Book {
  cash: number;
  fees: number;
  trades: number;
}

/** Positions from the stored fills, open orders, recent fills, breakers and the last heartbeat. */
export async function statusFromStore(store: Store): Promise<RuntimeStatus> {
  const fills = await store.fills.list({ limit: 1_000_000 });
  const books = new Map<string, Book>();
  const pos = new Map<string, { deployment: string; symbol: string; quantity: number; cost: number; last: number }>();
  for (const f of fills) {
    const key = `${f.strategyId}\u0000${f.symbol}`;
    let p = pos.get(key);
    if (!p) pos.set(key, (p = { deployment: f.strategyId, symbol: f.symbol, quantity: 0, cost: 0, last: f.price }));
    const signed = f.side === 'buy' ? f.quantity : -f.quantity;
    let b = books.get(f.strategyId);
    if (!b) books.set(f.strategyId, (b = { cash: 0, fees: 0, trades: 0 }));
    b.cash -= signed * f.price + f.fee;
    b.fees += f.fee;
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
  const riskState = await store.kv.get<RiskEngineState>(RISK_STATE_KEY);
  const openPositions = [...pos.values()].filter((p) => p.quantity !== 0);
  const capitalOf = (config: unknown): number => {
    const cap = (config as { capitalCap?: unknown } | null)?.capitalCap;
    return typeof cap === 'number' ? cap : 10_000;
  };
  // Funding of perpetuals booked into each deployment's book (cash and realised P&L, not fills).
  const fundingOf = new Map<string, number>();
  for (const d of deployments) {
    fundingOf.set(
      d.id,
      (await store.funding.byDeployment(d.id)).reduce((sum, r) => sum + r.amount, 0),
    );
  }
  const bookOf = (id: string, config: unknown) => {
    const b = books.get(id) ?? { cash: 0, fees: 0, trades: 0 };
    const capital = capitalOf(config);
    const funding = fundingOf.get(id) ?? 0;
    const cash = capital + b.cash + funding;
    let held = 0;
    let unrealised = 0;
    for (const p of openPositions) {
      if (p.deployment !== id) continue;
      held += p.quantity * p.last;
      unrealised += p.quantity * p.last - p.cost;
    }
    const equity = cash + held;
    return { equity, cash, unrealised, realised: equity - capital - unrealised, funding };
  };
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
      const book = bookOf(d.id, d.config);
      return {
        id: d.id,
        strategy: d.strategyId,
        venue: d.venue,
        mode: d.mode,
        symbols: d.symbols,
        equity: book.equity,
        cash: book.cash,
        realizedPnl: book.realised,
        unrealizedPnl: book.unrealised,
        fundingPnl: book.funding,
        closedTrades: 0,
        liveBars: 0,
        stale: [],
        protectiveStops: 0,
      };
    }),
    account: {
      equity: deployments.reduce((e, d) => e + bookOf(d.id, d.config).equity, 0),
      cash: deployments.reduce((c, d) => c + bookOf(d.id, d.config).cash, 0),
    },
    positions: openPositions.map((p) => ({
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
        deployment: 'account',
        active: riskState
          ? activeFromState(riskState, Date.now())
          : (breakers as { breaker: string; state: string; detail?: string }[])
              .filter((b) => b.state === 'tripped')
              .map((b) => ({ breaker: b.breaker, ...(b.detail ? { detail: b.detail } : {}) })),
      },
    ],
    risk: [],
  };
}

// The account risk engine's saved halts that still hold at `now` (what the next start restores).
function activeFromState(
  state: RiskEngineState,
  now: number,
): { breaker: string; symbol?: string; until?: number; detail?: string }[] {
  const out: { breaker: string; symbol?: string; until?: number; detail?: string }[] = [];
  for (const [name, h] of Object.entries(state.breakers.halts)) {
    if (h && (h.until === null || now < h.until)) {
      out.push({ breaker: name, ...(h.until !== null ? { until: h.until } : {}), detail: h.detail });
    }
  }
  if (state.breakers.killSwitch && !state.breakers.halts.KILL_SWITCH)
    out.push({ breaker: 'KILL_SWITCH', detail: state.breakers.killSwitch.reason });
  for (const [name, locks] of Object.entries(state.breakers.locks ?? {})) {
    for (const [symbol, until] of Object.entries(locks ?? {})) {
      if (now < until) out.push({ breaker: name, symbol, until });
    }
  }
  return out;
}

/**
 * The status `tradeforge status` and `risk report` read: the running runtime's (`GET /api/status`), or the one
 * rebuilt from the store when no runtime answers.
 */
export async function currentStatus(home: HomePaths): Promise<RuntimeStatus> {
  const run = readLiveRunFile(home);
  const live = run
    ? await callRuntime<RuntimeStatus>(run, home, 'GET', '/api/status').catch(() => undefined)
    : undefined;
  if (live) return live;
  const store = await openStore({ home });
  try {
    return await statusFromStore(store);
  } finally {
    await store.close();
  }
}
