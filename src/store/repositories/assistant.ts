import type { Kysely } from 'kysely';
import { fromDecimalText, toDecimalText, toDecimalTextOrNull } from '../money.js';
import type { AssistantSignalsTable, Database } from '../schema.js';

/** A signal card as the caller writes it (a new card is `suggested`). */
export interface AssistantSignalInput {
  id: string;
  runId: string;
  provider: string;
  model: string;
  action: 'buy' | 'sell';
  symbol: string;
  size: number;
  price?: number;
  confidence: number;
  reasoning: string;
  referencePrice?: number;
  createdAt: number;
}

/** A kept signal card with what became of it. */
export interface AssistantSignalRecord extends AssistantSignalInput {
  status: 'suggested' | 'executing' | 'executed' | 'rejected';
  orderId?: string;
  /** The risk engine's answer when it refused (code: detail), or the reason it was not placed. */
  decision?: string;
  actor?: string;
  decidedAt?: number;
}

function fromRow(r: AssistantSignalsTable): AssistantSignalRecord {
  return {
    id: r.id,
    runId: r.run_id,
    provider: r.provider,
    model: r.model,
    action: r.action as AssistantSignalRecord['action'],
    symbol: r.symbol,
    size: fromDecimalText(r.size),
    ...(r.price !== null ? { price: fromDecimalText(r.price) } : {}),
    confidence: Number(r.confidence),
    reasoning: r.reasoning,
    ...(r.reference_price !== null ? { referencePrice: fromDecimalText(r.reference_price) } : {}),
    createdAt: Number(r.created_at),
    status: r.status as AssistantSignalRecord['status'],
    ...(r.order_id !== null ? { orderId: r.order_id } : {}),
    ...(r.decision !== null ? { decision: r.decision } : {}),
    ...(r.actor !== null ? { actor: r.actor } : {}),
    ...(r.decided_at !== null ? { decidedAt: Number(r.decided_at) } : {}),
  };
}

/** The assistant's signal cards (AUTH-10). */
export class AssistantSignalsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Keeps new cards as `suggested`. */
  async add(cards: readonly AssistantSignalInput[]): Promise<void> {
    if (cards.length === 0) return;
    await this.db
      .insertInto('assistant_signals')
      .values(
        cards.map((c) => ({
          id: c.id,
          run_id: c.runId,
          provider: c.provider,
          model: c.model,
          action: c.action,
          symbol: c.symbol,
          size: toDecimalText(c.size),
          price: toDecimalTextOrNull(c.price),
          confidence: c.confidence,
          reasoning: c.reasoning,
          reference_price: toDecimalTextOrNull(c.referencePrice),
          status: 'suggested',
          order_id: null,
          decision: null,
          actor: null,
          created_at: c.createdAt,
          decided_at: null,
        })),
      )
      .execute();
  }

  /** One card. */
  async get(id: string): Promise<AssistantSignalRecord | undefined> {
    const r = await this.db.selectFrom('assistant_signals').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** Cards, newest first. */
  async list(opts: { limit?: number; provider?: string } = {}): Promise<AssistantSignalRecord[]> {
    let q = this.db.selectFrom('assistant_signals').selectAll();
    if (opts.provider) q = q.where('provider', '=', opts.provider);
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(opts.limit ?? 500)
      .execute();
    return rows.map(fromRow);
  }

  /**
   * Claims a `suggested` card for execution by `actor` (it becomes `executing`); false when it was already claimed
   * or decided, so a card is placed at most once even when two confirmations race. A crash after the claim leaves
   * it `executing`: it is never placed again by itself.
   */
  async claim(id: string, actor: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('assistant_signals')
      .set({ status: 'executing', actor, decided_at: at })
      .where('id', '=', id)
      .where('status', '=', 'suggested')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Records what became of a claimed card: the order it placed, or the refusal. */
  async settle(id: string, d: { status: 'executed' | 'rejected'; orderId?: string; decision?: string }): Promise<void> {
    await this.db
      .updateTable('assistant_signals')
      .set({ status: d.status, order_id: d.orderId ?? null, decision: d.decision ?? null })
      .where('id', '=', id)
      .where('status', '=', 'executing')
      .execute();
  }
}
