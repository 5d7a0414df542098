import type { ExitConfig } from '../../core/run-spec.js';
import type { Expr, PineScript, Stmt } from './parse.js';

/** What lowering found: the run exits and the statements they replace. */
export interface LoweredExits {
  readonly exits: ExitConfig | undefined;
  readonly replaced: ReadonlySet<Stmt>;
}

// A number written with literals only: 0.05, 5 / 100, 5 * 0.01.
function constant(e: Expr): number | undefined {
  if (e.kind === 'num') return e.value;
  if (e.kind === 'bin' && (e.op === '/' || e.op === '*')) {
    const a = constant(e.left);
    const b = constant(e.right);
    if (a === undefined || b === undefined) return undefined;
    return e.op === '*' ? a * b : b === 0 ? undefined : a / b;
  }
  return undefined;
}

const isAvg = (e: Expr) => e.kind === 'id' && e.name === 'strategy.position_avg_price';

// `strategy.position_avg_price * (1 <sign> k)` (either factor order) -> k.
function percentOfEntry(e: Expr | undefined, sign: '-' | '+'): number | undefined {
  if (e?.kind !== 'bin' || e.op !== '*') return undefined;
  const other = isAvg(e.left) ? e.right : isAvg(e.right) ? e.left : undefined;
  if (other?.kind !== 'bin' || other.op !== sign) return undefined;
  if (constant(other.left) !== 1) return undefined;
  return constant(other.right);
}

function exitCall(s: Stmt): Extract<Expr, { kind: 'call' }> | undefined {
  return s.kind === 'expr' && s.expr.kind === 'call' && s.expr.name === 'strategy.exit' ? s.expr : undefined;
}

// `strategy.position_size > 0` or `!= 0`.
const positionOpen = (e: Expr) =>
  e.kind === 'bin' &&
  (e.op === '>' || e.op === '!=') &&
  e.left.kind === 'id' &&
  e.left.name === 'strategy.position_size' &&
  e.right.kind === 'num' &&
  e.right.value === 0;

function mentionsShort(x: unknown): boolean {
  if (x === null || typeof x !== 'object') return false;
  if ((x as { kind?: string; name?: string }).kind === 'id' && (x as { name: string }).name === 'strategy.short')
    return true;
  if (x instanceof Map) return [...x.values()].some(mentionsShort);
  return Object.values(x).some(mentionsShort);
}

/**
 * TradingView's percent stop / target idiom, `strategy.exit(id, from, stop = strategy.position_avg_price *
 * (1 - 0.05), limit = strategy.position_avg_price * (1 + 0.10))`, at the top level or under
 * `if strategy.position_size > 0`, with literal percentages, in a long-only script: lowered to the run's
 * stop-loss / take-profit (the engine's exits, the same as a rules file's `stop loss 5%`). Anything else stays
 * a resting stop/limit order of the Pine broker.
 */
export function lowerPercentExits(script: PineScript): LoweredExits {
  if (mentionsShort(script.body)) return { exits: undefined, replaced: new Set() };
  const replaced = new Set<Stmt>();
  let stopLoss: number | undefined;
  let takeProfit: number | undefined;
  for (const s of script.body) {
    let call = exitCall(s);
    if (!call && s.kind === 'if' && !s.orElse && s.body.length === 1 && positionOpen(s.cond))
      call = exitCall(s.body[0]);
    if (!call) continue;
    const allowed = new Set(['stop', 'limit', 'comment', 'comment_profit', 'comment_loss', 'alert_message']);
    if ([...call.named.keys()].some((k) => !allowed.has(k)) || call.args.length > 2) continue;
    const sl = percentOfEntry(call.named.get('stop'), '-');
    const tp = percentOfEntry(call.named.get('limit'), '+');
    if (call.named.has('stop') !== (sl !== undefined) || call.named.has('limit') !== (tp !== undefined)) continue;
    if (sl === undefined && tp === undefined) continue;
    if (sl !== undefined && !(sl > 0 && sl < 1)) continue;
    if (tp !== undefined && !(tp > 0)) continue;
    if ((sl !== undefined && stopLoss !== undefined) || (tp !== undefined && takeProfit !== undefined)) continue;
    if (sl !== undefined) stopLoss = sl;
    if (tp !== undefined) takeProfit = tp;
    replaced.add(s);
  }
  if (replaced.size === 0) return { exits: undefined, replaced };
  return {
    exits: { ...(stopLoss !== undefined ? { stopLoss } : {}), ...(takeProfit !== undefined ? { takeProfit } : {}) },
    replaced,
  };
}
