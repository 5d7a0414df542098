import type { Fill } from '../core/fill.js';
import type { Order } from '../core/order.js';
import type { AuditLog } from './audit-log.js';
import { correlationSubject, orderSubject } from './audit-subjects.js';
import type { RiskEventRecord, RiskEventsRepository } from './repositories/risk.js';
import type { FillsRepository, OrdersRepository } from './repositories/trading.js';

/** One step of an order's life, from the audit log. */
export interface StoryStep {
  seq: number;
  time: number;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

/** The whole story of one order (STORE-4): the signal, risk decision, venue messages and fills. */
export interface OrderStory {
  orderId: string;
  correlationId?: string;
  /** The order's latest stored state. */
  order?: Order;
  /** The intent that became the order (from the risk decision), when recorded. */
  signal?: Record<string, unknown>;
  riskDecisions: StoryStep[];
  venueMessages: StoryStep[];
  fills: Fill[];
  /** Every audit record about the order or its correlation id, in order. */
  timeline: StoryStep[];
  /** Risk events stored for the correlation id. */
  riskEvents: RiskEventRecord[];
}

/** Sources the reconstruction reads. */
export interface StorySources {
  orders: OrdersRepository;
  fills: FillsRepository;
  riskEvents: RiskEventsRepository;
  audit: AuditLog;
}

/** What `audit order KEY` finds: one story, several orders to choose from, or nothing. */
export type OrderLookup =
  | { kind: 'story'; story: OrderStory }
  | { kind: 'ambiguous'; matches: Order[] }
  | { kind: 'none' };

/** Most orders listed when a key matches more than one. */
export const MATCHES_LISTED = 20;

/**
 * Finds the order a person means by `key` (its client order id, venue order id, engine id, or a prefix of one) and
 * reconstructs its story; several matches are returned for the caller to list. A key no order has may still name
 * audit records (a signal refused before it became an order, by correlation id).
 */
export async function lookupOrderStory(src: StorySources, key: string): Promise<OrderLookup> {
  const matches = await src.orders.match(key, MATCHES_LISTED + 1);
  if (matches.length > 1) return { kind: 'ambiguous', matches };
  const story = await reconstructOrder(src, matches.length === 1 ? matches[0].clientOrderId : key);
  return story ? { kind: 'story', story } : { kind: 'none' };
}

/** Reconstructs an order's story from the orders, fills, risk events and the audit log. Undefined when unknown. */
export async function reconstructOrder(src: StorySources, id: string): Promise<OrderStory | undefined> {
  const order = await src.orders.get(id);
  const subjects = new Set([orderSubject(id)]);
  if (order) {
    subjects.add(orderSubject(order.id));
    subjects.add(orderSubject(order.clientOrderId));
  }
  let records = await src.audit.bySubjects([...subjects]);
  let correlationId = order?.correlationId;
  if (correlationId === undefined) {
    for (const r of records) {
      const d = JSON.parse(r.details) as { correlationId?: unknown };
      if (typeof d.correlationId === 'string') {
        correlationId = d.correlationId;
        break;
      }
    }
  }
  if (correlationId !== undefined) {
    subjects.add(correlationSubject(correlationId));
    records = await src.audit.bySubjects([...subjects]);
  }
  if (!order && records.length === 0) return undefined;
  const timeline: StoryStep[] = records.map((r) => ({
    seq: r.seq,
    time: r.time,
    actor: r.actor,
    action: r.action,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
  const riskDecisions = timeline.filter((s) => s.action.startsWith('risk.'));
  const signalStep = timeline.find((s) => s.action.startsWith('signal.')) ?? riskDecisions[0];
  const orderId = order?.id ?? id;
  const story: OrderStory = {
    orderId,
    riskDecisions,
    venueMessages: timeline.filter((s) => s.action.startsWith('venue.')),
    fills: await src.fills.byOrder(orderId),
    timeline,
    riskEvents: correlationId !== undefined ? await src.riskEvents.list({ correlationId }) : [],
  };
  if (correlationId !== undefined) story.correlationId = correlationId;
  if (order) story.order = order;
  if (signalStep) {
    const intent = signalStep.details.intent;
    story.signal = (typeof intent === 'object' && intent !== null ? intent : signalStep.details) as Record<
      string,
      unknown
    >;
  }
  return story;
}
