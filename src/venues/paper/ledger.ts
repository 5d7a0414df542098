/** The paper account's cash book: per-asset totals and the part reserved for open orders (spot semantics). */
import type { Balance } from '../../core/index.js';

/** Float noise below this is treated as zero so balances never show -1e-17 or a dust reservation. */
const DUST = 1e-12;

function clean(x: number): number {
  return Math.abs(x) < DUST ? 0 : x;
}

/** One asset's amounts; `free = total - used`. */
interface Account {
  total: number;
  used: number;
}

/**
 * Free and reserved amounts per asset. Orders reserve what they may spend (quote for buys, base for sells);
 * a fill releases its share of the reservation and books the real cost, so `free + used = total` always holds.
 */
export class Ledger {
  private readonly accounts = new Map<string, Account>();

  constructor(totals: Record<string, number> = {}) {
    for (const [asset, amount] of Object.entries(totals)) this.account(asset).total = amount;
  }

  /** Free (unreserved) amount of `asset`. */
  free(asset: string): number {
    const a = this.accounts.get(asset);
    return a ? clean(a.total - a.used) : 0;
  }

  /** Total amount of `asset`. */
  total(asset: string): number {
    return this.accounts.get(asset)?.total ?? 0;
  }

  /** Locks `amount` of `asset` for an order; false (and nothing locked) when the free amount is short. */
  reserve(asset: string, amount: number): boolean {
    if (amount > this.free(asset) * (1 + 1e-12) + DUST) return false;
    const a = this.account(asset);
    a.used = clean(a.used + amount);
    return true;
  }

  /** Unlocks `amount` of `asset` (an order's reservation, fully or in part). */
  release(asset: string, amount: number): void {
    const a = this.account(asset);
    a.used = Math.max(0, clean(a.used - amount));
  }

  /** Adds (or with a negative amount removes) `amount` to the total of `asset`. */
  credit(asset: string, amount: number): void {
    const a = this.account(asset);
    a.total = clean(a.total + amount);
  }

  /** Balances of every asset ever held, as a venue reports them. */
  balances(): Balance[] {
    const out: Balance[] = [];
    for (const [asset, a] of this.accounts) {
      const used = clean(a.used);
      out.push({ asset, free: clean(a.total - used), used, total: a.total });
    }
    return out;
  }

  /** Totals per asset (what a snapshot persists; reservations are rebuilt from the open orders). */
  totals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [asset, a] of this.accounts) out[asset] = a.total;
    return out;
  }

  private account(asset: string): Account {
    let a = this.accounts.get(asset);
    if (!a) {
      a = { total: 0, used: 0 };
      this.accounts.set(asset, a);
    }
    return a;
  }
}
