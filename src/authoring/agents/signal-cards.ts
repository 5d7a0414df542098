/**
 * Signal cards (AUTH-10): the trades an assistant answer suggests, taken out of the answer's ```signals block and
 * checked field by field. A card is only a suggestion: it becomes an order only after a person confirms it, and then
 * only through the risk engine (`app/assistant-service.ts`).
 */
import { z } from 'zod';

/** A suggested trade as the model writes it. */
export const signalCardSchema = z
  .object({
    action: z.enum(['buy', 'sell']),
    symbol: z.string().trim().min(1).max(40),
    size: z.number().positive().finite(),
    /** A limit price; absent or null: at market. */
    price: z.number().positive().finite().nullish(),
    confidence: z.number().min(0).max(1),
    reasoning: z.string().trim().min(1).max(2000),
  })
  .strict();

/** One suggested trade. */
export interface SignalCard {
  action: 'buy' | 'sell';
  symbol: string;
  size: number;
  /** Limit price; undefined for a market order. */
  price?: number;
  /** 0..1 as the model stated it. */
  confidence: number;
  reasoning: string;
}

/** A suggestion that could not be read, and why (shown beside the answer, never turned into an order). */
export interface SignalProblem {
  /** Index of the item in the block (0-based); undefined when the block itself is unreadable. */
  index?: number;
  message: string;
}

/** The cards of one answer and what was wrong with the rest. */
export interface ParsedSignals {
  cards: SignalCard[];
  problems: SignalProblem[];
}

/** The instruction the assistant's system prompt carries so answers hold machine-readable cards. */
export const SIGNAL_FORMAT =
  'When you suggest trades, add one fenced block tagged `signals` holding a JSON array; each item is ' +
  '{"action": "buy"|"sell", "symbol": "BASE/QUOTE", "size": quantity in base units, "price": limit price or null ' +
  'for market, "confidence": 0..1, "reasoning": "one or two sentences"}. Suggest nothing you would not defend; ' +
  'no block when you suggest no trade.';

const SIGNALS_FENCE = /```[ \t]*signals[^\n]*\n([\s\S]*?)```/gi;

function describeIssue(issue: z.ZodIssue): string {
  const field = issue.path.join('.') || 'item';
  return `${field}: ${issue.message}`;
}

/** Reads every ```signals block of an answer; an item that fails its schema is a problem, never a card. */
export function parseSignalCards(answer: string): ParsedSignals {
  const cards: SignalCard[] = [];
  const problems: SignalProblem[] = [];
  let index = 0;
  for (const m of answer.matchAll(SIGNALS_FENCE)) {
    let items: unknown;
    try {
      items = JSON.parse(m[1]);
    } catch (err) {
      problems.push({ message: `the signals block is not JSON (${(err as Error).message})` });
      continue;
    }
    const list = Array.isArray(items) ? items : [items];
    for (const item of list) {
      const r = signalCardSchema.safeParse(item);
      if (r.success) {
        const { price, ...rest } = r.data;
        cards.push({ ...rest, ...(price != null ? { price } : {}) });
      } else {
        problems.push({ index, message: r.error.issues.map(describeIssue).join('; ') });
      }
      index++;
    }
  }
  return { cards, problems };
}
