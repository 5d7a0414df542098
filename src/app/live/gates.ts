/**
 * Runtime gates on the order path: extra pre-trade rules the live risk engine runs after its own (stale data,
 * clock drift, operator's stop-entries), and the warm-up gate that lets a strategy see history without trading.
 * Exposure-reducing orders never reach these rules (the risk engine passes them first), so exits always work.
 */
import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { CheckContext, PreTradeRule } from '../../risk/rules.js';
import { riskError } from '../../risk/rules.js';
import type { Strategy, StrategyContext } from '../../strategy/types.js';

/** No new entries on a symbol whose market data is stale (DATA-4). */
export const staleDataRule: PreTradeRule = {
  code: 'STALE_DATA',
  key: 'runtime.staleAfterSeconds',
  needsPrice: false,
  check(c: CheckContext) {
    const sym = c.intent.symbol;
    return c.view.isStale(sym)
      ? riskError('STALE_DATA', `market data for ${sym} is stale; new entries wait until it resumes`)
      : null;
  },
};

/** What the clock-drift rule asks of a venue's guard. */
export interface DriftGuardView {
  allowsTrading(): boolean;
  readonly blockReason?: string;
}

/**
 * No new orders while the clock drifts beyond the limit or has not been measured (OPS-6). One account-level risk
 * engine serves deployments on several venues, so the guard is looked up by the intent's deployment (strategyId);
 * a single guard serves every deployment.
 */
export function clockDriftRule(
  guard: DriftGuardView | ((strategyId: string) => DriftGuardView | undefined),
): PreTradeRule {
  const lookup = typeof guard === 'function' ? guard : () => guard;
  return {
    code: 'CLOCK_DRIFT',
    key: 'ops.clockDrift',
    needsPrice: false,
    check(c) {
      const g = lookup(c.intent.strategyId);
      if (g === undefined || g.allowsTrading()) return null;
      return riskError('CLOCK_DRIFT', g.blockReason ?? 'clock drift blocks orders');
    },
  };
}

/** The operator's `/stopentry`: new entries refused until `/startentry`. */
export class EntriesSwitch implements PreTradeRule {
  readonly code = 'ENTRIES_STOPPED';
  readonly key = 'control.stopEntries';
  readonly needsPrice = false;
  enabled = true;
  check() {
    return this.enabled ? null : riskError('ENTRIES_STOPPED', 'new entries are stopped by the operator (/startentry)');
  }
}

const ORDER_METHODS = new Set(['buy', 'sell', 'short', 'cover', 'close', 'limit', 'stop', 'stopLimit']);

/**
 * Wraps a strategy so that, while `warming`, it sees bars (indicators fill up) but its order calls do nothing:
 * history must never place orders. After warm-up the real context is passed straight through.
 */
export class WarmupGate implements Strategy {
  warming = true;
  private proxy: StrategyContext | undefined;
  private proxied: StrategyContext | undefined;

  constructor(readonly inner: Strategy) {}

  private ctx(ctx: StrategyContext): StrategyContext {
    if (!this.warming) return ctx;
    if (this.proxied !== ctx) {
      this.proxied = ctx;
      this.proxy = new Proxy(ctx, {
        get(target, prop, receiver) {
          if (typeof prop === 'string' && ORDER_METHODS.has(prop)) return () => null;
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    }
    return this.proxy as StrategyContext;
  }

  onStart(ctx: StrategyContext): void {
    this.inner.onStart?.(ctx);
  }
  onBar(ctx: StrategyContext): void {
    this.inner.onBar?.(this.ctx(ctx));
  }
  onTick(ctx: StrategyContext, tick: Parameters<NonNullable<Strategy['onTick']>>[1]): void {
    this.inner.onTick?.(this.ctx(ctx), tick);
  }
  onOrderUpdate(ctx: StrategyContext, order: Readonly<Order>): void {
    this.inner.onOrderUpdate?.(ctx, order);
  }
  onFill(ctx: StrategyContext, fill: Readonly<Fill>): void {
    this.inner.onFill?.(ctx, fill);
  }
  onStop(ctx: StrategyContext): void {
    this.inner.onStop?.(ctx);
  }
  getState(): unknown {
    return this.inner.getState?.();
  }
  // Pause, resume and reconciliation come from the runtime after warm-up: the real context passes through.
  get pause(): Strategy['pause'] {
    const inner = this.inner;
    return inner.pause ? (ctx, reason) => inner.pause?.(ctx, reason) : undefined;
  }
  get resume(): Strategy['resume'] {
    const inner = this.inner;
    return inner.resume ? (ctx) => inner.resume?.(ctx) : undefined;
  }
  get isPaused(): Strategy['isPaused'] {
    const inner = this.inner;
    return inner.isPaused ? () => inner.isPaused?.() === true : undefined;
  }
  get reconcile(): Strategy['reconcile'] {
    const inner = this.inner;
    return inner.reconcile ? (ctx, open) => inner.reconcile!(ctx, open) : undefined;
  }
  get selfStopReason(): Strategy['selfStopReason'] {
    const inner = this.inner;
    return inner.selfStopReason ? () => inner.selfStopReason?.() ?? null : undefined;
  }
  restore(state: unknown): void {
    this.inner.restore?.(state);
  }
}
