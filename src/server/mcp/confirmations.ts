import { randomBytes } from 'node:crypto';
import type { ManualOrder } from '../api/port.js';
import type { KvRepository } from '../../store/repositories/runtime.js';

/** A pending order confirmation, kept in the store so the approving command and the MCP server share it. */
export interface Confirmation {
  token: string;
  order: ManualOrder;
  /** Who asked (the MCP caller). */
  actor: string;
  status: 'pending' | 'approved';
  approvedBy?: string;
  createdAt: number;
  expiresAt: number;
}

/** How long an approval request stays valid. */
export const CONFIRMATION_TTL_MS = 5 * 60_000;
const PREFIX = 'mcp.confirmation.';

function sameOrder(a: ManualOrder, b: ManualOrder): boolean {
  const keys: (keyof ManualOrder)[] = ['deployment', 'symbol', 'side', 'type', 'quantity', 'price', 'stopPrice'];
  return keys.every((k) => a[k] === b[k]);
}

/**
 * Order confirmations for MCP clients: a model may ask for an order, but only a person approves it
 * (`tradeforge mcp approve TOKEN`). A token is for one order, one caller, five minutes, and one use.
 */
export class ConfirmationBook {
  // Tokens being taken right now: two simultaneous calls with one token place at most one order.
  private readonly taking = new Set<string>();

  constructor(
    private readonly kv: KvRepository,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a pending confirmation for `order`. */
  async request(order: ManualOrder, actor: string): Promise<Confirmation> {
    const t = this.now();
    const c: Confirmation = {
      token: `tfo_${randomBytes(18).toString('base64url')}`,
      order,
      actor,
      status: 'pending',
      createdAt: t,
      expiresAt: t + CONFIRMATION_TTL_MS,
    };
    await this.kv.set(PREFIX + c.token, c, t);
    return c;
  }

  /** A confirmation by token (undefined when unknown or expired). */
  async get(token: string): Promise<Confirmation | undefined> {
    const c = await this.kv.get<Confirmation>(PREFIX + token);
    if (!c || c.expiresAt < this.now()) return undefined;
    return c;
  }

  /** A person approves a pending confirmation; throws with the reason when it cannot be approved. */
  async approve(token: string, approver: string): Promise<Confirmation> {
    const c = await this.get(token);
    if (!c) throw new Error(`no pending order confirmation ${token} (unknown, used or expired)`);
    const approved: Confirmation = { ...c, status: 'approved', approvedBy: approver };
    await this.kv.set(PREFIX + token, approved, this.now());
    return approved;
  }

  /**
   * Takes an approved confirmation for this exact order and caller, once. Returns the refusal reason instead when
   * the token is unknown, expired, not yet approved, or for another order or caller.
   */
  async consume(
    token: string,
    order: ManualOrder,
    actor: string,
  ): Promise<{ ok: true; c: Confirmation } | { ok: false; reason: string }> {
    if (this.taking.has(token)) return { ok: false, reason: 'the confirmation token is being used' };
    this.taking.add(token);
    try {
      return await this.take(token, order, actor);
    } finally {
      this.taking.delete(token);
    }
  }

  private async take(
    token: string,
    order: ManualOrder,
    actor: string,
  ): Promise<{ ok: true; c: Confirmation } | { ok: false; reason: string }> {
    const c = await this.get(token);
    if (!c) return { ok: false, reason: 'the confirmation token is unknown, used or expired' };
    if (c.actor !== actor) return { ok: false, reason: 'the confirmation token was issued to another caller' };
    if (!sameOrder(c.order, order)) return { ok: false, reason: 'the order differs from the one the token confirms' };
    if (c.status !== 'approved') {
      return { ok: false, reason: `the user has not approved it yet (tradeforge mcp approve ${token})` };
    }
    await this.kv.delete(PREFIX + token);
    return { ok: true, c };
  }
}
