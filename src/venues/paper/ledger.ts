/** The paper account's cash book: per-asset totals and the part reserved for open orders (spot semantics). */
import type { Balance } from '../../core/index.js';
import { Exact, exact, ZERO } from '../../core/money.js';

/**
 * Amounts below this are treated as zero so a reservation released in parts (each part computed from a double)
 * never leaves a dust reservation of 1e-17.
 */
const DUST = 1e-12;
const DUST_EXACT = new Exact(DUST);

function clean(x: Exact): Exact {
  return x.abs().lt(DUST_EXACT) ? ZERO : x;
}

/**
 * One asset's amounts in exact decimals (docs/money.md): every credit and reservation is read as the decimal its
 * double stands for, so a balance moved by a thousand fills is the exact sum, not a running float one.
 * `free = total - used`.
 */
interface Account {
  total: Exact;
  used: Exact;
}

/**
 * Free and reserved amounts per asset. Orders reserve what they may spend (quote for buys, base for sells);
 * a fill releases its share of the reservation and books the real cost, so `free + used = total` always holds.
 */
export class Ledger {
  private readonly accounts = new Map<string, Account>();

  constructor(totals: Record<string, number> = {}) {
    for (const [asset, amount] of Object.entries(totals)) this.account(asset).total = exact(amount, `balance ${asset}`);
  }

  /** Free (unreserved) amount of `asset`. */
  free(asset: string): number {
    const a = this.accounts.get(asset);
    return a ? clean(a.total.minus(a.used)).toNumber() : 0;
  }

  /** Total amount of `asset`. */
  total(asset: string): number {
    return this.accounts.get(asset)?.total.toNumber() ?? 0;
  }

  /** Locks `amount` of `asset` for an order; false (and nothing locked) when the free amount is short. */
  reserve(asset: string, amount: number): boolean {
    if (amount > this.free(asset) * (1 + 1e-12) + DUST) return false;
    const a = this.account(asset);
    a.used = clean(a.used.plus(exact(amount, `reservation of ${asset}`)));
    return true;
  }

  /** Unlocks `amount` of `asset` (an order's reservation, fully or in part). */
  release(asset: string, amount: number): void {
    const a = this.account(asset);
    a.used = Exact.max(ZERO, clean(a.used.minus(exact(amount, `release of ${asset}`))));
  }

  /** Adds (or with a negative amount removes) `amount` to the total of `asset`. */
  credit(asset: string, amount: number): void {
    const a = this.account(asset);
    a.total = clean(a.total.plus(exact(amount, `credit of ${asset}`)));
  }

  /** Balances of every asset ever held, as a venue reports them. */
  balances(): Balance[] {
    const out: Balance[] = [];
    for (const [asset, a] of this.accounts) {
      const used = clean(a.used);
      out.push({
        asset,
        free: clean(a.total.minus(used)).toNumber(),
        used: used.toNumber(),
        total: a.total.toNumber(),
      });
    }
    return out;
  }

  /** Totals per asset (what a snapshot persists; reservations are rebuilt from the open orders). */
  totals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [asset, a] of this.accounts) out[asset] = a.total.toNumber();
    return out;
  }

  private account(asset: string): Account {
    let a = this.accounts.get(asset);
    if (!a) {
      a = { total: ZERO, used: ZERO };
      this.accounts.set(asset, a);
    }
    return a;
  }
}
