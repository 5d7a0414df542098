/**
 * Stops on Binance USDⓈ-M through ccxt's binanceusdm: ccxt sends a stop (a `triggerPrice`) to the Algo Service
 * (`POST /fapi/v1/algoOrder`), whose ids are not order ids. Our venue order id of such an order is `algo-<algoId>`,
 * so any later call (after a restart too) knows to ask the Algo Service. Once triggered, the stop is a market order
 * in the matching engine (`actualOrderId`), which carries the fills; that order is then what the stop reports.
 */
import type { Order } from 'ccxt';

/** Prefix of the venue order id of a conditional (algo) order. */
export const ALGO_ID_PREFIX = 'algo-';

/** Whether a venue order id names a conditional (algo) order. */
export function isAlgoId(venueOrderId: string | undefined): boolean {
  return venueOrderId?.startsWith(ALGO_ID_PREFIX) === true;
}

/** The Algo Service's id of an `algo-<algoId>` venue order id. */
export function rawAlgoId(venueOrderId: string): string {
  return venueOrderId.slice(ALGO_ID_PREFIX.length);
}

/** What the Algo Service says of a ccxt order parsed from it (REST `algoStatus`, stream `ALGO_UPDATE`). */
interface AlgoInfo {
  algoStatus?: string;
  actualOrderId?: string;
  algoId?: unknown;
  /** Stream field names. */
  aid?: unknown;
  X?: string;
  ai?: string;
}

/** Whether a ccxt order was parsed from the Algo Service (REST or `ALGO_UPDATE`). */
export function isAlgoOrder(o: Order): boolean {
  const info = o.info as AlgoInfo | undefined;
  return info?.algoId !== undefined || info?.aid !== undefined;
}

/** The algo order's status (`NEW`, `TRIGGERING`, `TRIGGERED`, `FINISHED`, `CANCELED`, …). */
export function algoStatusOf(o: Order): string | undefined {
  const info = o.info as AlgoInfo | undefined;
  return info?.algoStatus ?? info?.X;
}

/** The matching engine's order a triggered algo order placed, when it has one. */
export function actualOrderIdOf(o: Order): string | undefined {
  const info = o.info as AlgoInfo | undefined;
  const id = info?.actualOrderId ?? info?.ai;
  return id !== undefined && id !== '' && id !== '0' ? String(id) : undefined;
}

/**
 * Whether the algo order has handed over to a matching-engine order (triggering, triggered or finished there): its
 * own record then says nothing of fills, and ccxt reads TRIGGERED and FINISHED as `closed`, which would pass for
 * filled. The engine order reports instead.
 */
export function handedOver(o: Order): boolean {
  const s = algoStatusOf(o);
  return s === 'TRIGGERING' || s === 'TRIGGERED' || s === 'FINISHED';
}

/** An algo order with our venue order id (`algo-<algoId>`). */
export function withAlgoId(o: Order): Order {
  return { ...o, id: `${ALGO_ID_PREFIX}${o.id}` };
}
