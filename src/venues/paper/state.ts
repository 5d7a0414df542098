/** The paper account as plain JSON, so a runtime can persist it and restore it after a restart. */
import { z } from 'zod';
import { type Order, ValidationError, type VenueFill } from '../../core/index.js';

/** One order of the paper account with its matching and reservation state. */
export interface PaperOrderState {
  order: Order;
  /** A stop-limit whose stop has triggered (it now rests as a limit). */
  triggered: boolean;
  /** Asset locked for the unfilled part (quote for buys, base for sells). */
  reserveAsset: string;
  reserved: number;
}

/** Everything a PaperVenue needs to carry on where it stopped (`getState` / `restore`). */
export interface PaperState {
  version: 1;
  venueId: string;
  /** Next number for venue order and trade ids, so ids never repeat across restarts. */
  nextId: number;
  /** Total per asset; free/used are rebuilt from the open orders' reservations. */
  balances: Record<string, number>;
  orders: PaperOrderState[];
  fills: VenueFill[];
}

const finite = z.number().finite();
const side = z.enum(['buy', 'sell']);

const orderSchema = z.object({
  id: z.string().min(1),
  clientOrderId: z.string().min(1),
  venueOrderId: z.string().optional(),
  strategyId: z.string(),
  symbol: z.string().min(1),
  side,
  type: z.enum(['market', 'limit', 'stop', 'stop_limit']),
  quantity: finite.positive(),
  price: finite.optional(),
  stopPrice: finite.optional(),
  timeInForce: z.enum(['GTC', 'IOC', 'FOK', 'DAY']),
  reduceOnly: z.boolean(),
  status: z.enum(['new', 'submitted', 'accepted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired']),
  filledQuantity: finite.nonnegative(),
  averageFillPrice: finite.nonnegative(),
  fees: finite,
  createdAt: finite,
  updatedAt: finite,
  signalTime: finite.optional(),
  tag: z.string().optional(),
  source: z.enum(['strategy', 'manual', 'llm', 'telegram', 'mcp', 'kill_switch', 'exit', 'reconcile']),
  correlationId: z.string(),
  reason: z.string().optional(),
});

const fillSchema = z.object({
  venueTradeId: z.string().min(1),
  venueOrderId: z.string().min(1),
  clientOrderId: z.string().optional(),
  symbol: z.string().min(1),
  side,
  price: finite,
  quantity: finite.positive(),
  fee: finite,
  feeCurrency: z.string(),
  liquidity: z.enum(['maker', 'taker']),
  time: finite,
});

const stateSchema = z.object({
  version: z.literal(1),
  venueId: z.string(),
  nextId: z.number().int().nonnegative(),
  balances: z.record(z.string(), finite),
  orders: z.array(
    z.object({ order: orderSchema, triggered: z.boolean(), reserveAsset: z.string(), reserved: finite.nonnegative() }),
  ),
  fills: z.array(fillSchema),
});

/** Checks a persisted snapshot; a ValidationError names the first bad field (e.g. `orders.0.order.quantity`). */
export function parsePaperState(input: unknown): PaperState {
  const r = stateSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.map(String).join('.') || 'state';
    throw new ValidationError(`paper venue state: ${field}: ${issue.message}`, field);
  }
  return r.data as PaperState;
}
