/**
 * How each model's suggestions would have done (AUTH-10 tracking): every card is judged from its reference price
 * to the last price, as if it had been followed at its size. A card whose symbol has no price yet is counted but
 * not judged.
 */
import type { StoredSignal } from './assistant.js';

/** Where a card stands. */
export type SignalStatus = 'suggested' | 'executing' | 'executed' | 'rejected';

/** A kept card with where it stands. */
export interface TrackedSignal extends StoredSignal {
  status: SignalStatus;
}

/** One card judged against the last price. */
export interface SignalOutcome {
  id: string;
  provider: string;
  model: string;
  symbol: string;
  action: 'buy' | 'sell';
  size: number;
  status: SignalStatus;
  referencePrice?: number;
  lastPrice?: number;
  /** Quote currency gained had the card been followed; undefined when either price is unknown. */
  pnlIfFollowed?: number;
  /** True when following it would have gained (pnl > 0). */
  hit?: boolean;
}

/** One model's record. */
export interface ModelScore {
  provider: string;
  model: string;
  signals: number;
  /** Cards with both prices known. */
  judged: number;
  hits: number;
  /** hits / judged; null before any card can be judged. */
  hitRate: number | null;
  pnlIfFollowed: number;
  executed: number;
  rejected: number;
}

/** Judges each card and sums them by model (provider and model name), best P&L first. */
export function scoreSignals(
  signals: readonly TrackedSignal[],
  lastPrices: Readonly<Record<string, number>>,
): { outcomes: SignalOutcome[]; models: ModelScore[] } {
  const outcomes: SignalOutcome[] = [];
  const byModel = new Map<string, ModelScore>();
  for (const s of signals) {
    const last = lastPrices[s.symbol];
    const known = s.referencePrice !== undefined && last !== undefined && Number.isFinite(last);
    const pnl = known ? (s.action === 'buy' ? 1 : -1) * s.size * (last - (s.referencePrice as number)) : undefined;
    outcomes.push({
      id: s.id,
      provider: s.provider,
      model: s.model,
      symbol: s.symbol,
      action: s.action,
      size: s.size,
      status: s.status,
      ...(s.referencePrice !== undefined ? { referencePrice: s.referencePrice } : {}),
      ...(last !== undefined ? { lastPrice: last } : {}),
      ...(pnl !== undefined ? { pnlIfFollowed: pnl, hit: pnl > 0 } : {}),
    });
    const key = `${s.provider}\u0000${s.model}`;
    let m = byModel.get(key);
    if (!m) {
      m = {
        provider: s.provider,
        model: s.model,
        signals: 0,
        judged: 0,
        hits: 0,
        hitRate: null,
        pnlIfFollowed: 0,
        executed: 0,
        rejected: 0,
      };
      byModel.set(key, m);
    }
    m.signals++;
    if (s.status === 'executed') m.executed++;
    if (s.status === 'rejected') m.rejected++;
    if (pnl !== undefined) {
      m.judged++;
      if (pnl > 0) m.hits++;
      m.pnlIfFollowed += pnl;
    }
  }
  const models = [...byModel.values()].map((m) => ({ ...m, hitRate: m.judged ? m.hits / m.judged : null }));
  models.sort((a, b) => b.pnlIfFollowed - a.pnlIfFollowed);
  return { outcomes, models };
}
