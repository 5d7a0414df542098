/**
 * Startup reconciliation (VENUE-6): the venue is the truth. Every order the store says may still be working is
 * looked up by its client order id; orders the venue never saw are closed locally, orders it has are tracked
 * again, fills we missed while down are stored and applied exactly once, unknown open venue orders are cancelled
 * or adopted by policy, and every mismatch raises an alert and an audit record.
 */
import type { EventBus } from '../core/events.js';
import type { Instrument } from '../core/instrument.js';
import type { Fill } from '../core/fill.js';
import { decimalText, type Exact, exact, ZERO } from '../core/money.js';
import { isTerminal, type Order, type OrderSide } from '../core/order.js';
import { orderDecimals, setOrderFills } from '../engine/execution-engine.js';
import type { Venue, VenueOrder } from '../core/venue.js';
import { orderSubject, type Store } from '../store/index.js';
import { type LiveVenueBridge, PROTECTIVE_STOP_TAG } from '../venues/live/bridge.js';
import type { StoreJournal } from './live/journal.js';
import { protectiveSide } from './live/protective-stops.js';

/** What reconciliation found and did. */
export interface ReconcileReport {
  deploymentId: string;
  /** Locally open orders looked up. */
  checked: number;
  /** Locally open orders the venue never saw (closed locally as NOT_PLACED). */
  notPlaced: number;
  /** Locally open orders the venue still works (tracked again). */
  stillOpen: number;
  /** Locally open orders that finished while we were down. */
  finished: number;
  /** Fills found on the venue and applied now. */
  fillsApplied: number;
  unknownCancelled: number;
  unknownAdopted: number;
  /**
   * Orders of this deployment (its client order id prefix) that the venue has and the journal lacks: sent, then the
   * journal's last commits were lost with the OS (power loss inside the fsync window). Tracked and booked again.
   */
  recovered: number;
  /** One line per mismatch (each also alerted and audited). */
  mismatches: string[];
}

/** Inputs of reconciliation for one deployment. */
export interface ReconcileOptions {
  store: Store;
  journal: StoreJournal;
  deploymentId: string;
  symbols: readonly string[];
  /** The resilient venue (reads are retried). */
  venue: Venue;
  bridge: LiveVenueBridge;
  bus: EventBus;
  /** `reconcile.unknownOrders` (default cancel: an order nobody tracks is a risk nobody manages). */
  unknownOrders: 'adopt' | 'cancel';
  /** The deployment's instruments (lot sizes for the balance comparison). */
  instruments?: readonly Instrument[];
  /**
   * Client order id prefix every run of this deployment uses (`shortHash(deploymentId)-`): a venue order or fill
   * carrying it is ours even when the journal lost its record, and is recovered whatever `unknownOrders` says.
   */
  ownClientIdPrefix?: string;
  /** Venue trade lookback before the oldest open order / last fill (default 10 minutes). */
  lookbackMs?: number;
  now?: () => number;
}

const EPS = 1e-9;

/** Reconciles one deployment's orders and fills with its venue. */
export async function reconcileDeployment(o: ReconcileOptions): Promise<ReconcileReport> {
  const now = o.now ?? Date.now;
  const report: ReconcileReport = {
    deploymentId: o.deploymentId,
    checked: 0,
    notPlaced: 0,
    stillOpen: 0,
    finished: 0,
    fillsApplied: 0,
    unknownCancelled: 0,
    unknownAdopted: 0,
    recovered: 0,
    mismatches: [],
  };
  const mismatch = async (title: string, message: string, subject: string, details: Record<string, unknown>) => {
    report.mismatches.push(`${title}: ${message}`);
    const t = now();
    o.bus.publish({
      name: 'alert.raised.v1',
      time: t,
      correlationId: `reconcile:${o.deploymentId}:${subject}`,
      source: 'reconcile',
      payload: { severity: 'warning', title, message, key: `reconcile.${subject}` },
    });
    await audit(o.store, { action: `reconcile.${details.kind as string}`, subject, details, time: t });
  };

  const local = await o.store.orders.listOpen(o.deploymentId);
  const terminal: VenueOrder[] = [];
  const stillOpen: VenueOrder[] = [];
  let since = Number.POSITIVE_INFINITY;
  for (const lo of local) {
    report.checked++;
    const cid = lo.clientOrderId;
    const v = await o.venue.fetchOrder({ symbol: lo.symbol, clientOrderId: cid });
    if (v === null) {
      // Written ahead but never sent (a crash between the two): nothing can fill, close it here.
      report.notPlaced++;
      await o.journal.persistOrder({ ...lo, status: 'rejected', reason: 'NOT_PLACED', updatedAt: now() }, cid);
      await mismatch(
        'Order never reached the venue',
        `${cid} ${lo.side} ${lo.quantity} ${lo.symbol} closed locally`,
        orderSubject(cid),
        {
          kind: 'not_placed',
          clientOrderId: cid,
        },
      );
      continue;
    }
    // The stored filled quantity may lag the stored fills (the order row is written after its fill).
    const booked = await o.store.fills.byOrder(cid);
    restoreFilled(lo, booked);
    o.bridge.adopt(lo, cid, v.venueOrderId);
    since = Math.min(since, lo.createdAt);
    if (isTerminal(v.status)) {
      report.finished++;
      terminal.push(v);
    } else {
      report.stillOpen++;
      stillOpen.push(v);
    }
  }

  // Fills since the oldest order we still track (or a lookback window), applied once by venue trade id.
  const lastFill = (await o.store.fills.latest({ strategyId: o.deploymentId, limit: 1 }))[0]?.time ?? now();
  const from = Math.min(since, lastFill) - (o.lookbackMs ?? 10 * 60_000);
  // Tracks a venue order from now on; its executions before that are booked once, like any fill.
  const adoptVenueOrder = async (v: VenueOrder, tag?: string): Promise<void> => {
    const order = adoptedOrder(v, o.deploymentId);
    if (tag !== undefined) order.tag = tag;
    order.filledQuantity = 0;
    order.averageFillPrice = 0;
    order.exact = undefined;
    orderDecimals(order);
    await o.journal.persistOrder(order, order.clientOrderId);
    o.bridge.adopt(order, order.clientOrderId, v.venueOrderId);
    if (v.filledQuantity > EPS) {
      const earlier = (await o.venue.fetchFills(v.symbol, v.createdAt)).filter(
        (f) => f.venueOrderId === v.venueOrderId,
      );
      report.fillsApplied += await o.bridge.catchUpFills(earlier);
    }
  };
  const prefix = o.ownClientIdPrefix;
  const isOurs = (cid: string | undefined): cid is string => prefix !== undefined && !!cid?.startsWith(prefix);
  // The venue's net position per symbol, read once when a recovered stop needs it (a venue that holds positions).
  let venuePositions: Map<string, number> | undefined;
  const closingSide = async (symbol: string): Promise<OrderSide | null> => {
    if (!o.venue.capabilities.positions) return 'sell';
    venuePositions ??= new Map((await o.venue.fetchPositions()).map((p) => [p.symbol, p.quantity]));
    return protectiveSide(venuePositions.get(symbol) ?? 0, true);
  };
  const recover = async (v: VenueOrder & { clientOrderId: string }): Promise<void> => {
    // A stop of ours on the closing side is the position's protective stop (its tag was in the lost record): a sell
    // stop on spot, the side against the venue's position where positions are held (a short's buy stop). Tracked as
    // one, so the stop sync adjusts it instead of placing a second one.
    const protective = v.type === 'stop' && v.side === (await closingSide(v.symbol));
    await adoptVenueOrder(v, protective ? PROTECTIVE_STOP_TAG : undefined);
    report.recovered++;
    await mismatch(
      'Order recovered from the venue',
      `${v.clientOrderId} ${v.side} ${v.quantity} ${v.symbol} (${v.status}) was sent but is missing from the journal (its last commits were lost with the OS, e.g. a power loss inside the fsync window); recovered from the venue by its client order id`,
      orderSubject(v.clientOrderId),
      { kind: 'recovered', venueOrderId: v.venueOrderId, clientOrderId: v.clientOrderId, status: v.status },
    );
  };
  const looked = new Set<string>();
  // What each venue order executed, from the venue's own trades (booked fills are net of a fee taken in the base).
  const executed = new Map<string, Exact>();
  for (const symbol of o.symbols) {
    const fills = await o.venue.fetchFills(symbol, from);
    for (const f of fills) {
      const q = exact(f.exact?.quantity ?? f.quantity, 'venue fill quantity');
      executed.set(f.venueOrderId, (executed.get(f.venueOrderId) ?? ZERO).plus(q));
    }
    // A fill of an order the journal does not know: look its order up once; if it carries our prefix, it is ours.
    for (const f of fills) {
      if (prefix === undefined || o.bridge.knowsOrder(f.venueOrderId, f.clientOrderId)) continue;
      if (looked.has(f.venueOrderId)) continue;
      looked.add(f.venueOrderId);
      let v: VenueOrder | null;
      try {
        v = await o.venue.fetchOrder({ symbol, venueOrderId: f.venueOrderId });
      } catch (err) {
        // Whether it is ours stays unknown: say so and carry on (its fills are left alone, as before).
        await mismatch(
          'Fill of an unknown order not checked',
          `venue order ${f.venueOrderId} (${symbol}) could not be looked up: ${(err as Error).message}`,
          `venue-order:${f.venueOrderId}`,
          { kind: 'unknown_fill_unchecked', venueOrderId: f.venueOrderId },
        );
        continue;
      }
      if (v !== null && isOurs(v.clientOrderId) && (await o.store.orders.get(v.clientOrderId)) === undefined) {
        await recover({ ...v, clientOrderId: v.clientOrderId });
      }
    }
    report.fillsApplied += await o.bridge.catchUpFills(fills);
  }
  if (report.fillsApplied > 0) {
    await mismatch(
      'Fills applied at startup',
      `${report.fillsApplied} fill(s) of ${o.deploymentId} happened while the runtime was down; booked now`,
      `deployment:${o.deploymentId}`,
      { kind: 'fills_applied', count: report.fillsApplied },
    );
  }
  for (const v of stillOpen) {
    await o.bridge.applyReport(v);
    const lo = local.find((x) => x.clientOrderId === v.clientOrderId);
    if (lo) await o.journal.persistOrder(lo, lo.clientOrderId);
  }
  for (const v of terminal) {
    await o.bridge.applyReport(v);
    const lo = local.find((x) => x.clientOrderId === v.clientOrderId);
    // Its fills may all be booked (before the crash, e.g. pushed by a user-data stream ahead of the placement's
    // answer) while the quantity restored from them is net of a fee in the base asset: count what the venue's
    // trades executed, so a complete order is not reported as missing fills and its final state is recorded.
    const gross = executed.get(v.venueOrderId);
    if (lo && gross?.gt(orderDecimals(lo).filledQuantity)) {
      orderDecimals(lo).filledQuantity = decimalText(gross);
      lo.filledQuantity = gross.toNumber();
    }
    if (lo && v.filledQuantity > lo.filledQuantity + EPS) {
      await mismatch(
        'Fills missing after reconciliation',
        `${v.clientOrderId}: venue filled ${v.filledQuantity}, booked ${lo.filledQuantity}`,
        orderSubject(v.clientOrderId),
        { kind: 'fills_missing', venueFilled: v.filledQuantity, booked: lo.filledQuantity },
      );
    } else if (lo) {
      // Its fills were booked before the crash but its final state was not: record the venue's.
      if (!isTerminal(lo.status)) {
        lo.status = v.status === 'filled' || v.filledQuantity >= lo.quantity - EPS ? 'filled' : v.status;
        lo.updatedAt = Math.max(lo.updatedAt, v.updatedAt || 0, now());
      }
      await o.journal.persistOrder(lo, lo.clientOrderId);
      await mismatch(
        'Order finished while down',
        `${v.clientOrderId} is ${v.status} on the venue`,
        orderSubject(v.clientOrderId),
        { kind: 'finished', status: v.status, filled: v.filledQuantity },
      );
    }
  }

  // Open venue orders on our symbols that no deployment of ours knows.
  for (const symbol of o.symbols) {
    for (const v of await o.venue.fetchOpenOrders(symbol)) {
      if (v.clientOrderId && (await o.store.orders.get(v.clientOrderId)) !== undefined) continue;
      if (isOurs(v.clientOrderId)) {
        // Ours, sent before its record was lost: never cancelled as foreign.
        await recover({ ...v, clientOrderId: v.clientOrderId });
        continue;
      }
      if (o.unknownOrders === 'cancel') {
        await o.bridge.cancelForeign(v);
        report.unknownCancelled++;
        await mismatch(
          'Unknown venue order cancelled',
          `${v.venueOrderId} (${v.clientOrderId || 'no client id'}) ${v.side} ${v.quantity} ${v.symbol} was not ours; cancelled by policy`,
          `venue-order:${v.venueOrderId}`,
          { kind: 'unknown_cancelled', venueOrderId: v.venueOrderId, clientOrderId: v.clientOrderId },
        );
      } else {
        // Its executions before adoption belong to this deployment's book from now on: booked once, like any fill.
        await adoptVenueOrder(v);
        report.unknownAdopted++;
        await mismatch(
          'Unknown venue order adopted',
          `${v.venueOrderId} ${v.side} ${v.quantity} ${v.symbol} is now tracked by ${o.deploymentId}`,
          `venue-order:${v.venueOrderId}`,
          { kind: 'unknown_adopted', venueOrderId: v.venueOrderId, clientOrderId: v.clientOrderId },
        );
      }
    }
  }
  await o.bridge.drain();
  await compareBalances(o, mismatch);
  await audit(o.store, {
    action: 'reconcile.done',
    subject: `deployment:${o.deploymentId}`,
    details: { ...report, mismatches: report.mismatches.length },
    time: now(),
  });
  return report;
}

/**
 * A spot account must hold at least what the deployment booked: an account holding less than the booked position by
 * more than one lot means exits and protective stops would fail for funds (a manual sale, another system, a booking
 * error), so it is a mismatch. Holding more is normal on an account several deployments or people share.
 */
async function compareBalances(
  o: ReconcileOptions,
  mismatch: (title: string, message: string, subject: string, details: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  const booked = new Map<string, number>();
  for (const f of await o.store.fills.list({ strategyId: o.deploymentId })) {
    booked.set(f.symbol, (booked.get(f.symbol) ?? 0) + (f.side === 'buy' ? f.quantity : -f.quantity));
  }
  if (o.venue.capabilities.positions) {
    await comparePositions(o, booked, mismatch);
    return;
  }
  if ([...booked.values()].every((q) => q <= EPS)) return;
  const balances = await o.venue.fetchBalances();
  for (const symbol of o.symbols) {
    const q = booked.get(symbol) ?? 0;
    if (q <= EPS) continue;
    const inst = o.instruments?.find((i) => i.symbol === symbol);
    const base = inst?.base ?? symbol.split('/')[0];
    const lot = inst?.lotSize ?? 1e-8;
    const held = balances.find((b) => b.asset === base)?.total ?? 0;
    if (held < q - lot - EPS) {
      await mismatch(
        'Venue balance below booked position',
        `${o.deploymentId} booked ${q} ${base} on ${symbol} but the account holds ${held}: exits and stops may be rejected for funds`,
        `deployment:${o.deploymentId}:${symbol}`,
        { kind: 'balance_mismatch', symbol, booked: q, held },
      );
    }
  }
}

/**
 * A margin account (IG) must hold at least the booked position in the booked direction: less (the broker's stop
 * closed it while we were down, a manual close) means the deployment's book is wrong and its exits would open a
 * position the other way, so it is a mismatch. More is normal on an account several deployments or people share.
 */
async function comparePositions(
  o: ReconcileOptions,
  booked: ReadonlyMap<string, number>,
  mismatch: (title: string, message: string, subject: string, details: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  if ([...booked.values()].every((q) => Math.abs(q) <= EPS)) return;
  const positions = await o.venue.fetchPositions();
  for (const symbol of o.symbols) {
    const q = booked.get(symbol) ?? 0;
    if (Math.abs(q) <= EPS) continue;
    const lot = o.instruments?.find((i) => i.symbol === symbol)?.lotSize ?? 1e-8;
    const held = positions.find((p) => p.symbol === symbol)?.quantity ?? 0;
    // Held in the booked direction, at least as much (one lot of rounding allowed).
    const short = q > 0 ? held < q - lot - EPS : held > q + lot + EPS;
    if (short) {
      await mismatch(
        'Venue position below booked position',
        `${o.deploymentId} booked ${q} on ${symbol} but the account's position is ${held}: closed on the venue (e.g. its stop) while down; exits could open a position the other way`,
        `deployment:${o.deploymentId}:${symbol}`,
        { kind: 'position_mismatch', symbol, booked: q, held },
      );
    }
  }
}

/** The order's filled quantity, average price and fees summed exactly from its stored fills (docs/money.md). */
function restoreFilled(order: Order, fills: readonly Fill[]): void {
  let q = ZERO;
  let notional = ZERO;
  let fees = ZERO;
  for (const f of fills) {
    const fq = exact(f.exact?.quantity ?? f.quantity, 'fill quantity');
    q = q.plus(fq);
    notional = notional.plus(exact(f.exact?.price ?? f.price, 'fill price').mul(fq));
    fees = fees.plus(exact(f.exact?.fee ?? f.fee, 'fill fee'));
  }
  const avg = q.isZero() ? ZERO : notional.div(q);
  setOrderFills(order, q, notional, avg, fees);
  const x = orderDecimals(order);
  if (q.gt(EPS) && order.status !== 'partially_filled' && q.lt(exact(x.quantity).minus(EPS)))
    order.status = 'partially_filled';
}

function adoptedOrder(v: VenueOrder, strategyId: string): Order {
  const cid = v.clientOrderId || `adopted-${v.venueOrderId}`;
  return {
    id: cid,
    clientOrderId: cid,
    venueOrderId: v.venueOrderId,
    strategyId,
    symbol: v.symbol,
    side: v.side,
    type: v.type,
    quantity: v.quantity,
    ...(v.price !== undefined ? { price: v.price } : {}),
    ...(v.stopPrice !== undefined ? { stopPrice: v.stopPrice } : {}),
    timeInForce: 'GTC',
    reduceOnly: false,
    status: v.status === 'partially_filled' ? 'partially_filled' : 'accepted',
    filledQuantity: v.filledQuantity,
    averageFillPrice: v.averagePrice,
    fees: 0,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    source: 'reconcile',
    correlationId: cid,
  };
}

/** Appends an audit record when the audit log can (it needs the vault's key); never fails the caller. */
export async function audit(
  store: Store,
  e: { action: string; subject: string; details: unknown; time: number; actor?: string },
): Promise<void> {
  if (!store.audit.canAppend) return;
  try {
    await store.audit.append({
      actor: e.actor ?? 'runtime',
      action: e.action,
      subject: e.subject,
      details: e.details,
      time: e.time,
    });
  } catch {
    // The audit log is best effort here; the alert already went out.
  }
}
