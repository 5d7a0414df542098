/**
 * The runtime's full status (`GET /api/status`, `tradeforge status --json`), read from the running kernels, and the
 * fields it shares with the status rebuilt from the store while the runtime is down (`app/store-status.ts`).
 */
import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import { decimalText } from '../../core/money.js';
import type { Portfolio } from '../../engine/portfolio.js';
import { type AccountRisk, findPropFirmRule } from '../../risk/index.js';
import type { Store } from '../../store/index.js';
import type { Profile } from '../venues.js';
import type { EntriesSwitch } from './gates.js';
import type { DeploymentRuntime, RuntimeStatus } from './runtime-types.js';

/** What the status reads. */
export interface StatusDeps {
  deployments: readonly DeploymentRuntime[];
  account: AccountRisk;
  store: Store;
  profile: Profile;
  startedAt: number;
  entries: EntriesSwitch;
  url: () => string;
  stopping: () => boolean;
  lastBeat: () => { seq: number; time: number } | undefined;
}

/** True while the account's kill switch holds (engaged now, or restored from the last run). */
export function killSwitchActive(deployments: readonly DeploymentRuntime[], account: AccountRisk): boolean {
  return account.engine.killSwitchState() !== null || deployments.some((d) => d.engine.haltCode === 'KILL_SWITCH');
}

/** Builds the status function of a runtime. */
export function buildStatus(s: StatusDeps): () => Promise<RuntimeStatus> {
  return async () => {
    const positions: RuntimeStatus['positions'] = [];
    const openOrders: RuntimeStatus['openOrders'] = [];
    for (const d of s.deployments) {
      positions.push(...bookPositions(d.id, d.symbols, d.engine.portfolio));
      const seen = new Set<Order>();
      for (const o of [...d.engine.exec.openOrders(), ...d.bridge.trackedOpenOrders()]) {
        if (seen.has(o)) continue;
        seen.add(o);
        openOrders.push(openOrderOf(d.id, o, d.bridge.clientOrderIdOf(o)));
      }
    }
    const recent = await recentFills(s.store);
    const killed = killSwitchActive(s.deployments, s.account);
    const beat = s.lastBeat();
    const risk = s.account.engine;
    const propFirm = findPropFirmRule(risk.extraRules)?.status(Date.now());
    return {
      source: 'runtime',
      pid: process.pid,
      profile: s.profile,
      state: s.stopping() ? 'stopping' : killed ? 'halted' : 'running',
      startedAt: s.startedAt,
      url: s.url(),
      entriesEnabled: s.entries.enabled,
      killSwitchActive: killed,
      heartbeat: { lastAt: beat?.time ?? null, seq: beat?.seq ?? null },
      deployments: s.deployments.map((d) => ({
        id: d.id,
        strategy: d.strategy,
        venue: d.venue.id,
        mode: d.engine.mode,
        symbols: d.symbols,
        ...bookFields(d.engine.portfolio, d.symbols),
        liveBars: d.feed.liveBars,
        stale: [...d.feed.stale],
        protectiveStops: d.stops?.placed ?? 0,
      })),
      positions,
      openOrders,
      recentFills: recent,
      // One account-level risk engine: its breakers and counters are the account's.
      account: { equity: s.account.equity(), cash: s.account.cash() },
      breakers: [{ deployment: 'account', active: risk.status() }],
      risk: [{ deployment: 'account', ...risk.stats() }],
      ...(propFirm ? { propFirm } : {}),
    };
  };
}

/** The booked figures of a deployment's status row, the same online (the running engine) and offline (`rebuildBook`). */
export type BookFields = Pick<
  RuntimeStatus['deployments'][number],
  'equity' | 'cash' | 'realizedPnl' | 'exact' | 'unrealizedPnl' | 'fundingPnl' | 'closedTrades'
>;

/** A deployment's book as the status shows it: cash, realised P&L (fees not deducted) and their exact text. */
export function bookFields(pf: Portfolio, symbols: readonly string[]): BookFields {
  let unreal = 0;
  for (const sym of symbols) unreal += pf.unrealizedPnl(sym);
  return {
    equity: pf.equity(),
    cash: pf.cash,
    realizedPnl: pf.realizedPnl,
    ...(pf.exact !== null
      ? {
          exact: {
            cash: decimalText(pf.exact.cash),
            realizedPnl: decimalText(pf.exact.realizedPnl),
            fees: decimalText(pf.exact.feesPaid),
          },
        }
      : {}),
    unrealizedPnl: unreal,
    fundingPnl: pf.cashFlows,
    closedTrades: pf.trades.length,
  };
}

/** The open positions of a deployment's book, with their exact text (signed quantity). */
export function bookPositions(
  deployment: string,
  symbols: readonly string[],
  pf: Portfolio,
): RuntimeStatus['positions'] {
  const out: RuntimeStatus['positions'] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (pf.qty[i] === 0) continue;
    out.push({
      deployment,
      symbol: symbols[i],
      quantity: pf.qty[i],
      averagePrice: pf.avg[i],
      last: pf.last[i],
      ...(pf.exact !== null
        ? { exact: { quantity: decimalText(pf.exact.qty[i]), averagePrice: decimalText(pf.exact.avg[i]) } }
        : {}),
    });
  }
  return out;
}

/** One open order as the status lists it (`clientOrderId`: what the venue knows it by). */
export function openOrderOf(
  deployment: string,
  o: Readonly<Order>,
  clientOrderId: string,
): RuntimeStatus['openOrders'][number] {
  return {
    deployment,
    id: o.id,
    clientOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    ...(o.price !== undefined ? { price: o.price } : {}),
    ...(o.stopPrice !== undefined ? { stopPrice: o.stopPrice } : {}),
    status: o.status,
    ...(o.tag !== undefined ? { tag: o.tag } : {}),
    ...(o.exact !== undefined
      ? {
          exact: {
            quantity: o.exact.quantity,
            ...(o.exact.price !== undefined ? { price: o.exact.price } : {}),
            ...(o.exact.stopPrice !== undefined ? { stopPrice: o.exact.stopPrice } : {}),
            filledQuantity: o.exact.filledQuantity,
          },
        }
      : {}),
  };
}

/** The stored fills as the status lists them, with their exact text. */
export function recentFillsOf(fills: readonly Fill[]): RuntimeStatus['recentFills'] {
  return fills.map((f) => ({
    id: f.id,
    orderId: f.orderId,
    symbol: f.symbol,
    side: f.side,
    price: f.price,
    quantity: f.quantity,
    fee: f.fee,
    time: f.time,
    ...(f.exact !== undefined ? { exact: { price: f.exact.price, quantity: f.exact.quantity, fee: f.exact.fee } } : {}),
  }));
}

/** The last 20 stored fills of every deployment, as the status lists them. */
export async function recentFills(store: Store): Promise<RuntimeStatus['recentFills']> {
  return recentFillsOf(await store.fills.latest({ limit: 20 }));
}
