/** The runtime status rebuilt from the store, for `tradeforge status` while the runtime is down. */
import type { RiskEngineState } from '../risk/index.js';
import { openStore, type Store } from '../store/index.js';
import type { HomePaths } from './home.js';
import { callRuntime, readLiveRunFile } from './run-file.js';
import type { Portfolio } from '../engine/portfolio.js';
import { rebuildBook } from './live/book.js';
import { RISK_STATE_KEY } from './live/risk-state.js';
import { bookFields, bookPositions, openOrderOf, recentFills } from './live/status.js';
import type { RuntimeStatus } from './runtime.js';

/**
 * The status while the runtime is down: each deployment's book rebuilt by the runtime's own replay (`rebuildBook`:
 * cash, positions, realised P&L and fees exactly as the runtime books them, positions marked at their last fill
 * price), open orders, recent fills, breakers and the last heartbeat.
 */
export async function statusFromStore(store: Store): Promise<RuntimeStatus> {
  const open = await store.orders.listOpen();
  const beats = await store.heartbeats.list();
  const beat = beats.find((b) => b.component === 'runtime');
  const deployments = await store.deployments.list();
  const breakers = await store.breakers.list().catch(() => []);
  const kill = await store.kv.get<{ event?: string }>('killswitch.state');
  const riskState = await store.kv.get<RiskEngineState>(RISK_STATE_KEY);
  const books = new Map<string, Portfolio>();
  for (const d of deployments) books.set(d.id, await rebuildBook(store, d));
  const bookOf = (id: string) => books.get(id) as Portfolio;
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
      ...bookFields(bookOf(d.id), d.symbols),
      liveBars: 0,
      stale: [],
      protectiveStops: 0,
    })),
    account: {
      equity: deployments.reduce((e, d) => e + bookOf(d.id).equity(), 0),
      cash: deployments.reduce((c, d) => c + bookOf(d.id).cash, 0),
    },
    positions: deployments.flatMap((d) => bookPositions(d.id, d.symbols, bookOf(d.id))),
    openOrders: open.map((o) => openOrderOf(o.strategyId, o, o.clientOrderId)),
    recentFills: await recentFills(store),
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
