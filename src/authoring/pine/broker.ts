import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { StrategyContext } from '../../strategy/types.js';

/** How `strategy.entry` sizes an order without `qty=`: the run's stake, or TradingView's default_qty_type. */
export type QtyRule =
  | { readonly type: 'stake' }
  | { readonly type: 'fixed' | 'cash' | 'percent_of_equity'; readonly value: number };

/** The price levels one `strategy.exit` call asks for (NaN = not given); ticks are in `syminfo.mintick`. */
export interface ExitRequest {
  readonly fromEntry: string;
  readonly stop: number;
  readonly limit: number;
  readonly profit: number;
  readonly loss: number;
  readonly trailPoints: number;
  readonly trailOffset: number;
}

interface OpenEntry {
  readonly id: string;
  readonly dir: 1 | -1;
  qty: number;
  readonly price: number;
}

interface ExitState {
  req: ExitRequest;
  activated: boolean;
  stopOrder: Order | null;
  limitOrder: Order | null;
  /** Best price since the covered entries opened (for the trailing stop). */
  extreme: number;
}

type Intent = { kind: 'entry'; id: string; dir: 1 | -1 } | { kind: 'reduce'; ids: string | null; exit?: string };

const live = (o: Order | null): o is Order =>
  o !== null &&
  (o.status === 'new' || o.status === 'submitted' || o.status === 'accepted' || o.status === 'partially_filled');

/** Pine's `syminfo.mintick` here: the tick that `profit=`, `loss=` and `trail_*` count in (docs/pine.md). */
export const MINTICK = 0.01;

/**
 * The Pine order model on top of the Strategy API, one per symbol: `strategy.entry` / `close` / `close_all` /
 * `exit` become market orders (filled by the engine at the next bar's open, or at this close with
 * process_orders_on_close) and resting stop/limit exit orders, with Pine's pyramiding and reversal rules.
 */
export class PineBroker {
  private open: OpenEntry[] = [];
  private readonly intents = new Map<string, Intent>();
  private readonly exits = new Map<string, ExitState>();
  /** Entries sent this bar and not yet filled, per direction (for the pyramiding count). */
  private pendingEntries = 0;

  constructor(
    private readonly pyramiding: number,
    private readonly qty: QtyRule,
  ) {}

  /** The intent of the order being sent: with process_orders_on_close it fills before the order is returned. */
  private sending: Intent | null = null;

  private send(intent: Intent, place: () => Order | null): Order | null {
    this.sending = intent;
    try {
      const o = place();
      if (o) this.intents.set(o.id, intent);
      return o;
    } finally {
      this.sending = null;
    }
  }

  /** Number of open entries (`strategy.opentrades`). */
  get openTrades(): number {
    return this.open.length;
  }

  /** Called before the script runs on a bar. */
  startBar(ctx: StrategyContext): void {
    if (ctx.position() === 0) this.open = [];
    this.pendingEntries = 0;
  }

  private size(ctx: StrategyContext, qty: number): number | undefined {
    if (!Number.isNaN(qty)) return qty;
    const q = this.qty;
    if (q.type === 'stake') return undefined;
    const price = ctx.bar.close;
    if (q.type === 'fixed') return q.value;
    if (q.type === 'cash') return q.value / price;
    return (ctx.portfolio.equity() * q.value) / 100 / price;
  }

  /** `strategy.entry(id, direction, qty)`. */
  entry(ctx: StrategyContext, id: string, dir: 1 | -1, qty: number): void {
    const pos = ctx.position();
    if (pos * dir < 0) {
      // A reversal: close the whole position, then open the new direction.
      this.releaseExits(ctx, null);
      this.send({ kind: 'reduce', ids: null }, () => (dir > 0 ? ctx.cover() : ctx.sell()));
    } else {
      const same = this.open.filter((e) => e.dir === dir).length + this.pendingEntries;
      if (same >= this.pyramiding) return;
    }
    const quantity = this.size(ctx, qty);
    if (quantity !== undefined && !(quantity > 0)) return;
    const opts = quantity === undefined ? undefined : { quantity };
    this.pendingEntries++;
    const o = this.send({ kind: 'entry', id, dir }, () => (dir > 0 ? ctx.buy(opts) : ctx.short(opts)));
    if (!o) this.pendingEntries--;
  }

  /** `strategy.close(id)`: closes what the entries named `id` opened. */
  close(ctx: StrategyContext, id: string): void {
    const pos = ctx.position();
    if (pos === 0) return;
    const mine = this.open.filter((e) => e.id === id);
    if (mine.length === 0) return;
    const qty = mine.reduce((a, e) => a + e.qty, 0);
    const whole = qty >= Math.abs(pos) * (1 - 1e-9);
    this.releaseExits(ctx, id);
    const opts = whole ? undefined : { quantity: qty };
    this.send({ kind: 'reduce', ids: id }, () => (pos > 0 ? ctx.sell(opts) : ctx.cover(opts)));
  }

  /** `strategy.close_all()`. */
  closeAll(ctx: StrategyContext): void {
    const pos = ctx.position();
    if (pos === 0) return;
    this.releaseExits(ctx, null);
    this.send({ kind: 'reduce', ids: null }, () => (pos > 0 ? ctx.sell() : ctx.cover()));
  }

  /** `strategy.exit(id, from_entry, ...)`: creates or updates the exit; its orders are placed at the bar's end. */
  exit(id: string, req: ExitRequest): void {
    const s = this.exits.get(id);
    if (s) s.req = req;
    else this.exits.set(id, { req, activated: false, stopOrder: null, limitOrder: null, extreme: Number.NaN });
  }

  /** Called after the script ran on a bar: places, moves or cancels the resting exit orders. */
  endBar(ctx: StrategyContext): void {
    for (const [id, s] of this.exits) {
      const covered = this.open.filter((e) => s.req.fromEntry === '' || e.id === s.req.fromEntry);
      const qty = covered.reduce((a, e) => a + e.qty, 0);
      if (qty <= 0 || ctx.position() === 0) {
        if (s.activated) {
          this.cancel(ctx, s);
          this.exits.delete(id);
        }
        continue;
      }
      const dir = covered[0].dir;
      const entryPrice = covered.reduce((a, e) => a + e.qty * e.price, 0) / qty;
      if (!s.activated) {
        s.activated = true;
        s.extreme = dir > 0 ? ctx.bar.high : ctx.bar.low;
      } else s.extreme = dir > 0 ? Math.max(s.extreme, ctx.bar.high) : Math.min(s.extreme, ctx.bar.low);
      const r = s.req;
      let stop = !Number.isNaN(r.stop) ? r.stop : entryPrice - dir * r.loss * MINTICK;
      const limit = !Number.isNaN(r.limit) ? r.limit : entryPrice + dir * r.profit * MINTICK;
      if (!Number.isNaN(r.trailPoints) && !Number.isNaN(r.trailOffset)) {
        const activation = entryPrice + dir * r.trailPoints * MINTICK;
        if ((s.extreme - activation) * dir >= 0) {
          const trail = s.extreme - dir * r.trailOffset * MINTICK;
          stop = Number.isNaN(stop) ? trail : dir > 0 ? Math.max(stop, trail) : Math.min(stop, trail);
        }
      }
      const side = dir > 0 ? 'sell' : 'buy';
      // The stop is placed first: when both levels lie inside one bar, the stop is matched first (the worse case).
      // The engine books reduce-only room once per position, so with a stop resting the target cannot be
      // reduce-only as well: it is a plain order of the position's size, cancelled the moment the stop fills
      // (onFill runs inside the bar's matching, before the target is looked at) and whenever the position is gone.
      if (!this.same(s.stopOrder, stop, qty) && live(s.limitOrder) && s.limitOrder.reduceOnly) {
        ctx.cancel(s.limitOrder.id);
        s.limitOrder = null;
      }
      s.stopOrder = this.keep(ctx, s.stopOrder, stop, qty, id, (p) =>
        ctx.stop(side, p, { quantity: qty, reduceOnly: true }),
      );
      const paired = s.stopOrder !== null;
      if (live(s.limitOrder) && s.limitOrder.reduceOnly === paired) {
        ctx.cancel(s.limitOrder.id);
        s.limitOrder = null;
      }
      s.limitOrder = this.keep(ctx, s.limitOrder, limit, qty, id, (p) =>
        ctx.limit(side, p, { quantity: qty, reduceOnly: !paired }),
      );
    }
  }

  private same(o: Order | null, price: number, qty: number): boolean {
    if (!live(o)) return !Number.isFinite(price) || price <= 0;
    const level = o.type === 'stop' ? o.stopPrice : o.price;
    return level === price && o.quantity === qty;
  }

  private keep(
    ctx: StrategyContext,
    current: Order | null,
    price: number,
    qty: number,
    exitId: string,
    place: (price: number) => Order | null,
  ): Order | null {
    if (live(current) && this.same(current, price, qty)) return current;
    if (live(current)) ctx.cancel(current.id);
    if (!Number.isFinite(price) || price <= 0) return null;
    return this.send({ kind: 'reduce', ids: null, exit: exitId }, () => place(price));
  }

  /**
   * Cancels the resting exit orders covering entry `id` (all when null) before a market close: the engine books
   * reduce-only room once per position, so a resting stop would otherwise block the close. While that close is
   * pending, `endBar` cannot place them again (no room), and once it fills they are gone with the position.
   */
  private releaseExits(ctx: StrategyContext, id: string | null): void {
    for (const s of this.exits.values())
      if (id === null || s.req.fromEntry === '' || s.req.fromEntry === id) this.cancel(ctx, s);
  }

  // Flat: no exit order may outlive the position (a plain target order could otherwise open one).
  private flat(ctx: StrategyContext): void {
    this.open = [];
    for (const s of this.exits.values()) this.cancel(ctx, s);
  }

  private cancel(ctx: StrategyContext, s: ExitState): void {
    if (live(s.stopOrder)) ctx.cancel(s.stopOrder.id);
    if (live(s.limitOrder)) ctx.cancel(s.limitOrder.id);
    s.stopOrder = null;
    s.limitOrder = null;
  }

  /** Books a fill of one of this broker's orders into the open entries; an exit fill cancels its sibling. */
  onFill(ctx: StrategyContext, fill: Readonly<Fill>): void {
    const intent = this.intents.get(fill.orderId) ?? this.sending;
    if (!intent) {
      // The run's exits (stop loss, take profit) or the risk engine closed the position.
      if (ctx.position(fill.symbol) === 0) this.flat(ctx);
      return;
    }
    if (intent.kind === 'entry') {
      this.open.push({ id: intent.id, dir: intent.dir, qty: fill.quantity, price: fill.price });
      if (this.pendingEntries > 0) this.pendingEntries--;
      return;
    }
    let left = fill.quantity;
    const order = [...this.open.filter((e) => e.id === intent.ids), ...this.open.filter((e) => e.id !== intent.ids)];
    for (const e of order) {
      if (left <= 0) break;
      const take = Math.min(e.qty, left);
      e.qty -= take;
      left -= take;
    }
    this.open = this.open.filter((e) => e.qty > 1e-12);
    if (ctx.position(fill.symbol) === 0) this.flat(ctx);
    if (intent.exit !== undefined) {
      const s = this.exits.get(intent.exit);
      if (s) {
        const sibling = s.stopOrder?.id === fill.orderId ? s.limitOrder : s.stopOrder;
        if (live(sibling)) ctx.cancel(sibling.id);
        this.exits.delete(intent.exit);
      }
    }
  }
}
