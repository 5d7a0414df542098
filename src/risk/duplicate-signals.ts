import type { OrderSide } from '../core/order.js';

// Signals arrive in time order, so only the most recent few per key can repeat; a small ring bounds memory.
const RING = 16;

class SignalRing {
  readonly times = new Float64Array(RING).fill(Number.NaN);
  next = 0;
}

/**
 * Duplicate-signal prevention (RISK-5, DUPLICATE_SIGNAL): the same strategy, symbol, side and signal time is
 * accepted once. Remembers the last 16 accepted signal times per (strategy, symbol, side); lookups allocate
 * nothing once a key has been seen.
 */
export class DuplicateSignalGuard {
  private readonly byStrategy = new Map<string, Map<string, SignalRing[]>>();

  /** True when this signal was already accepted. */
  seen(strategyId: string, symbol: string, side: OrderSide, signalTime: number): boolean {
    const ring = this.byStrategy.get(strategyId)?.get(symbol)?.[side === 'buy' ? 0 : 1];
    if (ring === undefined) return false;
    const t = ring.times;
    for (let i = 0; i < RING; i++) if (t[i] === signalTime) return true;
    return false;
  }

  /** Remembers an accepted signal. */
  record(strategyId: string, symbol: string, side: OrderSide, signalTime: number): void {
    let bySymbol = this.byStrategy.get(strategyId);
    if (bySymbol === undefined) this.byStrategy.set(strategyId, (bySymbol = new Map()));
    let rings = bySymbol.get(symbol);
    if (rings === undefined) bySymbol.set(symbol, (rings = [new SignalRing(), new SignalRing()]));
    const ring = rings[side === 'buy' ? 0 : 1];
    ring.times[ring.next] = signalTime;
    ring.next = (ring.next + 1) % RING;
  }
}
